/**
 * The analysis a result file records, as an engine spec: what "Recompute" in a result's panel
 * reruns and what "Resume Landscape" completes (resumeSpec.ts). Pure (unit-tested without VS Code).
 *
 * - The kind: a trajectory result is written as kind `landscape` with a `trajectory` block, and is
 *   rerun as a trajectory (a landscape spec would draw random directions through its centre).
 * - The model and data: the files as the run opened them (provenance, absolute), except for a
 *   checkpoint series (grokking, trajectory), whose provenance "model" is the series: there the
 *   recorded `model` option (torch: `net.py:NAME`) is kept, and TF.js checkpoints carry their own.
 * - Other file options (weights, to, lossModule, dataModule, checkpoints, a python path) are
 *   resolved against the directory the run was started in (`provenance.cwd`; files written
 *   before it was recorded: the result's own folder).
 */
import path from 'node:path';
import { AnalysisSpecSchema, type AnalysisSpecInput } from '../../shared/protocol';
import type { LosscapeResult } from '../../shared/result';
import { RESUME_PATH_OPTIONS } from '../../shared/resume';

/** `missing`: what the file lacks, for the caller's message ("… does not record enough of its inputs to be …"). */
export type RecordedSpec = { ok: true; spec: AnalysisSpecInput } | { ok: false; missing: string };

/** `python` is a path only when it names one (`python3` is looked up on PATH). */
const isPathLike = (v: string): boolean => v.includes('/') || v.includes('\\');

export function recordedSpecOf(result: LosscapeResult, file: string, extra: Record<string, unknown> = {}): RecordedSpec {
  const fail = (missing: string): RecordedSpec => ({ ok: false, missing });
  if (result.kind === 'scaling') {
    // A fit records its (absolute) input tables in its options.
    const spec = { ...result.options, kind: 'scaling', out: file, ...extra };
    const parsed = AnalysisSpecSchema.safeParse(spec);
    return parsed.success ? { ok: true, spec: spec as AnalysisSpecInput } : fail(`${parsed.error.issues[0].path.join('.') || 'spec'}: ${parsed.error.issues[0].message}`);
  }
  const kind = result.kind === 'landscape' && result.result.trajectory ? 'trajectory' : result.kind;
  const series = kind === 'trajectory' || kind === 'grokking';
  const base = result.provenance.cwd ?? path.dirname(file);
  const abs = (v: unknown): unknown => (typeof v === 'string' ? path.resolve(base, v) : Array.isArray(v) ? v.map(abs) : v);
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result.options)) {
    if (k === 'kind' || k === 'resume' || k === 'out') continue;
    options[k] = RESUME_PATH_OPTIONS.has(k) || (k === 'python' && typeof v === 'string' && isPathLike(v)) ? abs(v) : v;
  }
  const candidate: Record<string, unknown> = {
    ...options,
    kind,
    data: result.provenance.data.path,
    out: file,
    ...extra,
  };
  if (!series) candidate.model = result.provenance.model.path;
  const parsed = AnalysisSpecSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`${issue.path.join('.') || 'spec'}: ${issue.message}`);
  }
  return { ok: true, spec: candidate as AnalysisSpecInput };
}
