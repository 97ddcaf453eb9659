import { Command, InvalidArgumentError } from 'commander';
import type { BackendPreference } from '../../shared/protocol';
import type { SharpnessSpecInput } from '../../shared/specs/sharpness';
import { addInputOptions, addParallelOptions, floatArg, floatListArg, inputsFromFlags, intArg, type InputFlags } from '../options';
import { runFollowerNode } from '../followerNode';
import { describeFailure, runInEngine } from '../runEngine';
import { summarise } from '../summary';

interface SharpnessFlags extends InputFlags {
  rho: number[];
  ascentSteps: number;
  asam: boolean;
  asamRho: number[];
  eta: number;
  keskar: boolean;
  epsilon: number;
  subspace?: number;
  averageSamples: number;
  sigma?: number[];
}

function positiveList(name: string) {
  return (v: string): number[] => {
    const xs = floatListArg(name)(v);
    if (xs.some((x) => !(x > 0))) throw new InvalidArgumentError(`${name} must be positive numbers, got '${v}'`);
    return xs;
  };
}

function positive(name: string) {
  return (v: string): number => {
    const x = floatArg(name)(v);
    if (!(x > 0)) throw new InvalidArgumentError(`${name} must be positive, got '${v}'`);
    return x;
  };
}

export function sharpnessCommand(): Command {
  const cmd = new Command('sharpness')
    .description('sharpness of the loss at the model: SAM ρ-sharpness (first-order and projected ascent), adaptive (ASAM), Keskar ε-sharpness and average-case E L(θ+σu) − L(θ); loss increases, each defined in the result')
    .option('--rho <a,b,…>', 'SAM radii', positiveList('--rho'), [0.01, 0.05, 0.1])
    .option('--ascent-steps <k>', 'projected gradient-ascent steps after the first-order point', intArg('--ascent-steps', 0), 10)
    .option('--no-asam', 'skip adaptive sharpness')
    .option('--asam-rho <a,b,…>', 'ASAM radii for ‖T⁻¹ε‖ ≤ ρ', positiveList('--asam-rho'), [0.5, 1, 2])
    .option('--eta <η>', 'ASAM T = diag(|θ|) + η', floatArg('--eta'), 0.01)
    .option('--no-keskar', 'skip Keskar ε-sharpness')
    .option('--epsilon <ε>', 'Keskar box size', positive('--epsilon'), 1e-3)
    .option('--subspace <p>', 'Keskar in a random p-dimensional subspace', intArg('--subspace'))
    .option('--average-samples <n>', 'Gaussian draws per σ for average-case sharpness (0: skip)', intArg('--average-samples', 0), 20)
    .option('--sigma <a,b,…>', 'σ of the Gaussian perturbations (default ρ/√d for each --rho)', positiveList('--sigma'));
  addInputOptions(cmd);
  addParallelOptions(cmd);
  cmd.action(async (f: SharpnessFlags) => {
    const spec: SharpnessSpecInput = {
      kind: 'sharpness',
      ...inputsFromFlags(f),
      rho: f.rho,
      ascentSteps: f.ascentSteps,
      asam: f.asam,
      asamRho: f.asamRho,
      eta: f.eta,
      keskar: f.keskar,
      epsilon: f.epsilon,
      subspace: f.subspace,
      averageSamples: f.averageSamples,
      sigma: f.sigma,
    };
    if ((f.nodeRank ?? 0) > 0) {
      process.exitCode = await runFollowerNode(spec, 'sharpness');
      return;
    }
    try {
      const { out, result } = await runInEngine(spec, f.backend as BackendPreference);
      process.stdout.write(`${summarise(result)}\nwrote ${out}\n`);
    } catch (err) {
      const { message, code } = describeFailure(err, f.out);
      process.stderr.write(`losscape sharpness: ${message}\n`);
      process.exitCode = code;
    }
  });
  return cmd;
}
