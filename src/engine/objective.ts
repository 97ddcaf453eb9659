import type { ParallelInfo } from '../shared/provenance';
import type { HessianProduct } from '../shared/specs/hessian';
import type { LinearOperator, StopSignal } from './linalg/operator';

/**
 * The objective (docs/architecture.md, "Objective and operators"), independent of the engine
 * that computes it: a model with its trainable parameters flattened into one vector θ, a loss and a fixed set of
 * samples. Every analysis is written against this interface (and the linear-algebra layer), so
 * the same code runs on the in-process TF.js engine (`tfjs/`) and on a PyTorch worker
 * (`torch/`). Methods are async because a remote engine answers over a pipe; anything taking k
 * vectors (`matmat`) crosses the boundary once.
 *
 * Conventions: θ and parameter-space vectors are flat in the objective's parameter order (see
 * `groups`; each engine documents its order and filter axis); sums over samples are returned in
 * float64; outputs and cotangents are row-major [samples, output units] over the objective's
 * samples in order. Methods taking θ leave the model's parameters at θ.
 */
export interface ParamGroup {
  /** Variable name, e.g. `dense_Dense1/kernel` (TF.js) or `fc1.weight` (torch). */
  name: string;
  /** Owning layer name, for per-layer summaries. */
  layer: string;
  shape: number[];
  offset: number;
  size: number;
  /**
   * Number of filters for rank ≥ 2 (the engine's filter axis: TF.js the last axis, torch the
   * first); 0 for vectors (biases, BN).
   */
  filters: number;
  /** Which axis indexes filters for rank ≥ 2: 'last' (Keras [in, out], [h, w, in, out]) or 'first' (PyTorch [out, in], [out, in, kh, kw]). Absent: 'last'. */
  filterAxis?: 'first' | 'last';
}

export interface Evaluation {
  /** Mean loss over the samples. */
  loss: number;
  /** Fraction correct, for classification losses; null otherwise. */
  accuracy: number | null;
}

export type CurvatureKind = 'hessian' | 'ggn' | 'fisher';

/** A symmetric operator that also multiplies k vectors at once (one boundary crossing for a remote engine). */
export interface BlockOperator extends LinearOperator {
  matmat(vs: readonly Float64Array[]): Promise<Float64Array[]>;
}

export interface FiniteDifferenceOptions {
  /**
   * Freeze ReLU activation patterns at θ, so finite-difference products are those of the
   * almost-everywhere Hessian rather than seeing kinks crossed within ±h. Default true.
   */
  freezeKinks?: boolean;
  /** δ of a finite-difference Hessian product (see tfjs/curvatureOperators.ts). Default 1e-3. */
  relativeStep?: number;
}

export interface CurvatureOptions extends FiniteDifferenceOptions {
  /** The parameters at which the curvature is taken (default θ₀). */
  theta?: Float32Array;
  /**
   * How Hessian products are computed: 'exact' (double backprop, the default) or
   * 'finite-difference' (central differences of gradients, for cross-checks). Operators whose
   * `fd` is null computed exact products.
   */
  hv?: HessianProduct;
}

export interface FiniteDifferenceStats {
  relativeStep: number;
  products: number;
  /** Gradient evaluations (4 per product). */
  gradients: number;
  /** Smallest and largest absolute step h used (for ‖v‖ = 1 these are the perturbation norms). */
  minStep: number;
  maxStep: number;
  /** Per product: the estimated error ‖D(h/2) − D(h)‖ divided by ‖R‖ (R the returned product). */
  relativeErrors: number[];
  /** Number of ReLU sites whose patterns are frozen at θ (0: none, or freezing off). */
  frozenSites: number;
  /** Piecewise-linear layers whose kinks are not frozen (their crossings show in the error estimate). */
  unfrozen: string[];
}

export interface CurvatureOperator {
  kind: CurvatureKind;
  op: BlockOperator;
  /** One line: what the operator is. */
  description: string;
  /** Finite-difference statistics (a finite-difference Hessian only; null for exact products). */
  fd: FiniteDifferenceStats | null;
  /** Releases what the operator holds (tensors, worker state). */
  dispose(): void;
}

/** The empirical NTK on the objective's samples (the probe set). */
export interface Ntk {
  /** K[n, m] = Σ_c ∇_θ f_c(xₙ)·∇_θ f_c(xₘ), dense n×n, row-major, float64. */
  K: Float64Array;
  n: number;
  outputs: number;
  /** How K was computed: per-layer structure of Dense layers, or explicit Jacobian rows. */
  method: 'dense' | 'jacobian';
}

