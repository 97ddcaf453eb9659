import { Command, InvalidArgumentError } from 'commander';
import type { BackendPreference } from '../../shared/protocol';
import type { SaliencySpecInput } from '../../shared/specs/saliency';
import { addInputOptions, floatArg, floatListArg, inputsFromFlags, intArg, type InputFlags } from '../options';
import { describeFailure, runInEngine } from '../runEngine';
import { summarise } from '../summary';

interface SaliencyFlags extends InputFlags {
  gradients: number;
  gradientBatch: number;
  lambda: number;
  blockSize: number | 'full';
  top: number;
  sparsities: number[];
}

export function pruneSaliencyCommand(): Command {
  const cmd = new Command('prune-saliency')
    .description('Optimal-Brain-Surgeon pruning saliency θᵢ²/(2[F̂⁻¹]ᵢᵢ) of every weight, F̂ = λI + (1/m)Σ gᵢgᵢᵀ inverted by M-FAC; summarised per layer, with the most and least salient weights')
    .option('--gradients <m>', 'gradients in the Fisher estimate', intArg('--gradients'), 64)
    .option('--gradient-batch <b>', 'samples per gradient (1: per-sample gradients)', intArg('--gradient-batch'), 1)
    .option(
      '--lambda <λ>',
      'dampening',
      (v: string) => {
        const x = floatArg('--lambda')(v);
        if (!(x > 0)) throw new InvalidArgumentError(`--lambda must be positive, got '${v}'`);
        return x;
      },
      1e-5,
    )
    .option(
      '--block-size <B|full>',
      'coordinates per diagonal block of F̂, as M-FAC prunes (default 128); full: the whole F̂',
      (v: string) => (v === 'full' ? 'full' : intArg('--block-size', 1)(v)),
      128,
    )
    .option('--top <n>', 'most and least salient weights to list', intArg('--top', 0), 20)
    .option(
      '--sparsities <a,b,…>',
      'global sparsities for the per-layer pruned shares',
      (v: string) => {
        const xs = floatListArg('--sparsities')(v);
        if (xs.some((x) => !(x > 0 && x < 1))) throw new InvalidArgumentError(`--sparsities must be in (0, 1), got '${v}'`);
        return xs;
      },
      [0.5, 0.9],
    );
  addInputOptions(cmd);
  cmd.action(async (f: SaliencyFlags) => {
    const spec: SaliencySpecInput = {
      kind: 'saliency',
      ...inputsFromFlags(f),
      gradients: f.gradients,
      gradientBatch: f.gradientBatch,
      lambda: f.lambda,
      blockSize: f.blockSize,
      top: f.top,
      sparsities: f.sparsities,
    };
    try {
      const { out, result } = await runInEngine(spec, f.backend as BackendPreference);
      process.stdout.write(`${summarise(result)}\nwrote ${out}\n`);
    } catch (err) {
      const { message, code } = describeFailure(err, f.out);
      process.stderr.write(`losscape prune-saliency: ${message}\n`);
      process.exitCode = code;
    }
  });
  return cmd;
}
