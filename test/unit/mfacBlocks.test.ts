import assert from 'node:assert/strict';
import { Matrix, inverse } from 'ml-matrix';
import { MFacBlockInverse } from '../../src/engine/linalg/mfacBlocks';
import { fractionalRanks, spearman } from '../../src/engine/linalg/rankCorrelation';
import { Rng } from '../../src/engine/linalg/rng';
import { InputError } from '../../src/shared/errors';

function gaussianRows(m: number, d: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: m }, () => Float32Array.from({ length: d }, () => rng.normal()));
}

/** Dense (λI + (1/m)Σ gᵢ,b gᵢ,bᵀ)⁻¹ of the block [a, b), built independently of M-FAC. */
function denseBlockInverse(G: Float32Array[], a: number, b: number, lambda: number): Matrix {
  const B = b - a;
  const F = Matrix.eye(B, B).mul(lambda);
  for (const g of G) for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) F.set(i, j, F.get(i, j) + (g[a + i] * g[a + j]) / G.length);
  return inverse(F);
}

describe('MFacBlockInverse (block-diagonal M-FAC, as HInvFastBlock)', () => {
  // d = 70 with B = 16: four full blocks and a remainder of 6, as the reference cuts them.
  const d = 70;
  const m = 24;
  const lambda = 1e-3;
  const G = gradientsWithStructure();

  function gradientsWithStructure(): Float32Array[] {
    // Gradients with unequal coordinate scales, so the blocks' inverses differ.
    const raw = gaussianRows(m, d, 5);
    return raw.map((g) => Float32Array.from(g, (x, i) => x * (0.2 + (i % 7) / 3)));
  }

  it('diagonal() and apply(x) equal the dense block inverses (rel. 1e-8), zero across blocks', async () => {
    const inv = await MFacBlockInverse.build(G, 16, { lambda });
    assert.equal(inv.blockCount, 5);
    const diag = inv.diagonal();
    const x = Float64Array.from(gaussianRows(1, d, 9)[0]);
    const y = inv.apply(x);
    for (let a = 0; a < d; a += 16) {
      const b = Math.min(d, a + 16);
      const Finv = denseBlockInverse(G, a, b, lambda);
      for (let i = 0; i < b - a; i++) {
        const want = Finv.get(i, i);
        assert.ok(Math.abs(diag[a + i] - want) <= 1e-8 * Math.abs(want), `diag ${a + i}: ${diag[a + i]} vs ${want}`);
        // (F̂⁻¹x) on the block uses only x's block: off-block entries of F̂⁻¹ are zero.
        let yi = 0;
        for (let j = 0; j < b - a; j++) yi += Finv.get(i, j) * x[a + j];
        assert.ok(Math.abs(y[a + i] - yi) <= 1e-8 * (Math.abs(yi) + 1e-12), `apply ${a + i}: ${y[a + i]} vs ${yi}`);
      }
    }
  });

  it('block size ≥ dim is the full form (dense (λI + GᵀG/m)⁻¹, rel. 1e-8)', async () => {
    const inv = await MFacBlockInverse.build(G, 1000, { lambda });
    assert.equal(inv.blockCount, 1);
    const Finv = denseBlockInverse(G, 0, d, lambda);
    const diag = inv.diagonal();
    for (let i = 0; i < d; i++) assert.ok(Math.abs(diag[i] - Finv.get(i, i)) <= 1e-8 * Math.abs(Finv.get(i, i)));
  });

  it('with d ≫ m the full form ranks like magnitude (ρ > 0.999) and blocks depart from it (ρ lower)', async () => {
    const dd = 2000;
    const GG = gaussianRows(16, dd, 3).map((g) => Float32Array.from(g, (x, i) => x * (0.1 + (i % 11) / 4)));
    const theta = Float64Array.from(gaussianRows(1, dd, 4)[0]);
    const mag = Float64Array.from(theta, Math.abs);
    const full = await MFacBlockInverse.build(GG, dd, { lambda: 1e-5 });
    const blocked = await MFacBlockInverse.build(GG, 8, { lambda: 1e-5 });
    const rFull = spearman(full.obsSaliency(theta), mag);
    const rBlock = spearman(blocked.obsSaliency(theta), mag);
    assert.ok(rFull > 0.999, `full ρ = ${rFull}`);
    assert.ok(rBlock < rFull - 0.05, `blocked ρ = ${rBlock} vs full ${rFull}`);
  });

  it('refuses a non-positive block size', async () => {
    await assert.rejects(MFacBlockInverse.build(G, 0, { lambda }), (e: unknown) => e instanceof InputError && e.source === '--block-size');
  });
});

describe('spearman', () => {
  it('averages tied ranks and matches hand-computed values (abs 1e-12)', () => {
    assert.deepEqual(Array.from(fractionalRanks([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
    assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-12);
    assert.equal(spearman([1, 2, 3], [30, 20, 10]), -1);
    assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
  });
});
