import { symmetricEig } from '../linalg/tridiagonal';

/**
 * Geometry of a training trajectory in parameter space: the PCA plane of Li et al. 2018 (§6,
 * `loss-landscape`'s `setup_PCA_directions`), and the line and plane through given checkpoints.
 * Vectors are flat parameter vectors; arithmetic is float64.
 */

export interface PlaneProjection {
  /** Unit directions spanning the plane (one for a line). */
  directions: Float64Array[];
  /** Coordinates of each point along the directions, relative to the origin. */
  coords: number[][];
  /** ‖residual‖ of each point off the plane (line). */
  offPlane: number[];
  /** ‖point − origin‖. */
  distance: number[];
}

export interface TrajectoryPca extends PlaneProjection {
  /** λₖ / Σλ for the two components (variance of the centred rows θ_t − θ_final). */
  explainedVariance: [number, number];
}

function diff(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k] - b[k];
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/** Projects points onto the span of orthonormal `directions` through `origin`. */
export function projectOnto(points: ArrayLike<number>[], origin: ArrayLike<number>, directions: Float64Array[]): PlaneProjection {
  const coords: number[][] = [];
  const offPlane: number[] = [];
  const distance: number[] = [];
  for (const p of points) {
    const d = diff(p, origin);
    const c = directions.map((u) => dot(d, u));
    let r2 = 0;
    for (let k = 0; k < d.length; k++) {
      let v = d[k];
      for (let j = 0; j < directions.length; j++) v -= c[j] * directions[j][k];
      r2 += v * v;
    }
    coords.push(c);
    offPlane.push(Math.sqrt(r2));
    distance.push(Math.sqrt(dot(d, d)));
  }
  return { directions, coords, offPlane, distance };
}

/**
 * The first two principal components of the rows θ_t − θ_final (rows centred by their mean, as
 * scikit-learn's PCA in loss-landscape does), from the eigen-decomposition of the T×T Gram
 * matrix of the centred rows (T checkpoints ≪ d parameters): vₖ = Zᵀuₖ/√λₖ. Coordinates are
 * the uncentred projections ⟨θ_t − θ_final, vₖ⟩, so θ_final sits at the origin. Signs are fixed
 * so the first checkpoint has non-negative coordinates.
 */
export function trajectoryPca(thetas: ArrayLike<number>[], final: ArrayLike<number>): TrajectoryPca {
  const T = thetas.length;
  if (T < 3) throw new Error(`trajectoryPca: needs at least 3 checkpoints, got ${T}`);
  const d = final.length;
  const rows = thetas.map((t) => diff(t, final));
  const mean = new Float64Array(d);
  for (const r of rows) for (let k = 0; k < d; k++) mean[k] += r[k] / T;
  const Z = rows.map((r) => diff(r, mean));
  const G: number[][] = Array.from({ length: T }, () => new Array<number>(T).fill(0));
  for (let s = 0; s < T; s++) {
    for (let t = s; t < T; t++) {
      const v = dot(Z[s], Z[t]);
      G[s][t] = v;
      G[t][s] = v;
    }
  }
  const { values, vectors } = symmetricEig(G);
  const total = values.reduce((a, v) => a + Math.max(v, 0), 0);
  const lambda = [values[T - 1], values[T - 2]];
  if (!(lambda[0] > 0)) throw new Error('trajectoryPca: all checkpoints are the same point');
  if (!(lambda[1] > 1e-12 * lambda[0])) throw new Error('trajectoryPca: the checkpoints lie on a line; there is no second component');
  const directions = [vectors[T - 1], vectors[T - 2]].map((u, j) => {
    const v = new Float64Array(d);
    for (let t = 0; t < T; t++) for (let k = 0; k < d; k++) v[k] += u[t] * Z[t][k];
    const s = 1 / Math.sqrt(lambda[j]);
    for (let k = 0; k < d; k++) v[k] *= s;
    return v;
  });
  for (const v of directions) {
    if (dot(rows[0], v) < 0) for (let k = 0; k < d; k++) v[k] = -v[k];
  }
  const proj = projectOnto(thetas, final, directions);
  return { ...proj, explainedVariance: [lambda[0] / total, lambda[1] / total] };
}

/** The line from `a` to `b`: unit direction (b − a)/‖b − a‖. */
export function lineThrough(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const u = diff(b, a);
  const n = Math.sqrt(dot(u, u));
  if (!(n > 0)) throw new Error('lineThrough: the two checkpoints are the same point');
  for (let k = 0; k < u.length; k++) u[k] /= n;
  return u;
}

/**
 * The plane through a, b, c with origin a: u = (b − a)/‖b − a‖ and v the unit part of c − a
 * orthogonal to u (Gram–Schmidt, twice), so coordinates are in parameter-space units.
 */
export function planeThrough(a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>): [Float64Array, Float64Array] {
  const u = lineThrough(a, b);
  const v = diff(c, a);
  const before = Math.sqrt(dot(v, v));
  for (let pass = 0; pass < 2; pass++) {
    const p = dot(v, u);
    for (let k = 0; k < v.length; k++) v[k] -= p * u[k];
  }
  const n = Math.sqrt(dot(v, v));
  if (!(n > 1e-9 * before)) throw new Error('planeThrough: the three checkpoints lie on a line');
  for (let k = 0; k < v.length; k++) v[k] /= n;
  return [u, v];
}
