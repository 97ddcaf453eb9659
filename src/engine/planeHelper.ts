import type { Evaluation } from './objective';
import type { ThreadCpu } from './threadCpu';
import type { PreparedInputs } from './inputs';

/**
 * A second evaluator of the same objective running on another core (a worker thread holding
 * its own copy of the engine, model and data), used by the landscape grid to evaluate about half
 * of its points: TF.js's wasm and cpu backends are single-threaded, so one core would idle otherwise.
 * Engine-neutral: an engine that can offer one returns it from PreparedInputs.startPlaneHelper.
 */
export interface PlaneHelper {
  /** Resolves true once the helper has loaded its inputs, false if it could not start. */
  readonly ready: Promise<boolean>;
  /**
   * Hands the helper this thread's prepared inputs (it may take their samples instead of
   * loading the data again); called once, before setPlane.
   */
  attach?(prepared: PreparedInputs): void;
  /** The plane θ(c) = centre + Σᵢ cᵢ·dirs[i] of every later evaluation. */
  setPlane(centre: Float32Array, dirs: Float32Array[], withAccuracy: boolean): void;
  /**
   * Evaluates units of a grid, each a list of plane coordinates evaluated as one request
   * (Objective.evaluateAlong), taking one unit at a time from a counter shared with the calling
   * thread, which takes its own units from it too: `claims` is an Int32Array on a
   * SharedArrayBuffer, [0] the index of the next unit (taken with Atomics.add), [1] nonzero
   * when no more may be taken. Each unit's evaluations are reported to `onUnit` as they come.
   * Resolves when the helper takes no more units; rejects when it fails or cannot start. A unit
   * it took and did not report is the caller's to evaluate; the ones it reported stay valid.
   */
  take(units: number[][][], claims: Int32Array, onUnit: (i: number, evs: Evaluation[]) => void): Promise<void>;
  close(): Promise<void>;
  /**
   * The helper thread's CPU seconds (run, runnable wait) when it became ready and after its
   * latest row, where it can tell (src/engine/threadCpu.ts).
   */
  cpu?(): { startup: ThreadCpu | null; latest: ThreadCpu | null };
}
