/**
 * Fingerprints of the files an analysis reads, for the result cache key: a model.json by its
 * content hash plus the size and mtime of the files beside it (its weight shards); a Keras
 * .keras / .h5 model and data files by size and mtime (they may be large; a rewrite changes the
 * mtime); a checkpoint series (grokking, trajectory) by the size and mtime of every file under
 * the fixed part of each pattern (a folder, or a glob's folder before its first wildcard), so
 * that retraining into the same folders, or adding a checkpoint, changes the key.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AnalysisSpecInput } from '../../shared/protocol';

const MAGIC = /[*?[\]{}]/;
/** How deep, and how many files, a series fingerprint looks at (a bound on the work, not a rule). */
const SERIES_DEPTH = 4;
const SERIES_FILES = 5000;

async function statPrint(file: string): Promise<string> {
  try {
    const s = await fs.stat(file);
    return `${s.size}:${Math.round(s.mtimeMs)}`;
  } catch {
    return 'missing';
  }
}

async function modelPrint(model: string): Promise<string> {
  if (!/\.json$/i.test(model)) return statPrint(model);
  let content = 'missing';
  try {
    content = createHash('sha256').update(await fs.readFile(model)).digest('hex');
  } catch {
    return content;
  }
  const dir = path.dirname(model);
  const siblings = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isFile() && d.name !== path.basename(model)).map((d) => d.name).sort();
  const shards = await Promise.all(siblings.map(async (n) => `${n}=${await statPrint(path.join(dir, n))}`));
  return `${content};${shards.join(',')}`;
}

/**
 * The files under `dir` (Losscape's own result files and sidecars, node_modules and dot folders
 * left out), as `relative path=size:mtime`, depth first in name order.
 */
async function filesUnder(root: string, dir: string, depth: number, found: string[]): Promise<void> {
  if (depth < 0 || found.length >= SERIES_FILES) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (found.length >= SERIES_FILES) return;
    const p = path.join(dir, e.name);
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') await filesUnder(root, p, depth - 1, found);
    else if (e.isFile() && !e.name.includes('.losscape.')) found.push(`${path.relative(root, p)}=${await statPrint(p)}`);
  }
}

/** One checkpoint pattern (absolute): a model file, a folder of checkpoints, or a glob. */
async function seriesPrint(pattern: string): Promise<string> {
  const parts = pattern.split(/[\\/]/);
  const firstMagic = parts.findIndex((p) => MAGIC.test(p));
  const fixed = firstMagic < 0 ? pattern : parts.slice(0, firstMagic).join(path.sep) || path.sep;
  let stat: import('node:fs').Stats;
  try {
    stat = await fs.stat(fixed);
  } catch {
    return 'missing';
  }
  if (!stat.isDirectory()) return modelPrint(fixed);
  const files: string[] = [];
  await filesUnder(fixed, fixed, SERIES_DEPTH, files);
  return createHash('sha256').update(files.join('\n')).digest('hex');
}

/** path → fingerprint for every file `spec` reads. */
export async function inputFingerprints(spec: AnalysisSpecInput): Promise<Record<string, string>> {
  if (spec.kind === 'scaling') {
    const tables: Record<string, string> = {};
    for (const f of [...(spec.runs ?? []), ...(spec.fromResults ?? [])]) tables[f] = await statPrint(f);
    return tables;
  }
  const out: Record<string, string> = { [spec.data]: await statPrint(spec.data) };
  if ('model' in spec) out[spec.model] = await modelPrint(spec.model);
  if ('checkpoints' in spec) for (const p of [spec.checkpoints].flat()) out[p] = await seriesPrint(p);
  if (spec.kind === 'landscape' && spec.to) out[spec.to] = await modelPrint(spec.to);
  if ('lossModule' in spec && spec.lossModule) out[spec.lossModule] = await statPrint(spec.lossModule);
  return out;
}
