import { InputError } from '../shared/errors';
import type { EpisodeSpec } from '../shared/lossParams';
import type { Provenance } from '../shared/provenance';
import { Rng } from './linalg/rng';

/**
 * The fixed batches of a batch-level loss (multi-similarity), the same for every engine and
 * every evaluation — landscape points and curvature products alike: consecutive groups of
 * `batchSize` samples after a seeded shuffle, the last partial batch included. Returns the
 * order (indices into the samples used) and what the result records, or null for a loss that
 * is a mean of per-sample losses. A batch of one sample has no pairs: refused.
 */
export function batchLevelOrder(
  loss: { name: string; batchLevel?: boolean },
  n: number,
  spec: { batchSize: number; seed: number },
): { order: Int32Array; batches: NonNullable<Provenance['loss']['batches']> } | null {
  if (!loss.batchLevel) return null;
  if (spec.batchSize < 2) throw new InputError('--batch-size', `${loss.name} is a batch-level loss: it needs batches of at least 2 samples, got ${spec.batchSize}`);
  return {
    order: new Rng(spec.seed ^ 0xba7c4).permutation(n),
    batches: { size: spec.batchSize, count: Math.ceil(n / spec.batchSize), seed: spec.seed },
  };
}

/**
 * The fixed episodes of an episode loss (proto-triplet, ICNN): E episodes drawn from the
 * labelled samples with one seeded generator, each N classes chosen among those with at least
 * K + Q samples, then K + Q distinct samples of each chosen class (support first); episodes are
 * drawn independently, so a sample may recur across episodes (as the authors' FewShotSampler).
 * The order lists each episode's support class by class, then its queries class by class
 * (losses/episodes.ts), so consecutive groups of N(K + Q) are the episodes. Labels must be
 * integer class ids.
 */
export function episodeOrder(
  loss: { name: string },
  labels: ArrayLike<number>,
  episode: EpisodeSpec,
  seed: number,
  source: string,
): { order: Int32Array; batchSize: number; episodes: NonNullable<Provenance['loss']['episodes']> } {
  const { way, shot, query, count } = episode;
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c)) throw new InputError(source, `${loss.name} needs integer class labels for its episodes, but sample ${i} has label ${c}`);
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const need = shot + query;
  const eligible = [...byClass.keys()].sort((a, b) => a - b).filter((c) => byClass.get(c)!.length >= need);
  if (eligible.length < way) {
    throw new InputError(
      '--episode',
      `${way}-way episodes with ${shot} + ${query} samples per class need ${way} classes with at least ${need} samples each; ${source} has ${eligible.length} such class${eligible.length === 1 ? '' : 'es'} (of ${byClass.size}, largest ${Math.max(0, ...[...byClass.values()].map((l) => l.length))} samples)`,
    );
  }
  const rng = new Rng(seed ^ 0xe915de);
  const size = way * need;
  const order = new Int32Array(count * size);
  for (let e = 0; e < count; e++) {
    const classes = rng.permutation(eligible.length).slice(0, way);
    const base = e * size;
    classes.forEach((ci, j) => {
      const members = byClass.get(eligible[ci])!;
      const pick = rng.permutation(members.length);
      for (let s = 0; s < shot; s++) order[base + j * shot + s] = members[pick[s]];
      for (let q = 0; q < query; q++) order[base + way * shot + j * query + q] = members[pick[shot + q]];
    });
  }
  return { order, batchSize: size, episodes: { way, shot, query, count, seed } };
}

/**
 * What the objective of `loss` evaluates: the fixed episodes of an episode loss, the fixed
 * batches of another batch-level loss, or null (every sample as given, `--batch-size` batches).
 * `--episode` with a loss that is not an episode loss is refused.
 */
export function lossOrder(
  loss: { name: string; batchLevel?: boolean; episode?: unknown },
  labels: ArrayLike<number>,
  n: number,
  spec: { batchSize: number; seed: number; episode?: EpisodeSpec },
  source: string,
): { order: Int32Array; batchSize: number; batches?: NonNullable<Provenance['loss']['batches']>; episodes?: NonNullable<Provenance['loss']['episodes']> } | null {
  if (loss.episode) {
    if (!spec.episode) throw new InputError('--episode', `${loss.name} is an episode loss: pass --episode N,K,Q[,E]`);
    if (labels.length !== n) throw new InputError(source, `${loss.name} needs one class label per sample, but y has ${labels.length / n} values per sample`);
    return episodeOrder(loss, labels, spec.episode, spec.seed, source);
  }
  if (spec.episode) throw new InputError('--episode', `applies to the episode losses proto_triplet and icnn, not ${loss.name}`);
  const b = batchLevelOrder(loss, n, spec);
  return b ? { order: b.order, batchSize: spec.batchSize, batches: b.batches } : null;
}
