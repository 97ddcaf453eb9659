import assert from 'node:assert/strict';
import { Matrix, inverse, solve } from 'ml-matrix';
import { NumericalError } from '../../src/engine/linalg/errors';
import { MFacInverse, mfacOperator } from '../../src/engine/linalg/mfac';
import { Rng } from '../../src/engine/linalg/rng';
import { CancelledError, InputError } from '../../src/shared/errors';

function gaussianRows(m: number, d: number, seed: number, scale = 1): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: m }, () => Float64Array.from({ length: d }, () => scale * rng.normal()));
}

/** Dense F̂ = λI + (1/m) GᵀG. */
function denseFisher(G: Float64Array[], lambda: number): Matrix {
  const d = G[0].length;
  const F = Matrix.eye(d, d).mul(lambda);
  for (const g of G) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) F.set(i, j, F.get(i, j) + (g[i] * g[j]) / G.length);
  return F;
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('MFacInverse', () => {
  // d > m (the usual case), m > d, and m spanning several set-up blocks of 16.
  for (const [d, m, lambda] of [[40, 16, 1e-5], [40, 37, 1e-3], [20, 50, 1e-5], [30, 5, 0.5]] as const) {
    it(`apply(x) and diagonal() match the dense (λI + GᵀG/m)⁻¹ (d = ${d}, m = ${m}, λ = ${lambda}; rel. tol 1e-8)`, () => {
      const G = gradientsFor(d, m);
      const x = gaussianRows(1, d, 99)[0];
      const hinv = new MFacInverse(G, { lambda });
      const F = denseFisher(G, lambda);
      const ref = solve(F, Matrix.columnVector(Array.from(x))).getColumn(0);
      assert.ok(relDiff(hinv.apply(x), ref) < 1e-8, `apply: ${relDiff(hinv.apply(x), ref)}`);
      const Finv = inverse(F);
      const diag = hinv.diagonal();
      for (let i = 0; i < d; i++) {
        const e = Math.abs(diag[i] - Finv.get(i, i)) / Math.abs(Finv.get(i, i));
        assert.ok(e < 1e-8, `diag ${i}: ${diag[i]} vs ${Finv.get(i, i)}`);
      }
    });
  }

  function gradientsFor(d: number, m: number): Float64Array[] {
    return gaussianRows(m, d, 1000 * d + m, 0.1);
  }

  it('inverts F̂ across coordinate chunks and blocks (d = 5000, m = 37): F̂·apply(x) = x (rel. tol 1e-8)', async () => {
    const G = gaussianRows(37, 5000, 7);
    const x = gaussianRows(1, 5000, 8)[0];
    const y = new MFacInverse(G, { lambda: 1e-2 }).apply(x);
    const back = await mfacOperator(G, 1e-2).matvec(y);
    assert.ok(relDiff(back, x) < 1e-8, `${relDiff(back, x)}`);
  });

  it('uses λ = 1e-5 by default and computes OBS saliencies θ²/(2[F̂⁻¹]ᵢᵢ)', () => {
    const G = gradientsFor(12, 4);
    const hinv = new MFacInverse(G);
    assert.equal(hinv.lambda, 1e-5);
    const theta = Float64Array.from({ length: 12 }, (_, i) => i - 5);
    const diag = hinv.diagonal();
    const s = hinv.obsSaliency(theta);
    for (let i = 0; i < 12; i++) assert.ok(Math.abs(s[i] - (theta[i] ** 2) / (2 * diag[i])) <= 1e-15 * Math.abs(s[i]));
  });

  it('accepts Float32Array gradients (same values give the same result) and build() equals the constructor', async () => {
    const G32 = gradientsFor(25, 20).map((g) => Float32Array.from(g));
    const G64 = G32.map((g) => Float64Array.from(g));
    const x = gaussianRows(1, 25, 3)[0];
    const a = new MFacInverse(G32, { lambda: 1e-3 }).apply(x);
    assert.deepEqual(a, new MFacInverse(G64, { lambda: 1e-3 }).apply(x));
    const progress: number[] = [];
    const built = await MFacInverse.build(G64, { lambda: 1e-3, onProgress: (done) => progress.push(done) });
    assert.deepEqual(built.apply(x), a);
    assert.deepEqual(progress, [16, 20]);
  });

  it('mfacOperator multiplies by F̂ (abs tol 1e-12 against the dense matrix)', async () => {
    const G = gradientsFor(10, 3);
    const x = gaussianRows(1, 10, 4)[0];
    const y = await mfacOperator(G, 0.1).matvec(x);
    const ref = denseFisher(G, 0.1).mmul(Matrix.columnVector(Array.from(x))).getColumn(0);
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(y[i] - ref[i]) < 1e-12);
  });

  it('NaN gradient → NumericalError; cancelled build → CancelledError; bad input → InputError', async () => {
    const G = gradientsFor(10, 20);
    G[17][3] = Number.NaN;
    assert.throws(() => new MFacInverse(G), (e: unknown) => e instanceof NumericalError && /gradient 17/.test(e.message));
    await assert.rejects(MFacInverse.build(gradientsFor(10, 40), { stop: { isCancellationRequested: true } }), CancelledError);
    assert.throws(() => new MFacInverse([]), InputError);
    assert.throws(() => new MFacInverse([new Float64Array(3), new Float64Array(4)]), InputError);
    assert.throws(() => new MFacInverse(gradientsFor(3, 2), { lambda: 0 }), (e: unknown) => e instanceof InputError && e.source === '--lambda');
    assert.throws(() => new MFacInverse(gradientsFor(3, 2)).apply(new Float64Array(2)), InputError);
  });
});
