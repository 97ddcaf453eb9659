import { Command, InvalidArgumentError } from 'commander';
import { LossParamError, parseLossList, type LossChoice } from '../../shared/lossParams';
import type { BackendPreference } from '../../shared/protocol';
import type { LossComparisonPayload } from '../../shared/results/lossComparison';
import type { LossComparisonSpecInput } from '../../shared/specs/lossComparison';
import { addInputOptions, floatArg, inputsFromFlags, intArg, rangeArg, type InputFlags } from '../options';
import { describeFailure, runInEngine } from '../runEngine';
import { summarise } from '../summary';

interface CompareFlags extends InputFlags {
  losses: LossChoice[];
  top: number;
  probes: number;
  rho: number;
  ascentSteps: number;
  points1d: number;
  points2d: number;
  range?: [number, number];
  norm: 'filter' | 'layer' | 'none';
  bias: 'zero' | 'keep';
}

function lossListArg(v: string): LossChoice[] {
  try {
    return parseLossList(v);
  } catch (err) {
    if (err instanceof LossParamError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

function positive(name: string) {
  return (v: string): number => {
    const x = floatArg(name)(v);
    if (!(x > 0)) throw new InvalidArgumentError(`${name} must be positive, got '${v}'`);
    return x;
  };
}

const f4 = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4));

/** One line per loss: raw values, then the landscape's range relative to L(θ). */
export function summariseLossComparison(r: LossComparisonPayload): string {
  return r.losses
    .map((e) => {
      const acc = e.accuracy !== null ? ` acc ${(100 * e.accuracy).toFixed(1)} %` : '';
      const rel = e.relative.landscape2d.flat().filter((v): v is number => v !== null);
      return `${e.given.padEnd(18)} L ${f4(e.loss)}${acc} · ‖∇L‖ ${f4(e.gradNorm)} · λ ${e.eigenvalues.map(f4).join(', ')} · tr ${f4(e.trace.estimate)} ± ${f4(e.trace.stderr)} · SAM(ρ=${e.sam.rho}) ${f4(e.sam.ascent)} · 2D f/L(θ) ${f4(Math.min(...rel))} … ${f4(Math.max(...rel))}`;
    })
    .join('\n');
}

export function compareLossesCommand(): Command {
  const cmd = new Command('compare-losses')
    .description(
      'one model, data and seed under several losses: per loss the loss and accuracy at θ, ‖∇L‖, top-k Hessian eigenvalues, the Hutchinson trace ± stderr, SAM sharpness, and 1D and 2D landscapes along the same directions, raw and relative to L(θ)',
    )
    .requiredOption('--losses <list>', "losses with parameters, e.g. 'ce,gce:q=0.7,zloss:a=1:b=2,comp_sum:tau=0.5'", lossListArg)
    .option('--top <k>', 'top Hessian eigenvalues per loss', intArg('--top'), 3)
    .option('--probes <p>', 'Hutchinson probes per loss', intArg('--probes', 2), 30)
    .option('--rho <ρ>', 'SAM radius', positive('--rho'), 0.05)
    .option('--ascent-steps <k>', 'projected ascent steps after SAM’s first-order point', intArg('--ascent-steps', 0), 3)
    .option('--points1d <n>', 'points of the 1D landscape', intArg('--points1d', 3), 21)
    .option('--points2d <n>', 'points per axis of the 2D landscape', intArg('--points2d', 3), 15)
    .option('--range <a,b>', 'coordinate range of both landscapes (default -1,1)', rangeArg)
    .option('--norm <kind>', 'direction normalisation: filter, layer or none', 'filter')
    .option('--bias <policy>', 'biases in the directions: zero or keep', 'zero');
  addInputOptions(cmd);
  cmd.action(async (f: CompareFlags) => {
    const fail = (message: string, code = 2): void => {
      process.stderr.write(`losscape compare-losses: ${message}\n`);
      process.exitCode = code;
    };
    if (f.loss !== undefined || f.lossParam !== undefined || f.lossModule !== undefined) return fail('--losses names the losses to compare; --loss, --loss-param and --loss-module do not apply');
    if (!['filter', 'layer', 'none'].includes(f.norm)) return fail(`--norm must be filter, layer or none, got '${f.norm}'`);
    if (!['zero', 'keep'].includes(f.bias)) return fail(`--bias must be zero or keep, got '${f.bias}'`);
    const { loss: _l, lossParams: _p, lossModule: _m, lossExport: _e, ...inputs } = inputsFromFlags(f);
    const spec: LossComparisonSpecInput = {
      kind: 'loss-comparison',
      ...inputs,
      losses: f.losses,
      top: f.top,
      probes: f.probes,
      rho: f.rho,
      ascentSteps: f.ascentSteps,
      points1d: f.points1d,
      points2d: f.points2d,
      ...(f.range ? { range: f.range } : {}),
      norm: f.norm,
      bias: f.bias,
    };
    try {
      const { out, result } = await runInEngine(spec, f.backend as BackendPreference);
      process.stdout.write(`${summarise(result)}\nwrote ${out}\n`);
    } catch (err) {
      const { message, code } = describeFailure(err, f.out);
      fail(message, code);
    }
  });
  return cmd;
}
