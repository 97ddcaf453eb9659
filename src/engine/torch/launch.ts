import { InputError } from '../../shared/errors';
import type { Inputs } from '../../shared/specs/common';

/**
 * How the torch worker is started: one process (as always), or rank 0 of a torch.distributed
 * group (docs/distributed.md) — `--workers N` ranks on this machine, and for clusters torchrun's
 * `--nnodes M --node-rank R --rendezvous HOST:PORT`. The Python side starts the other ranks.
 */
export type LaunchInputs = Pick<Inputs, 'workers' | 'nnodes' | 'nodeRank' | 'rendezvous' | 'distTimeout'>;

export interface Launch {
  workers: number;
  nnodes: number;
  nodeRank: number;
  rendezvous: string | null;
  timeout: number;
}

export const DEFAULT_DIST_TIMEOUT_S = 60;

/** The launch an analysis asks for, checked; null for a single worker (no torch.distributed at all). */
export function launchOf(spec: LaunchInputs): Launch | null {
  const workers = spec.workers ?? 1;
  const nnodes = spec.nnodes ?? 1;
  const nodeRank = spec.nodeRank ?? 0;
  if (nodeRank >= nnodes) throw new InputError('--node-rank', `is ${nodeRank} but there are ${nnodes} node(s) (--nnodes); node ranks are 0..${nnodes - 1}`);
  if (nnodes > 1 && !spec.rendezvous) throw new InputError('--nnodes', `${nnodes} machines need --rendezvous HOST:PORT (where node 0 listens)`);
  if (workers * nnodes === 1) {
    if (spec.rendezvous) throw new InputError('--rendezvous', 'needs several ranks: --workers N and/or --nnodes M');
    return null;
  }
  return { workers, nnodes, nodeRank, rendezvous: spec.rendezvous ?? null, timeout: spec.distTimeout ?? DEFAULT_DIST_TIMEOUT_S };
}

/** The worker's command-line arguments for a launch. */
export function launchArgs(l: Launch | null): string[] {
  if (!l) return [];
  const args = ['--workers', String(l.workers), '--nnodes', String(l.nnodes), '--node-rank', String(l.nodeRank), '--dist-timeout', String(l.timeout)];
  if (l.rendezvous) args.push('--rendezvous', l.rendezvous);
  return args;
}

/** The parallelism an analysis uses over several ranks: grids deal points, everything else shards data. */
export function parallelModeOf(kind: string | undefined): 'points' | 'data' {
  return kind === 'landscape' || kind === 'trajectory' ? 'points' : 'data';
}
