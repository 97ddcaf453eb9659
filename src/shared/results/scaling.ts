import { z } from 'zod';

/**
 * A fitted scaling law (kind `scaling`): the law, its parameters with bootstrap percentile
 * intervals, the rows it was fitted on, predictions, the compute-optimal allocation and the
 * curves the panel draws. Contract for outside scripts: `result.law`, `result.fit.params`
 * (`E`, `A`, `B`, `alpha`, `beta` for `chinchilla`), `result.fit.objective` (the minimised
 * Huber sum), `result.fit.intervals` (when bootstrapped), `result.rows` (rows used after
 * exclusions).
 */
export const ScalingLawNameSchema = z.enum(['chinchilla', 'power', 'kaplan']);
export type ScalingLawName = z.infer<typeof ScalingLawNameSchema>;
/** N: parameters, D: training tokens (samples), C: compute in FLOPs. */
export const ScalingVariableSchema = z.enum(['N', 'D', 'C']);
export type ScalingVariable = z.infer<typeof ScalingVariableSchema>;

const pos = z.number().positive();

export const ScalingRowSchema = z.object({
  /** Run name (the run column, or the result file for `--from-results`); null when the table has none. */
  run: z.string().nullable(),
  N: pos,
  D: pos,
  /** Compute: the compute column, or 6·N·D. */
  C: pos,
  loss: pos,
  step: z.number().nullable(),
});
export type ScalingRow = z.infer<typeof ScalingRowSchema>;

export const FittedRowSchema = ScalingRowSchema.extend({
  /** L̂ of the point fit at this row. */
  predicted: z.number(),
  /** log L̂ − log L. */
  residual: z.number(),
});
export type FittedRow = z.infer<typeof FittedRowSchema>;

export const ExcludedRowSchema = ScalingRowSchema.extend({
  reason: z.enum(['skip-fraction', 'exclude-worst', 'holdout']),
});

/** A bootstrap percentile interval (2.5 % and 97.5 % by default) with the replicates' median. */
export const IntervalSchema = z.object({ lo: z.number(), hi: z.number(), median: z.number() });
export type Interval = z.infer<typeof IntervalSchema>;

export const ScalingFitSchema = z.object({
  /** Reported parameters: E, A, B, alpha, beta (chinchilla); E, A, alpha (power); Nc, Dc, alphaN, alphaD (kaplan). */
  params: z.record(z.string(), z.number()),
  /** The optimisation vector θ (e.g. a, b, e, α, β), named by `rawNames`. */
  raw: z.array(z.number()),
  rawNames: z.array(z.string()),
  /** Σ Huber_δ(log L̂ − log L) at the best start: the minimised objective. */
  objective: z.number(),
  huberDelta: z.number(),
  /** Initialisations L-BFGS was started from, and how many ended within 1e-9 (relative) of the best objective. */
  starts: z.number().int().positive(),
  startsAtBest: z.number().int().nonnegative(),
  /** The best start's grid point and why L-BFGS stopped there. */
  bestStart: z.array(z.number()),
  stopReason: z.string(),
  /** Percentile intervals of every parameter over the bootstrap replicates. */
  intervals: z.record(z.string(), IntervalSchema).optional(),
  bootstrap: z
    .object({
      replicates: z.number().int().positive(),
      seed: z.number().int(),
      /** Each replicate is refitted from this many of the full fit's best distinct starts (and the full fit's optimum). */
      startsPerReplicate: z.number().int().positive(),
      level: z.number(),
      /** Every replicate's parameters, in order. */
      params: z.array(z.record(z.string(), z.number())),
    })
    .optional(),
});
export type ScalingFit = z.infer<typeof ScalingFitSchema>;

export const PredictionSchema = z.object({
  /** The inputs asked for (N and D; or the power law's one variable). */
  at: z.record(z.string(), z.number()),
  loss: z.number(),
  interval: IntervalSchema.optional(),
});
export type Prediction = z.infer<typeof PredictionSchema>;

export const OptimalPointSchema = z.object({
  C: pos,
  N: z.number(),
  D: z.number(),
  tokensPerParameter: z.number(),
  loss: z.number(),
  intervals: z.object({ N: IntervalSchema, D: IntervalSchema, tokensPerParameter: IntervalSchema, loss: IntervalSchema }).optional(),
});
export type OptimalPoint = z.infer<typeof OptimalPointSchema>;

/**
 * Compute-optimal allocation under C = 6ND for the chinchilla law: N_opt = G·(C/6)^a,
 * D_opt = G⁻¹·(C/6)^b with a = β/(α+β), b = α/(α+β), G = (αA/(βB))^{1/(α+β)}.
 */
export const ComputeOptimalSchema = z.object({
  a: z.number(),
  b: z.number(),
  G: z.number(),
  intervals: z.object({ a: IntervalSchema, b: IntervalSchema }).optional(),
  points: z.array(OptimalPointSchema),
});

export const HoldoutSchema = z.object({
  /** `largest`: every row of the largest model; `run`: every row of the named run. */
  mode: z.enum(['largest', 'run']),
  run: z.string().nullable(),
  rows: z.array(ScalingRowSchema),
  /** The held-out final row (largest D of the held-out rows) and the fit's prediction for it. */
  final: ScalingRowSchema,
  predicted: z.number(),
  interval: IntervalSchema.optional(),
  /** |L̂ − L| / L at the final row (Choshen et al. 2024's ARE). */
  absoluteRelativeError: z.number(),
});

const curve = z.object({ x: z.array(z.number()), loss: z.array(z.number()), lo: z.array(z.number()).optional(), hi: z.array(z.number()).optional() });

export const ScalingCurvesSchema = z.object({
  /** Loss against tokens, one curve per model size N (two-variable laws); against x for `power`. */
  bySize: z.array(curve.extend({ N: z.number().nullable() })),
  /** Iso-FLOP curves: loss against N at D = C/(6N), one per compute level (chinchilla only). */
  isoFlop: z.array(curve.extend({ C: z.number(), optimum: z.object({ N: z.number(), D: z.number(), loss: z.number() }) })),
});

export const ScalingPayloadSchema = z.object({
  law: ScalingLawNameSchema,
  /** The law's input variables: ['N', 'D'], or the power law's one. */
  variables: z.array(ScalingVariableSchema),
  formula: z.string(),
  fit: ScalingFitSchema,
  rows: z.array(FittedRowSchema),
  excluded: z.array(ExcludedRowSchema),
  table: z.object({
    sources: z.array(z.string()),
    rowsRead: z.number().int().nonnegative(),
    /** Column names used: params, tokens, loss, and run/step/compute when given. */
    columns: z.record(z.string(), z.string()),
    /** Whether C came from a compute column (else 6·N·D). */
    computeFrom: z.enum(['column', '6ND']),
  }),
  predictions: z.array(PredictionSchema),
  computeOptimal: ComputeOptimalSchema.nullable(),
  holdout: HoldoutSchema.nullable(),
  curves: ScalingCurvesSchema,
});
export type ScalingPayload = z.infer<typeof ScalingPayloadSchema>;

/** Provenance of a fit: the tables or results it read (no model or data), the seed and timings. */
export const ScalingProvenanceSchema = z.object({
  inputs: z.array(z.object({ path: z.string(), sha256: z.string() })),
  seed: z.number().int(),
  timings: z.object({
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    seconds: z.number().nonnegative(),
    phases: z.record(z.string(), z.number()),
  }),
  losscapeVersion: z.string(),
});
