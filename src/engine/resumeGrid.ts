import * as fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../shared/errors';
import type { Provenance } from '../shared/provenance';
import { parseResult, type ResultOf } from '../shared/result';
import type { DirectionsInfo, LandscapePayload } from '../shared/results/landscape';
import { computedPoints, gridSize, resumeDisagreement, showOption } from '../shared/resume';
import { readSidecarArray } from '../shared/sidecar';
import { checkSize } from './loaders/inputFile';
import { freshSidecarPath, lockHolder, sidecarFile, SidecarWriter } from './resultWriter';

type LandscapeResult = ResultOf<'landscape'>;

/**
 * `--resume FILE` (docs/architecture.md, "Resuming a landscape"): a partial landscape result is
 * continued from its own record — the grid and finished points from the JSON, the centre and
 * directions from its sidecar — so the completed grid is the one an uninterrupted run computes.
 * The inputs are checked first: the model's and the data's SHA-256 (provenance) must be those
 * the partial was computed from, as must the options that define the grid and the loss.
 */
export interface PartialLandscape {
  file: string;
  result: LandscapeResult;
  centre: Float32Array;
  dirs: Float32Array[];
  /** Points already computed. */
  kept: number;
}

/** Reads and checks a partial landscape result and its sidecar; `command` is the analysis resuming it. */
export function readPartialLandscape(file: string, command: 'landscape' | 'trajectory'): PartialLandscape {
  const abs = path.resolve(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new InputError(file, 'does not exist (--resume names the partial result to continue)');
  }
  if (!st.isFile()) throw new InputError(file, 'is not a regular file (--resume names a *.losscape.json result)');
  checkSize(file, st.size);
  let result;
  try {
    result = parseResult(JSON.parse(fs.readFileSync(abs, 'utf8')), file);
  } catch (e) {
    const m = (e as Error).message;
    throw new InputError(file, m.startsWith(`${file}: `) ? m.slice(file.length + 2) : `is not a Losscape result (${m})`);
  }
  if (result.kind !== 'landscape') throw new InputError(file, `is a ${result.kind} result; --resume continues landscape and trajectory results`);
  const written = result.result.trajectory ? 'trajectory' : 'landscape';
  if (written !== command) throw new InputError(file, `was written by losscape ${written}; resume it with losscape ${written} --resume`);
  const holder = lockHolder(abs);
  if (holder !== null) throw new InputError(file, `is being written by another Losscape run (pid ${holder}); wait for it to finish or stop it first`);
  const payload = result.result;
  const { total } = gridSize(payload);
  const kept = computedPoints(payload).filter(Boolean).length;
  if (result.complete && kept === total) throw new InputError(file, `is complete (all ${total} points computed); there is nothing to resume`);
  const d = payload.directions;
  const read = (desc: DirectionsInfo['center']): Float32Array => {
    const side = sidecarFile(abs, desc);
    let bytes: Buffer;
    try {
      checkSize(side, fs.statSync(side).size);
      bytes = fs.readFileSync(side);
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(side, `is missing: the centre and directions of ${path.basename(file)} live there, so it cannot be resumed`);
    }
    try {
      return readSidecarArray(bytes, desc);
    } catch {
      throw new InputError(side, `is shorter than ${path.basename(file)} says (a sidecar of another run?); it cannot be resumed`);
    }
  };
  const centre = read(d.center);
  const dirs = d.vectors.map(read);
  const P = result.provenance.model.parameterCount;
  if (centre.length !== P || dirs.some((v) => v.length !== P)) throw new InputError(file, `its sidecar's vectors do not have the model's ${P} parameters; it cannot be resumed`);
  return { file: abs, result, centre, dirs, kept };
}

const short = (h: string): string => h.slice(0, 12);

/**
 * Refuses to resume when the inputs are not the partial's: the model or data changed (SHA-256),
 * another parameter count or sample subset, another loss, or an option that defines the grid.
 * `fresh` is the provenance this run would write; `options` the run's options.
 */
export function checkResumeInputs(partial: PartialLandscape, fresh: Provenance, options: Record<string, unknown>): void {
  const was = partial.result.provenance;
  const name = path.basename(partial.file);
  if (fresh.model.sha256 !== was.model.sha256) {
    throw new InputError(fresh.model.path, `is not the model ${name} was computed from (SHA-256 ${short(fresh.model.sha256)}… now, ${short(was.model.sha256)}… then); refusing to resume`);
  }
  if (fresh.data.sha256 !== was.data.sha256) {
    throw new InputError(fresh.data.path, `is not the data ${name} was computed from (SHA-256 ${short(fresh.data.sha256)}… now, ${short(was.data.sha256)}… then); refusing to resume`);
  }
  if (fresh.model.parameterCount !== was.model.parameterCount) throw new InputError(fresh.model.path, `has ${fresh.model.parameterCount} parameters, ${name} ${was.model.parameterCount}; refusing to resume`);
  if (fresh.data.samplesUsed !== was.data.samplesUsed) throw new InputError(fresh.data.path, `gives ${fresh.data.samplesUsed} samples, ${name} used ${was.data.samplesUsed}; refusing to resume`);
  const lossKey = (l: Provenance['loss']) => JSON.stringify([l.name, l.params ?? null, l.fromLogits ?? null, l.reading ?? null, l.batches ?? null]);
  if (lossKey(fresh.loss) !== lossKey(was.loss)) throw new InputError(name, `was computed with the loss ${was.loss.name}, this run has ${fresh.loss.name}${fresh.loss.name === was.loss.name ? ' with other parameters' : ''}; refusing to resume`);
  const bad = resumeDisagreement(partial.result.options, options);
  if (bad) throw new InputError(name, `records ${bad.key} ${showOption(bad.recorded)}, this run has ${showOption(bad.given)}; a resumed run keeps the partial's options`);
}

/**
 * The partial's payload, made the payload of a run writing `out`: its centre and directions
 * copied into a fresh sidecar of `out` (so the partial stays intact until the new pair is in
 * place), and the resume record started.
 */
export function continuePayload(partial: PartialLandscape, out: string): LandscapePayload {
  const sidecar = new SidecarWriter(freshSidecarPath(out));
  const payload = structuredClone(partial.result.result);
  payload.directions = { ...payload.directions, center: sidecar.add(partial.centre), vectors: partial.dirs.map((d) => sidecar.add(d)) };
  sidecar.write();
  payload.resume = { from: partial.file, pointsKept: partial.kept, pointsEvaluated: 0 };
  return payload;
}
