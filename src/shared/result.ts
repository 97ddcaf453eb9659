import { z } from 'zod';
import { ProvenanceSchema, type Provenance } from './provenance';
import { LandscapePayloadSchema } from './results/landscape';
import { GrokkingPayloadSchema } from './results/grokking';
import { HessianPayloadSchema } from './results/hessian';
import { SharpnessPayloadSchema } from './results/sharpness';
import { SaliencyPayloadSchema } from './results/saliency';
import { LossComparisonPayloadSchema } from './results/lossComparison';
import { ScalingPayloadSchema, ScalingProvenanceSchema } from './results/scaling';

/**
 * The `*.losscape.json` result file: one schema for the CLI, the engine and the extension,
 * so a result computed on a GPU box opens in VS Code. Adding a kind: add its payload schema
 * under `results/` and one line to `ResultSchema`.
 */
export const SCHEMA_ID = 'losscape/1';

const envelope = {
  schema: z.literal(SCHEMA_ID),
  /** False while the analysis runs, and for a cancelled or crashed run: `result` holds what was done. */
  complete: z.boolean(),
  /** One-line reason when incomplete (cancelled, crashed, error message). */
  status: z.string().optional(),
  backend: z.string(),
  provenance: ProvenanceSchema,
  /** The options the analysis ran with (validated per kind on the way in). */
  options: z.record(z.string(), z.unknown()),
  /** Definitions of what each reported quantity means, for readers of the file. */
  definitions: z.record(z.string(), z.string()).optional(),
};

export const ResultSchema = z.discriminatedUnion('kind', [
  z.object({ ...envelope, kind: z.literal('landscape'), result: LandscapePayloadSchema }),
  z.object({ ...envelope, kind: z.literal('grokking'), result: GrokkingPayloadSchema }),
  z.object({ ...envelope, kind: z.literal('hessian'), result: HessianPayloadSchema }),
  z.object({ ...envelope, kind: z.literal('sharpness'), result: SharpnessPayloadSchema }),
  z.object({ ...envelope, kind: z.literal('saliency'), result: SaliencyPayloadSchema }),
  z.object({ ...envelope, kind: z.literal('loss-comparison'), result: LossComparisonPayloadSchema }),
  // A fit reads tables of runs, not a model and data: its own provenance.
  z.object({ ...envelope, provenance: ScalingProvenanceSchema, kind: z.literal('scaling'), result: ScalingPayloadSchema }),
]);
export type LosscapeResult = z.infer<typeof ResultSchema>;
export type ResultKind = LosscapeResult['kind'];
export type ResultOf<K extends ResultKind> = Extract<LosscapeResult, { kind: K }>;
/** Results computed from a model and data (every kind but `scaling`, which fits tables of runs). */
export type ModelResult = Exclude<LosscapeResult, { kind: 'scaling' }>;

/** The model-and-data provenance of a result; undefined for fits of run tables (kind `scaling`) and for no result. */
export function modelProvenance(r: LosscapeResult | undefined): Provenance | undefined {
  return r && r.kind !== 'scaling' ? r.provenance : undefined;
}

/** Validates parsed JSON as a result file; the error names the file and the first bad field. */
export function parseResult(json: unknown, source: string): LosscapeResult {
  const parsed = ResultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new Error(`${source}: not a valid Losscape result (${where}: ${issue.message})`);
  }
  return parsed.data;
}
