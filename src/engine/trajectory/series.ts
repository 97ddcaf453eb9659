import path from 'node:path';
import { withLossFrom } from '../lossFrom';
import { InputError } from '../../shared/errors';
import type { Provenance } from '../../shared/provenance';
import type { Inputs } from '../../shared/specs/common';
import { resolveCheckpoints, seriesHash, type CheckpointHeader } from '../checkpoints';
import type { OutputKind } from '../grokking/stats';
import type { Dataset, Split } from '../loaders/dataset';
import type { Objective } from '../objective';
import { provenanceOf, type Stopwatch } from '../provenance';
import { prepareTfjsSeries } from '../tfjs/series';

/**
 * A checkpoint series made ready for analysis, whichever engine runs it: objectives over the
 * train samples, the test split and optional probe sets, all bound to one working model whose
 * weights (trainable or not, e.g. batch-norm statistics) are replaced by each checkpoint's in
 * turn, so evaluations see exactly the checkpoint.
 */
export interface SeriesInputs extends Omit<Inputs, 'model'> {
  checkpoints: string | string[];
}

export interface PreparedSeries {
  headers: CheckpointHeader[];
  dataset: Dataset;
  lossInfo: Provenance['loss'];
  /** How outputs become class probabilities (for the trajectory KL). */
  outputKind: OutputKind;
  /** Whether labels are class indices of a categorical loss (probe label matrices one-hot them). */
  classIndexLabels: boolean;
  /** The samples used (all train samples, or the seeded `samples` subset). */
  train: Objective;
  trainSplit: Split;
  test: Objective | null;
  /** sha256 of each checkpoint loaded so far (index-aligned with headers). */
  hashes: (string | null)[];
  /** Copies checkpoint i's weights into the working model; returns θ_i (trainable, flat). */
  load(i: number): Promise<Float32Array>;
  /** An objective over a seeded subset of the used train samples (the caller disposes it). */
  subset(size: number, seed: number): { objective: Objective; indices: Int32Array; split: Split };
  /** The seed paper's hidden weights W (and frozen W₀ for centred models), or null if the model is not one. */
  seedKernels(centred: boolean): { W: Float32Array; W0: Float32Array | null } | null;
  dispose(): void;
}

export async function prepareSeries(spec: SeriesInputs, opts: { testSamples?: number } = {}): Promise<PreparedSeries> {
  const headers = resolveCheckpoints(spec.checkpoints);
  if (headers.length === 0) throw new InputError(String(spec.checkpoints), 'names no checkpoints');
  return prepareTfjsSeries(spec, headers, opts);
}

/** The series' name for provenance: its pattern (one) or the folder holding all its checkpoints (a list). */
function seriesPath(checkpoints: string | string[], files: string[]): string {
  if (!Array.isArray(checkpoints) || checkpoints.length === 1) return path.resolve([checkpoints].flat()[0]);
  const parts = files.map((f) => path.dirname(f).split(path.sep));
  const common: string[] = [];
  for (let i = 0; parts.every((p) => i < p.length && p[i] === parts[0][i]); i++) common.push(parts[0][i]);
  return common.join(path.sep) || path.sep;
}

/** Provenance of a series: the model is the series (its pattern, and one hash over all checkpoints). */
export function seriesProvenance(spec: SeriesInputs, s: PreparedSeries, watch: Stopwatch, finished: boolean): Provenance {
  return provenanceOf(
    {
      model: {
        path: seriesPath(spec.checkpoints, s.headers.map((h) => h.path)),
        sha256: seriesHash(s.hashes.map((h, i) => h ?? `unloaded:${s.headers[i].path}`)),
        parameterCount: s.train.dim,
      },
      dataPath: spec.data,
      dataset: s.dataset,
      samplesUsed: s.train.sampleCount,
      loss: withLossFrom(s.lossInfo, spec.lossFrom),
      seed: spec.seed,
    },
    watch,
    finished,
  );
}
