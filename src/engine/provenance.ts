import path from 'node:path';
import type { Provenance } from '../shared/provenance';
import type { Inputs } from '../shared/specs/common';
import { LOSSCAPE_VERSION } from '../shared/version';
import type { PreparedInputs } from './inputs';
import { engineInfo } from './runtime';

/** Wall-clock phases of an analysis, for the `timings` block of a result. */
export class Stopwatch {
  readonly startedAt = new Date();
  private readonly t0 = performance.now();
  private last = this.t0;
  readonly phases: Record<string, number> = {};

  lap(name: string): void {
    const now = performance.now();
    this.phases[name] = (this.phases[name] ?? 0) + (now - this.last) / 1000;
    this.last = now;
  }

  seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }
}

export function makeProvenance(spec: Inputs, p: PreparedInputs, watch: Stopwatch, finished: boolean): Provenance {
  const info = engineInfo();
  return {
    model: { path: path.resolve(spec.model), sha256: p.loaded.sha256, parameterCount: p.objective.dim },
    data: {
      path: path.resolve(spec.data),
      sha256: p.dataset.sha256,
      sampleCount: p.dataset.train.xShape[0],
      samplesUsed: p.objective.sampleCount,
    },
    loss: p.lossInfo,
    backend: { name: info.backend, version: info.version },
    seed: spec.seed,
    timings: {
      startedAt: watch.startedAt.toISOString(),
      finishedAt: finished ? new Date().toISOString() : undefined,
      seconds: watch.seconds(),
      phases: { ...watch.phases },
    },
    losscapeVersion: LOSSCAPE_VERSION,
  };
}
