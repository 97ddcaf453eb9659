import { z } from 'zod';
import { SidecarArraySchema } from '../provenance';
import { TrajectoryInfoSchema } from './trajectory';

export const DirectionNormSchema = z.enum(['filter', 'layer', 'none']);
export type DirectionNorm = z.infer<typeof DirectionNormSchema>;
export const BiasPolicySchema = z.enum(['zero', 'keep']);
export type BiasPolicy = z.infer<typeof BiasPolicySchema>;

/** How the directions of a landscape were made, so anyone can make them again. */
export const DirectionsInfoSchema = z.object({
  kind: z.enum(['random', 'interpolation', 'hessian', 'pca', 'plane']),
  norm: DirectionNormSchema,
  bias: BiasPolicySchema,
  seed: z.number().int(),
  /** cos(δ, η) for 2D landscapes. */
  cosine: z.number().nullable(),
  norms: z.array(z.number()),
  /** Flat parameter vectors: θ (centre) then each direction, in the objective's order. */
  center: SidecarArraySchema,
  vectors: z.array(SidecarArraySchema),
  note: z.string().optional(),
});
export type DirectionsInfo = z.infer<typeof DirectionsInfoSchema>;

const nullableNumbers = z.array(z.number().nullable());

/**
 * Grid bookkeeping shared by 1D and 2D payloads. A point is computed when its loss is a number
 * or its flat index (row · columns + column; 1D: the index) is in `nonFinite`: a point whose
 * loss came out NaN/±Inf is stored as null like a point not reached yet, and this list tells
 * the two apart, so that `--resume` never evaluates a computed point again.
 */
const gridBookkeeping = {
  nonFinite: z.array(z.number().int().nonnegative()).optional(),
  /** Set by `--resume`: the partial result continued, and how many points were kept and evaluated. */
  resume: z
    .object({
      from: z.string(),
      /** Points of `from` that were already computed (never evaluated again). */
      pointsKept: z.number().int().nonnegative(),
      /** Points this run evaluated (so far). */
      pointsEvaluated: z.number().int().nonnegative(),
    })
    .optional(),
};

export const Landscape1DSchema = z.object({
  dims: z.literal(1),
  /** Coordinates along the direction (for a two-model line, t with θ₁ at 0 and θ₂ at 1). */
  t: z.array(z.number()),
  /** Loss at each t; null where not computed yet (incomplete result). */
  loss: nullableNumbers,
  accuracy: nullableNumbers.nullable(),
  pointsDone: z.number().int().nonnegative(),
  centerLoss: z.number(),
  centerAccuracy: z.number().nullable(),
  directions: DirectionsInfoSchema,
  endpoints: z.object({ from: z.string(), to: z.string() }).optional(),
  /** Made from a checkpoint series by `losscape trajectory`. */
  trajectory: TrajectoryInfoSchema.optional(),
  ...gridBookkeeping,
});

export const Landscape2DSchema = z.object({
  dims: z.literal(2),
  x: z.array(z.number()),
  y: z.array(z.number()),
  /** One row per y, one column per x; null where not computed yet. */
  loss: z.array(nullableNumbers),
  accuracy: z.array(nullableNumbers).nullable(),
  rowsDone: z.number().int().nonnegative(),
  /** Evaluators that shared the rows: 1, or 2 with the grid worker thread. */
  evaluators: z.number().int().positive().optional(),
  /**
   * Per thread that evaluated rows: how many rows and points, and (Linux; null elsewhere) the
   * CPU seconds it ran during the grid and the seconds it waited runnable for a CPU; for the
   * worker also the CPU seconds it spent starting (its engine, model and data). Shows how the
   * second thread scales: total CPU per point should match the one-thread run's.
   */
  threads: z
    .array(
      z.object({
        thread: z.enum(['main', 'worker']),
        rows: z.number().int().nonnegative(),
        points: z.number().int().nonnegative(),
        cpuSeconds: z.number().nonnegative().nullable(),
        waitSeconds: z.number().nonnegative().nullable(),
        startupCpuSeconds: z.number().nonnegative().nullable().optional(),
      }),
    )
    .optional(),
  centerLoss: z.number(),
  centerAccuracy: z.number().nullable(),
  directions: DirectionsInfoSchema,
  /** Points drawn on the plane, e.g. a training path. */
  path: z.array(z.object({ label: z.string(), x: z.number(), y: z.number() })).optional(),
  /** Made from a checkpoint series by `losscape trajectory`. */
  trajectory: TrajectoryInfoSchema.optional(),
  ...gridBookkeeping,
});

export const LandscapePayloadSchema = z.discriminatedUnion('dims', [Landscape1DSchema, Landscape2DSchema]);
export type Landscape1D = z.infer<typeof Landscape1DSchema>;
export type Landscape2D = z.infer<typeof Landscape2DSchema>;
export type LandscapePayload = z.infer<typeof LandscapePayloadSchema>;
