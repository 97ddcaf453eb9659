import { z } from 'zod';
import { SidecarArraySchema } from '../provenance';
import { CurvatureOperatorSchema, HessianProductSchema } from '../specs/hessian';

const num = z.number();
const nullableNum = z.number().nullable();

export const EigenInfoSchema = z.object({
  method: z.enum(['lanczos', 'power']),
  k: z.number().int().nonnegative(),
  /** Lanczos steps, or power iterations summed over pairs. */
  iterations: z.number().int().nonnegative(),
  /** Operator products spent, residual checks included. */
  matvecs: z.number().int().nonnegative(),
  converged: z.boolean(),
  /** Lanczos: vectors per block, thick restarts, products of the deflated second start, eigenvalues it found that the first start had missed. */
  blockSize: z.number().int().positive().optional(),
  restarts: z.number().int().nonnegative().optional(),
  checkMatvecs: z.number().int().nonnegative().optional(),
  missedFound: z.number().int().nonnegative().optional(),
  /** Why `converged` is false, or what the check corrected. */
  warnings: z.array(z.string()).optional(),
  /** Unit eigenvectors (float32, objective's parameter order) in the sidecar, in the order of `eigenvalues`. */
  vectors: z.array(SidecarArraySchema),
});

export const TraceEstimateSchema = z.object({
  method: z.enum(['hutchinson', 'hutch++']),
  estimate: num,
  stderr: num,
  /** Raw zᵢᵀA·zᵢ (Hutchinson); empty for Hutch++. */
  samples: z.array(num),
  probes: z.number().int().nonnegative(),
  matvecs: z.number().int().nonnegative(),
});

export const LayerCurvatureSchema = z.object({
  layer: z.string(),
  size: z.number().int().positive(),
  /** Largest eigenvalue of the layer's diagonal block (Lanczos, k = 1). */
  topEigenvalue: nullableNum,
  residual: nullableNum,
  /** Trace of the layer's diagonal block: the layer's part of every Hutchinson sample. */
  trace: nullableNum,
  traceStderr: nullableNum,
  probes: z.number().int().nonnegative(),
});

export const DiagonalSummarySchema = z.object({
  probes: z.number().int().positive(),
  values: SidecarArraySchema,
  stderr: SidecarArraySchema,
  perLayer: z.array(z.object({ layer: z.string(), size: z.number().int(), sum: num, mean: num, min: num, max: num, meanStderr: num })),
});

export const DensitySchema = z.object({
  steps: z.number().int().positive(),
  starts: z.number().int().positive(),
  /** Ritz values per start (ascending) and their Gauss-quadrature weights (each row sums to 1). */
  nodes: z.array(z.array(num)),
  weights: z.array(z.array(num)),
  /** Gaussian-smoothed density on a grid (integrates to 1). */
  x: z.array(num),
  density: z.array(num),
  sigma: num,
  traceEstimate: num,
  traceStderr: nullableNum,
  lambdaMin: num,
  lambdaMax: num,
  matvecs: z.number().int().nonnegative(),
});

export const FiniteDifferenceInfoSchema = z.object({
  /** δ: each perturbation h·v has norm δ·‖θ‖ (θ restricted to v's support). */
  relativeStep: num,
  /** ReLU layers whose activation patterns were frozen at θ during the differences. */
  frozenSites: z.number().int().nonnegative(),
  /** Piecewise-linear layers whose kinks were not frozen (their crossings inflate the errors). */
  unfrozen: z.array(z.string()),
  products: z.number().int().nonnegative(),
  gradients: z.number().int().nonnegative(),
  minStep: nullableNum,
  maxStep: nullableNum,
  /** Estimated relative error of the products, ‖D(h/2) − D(h)‖/‖R‖ plus the float32 rounding of θ ± hv: largest and median. */
  maxRelativeError: nullableNum,
  medianRelativeError: nullableNum,
});

export const HessianPayloadSchema = z.object({
  operator: CurvatureOperatorSchema,
  operatorDescription: z.string(),
  /**
   * How the operator's products were computed: 'exact' (double backprop for the Hessian; the
   * Gauss–Newton and Fisher products are always exact) or 'finite-difference'. Absent in results
   * written before it existed (their Hessian products were finite differences).
   */
  product: HessianProductSchema.optional(),
  dim: z.number().int().positive(),
  loss: num,
  accuracy: nullableNum,
  gradientNorm: num,
  /** Largest eigenvalues, descending. */
  eigenvalues: z.array(num),
  /** ‖A·v − λ·v‖₂ per eigenpair. */
  residuals: z.array(num),
  eigen: EigenInfoSchema.nullable(),
  /** Smallest eigenvalues, ascending, with residuals (Lanczos, `bottom` > 0). */
  bottom: z.object({ eigenvalues: z.array(num), residuals: z.array(num), vectors: z.array(SidecarArraySchema) }).nullable(),
  trace: TraceEstimateSchema.nullable(),
  /** λ_max / trace, when both were computed. */
  lambdaMaxOverTrace: nullableNum,
  diagonal: DiagonalSummarySchema.nullable(),
  density: DensitySchema.nullable(),
  layers: z.array(LayerCurvatureSchema).nullable(),
  /** Present for finite-difference Hessian products: the steps and their estimated errors. */
  finiteDifference: FiniteDifferenceInfoSchema.nullable(),
  /** Phases finished, in order (eigen, trace, diagonal, density, layers). */
  phases: z.array(z.string()),
});
export type HessianPayload = z.infer<typeof HessianPayloadSchema>;
