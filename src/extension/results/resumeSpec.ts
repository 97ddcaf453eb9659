/**
 * "Resume Landscape": the engine spec that completes a partial landscape or trajectory result in
 * place (`resume` and `out` are the file; the engine keeps its finished points, reads its
 * directions from the sidecar and checks the model's and data's hashes, src/engine/resumeGrid.ts).
 * The inputs are the ones the file records (recordedSpec.ts). Pure (unit-tested without VS Code).
 */
import path from 'node:path';
import type { AnalysisSpecInput } from '../../shared/protocol';
import type { LosscapeResult } from '../../shared/result';
import { computedPoints, gridSize } from '../../shared/resume';
import { recordedSpecOf } from './recordedSpec';

export type ResumeOutcome = { ok: true; spec: AnalysisSpecInput; torch: boolean; missing: number } | { ok: false; reason: string };

export function resumeSpecOf(result: LosscapeResult, file: string): ResumeOutcome {
  const name = path.basename(file);
  if (result.kind !== 'landscape') return { ok: false, reason: `${name} is a ${result.kind} result; only landscape and trajectory results can be resumed.` };
  const payload = result.result;
  const missing = gridSize(payload).total - computedPoints(payload).filter(Boolean).length;
  if (missing === 0) return { ok: false, reason: `${name} is complete; there is nothing to resume.` };
  const recorded = recordedSpecOf(result, file, { resume: file });
  if (!recorded.ok) return { ok: false, reason: `${name} does not record enough of its inputs to be resumed (${recorded.missing}).` };
  const options = result.options as Record<string, unknown>;
  const torch = options.engine === 'torch' || result.provenance.backend.name === 'torch';
  return { ok: true, spec: recorded.spec, torch, missing };
}
