import type { Evaluation } from './objective';
import type { ThreadCpu } from './threadCpu';
import type { PreparedInputs } from './inputs';

/**
 * A second evaluator of the same objective running on another core (a worker thread holding
 * its own copy of the engine, model and data), used by the landscape grid to evaluate half the
 * rows: TF.js's wasm and cpu backends are single-threaded, so one core would idle otherwise.
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
  /** Evaluates the points with these plane coordinates (one grid row), in order. */
  evaluate(coords: number[][]): Promise<Evaluation[]>;
  close(): Promise<void>;
  /**
   * The helper thread's CPU seconds (run, runnable wait) when it became ready and after its
   * latest row, where it can tell (src/engine/threadCpu.ts).
   */
  cpu?(): { startup: ThreadCpu | null; latest: ThreadCpu | null };
}
