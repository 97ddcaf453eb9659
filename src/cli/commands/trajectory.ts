import { Command, InvalidArgumentError, Option } from 'commander';
import type { BackendPreference } from '../../shared/protocol';
import type { TrajectorySpecInput } from '../../shared/specs/trajectory';
import { addInputOptions, addParallelOptions, floatArg, floatListArg, inputsFromFlags, intArg, rangeArg, type InputFlags } from '../options';
import { runFollowerNode } from '../followerNode';
import { resumedSpec } from '../resume';
import { describeFailure, runInEngine } from '../runEngine';

interface TrajectoryFlags extends InputFlags {
  checkpoints?: string[];
  mode: 'pca' | 'line' | 'plane';
  from?: number;
  to?: number;
  through?: [number, number, number];
  points?: number;
  margin: number;
  range?: [number, number];
  accuracy: boolean;
}

function stepsTriple(v: string): [number, number, number] {
  const n = floatListArg('--through')(v);
  if (n.length !== 3 || !n.every((s) => Number.isInteger(s) && s >= 0)) throw new InvalidArgumentError(`--through must be three steps 'a,b,c', got '${v}'`);
  return [n[0], n[1], n[2]];
}

export function trajectoryCommand(): Command {
  const cmd = new Command('trajectory')
    .description('landscapes of a training trajectory: the PCA plane of θ_t − θ_final with the path projected (pca), the line between two checkpoints (line), or the plane through three (plane); written as a landscape result')
    .option('--checkpoints <paths...>', "checkpoints: a folder (its */model.json), a quoted glob ('run/step-*/model.json') or model.json paths; torch (with --model net.py:NAME): a folder or glob of weight files (.pt/.pth/.safetensors); ordered by step")
    .addOption(new Option('--mode <mode>', 'pca: PCA plane; line: between --from and --to; plane: through --through').choices(['pca', 'line', 'plane']).default('pca'))
    .option('--from <step>', 'line: the checkpoint at t = 0 (default: the first)', intArg('--from', 0))
    .option('--to <step>', 'line: the checkpoint at t = 1 (default: the last)', intArg('--to', 0))
    .option('--through <a,b,c>', 'plane: three checkpoint steps (default: first, middle, last)', stepsTriple)
    .option('--points <n>', 'grid points per axis (default 21 for 2D, 51 for the line)', intArg('--points', 2))
    .option('--margin <f>', '2D: grid extends beyond the projected path by this fraction of its extent', floatArg('--margin'), 0.25)
    .option('--range <a,b>', 'line: range of t (default -0.5,1.5)', rangeArg)
    .option('--no-accuracy', 'do not compute accuracy at each point');
  addInputOptions(cmd, { model: 'series', resume: true });
  addParallelOptions(cmd);
  cmd.action(async (f: TrajectoryFlags) => {
    if (!f.checkpoints && !f.resume) cmd.error("error: required option '--checkpoints <paths...>' not specified", { exitCode: 2 });
    const { model: _model, ...rest } = inputsFromFlags({ ...f, model: undefined });
    const inputs = { ...rest, ...(f.model ? { model: f.model } : {}) };
    const fromFlags: TrajectorySpecInput = {
      kind: 'trajectory',
      ...inputs,
      checkpoints: !f.checkpoints ? [] : f.checkpoints.length === 1 ? f.checkpoints[0] : f.checkpoints,
      mode: f.mode,
      from: f.from,
      to: f.to,
      through: f.through,
      points: f.points,
      margin: f.margin,
      range: f.range,
      accuracy: f.accuracy,
    };
    if ((f.nodeRank ?? 0) > 0) {
      process.exitCode = await runFollowerNode(fromFlags, 'trajectory');
      return;
    }
    try {
      const spec = f.resume ? resumedSpec(cmd, f.resume, fromFlags) : fromFlags;
      const { out, result } = await runInEngine(spec, f.backend as BackendPreference);
      if (result.kind === 'landscape') {
        const l = result.result;
        const t = l.trajectory;
        const vals = (l.dims === 2 ? l.loss.flat() : l.loss).filter((v): v is number => v !== null);
        process.stdout.write(`trajectory (${t?.mode}) · ${result.provenance.model.parameterCount} parameters · ${t?.steps.length} checkpoints · ${result.backend} · ${result.provenance.timings.seconds.toFixed(1)} s\n`);
        if (t?.explainedVariance) process.stdout.write(`explained variance ${(100 * t.explainedVariance[0]).toFixed(1)} % + ${(100 * t.explainedVariance[1]).toFixed(1)} %\n`);
        if (t) process.stdout.write(`largest distance off the ${l.dims === 2 ? 'plane' : 'line'}: ${Math.max(...t.offPlane).toPrecision(3)} (largest distance from the centre ${Math.max(...t.distance).toPrecision(3)})\n`);
        process.stdout.write(`grid loss ${Math.min(...vals).toPrecision(4)} … ${Math.max(...vals).toPrecision(4)}\n`);
      }
      process.stdout.write(`wrote ${out}\n`);
    } catch (err) {
      const { message, code } = describeFailure(err, f.out ?? f.resume);
      process.stderr.write(`losscape trajectory: ${message}\n`);
      process.exitCode = code;
    }
  });
  return cmd;
}
