import assert from 'node:assert/strict';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { Rng } from '../../src/engine/linalg/rng';
import { lineThrough, planeThrough, projectOnto, trajectoryPca } from '../../src/engine/trajectory/pca';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

/** A curved path: T points drifting mostly along one direction, bending along a second, with noise. */
function path(T: number, d: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const u = Float64Array.from({ length: d }, () => rng.normal());
  const v = Float64Array.from({ length: d }, () => rng.normal());
  return Array.from({ length: T }, (_, t) => {
    const s = t / (T - 1);
    return Float32Array.from({ length: d }, (_, k) => 3 * (1 - s) * u[k] + Math.sin(Math.PI * s) * v[k] + 0.05 * rng.normal());
  });
}

describe('trajectory PCA and planes', () => {
  it('components and explained variance agree with an SVD of the centred rows (ml-matrix)', () => {
    const T = 7;
    const d = 40;
    const thetas = path(T, d, 5);
    const final = thetas[T - 1];
    const pca = trajectoryPca(thetas, final);
    // Independent computation: rows θ_t − θ_final, centred, SVD; right singular vectors are the components.
    const rows = thetas.map((t) => Array.from(t, (v, k) => v - final[k]));
    const mean = rows[0].map((_, k) => rows.reduce((s, r) => s + r[k], 0) / T);
    const Z = new Matrix(rows.map((r) => r.map((v, k) => v - mean[k])));
    const svd = new SingularValueDecomposition(Z, { autoTranspose: true });
    const s2 = svd.diagonal.map((s) => s * s);
    const total = s2.reduce((a, b) => a + b, 0);
    for (let j = 0; j < 2; j++) {
      const ref = svd.rightSingularVectors.getColumn(j);
      const cos = dot(pca.directions[j], ref) / Math.sqrt(dot(ref, ref));
      close(Math.abs(cos), 1, 1e-9, `component ${j} vs SVD`);
      close(pca.explainedVariance[j], s2[j] / total, 1e-9, `explained variance ${j}`);
      close(dot(pca.directions[j], pca.directions[j]), 1, 1e-12, `unit component ${j}`);
    }
    close(dot(pca.directions[0], pca.directions[1]), 0, 1e-10, 'orthogonal components');
    assert.ok(pca.explainedVariance[0] > 0.8, 'the drift dominates');
    // Coordinates: projections of θ_t − θ_final; the final checkpoint sits at the origin.
    thetas.forEach((t, i) => {
      const r = rows[i];
      close(pca.coords[i][0], dot(r, pca.directions[0]), 1e-9, `x of ${i}`);
      close(pca.coords[i][1], dot(r, pca.directions[1]), 1e-9, `y of ${i}`);
      const off = Math.sqrt(Math.max(0, dot(r, r) - pca.coords[i][0] ** 2 - pca.coords[i][1] ** 2));
      close(pca.offPlane[i], off, 1e-6, `off-plane distance of ${i}`);
      close(pca.distance[i], Math.sqrt(dot(r, r)), 1e-9, `distance of ${i}`);
    });
    assert.deepEqual(pca.coords[T - 1], [0, 0]);
    assert.ok(pca.coords[0][0] >= 0 && pca.coords[0][1] >= 0, 'sign convention: the first checkpoint has non-negative coordinates');
  });

  it('the plane through three checkpoints contains them at their pairwise distances', () => {
    const [a, b, c] = path(3, 25, 8);
    const dirs = planeThrough(a, b, c);
    const proj = projectOnto([a, b, c], a, dirs);
    const dist = (p: ArrayLike<number>, q: ArrayLike<number>) => Math.sqrt(Array.from(p).reduce((s, v, k) => s + (v - q[k]) ** 2, 0));
    assert.deepEqual(proj.coords[0], [0, 0]);
    close(proj.coords[1][0], dist(a, b), 1e-9, 'b on the first axis');
    close(proj.coords[1][1], 0, 1e-9, 'b on the first axis');
    close(Math.hypot(proj.coords[2][0], proj.coords[2][1]), dist(a, c), 1e-9, '|c − a|');
    close(Math.hypot(proj.coords[2][0] - proj.coords[1][0], proj.coords[2][1] - proj.coords[1][1]), dist(b, c), 1e-9, '|c − b|');
    proj.offPlane.forEach((o, i) => close(o, 0, 1e-6, `anchor ${i} off the plane`));
    const u = lineThrough(a, b);
    const line = projectOnto([a, b, c], a, [u]);
    close(line.coords[1][0], dist(a, b), 1e-9, 'b on the line');
    close(line.offPlane[2], Math.abs(proj.coords[2][1]), 1e-6, 'c off the line = its second plane coordinate');
  });

  it('refuses degenerate inputs', () => {
    const p = path(3, 10, 1);
    assert.throws(() => trajectoryPca(p.slice(0, 2), p[1]), /at least 3 checkpoints/);
    assert.throws(() => trajectoryPca([p[0], p[0], p[0]], p[0]), /same point/);
    assert.throws(() => planeThrough(p[0], p[1], p[1]), /on a line/);
  });
});
