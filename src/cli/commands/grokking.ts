import { Command, InvalidArgumentError, Option } from 'commander';
import type { BackendPreference } from '../../shared/protocol';
import { modelProvenance } from '../../shared/result';
import type { GrokkingPayload } from '../../shared/results/grokking';
import type { GrokkingSpecInput } from '../../shared/specs/grokking';
import { addInputOptions, addParallelOptions, floatArg, floatListArg, hvOption, inputsFromFlags, intArg, type InputFlags } from '../options';
import { runFollowerNode } from '../followerNode';
import { describeFailure, runInEngine } from '../runEngine';

interface GrokkingFlags extends InputFlags {
  checkpoints: string[];
  probe: number;
  testSamples?: number;
  lag: number;
  temperature: number;
  trainLossBelow?: number;
  testLossBelow?: number;
  trainAccuracyAbove?: number;
  testAccuracyAbove?: number;
  sharpness?: 'ggn' | 'hessian';
  hv: 'exact' | 'finite-difference';
  sharpnessSamples: number;
  learningRate?: number;
  sweepAlpha?: number[];
  mainAlpha?: number;
}

function positive(name: string) {
  return (v: string): number => {
    const n = floatArg(name)(v);
    if (!(n > 0)) throw new InvalidArgumentError(`${name} must be positive, got '${v}'`);
    return n;
  };
}

const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : Math.abs(v) >= 0.01 || v === 0 ? v.toPrecision(4) : v.toExponential(2));

/** A few lines about a grokking result (used by the CLI summary). */
export function summariseGrokking(g: GrokkingPayload): string {
  const T = g.steps.length;
  const last = Math.max(0, g.checkpointsDone - 1);
  const lines = [
    `${g.checkpointsDone}/${T} checkpoints, steps ${g.steps[0]} … ${g.steps[T - 1]}; probe ${g.probe.size} samples`,
    `first → last: train loss ${fmt(g.trainLoss[0])} → ${fmt(g.trainLoss[last])}, test loss ${fmt(g.testLoss[0])} → ${fmt(g.testLoss[last])}, ‖θ−θ₀‖/‖θ₀‖ ${fmt(g.paramDistance[last])}`,
    `NTK: alignment ${fmt(g.ntkAlignment[0])} → ${fmt(g.ntkAlignment[last])}, movement ${fmt(g.ntkMovement[last])}, effective rank ${fmt(g.ntkEffectiveRank[0])} → ${fmt(g.ntkEffectiveRank[last])}`,
    ...g.events.map((e) => `event ${e.label}: ${e.step === null ? 'not reached' : `step ${e.step}`}`),
    `grokking delay: ${g.grokkingDelay === null ? 'n/a' : `${g.grokkingDelay} steps`}`,
  ];
  if (g.sharpness) {
    const lm = g.sharpness.lambdaMax;
    lines.push(`λ_max (${g.sharpness.operator}): ${fmt(lm[0])} → ${fmt(lm[last])}${g.sharpness.twoOverEta !== null ? ` (2/η = ${fmt(g.sharpness.twoOverEta)})` : ''}`);
  }
  if (g.sweep) {
    lines.push(`${g.sweep.parameter} sweep (train loss ≤ ${fmt(g.sweep.trainThreshold)}, test loss ≤ ${fmt(g.sweep.testThreshold)}): ${g.sweep.runs.map((r) => `${r.label}: delay ${r.delay ?? (r.trainStep === null ? 'n/a' : '∞')}`).join(', ')}`);
  }
  if (g.seedModel) lines.push(`seed model (α ${g.seedModel.alpha}, ε ${g.seedModel.epsilon}): predicted test loss ${fmt(g.seedModel.predictedTestLoss[0])} → ${fmt(g.seedModel.predictedTestLoss[last])}`);
  return lines.join('\n');
}

