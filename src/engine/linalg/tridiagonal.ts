/**
 * Symmetric eigen-decompositions of the small matrices the Krylov methods produce, delegated
 * to ml-matrix's `EigenvalueDecomposition` (Householder tridiagonalisation + implicit QL,
 * JAMA's tred2/tql2) rather than a hand-written QR iteration.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** Eigenvalues ascending; `vectors[j]` is the unit eigenvector (column j) for `values[j]`. */
export interface SymmetricEig {
  values: Float64Array;
  vectors: Float64Array[];
}

/** Eigen-decomposition of a dense symmetric matrix (only symmetry is assumed, not checked). */
export function symmetricEig(dense: number[][]): SymmetricEig {
  const n = dense.length;
  if (n === 0) return { values: new Float64Array(0), vectors: [] };
  for (const row of dense) {
    if (row.length !== n) throw new Error(`symmetricEig: matrix is not square (${n} rows, a row of ${row.length})`);
  }
  const evd = new EigenvalueDecomposition(new Matrix(dense), { assumeSymmetric: true });
  const lambda = evd.realEigenvalues;
  const V = evd.eigenvectorMatrix;
  // tql2 already sorts ascending; sort again so the contract does not depend on that.
  const order = Array.from(lambda.keys()).sort((a, b) => lambda[a] - lambda[b]);
  const values = new Float64Array(n);
  const vectors: Float64Array[] = [];
  order.forEach((col, j) => {
    values[j] = lambda[col];
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = V.get(i, col);
    vectors.push(v);
  });
  return { values, vectors };
}

/**
 * Eigen-decomposition of the symmetric tridiagonal T with diagonal `alpha` (length m) and
 * off-diagonal `beta` (length m − 1, βⱼ = T[j][j+1] = T[j+1][j]), as produced by m Lanczos
 * steps. Ritz values are `values`; the first and last components of each `vectors[j]` give the
 * Gauss-quadrature weights and the Ritz residual estimates |βₘ·s_{m,j}|.
 */
export function tridiagonalEig(alpha: ArrayLike<number>, beta: ArrayLike<number>): SymmetricEig {
  const m = alpha.length;
  if (beta.length < m - 1) {
    throw new Error(`tridiagonalEig: need ${m - 1} off-diagonal entries, got ${beta.length}`);
  }
  const T: number[][] = [];
  for (let i = 0; i < m; i++) {
    const row = new Array<number>(m).fill(0);
    row[i] = alpha[i];
    if (i > 0) row[i - 1] = beta[i - 1];
    if (i < m - 1) row[i + 1] = beta[i];
    T.push(row);
  }
  return symmetricEig(T);
}
