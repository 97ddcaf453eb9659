/**
 * "Resume Landscape": the engine spec that completes a partial landscape or trajectory result in
 * place (`resume` and `out` are the file; the engine keeps its finished points, reads its
 * directions from the sidecar and checks the model's and data's hashes, src/engine/resumeGrid.ts).
 * The inputs are the ones the file records: model and data as the run opened them (provenance),
 * other relative paths against the file's folder. Pure (unit-tested without VS Code).
 */
import path from 'node:path';
import { AnalysisSpecSchema, type AnalysisSpecInput } from '../../shared/protocol';
import type { LosscapeResult } from '../../shared/result';
import { computedPoints, gridSize, RESUME_PATH_OPTIONS } from '../../shared/resume';

export type ResumeOutcome = { ok: true; spec: AnalysisSpecInput; torch: boolean; missing: number } | { ok: false; reason: string };

export function resumeSpecOf(result: LosscapeResult, file: string): ResumeOutcome {
  const name = path.basename(file);
  if (result.kind !== 'landscape') return { ok: false, reason: `${name} is a ${result.kind} result; only landscape and trajectory results can be resumed.` };
  const payload = result.result;
  const missing = gridSize(payload).total - computedPoints(payload).filter(Boolean).length;
  if (missing === 0) return { ok: false, reason: `${name} is complete; there is nothing to resume.` };
  const kind = payload.trajectory ? 'trajectory' : 'landscape';
  const base = path.dirname(file);
  const abs = (v: unknown): unknown => (typeof v === 'string' ? path.resolve(base, v) : Array.isArray(v) ? v.map(abs) : v);
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result.options)) options[k] = RESUME_PATH_OPTIONS.has(k) ? abs(v) : v;
  const candidate = {
    ...options,
    kind,
    ...(kind === 'landscape' ? { model: result.provenance.model.path } : {}),
    data: result.provenance.data.path,
    resume: file,
    out: file,
  };
  const parsed = AnalysisSpecSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, reason: `${name} does not record enough of its inputs to be resumed (${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}).` };
  const torch = options.engine === 'torch' || result.provenance.backend.name === 'torch';
  return { ok: true, spec: candidate as AnalysisSpecInput, torch, missing };
}
