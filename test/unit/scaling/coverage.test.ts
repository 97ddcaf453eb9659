import { strict as assert } from 'node:assert';
import { allRows, bestDistinctOptima, bootstrapFits, fitFromStarts, percentileInterval } from '../../../src/engine/scaling/fit';
import { scalingLaw } from '../../../src/engine/scaling/laws';
import { BESIROGLU, chinchillaGrid, type Chinchilla } from './generate';

/**
 * Calibration of the bootstrap intervals: over 100 seeded noisy tables generated from known
 * parameters, the 95 % percentile intervals must cover the truth in 85–99 % of tables, for every
 * parameter. Kept fast by small tables (6 sizes × 8 token counts, σ = 1 % in log L), 40
 * replicates per table (the 2.5/97.5 % quantiles of 40 draws interpolate between the two
 * outermost order statistics: noisier intervals, but no bias in coverage that this band would
 * hide), and 12 of the coarse grid's starts for the point fit — on noisy data every start ends
 * in one basin; the multi-start itself is tested in recovery.test.ts.
 */
describe('scaling laws: bootstrap interval coverage', () => {
  it('95 % intervals cover the true parameters in 85–99 % of 100 noisy tables', function () {
    this.timeout(300_000);
    const law = scalingLaw('chinchilla');
    const starts = law.grid(true).filter((_, i) => i % 9 === 0);
    const covered: Record<string, number> = Object.fromEntries(law.paramNames.map((k) => [k, 0]));
    const tables = 100;
    for (let r = 0; r < tables; r++) {
      const rows = chinchillaGrid(BESIROGLU, { sizes: 6, tokens: 8, sigma: 0.01, seed: 100 + r });
      const lr = { x1: Float64Array.from(rows, (x) => Math.log(x.N)), x2: Float64Array.from(rows, (x) => Math.log(x.D)), logLoss: Float64Array.from(rows, (x) => Math.log(x.loss)) };
      const fit = fitFromStarts(law, lr, allRows(rows.length), 1e-3, starts);
      const reps = bootstrapFits(law, lr, rows.length, 1e-3, bestDistinctOptima(fit, 2), 40, r).thetas.map((t) => law.params(t));
      for (const k of law.paramNames) {
        const iv = percentileInterval(reps.map((p) => p[k]), 0.95);
        const truth = BESIROGLU[k as keyof Chinchilla];
        if (iv.lo <= truth && truth <= iv.hi) covered[k]++;
      }
    }
    console.log(`      coverage over ${tables} tables: ${JSON.stringify(covered)}`);
    for (const k of law.paramNames) assert.ok(covered[k] >= 85 && covered[k] <= 99, `${k}: covered in ${covered[k]}/${tables}`);
  });
});
