import { Rng } from '../../../src/engine/linalg/rng';
import type { ScalingRow } from '../../../src/shared/results/scaling';

export interface Chinchilla {
  E: number;
  A: number;
  B: number;
  alpha: number;
  beta: number;
}

/** Besiroglu, Erdil, Barnett & You 2024 ("Chinchilla Scaling: A replication attempt", arXiv 2404.10102), Table 1. */
export const BESIROGLU: Chinchilla = { E: 1.8172, A: 482.01, B: 2085.43, alpha: 0.3478, beta: 0.3658 };
/** Hoffmann et al. 2022, approach 3 (eq. 10, Appendix D.2): E 1.69, A 406.4, B 410.7, α 0.34, β 0.28. */
export const HOFFMANN: Chinchilla = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

export const chinchillaLoss = (p: Chinchilla, N: number, D: number): number => p.E + p.A / N ** p.alpha + p.B / D ** p.beta;

export function geomspace(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => lo * (hi / lo) ** (n === 1 ? 0 : i / (n - 1)));
}

/**
 * A Chinchilla-like grid of runs: `sizes` model sizes from 7e7 to 1.6e10 (Hoffmann's range),
 * `tokens` data sizes from 5e9 to 5e11, each loss multiplied by exp(σ·z), z ~ N(0, 1) seeded.
 */
export function chinchillaGrid(p: Chinchilla, opts: { sizes?: number; tokens?: number; sigma?: number; seed?: number } = {}): ScalingRow[] {
  const rng = new Rng(opts.seed ?? 1);
  const rows: ScalingRow[] = [];
  for (const N of geomspace(7e7, 1.6e10, opts.sizes ?? 10)) {
    for (const D of geomspace(5e9, 5e11, opts.tokens ?? 25)) {
      const loss = chinchillaLoss(p, N, D) * Math.exp((opts.sigma ?? 0) * rng.normal());
      rows.push({ run: `N=${N.toPrecision(3)}`, N, D, C: 6 * N * D, loss, step: null });
    }
  }
  return rows;
}

export function toCsv(rows: ScalingRow[]): string {
  return ['run,params,tokens,loss', ...rows.map((r) => `${r.run},${r.N},${r.D},${r.loss}`)].join('\n') + '\n';
}
