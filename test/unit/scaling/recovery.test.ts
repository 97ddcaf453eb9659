import { strict as assert } from 'node:assert';
import { allRows, bestDistinctOptima, fitFromStarts, resample } from '../../../src/engine/scaling/fit';
import { rawFromParams, scalingLaw, type LogRows, type ScalingLaw } from '../../../src/engine/scaling/laws';
import { allocation } from '../../../src/engine/scaling/predictions';
import { Rng } from '../../../src/engine/linalg/rng';
import type { ScalingRow } from '../../../src/shared/results/scaling';
import { BESIROGLU, HOFFMANN, chinchillaGrid, geomspace, type Chinchilla } from './generate';

function logRows(law: ScalingLaw, rows: ScalingRow[]): LogRows {
  const [v1, v2] = law.variables;
  return {
    x1: Float64Array.from(rows, (r) => Math.log(r[v1])),
    x2: Float64Array.from(rows, (r) => (v2 ? Math.log(r[v2]) : 0)),
    logLoss: Float64Array.from(rows, (r) => Math.log(r.loss)),
  };
}

function fit(law: ScalingLaw, rows: ScalingRow[], coarse = true) {
  const lr = logRows(law, rows);
  return fitFromStarts(law, lr, allRows(rows.length), 1e-3, law.grid(coarse));
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('scaling laws: recovering known parameters', () => {
  it('chinchilla, noise-free: every parameter to 1e-5 (relative), objective ≈ 0', () => {
    const law = scalingLaw('chinchilla');
    const f = fit(law, chinchillaGrid(BESIROGLU));
    const p = law.params(f.best.theta);
    for (const k of law.paramNames) assert.ok(rel(p[k], BESIROGLU[k as keyof Chinchilla]) < 1e-5, `${k}: ${p[k]} vs ${BESIROGLU[k as keyof Chinchilla]}`);
    assert.ok(f.best.f < 1e-14, `objective ${f.best.f}`);
  });

  it('chinchilla, noisy (σ = 0.5 % in log L): parameters within 15 %, exponents within 0.02', () => {
    const law = scalingLaw('chinchilla');
    const f = fit(law, chinchillaGrid(BESIROGLU, { sigma: 0.005, seed: 3 }));
    const p = law.params(f.best.theta);
    assert.ok(Math.abs(p.alpha - BESIROGLU.alpha) < 0.02 && Math.abs(p.beta - BESIROGLU.beta) < 0.02, JSON.stringify(p));
    assert.ok(rel(p.E, BESIROGLU.E) < 0.02, `E ${p.E}`);
    assert.ok(rel(p.A, BESIROGLU.A) < 0.5 && rel(p.B, BESIROGLU.B) < 0.5, `A ${p.A}, B ${p.B}`);
  });

  it('power law in N and Kaplan’s law, noise-free', () => {
    const power = scalingLaw('power', 'N');
    const truth = { E: 1.5, A: 60, alpha: 0.3 };
    const rows = geomspace(1e6, 1e10, 30).map((N) => ({ run: null, N, D: 1, C: 6 * N, loss: truth.E + truth.A * N ** -truth.alpha, step: null }));
    const p = power.params(fit(power, rows).best.theta);
    for (const k of power.paramNames) assert.ok(rel(p[k], truth[k as keyof typeof truth]) < 1e-5, `${k}: ${p[k]}`);

    const kaplan = scalingLaw('kaplan');
    // Kaplan et al. 2020, Table 2/eq. 1.5: α_N 0.076, α_D 0.095, N_c 8.8e13, D_c 5.4e13.
    const k = { Nc: 8.8e13, Dc: 5.4e13, alphaN: 0.076, alphaD: 0.095 };
    const kr = chinchillaGrid(BESIROGLU, { sizes: 6, tokens: 8 }).map((r) => ({ ...r, loss: ((k.Nc / r.N) ** (k.alphaN / k.alphaD) + k.Dc / r.D) ** k.alphaD }));
    const kp = kaplan.params(fit(kaplan, kr, false).best.theta);
    for (const name of kaplan.paramNames) assert.ok(rel(kp[name], k[name as keyof typeof k]) < 1e-4, `${name}: ${kp[name]}`);
  });

  it('the published fits, regenerated on a grid and refitted from the papers’ 4,500 starts, side by side', function () {
    this.timeout(300_000);
    const law = scalingLaw('chinchilla');
    const table: string[] = ['param  published(Besiroglu)  refit        published(Hoffmann)  refit'];
    const refits = [BESIROGLU, HOFFMANN].map((truth) => {
      const f = fit(law, chinchillaGrid(truth, { sizes: 5, tokens: 6 }), false);
      assert.equal(f.outcomes.length, 4500);
      return law.params(f.best.theta);
    });
    for (const k of law.paramNames) {
      const key = k as keyof Chinchilla;
      table.push(`${k.padEnd(6)} ${String(BESIROGLU[key]).padEnd(21)} ${refits[0][k].toPrecision(6).padEnd(12)} ${String(HOFFMANN[key]).padEnd(20)} ${refits[1][k].toPrecision(6)}`);
      assert.ok(rel(refits[0][k], BESIROGLU[key]) < 1e-4, `Besiroglu ${k}: ${refits[0][k]}`);
      assert.ok(rel(refits[1][k], HOFFMANN[key]) < 1e-4, `Hoffmann ${k}: ${refits[1][k]}`);
    }
    // Besiroglu et al. report a = β/(α+β) = 0.5126 (N_opt ∝ C^a) for their refit. Hoffmann et al.'s Table 2
    // gives a = 0.46 for approach 3, computed from the unrounded exponents (0.3392, 0.2849 → 0.4565);
    // their rounded α = 0.34, β = 0.28 give 0.4516.
    const aB = allocation(refits[0]).a;
    const aH = allocation(refits[1]).a;
    table.push(`a=β/(α+β): ${aB.toFixed(4)} (published 0.5126) · ${aH.toFixed(4)} (published 0.46)`);
    console.log(`      ${table.join('\n      ')}`);
    assert.ok(Math.abs(aB - 0.5126) < 5e-4 && Math.abs(aH - 0.28 / 0.62) < 1e-6 && Math.abs(aH - 0.46) < 0.01, `a ${aB}, ${aH}`);
  });

  it('bootstrap replicates refitted from the best 6 distinct optima match full-grid refits', function () {
    this.timeout(300_000);
    const law = scalingLaw('chinchilla');
    const rows = chinchillaGrid(BESIROGLU, { sizes: 5, tokens: 6, sigma: 0.01, seed: 11 });
    const lr = logRows(law, rows);
    const n = rows.length;
    const full = fitFromStarts(law, lr, allRows(n), 1e-3, law.grid(false));
    const starts = bestDistinctOptima(full, 6).map((s) => Array.from(s));
    const rng = new Rng(5);
    for (let b = 0; b < 2; b++) {
      const idx = resample(n, rng);
      const quick = fitFromStarts(law, lr, idx, 1e-3, starts).best;
      const thorough = fitFromStarts(law, lr, idx, 1e-3, law.grid(false)).best;
      assert.ok(quick.f <= thorough.f * (1 + 1e-6) + 1e-15, `replicate ${b}: ${quick.f} vs full grid ${thorough.f}`);
      const pq = law.params(quick.theta);
      const pt = law.params(thorough.theta);
      for (const k of ['E', 'alpha', 'beta']) assert.ok(rel(pq[k], pt[k]) < 1e-3, `replicate ${b} ${k}: ${pq[k]} vs ${pt[k]}`);
    }
  });

  it('θ ↔ parameters round-trip', () => {
    const law = scalingLaw('chinchilla');
    const p = law.params(rawFromParams(law, { ...BESIROGLU }));
    for (const k of law.paramNames) assert.ok(rel(p[k], BESIROGLU[k as keyof Chinchilla]) < 1e-12);
  });
});
