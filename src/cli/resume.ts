import * as fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../shared/errors';
import { parseResult, type LosscapeResult } from '../shared/result';
import { RESUME_FREE_OPTIONS, RESUME_PATH_OPTIONS, resumeDisagreement, showOption } from '../shared/resume';

/**
 * `--resume FILE` on the command line: the spec is the one the partial result records (its
 * options, with the model's and data's paths from its provenance), `--out` defaulting to FILE.
 * A flag given again must agree with the record, or the run is refused in one line naming the
 * flag; flags of RESUME_FREE_OPTIONS (interpreter, device, threads, ranks, output) may change.
 * The engine checks the inputs' hashes and the grid again (src/engine/resumeGrid.ts).
 */

/** Spec keys of the commander attributes that differ from them. */
const KEY_OF_ATTRIBUTE: Record<string, string> = { lossParam: 'lossParams', fromProbabilities: 'fromLogits' };

function readRecorded(file: string): LosscapeResult {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(file, code === 'ENOENT' ? 'does not exist (--resume names the partial result to continue)' : `cannot be read (${code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, `is not JSON (${(e as Error).message}); --resume names a *.losscape.json result`);
  }
  try {
    return parseResult(json, file);
  } catch (e) {
    throw new InputError(file, (e as Error).message.slice(file.length + 2));
  }
}

/**
 * A recorded path as this process can open it: absolute as it is; relative to the working
 * directory when it exists there, else to the result's folder (a run started elsewhere).
 */
function resolveRecorded(value: string, resultFile: string): string {
  if (path.isAbsolute(value)) return value;
  const fileOf = (v: string): string => v.replace(/:[A-Za-z_]\w*$/, '').replace(/[*?[{].*$/, '') || '.';
  for (const base of [process.cwd(), path.dirname(path.resolve(resultFile))]) {
    if (fs.existsSync(path.resolve(base, fileOf(value)))) return path.resolve(base, value);
  }
  return path.resolve(value);
}

function resolveOption(key: string, value: unknown, resultFile: string): unknown {
  if (!RESUME_PATH_OPTIONS.has(key)) return value;
  if (typeof value === 'string') return resolveRecorded(value, resultFile);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? resolveRecorded(v, resultFile) : v));
  return value;
}

/**
 * The spec a resumed run sends to the engine: the partial's, with the free flags the user gave.
 * `fromFlags` is the spec the command would build from its flags alone.
 */
export function resumedSpec<S extends { kind: string; out: string }>(cmd: Command, file: string, fromFlags: S): S {
  const recorded = readRecorded(file);
  if (recorded.kind !== 'landscape') throw new InputError(file, `is a ${recorded.kind} result; --resume continues landscape and trajectory results`);
  const name = path.basename(file);
  const written = recorded.result.trajectory ? 'trajectory' : 'landscape';
  if (written !== fromFlags.kind) throw new InputError(file, `was written by losscape ${written}; resume it with losscape ${written} --resume`);
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(recorded.options)) options[k] = resolveOption(k, v, file);
  const trajectory = recorded.result.trajectory !== undefined;
  // The model and data as the run opened them (absolute); a series' model is its checkpoints.
  if (!trajectory) options.model = recorded.provenance.model.path;
  options.data = recorded.provenance.data.path;

  const given: Record<string, unknown> = {};
  const flagOf: Record<string, string> = {};
  const flags = fromFlags as unknown as Record<string, unknown>;
  for (const opt of cmd.options) {
    const attr = opt.attributeName();
    if (cmd.getOptionValueSource(attr) !== 'cli') continue;
    const key = KEY_OF_ATTRIBUTE[attr] ?? attr;
    if (!(key in flags)) continue;
    // A path given now is relative to this working directory.
    const v = flags[key];
    given[key] = !RESUME_PATH_OPTIONS.has(key) ? v : typeof v === 'string' ? path.resolve(v) : Array.isArray(v) ? v.map((p) => path.resolve(String(p))) : v;
    flagOf[key] = opt.long ?? opt.flags;
  }
  // An engine chosen by default is the one the result names.
  const asRun = { ...options, engine: options.engine ?? (recorded.provenance.backend.name === 'torch' ? 'torch' : 'tfjs') };
  const bad = resumeDisagreement(asRun, given, Object.keys(given), true);
  if (bad) {
    throw new InputError(
      flagOf[bad.key],
      `${showOption(bad.given)} disagrees with ${name}, which was computed with ${bad.key} ${showOption(bad.recorded)}; leave the flag out to resume it, or start a new run`,
    );
  }
  const free = Object.fromEntries(Object.entries(given).filter(([k]) => RESUME_FREE_OPTIONS.has(k)));
  return { ...options, ...free, kind: fromFlags.kind, resume: path.resolve(file), out: (given.out as string | undefined) ?? path.resolve(file) } as unknown as S;
}
