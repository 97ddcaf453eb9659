import { Command, InvalidArgumentError, Option } from 'commander';
import { CancelledError, InputError } from '../../shared/errors';
import type { ScalingSpecInput } from '../../shared/specs/scaling';
import { beginInputs } from '../../engine/loaders/inputFile';
import { lockOutput } from '../../engine/resultWriter';
import { parsePrediction, runScaling } from '../../engine/scaling/runScaling';
import { floatArg, floatListArg, intArg } from '../options';
import { summariseScaling } from '../scalingSummary';

interface ScalingFlags {
  runs?: string[];
  fromResults?: string[];
  samplesPerStep?: number;
  lossSeries: 'test' | 'train';
  paramsColumn: string;
  tokensColumn: string;
  lossColumn: string;
  runColumn?: string;
  stepColumn?: string;
  computeColumn?: string;
  law: 'chinchilla' | 'power' | 'kaplan';
  variable: 'N' | 'D' | 'C';
  huberDelta: number;
  grid: 'paper' | 'coarse';
  skipFraction?: number;
  excludeWorst: number;
  holdout?: string;
  bootstrap: number;
  startsPerReplicate: number;
  level: number;
  seed: number;
  predict: string[];
  optimalCompute?: number[];
  out: string;
}

function fraction(name: string, { open }: { open: boolean }) {
  return (v: string): number => {
    const n = floatArg(name)(v);
    if (!(n >= 0 && (open ? n < 1 : n <= 1))) throw new InvalidArgumentError(`${name} must be in [0, 1${open ? ')' : ']'}, got '${v}'`);
    return n;
  };
}

function positive(name: string) {
  return (v: string): number => {
    const n = floatArg(name)(v);
    if (!(n > 0)) throw new InvalidArgumentError(`${name} must be positive, got '${v}'`);
    return n;
  };
}

