import { z } from 'zod';

/**
 * Grokking statistics over a checkpoint series (kind `grokking`). Every per-checkpoint series
 * is aligned with `steps` (one entry per checkpoint, ascending); an entry is null where it was
 * not computed yet (incomplete result), cannot be computed (no test split, first checkpoints
 * for a lagged quantity) or was not finite. `definitions` in the envelope says what each is.
 */
const series = z.array(z.number().nullable());

export const CheckpointInfoSchema = z.object({
  path: z.string(),
  sha256: z.string(),
  step: z.number().int().nonnegative(),
  /** Where the step came from: a `step` field in model.json, or the last integer in its name. */
  stepSource: z.enum(['file', 'path']),
});
export type CheckpointInfo = z.infer<typeof CheckpointInfoSchema>;

export const LayerSeriesSchema = z.object({
  /** Layer name as in the parameter groups (e.g. `dense_Dense1`). */
  name: z.string(),
  parameters: z.number().int().nonnegative(),
  /** ‖θ_t‖ restricted to the layer's trainable tensors. */
  norm: series,
  /** ‖θ_t − θ₀‖ / ‖θ₀‖ restricted to the layer (null where ‖θ₀‖ = 0 for the layer). */
  distance: series,
});
export type LayerSeries = z.infer<typeof LayerSeriesSchema>;

export const GrokkingEventSchema = z.object({
  /** `train-loss` | `test-loss` | `train-accuracy` | `test-accuracy`. */
  id: z.string(),
  label: z.string(),
  /** The series the event is detected on (a key of the payload, e.g. `trainLoss`). */
  series: z.string(),
  /** `below`: first checkpoint whose value is ≤ threshold; `above`: first ≥ threshold. */
  direction: z.enum(['below', 'above']),
  threshold: z.number(),
  /** Step of the first checkpoint that crosses; null when no checkpoint does. */
  step: z.number().nullable(),
  value: z.number().nullable(),
});
export type GrokkingEvent = z.infer<typeof GrokkingEventSchema>;

/** The seed paper's sufficient statistics (Kumar, Bordelon, Gershman & Pehlevan 2023), per checkpoint. */
export const SeedModelStatsSchema = z.object({
  alpha: z.number(),
  epsilon: z.number(),
  /** Whether the model is centred, f − f₀ (the statistics are then those of W_t against the frozen W₀). */
  centred: z.boolean(),
  inputDim: z.number().int().positive(),
  width: z.number().int().positive(),
  /** ‖m‖², m = (1/N) Σᵢ wᵢ (centred: m_t − m₀). */
  mNorm2: series,
  /** tr M, M = (1/N) Σᵢ wᵢwᵢᵀ (centred: M_t − M₀). */
  trM: series,
  /** tr M². */
  trM2: series,
  /** βᵀMβ. */
  betaMBeta: series,
  /** α²‖m‖²/D + [(tr A)² + 2 tr A²]/D², A = (αε/2)M − ββᵀ/2: the population MSE E[(f − y)²]. */
  predictedTestLoss: series,
});
export type SeedModelStats = z.infer<typeof SeedModelStatsSchema>;

/** One run of a sweep (e.g. one α of the seed model), with its own step axis. */
export const SweepRunSchema = z.object({
  value: z.number(),
  label: z.string(),
  steps: z.array(z.number()),
  trainLoss: series,
  testLoss: series,
  ntkAlignment: series,
  /** First step with train loss ≤ the sweep's train threshold; null if never. */
  trainStep: z.number().nullable(),
  testStep: z.number().nullable(),
  /** testStep − trainStep; null when either is. */
  delay: z.number().nullable(),
  /** The run's own result file, when written. */
  result: z.string().optional(),
});
export type SweepRun = z.infer<typeof SweepRunSchema>;

export const SweepSchema = z.object({
  /** The swept option, e.g. `alpha`. */
  parameter: z.string(),
  /** Axis label for the parameter, e.g. `α (output scale)`. */
  label: z.string(),
  trainThreshold: z.number(),
  testThreshold: z.number(),
  runs: z.array(SweepRunSchema),
  note: z.string().optional(),
});
export type Sweep = z.infer<typeof SweepSchema>;

export const SharpnessSeriesSchema = z.object({
  /** 'ggn' (generalised Gauss–Newton) or 'hessian'. */
  operator: z.string(),
  /** How the Hessian's products were computed (operator 'hessian'); absent in older results and for the GGN. */
  product: z.enum(['exact', 'finite-difference']).optional(),
  samples: z.number().int().positive(),
  /** Largest eigenvalue at each checkpoint (Lanczos). */
  lambdaMax: series,
  /** 2/η when the learning rate η was given: the edge of stability of gradient descent. */
  twoOverEta: z.number().nullable(),
});

export const GrokkingPayloadSchema = z.object({
  steps: z.array(z.number()),
  checkpoints: z.array(CheckpointInfoSchema),
  checkpointsDone: z.number().int().nonnegative(),
  trainLoss: series,
  /** All null when the data has no test split. */
  testLoss: series,
  /** Null for regression losses. */
  trainAccuracy: series.nullable(),
  testAccuracy: series.nullable(),
  /** ‖θ_t‖ over all trainable parameters. */
  paramNorm: series,
  /** ‖θ_t − θ₀‖ / ‖θ₀‖, θ₀ the first checkpoint. */
  paramDistance: series,
  layers: z.array(LayerSeriesSchema),
  /** Centred kernel–label alignment of the empirical NTK on the probe set. */
  ntkAlignment: series,
  /** 1 − ⟨K₀, K_t⟩_F / (‖K₀‖_F ‖K_t‖_F). */
  ntkMovement: series,
  /** ‖K_t − K₀‖_F / ‖K₀‖_F. */
  ntkDistance: series,
  /** exp(entropy of the normalised eigenvalues of K_t) (Roy & Vetterli 2007). */
  ntkEffectiveRank: series,
  /** tr K_t / probe size. */
  ntkTrace: series,
  /** τ²·mean KL(softmax(z_{t−k}/τ) ‖ softmax(z_t/τ)) (SAF, Du et al. 2022); null for regression. */
  trajectoryKL: series.nullable(),
  /** Mean over samples of ‖f_t(x) − f_{t−k}(x)‖² (model outputs). */
  outputChange: series,
  sharpness: SharpnessSeriesSchema.nullable(),
  events: z.array(GrokkingEventSchema),
  /** Step of the test-loss event minus step of the train-loss event; null unless both happened. */
  grokkingDelay: z.number().nullable(),
  probe: z.object({
    size: z.number().int().nonnegative(),
    seed: z.number().int(),
    /** Output units per sample (K is summed over them). */
    outputs: z.number().int().positive(),
    /** How K was computed: 'dense' (per-layer structure of Dense layers) or 'jacobian' (explicit rows); null before the first kernel. */
    method: z.enum(['dense', 'jacobian']).nullable().optional(),
  }),
  /** Present when the checkpoints are the seed paper's model (recognised from their metadata). */
  seedModel: SeedModelStatsSchema.nullable(),
  /** Present when the result also summarises sibling runs (e.g. the α sweep of the seed model). */
  sweep: SweepSchema.nullable(),
});
export type GrokkingPayload = z.infer<typeof GrokkingPayloadSchema>;
