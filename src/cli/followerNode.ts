import { spawn } from 'node:child_process';
import path from 'node:path';
import { InputError } from '../shared/errors';
import type { LaunchInputs } from '../engine/torch/launch';
import { launchArgs, launchOf } from '../engine/torch/launch';
import { resolvePython, workerPackageRoot } from '../engine/torch/worker';
import { withAllocatorEnv } from '../shared/allocatorEnv';

/**
 * `--node-rank R` with R > 0 (docs/distributed.md): this machine computes, but node 0 talks to the
 * engine and writes the result. So no engine starts here: this machine's ranks start, join node
 * 0's rendezvous and follow rank 0's requests until it ends the run. Returns the exit code.
 */
export async function runFollowerNode(spec: LaunchInputs & { python?: string }, command: string): Promise<number> {
  let args: string[];
  try {
    const launch = launchOf(spec);
    if (!launch || launch.nodeRank === 0) throw new InputError('--node-rank', 'a following node needs --node-rank ≥ 1 with --nnodes and --rendezvous');
    args = launchArgs(launch);
    process.stderr.write(`losscape ${command}: node ${launch.nodeRank} of ${launch.nnodes}: ${launch.workers} rank(s) following rank 0 at ${launch.rendezvous}; node 0 writes the result\n`);
  } catch (err) {
    process.stderr.write(`losscape ${command}: ${(err as Error).message}\n`);
    return 2;
  }
  const python = resolvePython(spec.python);
  const env = withAllocatorEnv({ ...process.env, PYTHONPATH: [workerPackageRoot(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONUNBUFFERED: '1' });
  const child = spawn(python, ['-u', '-m', 'losscape_torch', ...args], { stdio: ['ignore', 'inherit', 'inherit'], env });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await new Promise<number>((resolve) => {
      child.on('error', (err) => {
        process.stderr.write(`losscape ${command}: cannot start '${python}': ${err.message}\n`);
        resolve(2);
      });
      child.on('exit', (code, signal) => resolve(signal ? 1 : (code ?? 1)));
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
