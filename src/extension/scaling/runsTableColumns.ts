/**
 * Whether a CSV looks like a table of training runs a scaling law can be fitted to, and which
 * columns play which role: model size (params), data size (tokens), loss, and optionally run,
 * step and compute. Pure (header text in, column names out), so it is unit-tested without VS
 * Code; the CodeLens and the "Fit Scaling Law" command both use it.
 */
export interface RunsColumns {
  params: string;
  tokens: string;
  loss: string;
  run?: string;
  step?: string;
  compute?: string;
}

export type Role = keyof RunsColumns;

/** Accepted names per role, compared lower-cased with `-`, spaces and dots read as `_`; first match wins. */
const NAMES: Record<Role, readonly string[]> = {
  params: ['params', 'parameters', 'n_params', 'num_params', 'nparams', 'param_count', 'parameter_count', 'model_size', 'n', 'model_params', 'non_embedding_params'],
  tokens: ['tokens', 'n_tokens', 'num_tokens', 'tokens_seen', 'train_tokens', 'd', 'data', 'data_size', 'dataset_size', 'samples', 'samples_seen', 'examples_seen'],
  loss: ['loss', 'val_loss', 'eval_loss', 'test_loss', 'validation_loss', 'final_loss', 'train_loss', 'l'],
  run: ['run', 'run_name', 'name', 'model', 'model_name', 'id'],
  step: ['step', 'steps', 'iteration', 'iter', 'global_step'],
  compute: ['flops', 'compute', 'c', 'train_flops', 'flops_used'],
};

/** The header's cells: the first line split on the table's delimiter (comma, semicolon or tab), unquoted. */
export function headerCells(text: string): string[] {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const count = (c: string): number => first.split(c).length - 1;
  let delim = ',';
  for (const c of [';', '\t']) if (count(c) > count(delim)) delim = c;
  return first.split(delim).map((c) => c.trim().replace(/^"(.*)"$/, '$1').trim());
}

const norm = (s: string): string => s.toLowerCase().replace(/[\s.-]+/g, '_');

/** The roles found among `cells` (each column used once). */
export function matchColumns(cells: ReadonlyArray<string>): Partial<RunsColumns> {
  const used = new Set<string>();
  const out: Partial<RunsColumns> = {};
  for (const role of ['params', 'tokens', 'loss', 'step', 'compute', 'run'] as Role[]) {
    for (const name of NAMES[role]) {
      const hit = cells.find((c) => !used.has(c) && norm(c) === name);
      if (hit) {
        out[role] = hit;
        used.add(hit);
        break;
      }
    }
  }
  return out;
}

/** The columns of a runs table, or null when params, tokens or loss is missing. */
export function detectRunsColumns(text: string): RunsColumns | null {
  const m = matchColumns(headerCells(text));
  return m.params && m.tokens && m.loss ? (m as RunsColumns) : null;
}
