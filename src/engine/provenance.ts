import path from 'node:path';
import type { Provenance } from '../shared/provenance';
import type { Inputs } from '../shared/specs/common';
import { LOSSCAPE_VERSION } from '../shared/version';
import type { PreparedInputs } from './inputs';
import type { Dataset } from './loaders/dataset';
import type { BackendInfo } from './objective';

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

/** What a result was computed from; `provenanceOf` adds the backend, timings and version. */
export interface ProvenanceSources {
  model: Provenance['model'];
  dataPath: string;
  dataset: Dataset;
  samplesUsed: number;
  loss: Provenance['loss'];
  seed: number;
  backend: BackendInfo;
}

export function provenanceOf(src: ProvenanceSources, watch: Stopwatch, finished: boolean): Provenance {
  const { parallel, ...backend } = src.backend;
  return {
    model: src.model,
    data: {
      path: path.resolve(src.dataPath),
      sha256: src.dataset.sha256,
      sampleCount: src.dataset.train.xShape[0],
      samplesUsed: src.samplesUsed,
    },
    loss: src.loss,
    backend,
    parallel: parallel ?? { ranks: 1, mode: 'single', threadsPerRank: Math.max(1, backend.threads ?? 1) },
    seed: src.seed,
    timings: {
      startedAt: watch.startedAt.toISOString(),
      finishedAt: finished ? new Date().toISOString() : undefined,
      seconds: watch.seconds(),
      phases: { ...watch.phases },
    },
    losscapeVersion: LOSSCAPE_VERSION,
    cwd: process.cwd(),
  };
}

/** Provenance of an analysis of one model. */
export function makeProvenance(spec: Inputs, p: PreparedInputs, watch: Stopwatch, finished: boolean): Provenance {
  return provenanceOf(
    {
      model: { path: path.resolve(spec.model), sha256: p.model.sha256, parameterCount: p.objective.dim },
      dataPath: spec.data,
      dataset: p.dataset,
      samplesUsed: p.objective.sampleCount,
      loss: p.lossInfo,
      seed: spec.seed,
      backend: p.objective.backend,
    },
    watch,
    finished,
  );
}
