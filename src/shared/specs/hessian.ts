import { z } from 'zod';
import { InputsSchema } from './common';

export const CurvatureOperatorSchema = z.enum(['hessian', 'ggn', 'fisher']);
export type CurvatureOperatorName = z.infer<typeof CurvatureOperatorSchema>;

/** How Hessian-vector products are computed: exact (double backprop) or finite differences of gradients. */
export const HessianProductSchema = z.enum(['exact', 'finite-difference']);
export type HessianProduct = z.infer<typeof HessianProductSchema>;

/** `losscape hessian`: eigenvalues, trace, diagonal, spectral density and per-layer curvature. */
export const HessianSpecSchema = InputsSchema.extend({
  kind: z.literal('hessian'),
  /** hessian: the Hessian of the mean loss; ggn: generalised Gauss–Newton; fisher: empirical Fisher. */
  operator: CurvatureOperatorSchema.default('hessian'),
  /** Hessian products: exact (double backprop) or finite differences of gradients (cross-checks). */
  hv: HessianProductSchema.default('exact'),
  /** Largest eigenvalues wanted (0: none). */
  top: z.number().int().min(0).default(5),
  /** Smallest eigenvalues wanted (Lanczos only; 0: none). */
  bottom: z.number().int().min(0).default(0),
  /** lanczos (full reorthogonalisation) or power (PyHessian's power iteration with deflation). */
  method: z.enum(['lanczos', 'power']).default('lanczos'),
  /** Lanczos: most operator products for the Krylov bases (default max(40k, 300); it stops on convergence); power: iterations per eigenpair (default 100). */
  maxIter: z.number().int().positive().optional(),
  /** Lanczos relative Ritz-residual tolerance (default 1e-4) or power-iteration relative change (default 1e-3). */
  tol: z.number().positive().optional(),
  trace: z.boolean().default(false),
  traceMethod: z.enum(['hutchinson', 'hutch++']).default('hutchinson'),
  /** Random vectors of the stochastic estimators (trace, diagonal; Hutch++: products). */
  probes: z.number().int().min(2).default(100),
  diagonal: z.boolean().default(false),
  density: z.boolean().default(false),
  densitySteps: z.number().int().positive().default(80),
  densityStarts: z.number().int().positive().default(5),
  /** Per layer: top eigenvalue and trace of the layer's diagonal block. */
  perLayer: z.boolean().default(false),
  /** Finite-difference Hessian (`hv: finite-difference`): ‖h·v‖ = fdStep·‖θ‖ (see tfjs/curvatureOperators.ts). */
  fdStep: z.number().positive().lt(1).default(1e-3),
  /** Refuse Krylov bases larger than this (megabytes of float64 vectors). */
  memoryLimitMb: z.number().positive().default(4096),
  /** Save the eigenvectors in the sidecar. */
  vectors: z.boolean().default(true),
});
export type HessianSpec = z.infer<typeof HessianSpecSchema>;
export type HessianSpecInput = z.input<typeof HessianSpecSchema>;
