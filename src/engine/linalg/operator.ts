/**
 * The matrix-free symmetric operator every curvature algorithm is written against (the
 * linear-operator pattern of curvlinops): algorithms never know which model, loss, backend or
 * curvature (Hessian, Gauss–Newton, Fisher, a dense test matrix) stands behind `matvec`.
 * Vectors are float64 on the JS side; products may be computed in float32 underneath.
 */
export interface LinearOperator {
  readonly dim: number;
  matvec(v: Float64Array): Promise<Float64Array>;
  /**
   * A·v for k vectors at once (one pass over the data, one readback or boundary crossing),
   * where the operator has a faster block form; algorithms with independent products use it
   * through `checkedMatmat`, which falls back to matvec by columns.
   */
  matmat?(vs: readonly Float64Array[]): Promise<Float64Array[]>;
}

/** Checked between products so a long computation can be stopped without losing state. */
export interface StopSignal {
  readonly isCancellationRequested: boolean;
}
