/**
 * Parameters of the parameterised losses (`--loss-param KEY=VALUE`, run configurations'
 * `"loss": {"name", "params"}`, compare-losses' `name:k=v:k=v`), with their defaults, ranges
 * and what they mean. Pure: shared by the CLI, the engine and the extension host. Every check
 * returns one line naming the option and what is wrong.
 */
import type { EngineLossName } from './lossNames';

export interface LossParamSpec {
  name: string;
  default: number;
  /** The range as written in messages, e.g. "[0, 2]". */
  range: string;
  ok(v: number): boolean;
  meaning: string;
}

const inClosed = (lo: number, hi: number) => (v: number) => v >= lo && v <= hi;
const positive = (v: number) => v > 0;
const finite = (v: number) => Number.isFinite(v);

/** Parameters per loss; losses not listed take none. */
export const LOSS_PARAMS: Partial<Record<EngineLossName, readonly LossParamSpec[]>> = {
  comp_sum: [{ name: 'tau', default: 1, range: '[0, 2]', ok: inClosed(0, 2), meaning: 'τ of Φ_τ: 0 sum-exponential, 1 logistic (cross-entropy), 2 mean absolute error 1 − p_y' }],
  gce: [{ name: 'q', default: 0.7, range: '(0, 1]', ok: (v) => v > 0 && v <= 1, meaning: 'q of (1 − p_y^q)/q: q → 0 is cross-entropy, q = 1 is 1 − p_y (0.7 in Zhang & Sabuncu 2018)' }],
  zloss: [
    { name: 'a', default: 1, range: '(0, ∞)', ok: positive, meaning: 'softplus sharpness a of (1/a)·softplus(a(b − z_y))' },
    { name: 'b', default: 2, range: '(−∞, ∞)', ok: finite, meaning: 'offset b: the z-score of the target output beyond which the loss flattens' },
  ],
  multi_similarity: [
    { name: 'alpha', default: 2, range: '(0, ∞)', ok: positive, meaning: 'α, the positive-pair scale (scale_pos in MalongTech/research-ms-loss)' },
    { name: 'beta', default: 50, range: '(0, ∞)', ok: positive, meaning: 'β, the negative-pair scale (scale_neg)' },
    { name: 'lambda', default: 1, range: '(−∞, ∞)', ok: finite, meaning: 'λ, the similarity margin (thresh)' },
    { name: 'epsilon', default: 0.1, range: '[0, ∞)', ok: (v) => v >= 0, meaning: 'ε, the pair-mining margin' },
  ],
  proto_triplet: [{ name: 'margin', default: 0.5, range: '[0, ∞)', ok: (v) => v >= 0, meaning: 'the triplet margin m (0.5 in the authors\' code, maumruiz/FewShot-KidneyStones icnn_loss.py)' }],
  icnn: [{ name: 'k', default: 4, range: '{1, 2, …}', ok: (v) => Number.isInteger(v) && v >= 1, meaning: 'k, the neighbours the score reads per sample (4 in the authors\' code; n − 2 when k + 2 ≥ n)' }],
  cs_divergence: [{ name: 'sigma', default: 1, range: '(0, ∞)', ok: positive, meaning: 'σ, the Gaussian kernel width exp(−‖a − b‖²/(2σ²)) (1 in the CS-IB code, SJYuCNEL/Cauchy-Schwarz-Information-Bottleneck)' }],
};

/** Losses whose value couples the samples of a batch: evaluated on fixed seeded batches. */
export const BATCH_LEVEL_LOSSES: ReadonlySet<EngineLossName> = new Set(['multi_similarity', 'cs_divergence', 'proto_triplet', 'icnn']);

/** Batch-level losses evaluated on few-shot episodes (`--episode N,K,Q[,E]`) rather than batches. */
export const EPISODE_LOSSES: ReadonlySet<EngineLossName> = new Set(['proto_triplet', 'icnn']);

/** An N-way K-shot episode with Q queries per class; `count` episodes are drawn. */
export interface EpisodeSpec {
  way: number;
  shot: number;
  query: number;
  count: number;
}

/**
 * `N,K,Q` or `N,K,Q,E` → the episode spec (E, the number of episodes, defaults to 1). Each must
 * be a positive integer and N ≥ 2 (a query needs a prototype of another class).
 */
export function parseEpisode(text: string, option = '--episode'): EpisodeSpec {
  const parts = text.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if ((parts.length !== 3 && parts.length !== 4) || nums.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new LossParamError(option, `expects N,K,Q or N,K,Q,E (way, shot, queries per class, episodes), positive integers, got '${text}'`);
  }
  const [way, shot, query, count = 1] = nums;
  if (way < 2) throw new LossParamError(option, `needs at least 2 classes per episode (N ≥ 2), got N = ${way}`);
  return { way, shot, query, count };
}

export class LossParamError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
  }
}

/** `KEY=VALUE` → [key, number]; the value must be a finite number. */
export function parseLossParam(text: string, option = '--loss-param'): [string, number] {
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq).trim() : '';
  const raw = eq > 0 ? text.slice(eq + 1).trim() : '';
  const value = Number(raw);
  if (!key || raw === '' || !Number.isFinite(value)) throw new LossParamError(option, `expects KEY=VALUE with a number, got '${text}'`);
  return [key, value];
}

/**
 * The full parameter set of `loss` (defaults filled in) after checking `given`: an unknown key
 * or a value out of range is one line naming the loss, the key and the range.
 */
export function resolveLossParams(loss: EngineLossName, given: Readonly<Record<string, number>> = {}, option = '--loss-param'): Record<string, number> {
  const specs = LOSS_PARAMS[loss] ?? [];
  const out: Record<string, number> = {};
  for (const key of Object.keys(given)) {
    if (!specs.some((s) => s.name === key)) {
      const known = specs.length ? `its parameters: ${specs.map((s) => s.name).join(', ')}` : 'it takes none';
      throw new LossParamError(option, `${loss} has no parameter '${key}' (${known})`);
    }
  }
  for (const s of specs) {
    const v = given[s.name] ?? s.default;
    if (!Number.isFinite(v) || !s.ok(v)) throw new LossParamError(option, `${loss} needs ${s.name} in ${s.range}, got ${v}`);
    out[s.name] = v;
  }
  return out;
}

export interface LossChoice {
  /** As the user wrote it (an engine name or an alias). */
  name: string;
  params: Record<string, number>;
}

/**
 * compare-losses' list: `ce,gce:q=0.7,zloss:a=1:b=2,comp_sum:tau=0.5` → one choice per loss,
 * in the order given (names are resolved by the engine).
 */
export function parseLossList(text: string, option = '--losses'): LossChoice[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) throw new LossParamError(option, `expects a comma-separated list like ce,gce:q=0.7, got '${text}'`);
  return items.map((item) => {
    const [name, ...kvs] = item.split(':').map((s) => s.trim());
    if (!name) throw new LossParamError(option, `'${item}' has no loss name`);
    const params: Record<string, number> = {};
    for (const kv of kvs) {
      const [k, v] = parseLossParam(kv, option);
      params[k] = v;
    }
    return { name, params };
  });
}

/** `name:k=v:k=v`, the inverse of one item of parseLossList (params in their table order). */
export function formatLossChoice(name: string, params: Readonly<Record<string, number>>): string {
  const kv = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  return [name, ...kv].join(':');
}
