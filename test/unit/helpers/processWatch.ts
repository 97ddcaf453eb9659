import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Resident memory of a process (KiB) from /proc, 0 when it is gone. */
function rssKiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The pid and all its descendants, from /proc/<pid>/task/<tid>/children. */
function tree(pid: number, into: number[] = []): number[] {
  into.push(pid);
  let children: string;
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return into;
  }
  for (const c of children.split(/\s+/).filter(Boolean)) tree(Number(c), into);
  return into;
}

/** A process's command line (arguments joined by NUL), '' when it is gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Every process below `root`, from each process's parent in /proc/<pid>/stat: unlike `tree`'s
 * per-thread children lists, this also finds processes a non-main thread started.
 */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent) {
      if (pp === p) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(root);
  return out;
}

export function highWaterKiB(pid: number): number {
  return rssKiB(pid, 'VmHWM');
}

export interface Watched {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak of the summed resident memory of the process and its descendants, sampled every 20 ms (KiB). */
  peakKiB: number;
  timedOut: boolean;
}

/**
 * Runs a command, sampling the resident memory of its whole process tree (the CLI and the engine
 * it forks) until it exits; kills the tree after `timeoutMs` (a hang is a failure, not a wait).
 */
export function runWatched(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<Watched> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let peak = 0;
    let timedOut = false;
    const sample = (): void => {
      if (child.pid === undefined) return;
      let sum = 0;
      for (const p of tree(child.pid)) sum += rssKiB(p);
      if (sum > peak) peak = sum;
    };
    const poll = setInterval(sample, 20);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) for (const p of tree(child.pid).reverse()) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }, opts.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, peakKiB: peak, timedOut });
    });
  });
}

/** Runs `jobs` with at most `limit` at a time, keeping the order of the results. */
export async function inBatches<T, R>(items: T[], limit: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await job(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
