/**
 * Result files are named by a hash of what determines them: the model and data (by content
 * fingerprint), the loss and every option. The same hash means the cached result is reused
 * (unless the user asks to recompute). Pure: the fingerprints are computed by the caller.
 */
import { createHash } from 'node:crypto';
import type { AnalysisSpecInput } from '../../shared/protocol';

/** JSON with object keys sorted, so that option order never changes the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The hash of a spec (without its `out`) and the fingerprints of the files it reads
 * (path → fingerprint, e.g. a sha256 or size and mtime).
 */
export function resultKey(spec: AnalysisSpecInput, fingerprints: Readonly<Record<string, string>>): string {
  const { out: _out, ...inputs } = spec;
  return createHash('sha256')
    .update(canonicalJson({ inputs, fingerprints }))
    .digest('hex');
}

export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'result'
  );
}

/** `<configuration>-<kind>[-<dims>d]-<hash12>.losscape.json` */
export function resultFileName(configName: string, spec: AnalysisSpecInput, key: string): string {
  const dims = 'dims' in spec && spec.dims ? `-${spec.dims}d` : '';
  return `${slug(configName)}-${spec.kind}${dims}-${key.slice(0, 12)}.losscape.json`;
}
