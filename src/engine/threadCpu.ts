import { readFileSync } from 'node:fs';

/**
 * CPU seconds the calling thread has run, and seconds it spent runnable but waiting for a CPU
 * (Linux's per-thread scheduler statistics, /proc/thread-self/schedstat, in nanoseconds); null
 * where the file does not exist. Per thread, unlike process.cpuUsage(), so the landscape grid
 * can say how the work split between its two threads and how long each waited for the other
 * (wall − run − runnable wait): on a shared machine wall-clock ratios mislead, these do not.
 */
export interface ThreadCpu {
  run: number;
  wait: number;
}

let unavailable = false;

export function threadCpu(): ThreadCpu | null {
  if (unavailable) return null;
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    if (!Number.isFinite(run) || !Number.isFinite(wait)) throw new Error('unreadable');
    return { run: run / 1e9, wait: wait / 1e9 };
  } catch {
    unavailable = true;
    return null;
  }
}
