import { Command, InvalidArgumentError, Option } from 'commander';
import type { BackendPreference } from '../../shared/protocol';
import type { HessianSpecInput } from '../../shared/specs/hessian';
import { addInputOptions, addParallelOptions, floatArg, hvOption, inputsFromFlags, intArg, type InputFlags } from '../options';
import { runFollowerNode } from '../followerNode';
import { describeFailure, runInEngine } from '../runEngine';
import { summarise } from '../summary';

interface HessianFlags extends InputFlags {
  operator: 'hessian' | 'ggn' | 'fisher';
  hv: 'exact' | 'finite-difference';
  top: number;
  bottom: number;
  method: 'lanczos' | 'power';
  maxIter?: number;
  tol?: number;
  trace?: boolean;
  traceMethod: 'hutchinson' | 'hutch++';
  probes: number;
  diagonal?: boolean;
  density?: boolean;
  densitySteps: number;
  densityStarts: number;
  perLayer?: boolean;
  fdStep: number;
  vectors: boolean;
  memoryLimit: number;
}

function stepArg(v: string): number {
  const x = floatArg('--fd-step')(v);
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError(`--fd-step must be in (0, 1), got '${v}'`);
  return x;
}

export function hessianCommand(): Command {
  const cmd = new Command('hessian')
    .description('curvature of the loss at the model: top/bottom eigenvalues (Lanczos or power iteration) with residuals, trace (Hutchinson, Hutch++), diagonal, spectral density (SLQ), per-layer; of the Hessian, the Gauss–Newton matrix or the empirical Fisher')
    .addOption(new Option('--operator <kind>', 'hessian, ggn (generalised Gauss–Newton) or fisher (empirical Fisher)').choices(['hessian', 'ggn', 'fisher']).default('hessian'))
    .addOption(hvOption())
    .option('--top <k>', 'largest eigenvalues (0: none)', intArg('--top', 0), 5)
    .option('--bottom <k>', 'smallest eigenvalues (Lanczos)', intArg('--bottom', 0), 0)
    .addOption(new Option('--method <m>', 'eigenvalue method').choices(['lanczos', 'power']).default('lanczos'))
    .option('--max-iter <n>', 'Lanczos: most products, stopping earlier on convergence (default max(40k, 300)); power: iterations per pair (default 100)', intArg('--max-iter'))
    .option('--tol <t>', 'Lanczos Ritz-residual tolerance (1e-4) or power-iteration relative change (1e-3)', floatArg('--tol'))
    .option('--trace', 'estimate the trace')
    .addOption(new Option('--trace-method <m>', 'trace estimator').choices(['hutchinson', 'hutch++']).default('hutchinson'))
    .option('--probes <p>', 'random vectors of the stochastic estimators (trace, diagonal)', intArg('--probes', 2), 100)
    .option('--diagonal', 'estimate the diagonal (Hutchinson), summarised per layer; values in the sidecar')
    .option('--density', 'spectral density by stochastic Lanczos quadrature')
    .option('--density-steps <m>', 'Lanczos steps per SLQ start', intArg('--density-steps'), 80)
    .option('--density-starts <n>', 'random starts of SLQ', intArg('--density-starts'), 5)
    .option('--per-layer', 'top eigenvalue and trace of each layer’s block')
    .option('--fd-step <δ>', 'step of finite-difference Hessian products (--hv finite-difference), relative to ‖θ‖', stepArg, 1e-3)
    .option('--no-vectors', 'do not save eigenvectors in the sidecar')
    .option('--memory-limit <MB>', 'largest Krylov basis to allocate', intArg('--memory-limit'), 4096);
  addInputOptions(cmd);
  addParallelOptions(cmd);
  cmd.action(async (f: HessianFlags) => {
    const spec: HessianSpecInput = {
      kind: 'hessian',
      ...inputsFromFlags(f),
      operator: f.operator,
      hv: f.hv,
      top: f.top,
      bottom: f.bottom,
      method: f.method,
      maxIter: f.maxIter,
      tol: f.tol,
      trace: f.trace ?? false,
      traceMethod: f.traceMethod,
      probes: f.probes,
      diagonal: f.diagonal ?? false,
      density: f.density ?? false,
      densitySteps: f.densitySteps,
      densityStarts: f.densityStarts,
      perLayer: f.perLayer ?? false,
      fdStep: f.fdStep,
      vectors: f.vectors,
      memoryLimitMb: f.memoryLimit,
    };
    if ((f.nodeRank ?? 0) > 0) {
      process.exitCode = await runFollowerNode(spec, 'hessian');
      return;
    }
    try {
      const { out, result } = await runInEngine(spec, f.backend as BackendPreference);
      process.stdout.write(`${summarise(result)}\nwrote ${out}\n`);
      if (result.kind === 'hessian') for (const w of result.result.eigen?.warnings ?? []) process.stderr.write(`losscape hessian: warning: ${w}\n`);
    } catch (err) {
      const { message, code } = describeFailure(err, f.out);
      process.stderr.write(`losscape hessian: ${message}\n`);
      process.exitCode = code;
    }
  });
  return cmd;
}