export function grokkingCommand(): Command {
  const cmd = new Command('grokking')
    .description('grokking statistics over a checkpoint series: train/test loss, parameter norms, empirical NTK alignment and movement, trajectory KL, events and the grokking delay')
    .requiredOption('--checkpoints <paths...>', "checkpoints: a folder (its */model.json), a quoted glob ('run/step-*/model.json') or model.json paths; torch (with --model net.py:NAME): a folder or glob of weight files (.pt/.pth/.safetensors); ordered by step (a 'step' field in model.json or the checkpoint dict, else the last integer in the folder or file name)")
    .option('--probe <k>', 'probe samples for the empirical NTK (0: off)', intArg('--probe', 0), 128)
    .option('--test-samples <k>', 'seeded subset of the test split (default: all)', intArg('--test-samples'))
    .option('--lag <k>', 'trajectory KL between checkpoint t and t−k', intArg('--lag'), 1)
    .option('--temperature <tau>', 'temperature τ of the trajectory KL (SAF)', positive('--temperature'), 5)
    .option('--train-loss-below <v>', 'train-loss event threshold (default: 0.1 × the first train loss)', floatArg('--train-loss-below'))
    .option('--test-loss-below <v>', 'test-loss event threshold (default: the train threshold)', floatArg('--test-loss-below'))
    .option('--train-accuracy-above <v>', 'train-accuracy event threshold, e.g. 0.99', floatArg('--train-accuracy-above'))
    .option('--test-accuracy-above <v>', 'test-accuracy event threshold, e.g. 0.95', floatArg('--test-accuracy-above'))
    .addOption(new Option('--sharpness <operator>', 'also λ_max of the curvature at every checkpoint (Lanczos)').choices(['ggn', 'hessian']))
    .addOption(hvOption())
    .option('--sharpness-samples <k>', 'train samples for λ_max (seeded subset)', intArg('--sharpness-samples'), 256)
    .option('--learning-rate <eta>', 'the training step η, to draw 2/η beside λ_max', positive('--learning-rate'))
    .option(
      '--sweep-alpha <a,b,…>',
      "α sweep: one series per value, put into the '{alpha}' of --checkpoints (e.g. 'runs/alpha-{alpha}'); each run is written beside --out as <out>-alpha-<α>.losscape.json and the main run's result gets the sweep",
      (v: string) => {
        const xs = floatListArg('--sweep-alpha')(v);
        if (xs.length < 2 || xs.some((x) => !(x > 0))) throw new InvalidArgumentError(`--sweep-alpha needs two or more positive values, got '${v}'`);
        return xs;
      },
    )
    .option('--main-alpha <α>', 'the swept α whose full result carries the sweep (default 1 if swept, else the first)', positive('--main-alpha'));
  addInputOptions(cmd, { model: 'series' });
  addParallelOptions(cmd);
  cmd.action(async (f: GrokkingFlags) => {
    const { model: _model, ...rest } = inputsFromFlags({ ...f, model: undefined });
    const inputs = { ...rest, ...(f.model ? { model: f.model } : {}) };
    const spec: GrokkingSpecInput = {
      kind: 'grokking',
      ...inputs,
      checkpoints: f.checkpoints.length === 1 ? f.checkpoints[0] : f.checkpoints,
      probe: f.probe,
      testSamples: f.testSamples,
      lag: f.lag,
      temperature: f.temperature,
      trainLossBelow: f.trainLossBelow,
      testLossBelow: f.testLossBelow,
      trainAccuracyAbove: f.trainAccuracyAbove,
      testAccuracyAbove: f.testAccuracyAbove,
      sharpness: f.sharpness,
      hv: f.hv,
      sharpnessSamples: f.sharpnessSamples,
      learningRate: f.learningRate,
      sweepAlpha: f.sweepAlpha,
      mainAlpha: f.mainAlpha,
    };
    if ((f.nodeRank ?? 0) > 0) {
      process.exitCode = await runFollowerNode(spec, 'grokking');
      return;
    }
    try {
      const { out, result } = await runInEngine(spec, f.backend as BackendPreference);
      const p = modelProvenance(result);
      if (!p) throw new Error(`the engine answered a '${result.kind}' result`);
      process.stdout.write(`${result.kind} · ${p.model.parameterCount} parameters · ${p.data.samplesUsed} samples · loss ${p.loss.name} · ${result.backend} · ${p.timings.seconds.toFixed(1)} s\n`);
      if (result.kind === 'grokking') process.stdout.write(`${summariseGrokking(result.result)}\n`);
      process.stdout.write(`wrote ${out}\n`);
    } catch (err) {
      const { message, code } = describeFailure(err, f.out);
      process.stderr.write(`losscape grokking: ${message}\n`);
      process.exitCode = code;
    }
  });
  return cmd;
}