/** What computes the objective, recorded in every result (`backend`, `provenance.backend`). */
export interface BackendInfo {
  /** e.g. `wasm`, `tensorflow` (TF.js) or `torch`. */
  name: string;
  /** e.g. `tfjs 4.22.0 (wasm)`, `torch 2.13.0+cpu, python 3.11.2`. */
  version: string;
  /** torch: `cpu`, `cuda:0 (NVIDIA H200)`, `mps`. */
  device?: string;
  dtype?: 'float32' | 'float64';
  threads?: number;
  /** torch: the model ran in train() mode (dropout, batch statistics). */
  trainMode?: boolean;
  /** torch: ranks of torch.distributed and how work was split (provenance.parallel); absent → one process. */
  parallel?: ParallelInfo;
}

export interface Objective {
  /** Which engine computes it (results record it in `backend`). */
  readonly engine: 'tfjs' | 'torch';
  readonly backend: BackendInfo;
  readonly dim: number;
  readonly groups: readonly ParamGroup[];
  /** The parameters the model was loaded with. */
  readonly theta0: Float32Array;
  readonly sampleCount: number;
  /** Number of output units per sample (C). */
  readonly outputUnits: number;
  /** Whether the loss is a classification loss, i.e. evaluate() can report accuracy. */
  readonly classification: boolean;

  /** The model's current parameters as one flat vector. */
  getParams(): Promise<Float32Array>;
  /** Writes θ into the model (rounded to the model's dtype). */
  setParams(theta: Float32Array | Float64Array): Promise<void>;
  /** Restores θ₀. */
  reset(): Promise<void>;

  /** Mean loss (and accuracy for classification) at θ, or at the current parameters. */
  evaluate(theta?: Float32Array | Float64Array, withAccuracy?: boolean): Promise<Evaluation>;
  loss(theta?: Float32Array | Float64Array): Promise<number>;
  /**
   * Evaluations at centre + Σᵢ cᵢ dᵢ for each coefficient row `coords[j]`, in order (a landscape
   * row; a remote engine takes it in one request), each reported to `onPoint` as it is known.
   * Stops with CancelledError when `stop` is raised; points reported before stay valid.
   */
  evaluateAlong(
    centre: Float32Array,
    dirs: readonly Float32Array[],
    coords: readonly number[][],
    withAccuracy: boolean,
    stop: StopSignal,
    onPoint: (j: number, e: Evaluation) => void,
  ): Promise<void>;
  /**
   * How evaluateAlong splits a request of `count` points into passes through the model (their
   * sizes, in order), for an engine that evaluates several points per pass; absent: one pass per
   * request, or points evaluated independently. A resumed grid asks for missing points pass by
   * pass, so that each point is computed exactly as in an uninterrupted run.
   */
  passSizes?(count: number): number[];
  /** Mean loss and its gradient at θ, summed over batches in float64. */
  grad(theta?: Float32Array | Float64Array): Promise<{ loss: number; grad: Float64Array }>;
  /** Model outputs at θ for every sample, row-major [n, outputs]. */
  outputs(theta?: Float32Array | Float64Array): Promise<{ data: Float32Array; shape: number[] }>;

  /** Per-sample losses ℓₙ at the current parameters, [n]. */
  perSampleLosses(): Promise<Float64Array>;
  /** Gradients of individual samples' losses, one flat float32 vector each. */
  perSampleGradients(indices: ArrayLike<number>): Promise<Float32Array[]>;
  /** Gradient of the mean loss over a subset of the samples (a mini-batch gradient). */
  subsetGradient(indices: ArrayLike<number>): Promise<Float64Array>;

  /** J v for a parameter-space vector v: the directional derivative of every output, [n·C]. */
  jvp(v: Float32Array | Float64Array): Promise<Float32Array>;
  /** Jᵀu = Σₙ Jₙᵀ uₙ for a cotangent u on the outputs [n·C], in float64. */
  vjp(u: Float32Array | Float64Array): Promise<Float64Array>;
  /** Rows ∇_θ f_c(xₙ) of the output Jacobian, sample-major ([n0c0, n0c1, …, n1c0, …]). */
  outputJacobian(indices: ArrayLike<number>): Promise<Float32Array[]>;
  /** The empirical NTK over all the objective's samples. */
  ntk(): Promise<Ntk>;

  /** The curvature operator of `kind` at θ (default θ₀); refuses a GGN for a loss without closed form. */
  curvature(kind: CurvatureKind, options?: CurvatureOptions): CurvatureOperator;

  /** Releases the samples and whatever else the objective holds (not the model, which its loader owns). */
  dispose(): void;
}

/** k products by k matvecs: the block form for operators without a faster one. */
export async function matmatByColumns(op: LinearOperator, vs: readonly Float64Array[]): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const v of vs) out.push(await op.matvec(v));
  return out;
}

/** A LinearOperator with `matmat` by columns. */
export function asBlockOperator<T extends LinearOperator>(op: T): T & BlockOperator {
  const o = op as T & Partial<BlockOperator>;
  if (typeof o.matmat !== 'function') o.matmat = (vs) => matmatByColumns(op, vs);
  return o as T & BlockOperator;
}