function holdoutArg(v: string): string {
  if (v !== 'largest' && !/^run=.+$/.test(v)) throw new InvalidArgumentError(`--holdout must be 'largest' or 'run=NAME', got '${v}'`);
  return v;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/**
 * `losscape scaling`: fits a scaling law to a table of runs in this process (no engine, no
 * TF.js: the fit is plain TypeScript) and writes a `kind: "scaling"` result.
 */
export function scalingCommand(): Command {
  const cmd = new Command('scaling')
    .description("fit a scaling law (Chinchilla's approach 3, a power law or Kaplan's law) to a table of runs, with bootstrap intervals, a held-out prediction and the compute-optimal allocation")
    .option('--runs <files...>', 'CSV or JSON tables of runs (one row per run or per checkpoint)')
    .option('--from-results <files...>', 'Losscape grokking/checkpoint-series results: N = parameter count, D = step × --samples-per-step')
    .option('--samples-per-step <k>', 'samples (tokens) per step for --from-results (default: the result\'s training samples, i.e. full batch)', positive('--samples-per-step'))
    .addOption(new Option('--loss-series <which>', 'which loss of a result to fit').choices(['test', 'train']).default('test'))
    .option('--params-column <name>', 'model-size column N', 'params')
    .option('--tokens-column <name>', 'data-size column D (tokens or samples)', 'tokens')
    .option('--loss-column <name>', 'loss column', 'loss')
    .option('--run-column <name>', 'run-name column (intermediate checkpoints of one run share it)')
    .option('--step-column <name>', 'step column (rows are intermediate checkpoints; --skip-fraction then defaults to 0.1)')
    .option('--compute-column <name>', 'compute (FLOPs) column; default C = 6·N·D')
    .addOption(new Option('--law <name>', 'the law').choices(['chinchilla', 'power', 'kaplan']).default('chinchilla'))
    .addOption(new Option('--variable <v>', "the power law's variable").choices(['N', 'D', 'C']).default('N'))
    .option('--huber-delta <d>', 'δ of the Huber loss on log L', positive('--huber-delta'), 1e-3)
    .addOption(new Option('--grid <which>', "initialisations: the papers' grid or a coarse sub-grid").choices(['paper', 'coarse']).default('paper'))
    .option('--skip-fraction <f>', "drop the first f of each run's tokens (default 0.1 with steps, else 0)", fraction('--skip-fraction', { open: true }))
    .option('--exclude-worst <k>', 'drop the k highest-loss rows', intArg('--exclude-worst', 0), 0)
    .option('--holdout <which>', "fit without the largest model ('largest') or a run ('run=NAME') and report the error of its predicted final loss", holdoutArg)
    .option('--bootstrap <b>', 'bootstrap replicates for the intervals (0: none)', intArg('--bootstrap', 0), 200)
    .option('--starts-per-replicate <k>', "each replicate starts from the full fit's k best distinct optima", intArg('--starts-per-replicate'), 6)
    .option('--level <p>', 'interval level', fraction('--level', { open: true }), 0.95)
    .option('--seed <s>', 'bootstrap seed', intArg('--seed', 0), 0)
    .option('--predict <point>', "predict the loss at N=…,D=… (repeatable; the power law: its variable, e.g. C=1e21)", collect, [])
    .option('--optimal-compute <C,…>', 'compute budgets for the compute-optimal allocation (default: the largest C × 1, 10, 100)', floatListArg('--optimal-compute'))
    .requiredOption('--out <file>', 'result file to write (*.losscape.json)');
  cmd.action(async (f: ScalingFlags) => {
    const stop = { isCancellationRequested: false };
    const onSigint = (): void => {
      stop.isCancellationRequested = true;
    };
    process.on('SIGINT', onSigint);
    const tty = process.stderr.isTTY || process.env.LOSSCAPE_PROGRESS === '1';
    try {
      const spec: ScalingSpecInput = {
        kind: 'scaling',
        runs: f.runs ?? [],
        fromResults: f.fromResults ?? [],
        samplesPerStep: f.samplesPerStep,
        lossSeries: f.lossSeries,
        paramsColumn: f.paramsColumn,
        tokensColumn: f.tokensColumn,
        lossColumn: f.lossColumn,
        runColumn: f.runColumn,
        stepColumn: f.stepColumn,
        computeColumn: f.computeColumn,
        law: f.law,
        variable: f.variable,
        huberDelta: f.huberDelta,
        grid: f.grid,
        skipFraction: f.skipFraction,
        excludeWorst: f.excludeWorst,
        holdout: f.holdout,
        bootstrap: f.bootstrap,
        startsPerReplicate: f.startsPerReplicate,
        level: f.level,
        seed: f.seed,
        predict: f.predict.map(parsePrediction),
        optimalCompute: f.optimalCompute,
        out: f.out,
      };
      let last = 0;
      beginInputs();
      const result = await lockOutput(f.out, [...spec.runs!, ...spec.fromResults!], () => runScaling(spec, {
        stop,
        log: (level, message) => process.stderr.write(`[${level}] ${message}\n`),
        progress: (fr, message) => {
          if (!tty || (Date.now() - last < 500 && fr < 1)) return;
          last = Date.now();
          process.stderr.write(`\r${(100 * fr).toFixed(0).padStart(3)}% ${message}`.padEnd(60) + (fr >= 1 ? '\n' : ''));
        },
      }));
      process.stdout.write(`${summariseScaling(result.result)}\n${result.provenance.timings.seconds.toFixed(1)} s · wrote ${f.out}\n`);
    } catch (err) {
      if (err instanceof CancelledError) {
        process.stderr.write('\nlosscape scaling: cancelled; nothing written\n');
        process.exitCode = 130;
      } else if (err instanceof InputError) {
        process.stderr.write(`losscape scaling: ${err.message}\n`);
        process.exitCode = 2;
      } else if ((err as Error)?.name === 'ZodError') {
        const issue = (err as unknown as { issues: { path: (string | number)[]; message: string }[] }).issues[0];
        process.stderr.write(`losscape scaling: option ${issue.path.join('.')}: ${issue.message}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`losscape scaling: ${(err as Error)?.message ?? String(err)}\n`);
        process.exitCode = 1;
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
  return cmd;
}
