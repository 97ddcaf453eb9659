/**
 * Fingerprints of the files an analysis reads, for the result cache key: a model.json by its
 * content hash plus the size and mtime of the files beside it (its weight shards); data files
 * by size and mtime (they may be large; a rewrite changes the mtime).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AnalysisSpecInput } from '../../shared/protocol';

async function statPrint(file: string): Promise<string> {
  try {
    const s = await fs.stat(file);
    return `${s.size}:${Math.round(s.mtimeMs)}`;
  } catch {
    return 'missing';
  }
}

async function modelPrint(modelJson: string): Promise<string> {
  let content = 'missing';
  try {
    content = createHash('sha256').update(await fs.readFile(modelJson)).digest('hex');
  } catch {
    return content;
  }
  const dir = path.dirname(modelJson);
  const siblings = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isFile() && d.name !== path.basename(modelJson)).map((d) => d.name).sort();
  const shards = await Promise.all(siblings.map(async (n) => `${n}=${await statPrint(path.join(dir, n))}`));
  return `${content};${shards.join(',')}`;
}

/** path → fingerprint for every file `spec` reads. */
export async function inputFingerprints(spec: AnalysisSpecInput): Promise<Record<string, string>> {
  const out: Record<string, string> = { [spec.data]: await statPrint(spec.data) };
  if ('model' in spec) out[spec.model] = await modelPrint(spec.model);
  // A checkpoint series (grokking, trajectory): each named path or folder by size and mtime (a
  // folder's mtime changes when checkpoints are added); a glob pattern by its text only.
  if ('checkpoints' in spec) for (const p of [spec.checkpoints].flat()) out[p] = await statPrint(p);
  if (spec.kind === 'landscape' && spec.to) out[spec.to] = await modelPrint(spec.to);
  if (spec.lossModule) out[spec.lossModule] = await statPrint(spec.lossModule);
  return out;
}
