import type { StopSignal } from './linalg/operator';
import type { LosscapeResult } from '../shared/result';
import { CancelledError } from '../shared/errors';

/** What the RPC loop hands an analysis: cancellation, progress with partial results, a log. */
export interface AnalysisContext {
  readonly stop: StopSignal;
  progress(fraction: number, message: string, partial?: LosscapeResult): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export function throwIfStopped(stop: StopSignal): void {
  if (stop.isCancellationRequested) throw new CancelledError();
}

/** A context for direct (in-process) use: tests, benchmarks. */
export function quietContext(stop: StopSignal = { isCancellationRequested: false }): AnalysisContext {
  return { stop, progress: () => undefined, log: () => undefined };
}

let lastYield = 0;

/**
 * Lets the event loop run (at most every 50 ms) so that a cancellation notification arriving
 * over IPC is processed: backend reads resolve as microtasks, which alone never let it in.
 */
export async function checkpoint(stop: StopSignal): Promise<void> {
  const now = Date.now();
  if (now - lastYield >= 50) {
    lastYield = now;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throwIfStopped(stop);
}
