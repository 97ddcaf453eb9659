import { Command, Option } from 'commander';
import type { LandscapeSpecInput } from '../../shared/specs/landscape';
import type { BackendPreference } from '../../shared/protocol';
import { addInputOptions, addParallelOptions, hvOption, inputsFromFlags, intArg, rangeArg, type InputFlags } from '../options';
import { runFollowerNode } from '../followerNode';
import { resumedSpec } from '../resume';
import { describeFailure, runInEngine } from '../runEngine';
import { summarise } from '../summary';

interface LandscapeFlags extends InputFlags {
  dims: string;
  points?: number;
  range?: [number, number];
  norm: 'filter' | 'layer' | 'none';
  bias: 'zero' | 'keep';
  to?: string;
  accuracy: boolean;
  directions: 'random' | 'hessian';
  threads?: number;
  hv: 'exact' | 'finite-difference';
}

export function landscapeCommand(): Command {
  const cmd = new Command('landscape')
    .description('loss landscape: a 2D slice f(α,β) = L(θ+αδ+βη) or 1D f(t) = L(θ+tδ) along filter-normalised random directions, or the line to a second model (--to)')
    .addOption(new Option('--dims <n>', 'dimensions of the slice').choices(['1', '2']).default('2'))
    .option('--points <n>', 'grid points per axis (default 41 for 2D, 51 for 1D)', intArg('--points', 2))
    .option('--range <a,b>', 'coordinate range (default -1,1; -0.5,1.5 with --to)', rangeArg)
    .addOption(new Option('--norm <kind>', 'direction normalisation (Li et al. 2018)').choices(['filter', 'layer', 'none']).default('filter'))
    .addOption(new Option('--bias <policy>', 'biases and normalisation parameters in the directions').choices(['zero', 'keep']).default('zero'))
    .option('--to <file>', 'second model (model.json, .keras or .h5; torch: a second weights file): the 1D line θ₁ + t(θ₂ − θ₁)')
    .option('--threads <n>', '2D grids: 1, or 2 to share the rows with a worker thread (default 2 on a single-threaded backend with a second core)', intArg('--threads'))
    .addOption(new Option('--directions <kind>', 'random (normalised per --norm) or hessian (top Hessian eigenvectors, unit norm)').choices(['random', 'hessian']).default('random'))
    .addOption(hvOption())
    .option('--no-accuracy', 'do not compute accuracy at each point');
  addInputOptions(cmd, { resume: true });
  addParallelOptions(cmd);
  cmd.action(async (f: LandscapeFlags) => {
    const fromFlags: LandscapeSpecInput = {
      kind: 'landscape',
      ...inputsFromFlags(f),
      dims: f.dims === '1' ? 1 : 2,
      points: f.points,
      range: f.range,
      norm: f.norm,
      bias: f.bias,
      to: f.to,
      accuracy: f.accuracy,
      directions: f.directions,
      threads: f.threads,
      hv: f.hv,
    };
    if ((f.nodeRank ?? 0) > 0) {
      process.exitCode = await runFollowerNode(fromFlags, 'landscape');
      return;
    }
    try {
      const spec = f.resume ? resumedSpec(cmd, f.resume, fromFlags) : fromFlags;
      const { out, result } = await runInEngine(spec, f.backend as BackendPreference);
      process.stdout.write(`${summarise(result)}\nwrote ${out}\n`);
    } catch (err) {
      const { message, code } = describeFailure(err, f.out ?? f.resume);
      process.stderr.write(`losscape landscape: ${message}\n`);
      process.exitCode = code;
    }
  });
  return cmd;
}
