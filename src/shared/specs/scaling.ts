import { z } from 'zod';
import { ScalingLawNameSchema, ScalingVariableSchema } from '../results/scaling';

/** `--holdout largest` or `--holdout run=NAME`. */
export const HoldoutSpecSchema = z.union([z.literal('largest'), z.string().regex(/^run=.+$/, "holdout must be 'largest' or 'run=NAME'")]);

/**
 * Fit a scaling law to a table of runs (CSV/JSON) or to Losscape checkpoint-series results.
 * Runs without TF.js: the CLI fits in process; the extension sends it to the engine process.
 */
export const ScalingSpecSchema = z.object({
  kind: z.literal('scaling'),
  /** CSV or JSON tables of runs (JSON: an array of row objects, or `{ "runs": [...] }` / `{ "rows": [...] }`). */
  runs: z.array(z.string().min(1)).default([]),
  /** Grokking/checkpoint-series results: N = the model's parameter count, D = step × samplesPerStep. */
  fromResults: z.array(z.string().min(1)).default([]),
  /** Samples (tokens) seen per step, for `fromResults`; omitted → the result's training samples used (full batch). */
  samplesPerStep: z.number().positive().optional(),
  /** Which loss of a result: the test loss (default; the train loss when a result has no test split) or the train loss. */
  lossSeries: z.enum(['test', 'train']).default('test'),
  paramsColumn: z.string().min(1).default('params'),
  tokensColumn: z.string().min(1).default('tokens'),
  lossColumn: z.string().min(1).default('loss'),
  runColumn: z.string().min(1).optional(),
  stepColumn: z.string().min(1).optional(),
  /** FLOPs column; omitted → C = 6·N·D. */
  computeColumn: z.string().min(1).optional(),
  law: ScalingLawNameSchema.default('chinchilla'),
  /** The power law's variable. */
  variable: ScalingVariableSchema.default('N'),
  huberDelta: z.number().positive().default(1e-3),
  /** Initialisations: the papers' grid (`paper`, 4,500 for chinchilla) or a coarse sub-grid (`coarse`, for quick looks). */
  grid: z.enum(['paper', 'coarse']).default('paper'),
  /** Drop the first fraction of each run's tokens; omitted → 0.1 when rows carry steps (intermediate checkpoints), else 0. */
  skipFraction: z.number().min(0).lt(1).optional(),
  /** Drop the K highest-loss rows (Besiroglu et al. drop 5). */
  excludeWorst: z.number().int().nonnegative().default(0),
  holdout: HoldoutSpecSchema.optional(),
  /** Bootstrap replicates (rows resampled with replacement); 0 turns intervals off. */
  bootstrap: z.number().int().nonnegative().default(200),
  /** Distinct starts each replicate is refitted from (the full fit's best basins). */
  startsPerReplicate: z.number().int().positive().default(6),
  level: z.number().gt(0).lt(1).default(0.95),
  seed: z.number().int().default(0),
  /** Points to predict the loss at, e.g. { N: 1e9, D: 2e10 } (power law: its variable). */
  predict: z.array(z.record(z.string(), z.number().positive())).default([]),
  /** Compute budgets for the compute-optimal allocation; omitted → the largest C in the table × 1, 10, 100. */
  optimalCompute: z.array(z.number().positive()).optional(),
  out: z.string().min(1),
});
export type ScalingSpec = z.infer<typeof ScalingSpecSchema>;
export type ScalingSpecInput = z.input<typeof ScalingSpecSchema>;
