/**
 * The α sweep of `losscape grokking --sweep-alpha`: the grokking analysis of one checkpoint
 * series per α (the `{alpha}` placeholder of `checkpoints` filled in), each written to its own
 * result beside `out`, summarised into the `sweep` block of the main α's result at `out` —
 * what examples/grokking/run.ts does after training the seed model (Kumar et al. 2023, whose
 * α sweep shows the grokking delay growing with the output scale).
 */
import path from 'node:path';
import { InputError } from '../../shared/errors';
import { SCHEMA_ID, type ResultOf } from '../../shared/result';
import type { SweepRun } from '../../shared/results/grokking';
import type { GrokkingSpec } from '../../shared/specs/grokking';
import type { AnalysisContext } from '../analysisContext';
import { defaultLossThreshold } from '../grokking/events';
import { makeSweep, sweepRun } from '../grokking/sweep';
import { writeResult } from '../resultWriter';

type GrokkingResult = ResultOf<'grokking'>;
type RunOne = (spec: GrokkingSpec, ctx: AnalysisContext) => Promise<GrokkingResult>;

const PLACEHOLDER = '{alpha}';

function fill(checkpoints: GrokkingSpec['checkpoints'], alpha: number): GrokkingSpec['checkpoints'] {
  const sub = (p: string) => p.split(PLACEHOLDER).join(String(alpha));
  return Array.isArray(checkpoints) ? checkpoints.map(sub) : sub(checkpoints);
}

/** `<out>` without `.losscape.json`, plus `-alpha-<α>.losscape.json`. */
export function sweepRunPath(out: string, alpha: number): string {
  const stem = out.endsWith('.losscape.json') ? out.slice(0, -'.losscape.json'.length) : out.replace(/\.json$/, '');
  return `${stem}-alpha-${alpha}.losscape.json`;
}

export async function runGrokkingSweep(spec: GrokkingSpec, ctx: AnalysisContext, runOne: RunOne): Promise<GrokkingResult> {
  const alphas = [...new Set(spec.sweepAlpha!)];
  const patterns = Array.isArray(spec.checkpoints) ? spec.checkpoints : [spec.checkpoints];
  if (!patterns.some((p) => p.includes(PLACEHOLDER))) {
    throw new InputError('--checkpoints', `an α sweep needs '${PLACEHOLDER}' in the checkpoints (e.g. 'runs/alpha-${PLACEHOLDER}'), got '${patterns.join(' ')}'`);
  }
  const mainAlpha = spec.mainAlpha ?? (alphas.includes(1) ? 1 : alphas[0]);
  if (!alphas.includes(mainAlpha)) throw new InputError('--main-alpha', `${mainAlpha} is not one of the swept values ${alphas.join(', ')}`);
  const order = [mainAlpha, ...alphas.filter((a) => a !== mainAlpha)];
  const out = path.resolve(spec.out);

  let main: GrokkingResult | null = null;
  const runs: SweepRun[] = [];
  let trainThreshold = 0;
  let testThreshold = 0;
  for (let i = 0; i < order.length; i++) {
    const alpha = order[i];
    const isMain = alpha === mainAlpha;
    const runOut = isMain ? out : sweepRunPath(out, alpha);
    const runCtx: AnalysisContext = {
      ...ctx,
      progress: (fraction, message, partial) =>
        ctx.progress((i + fraction) / order.length, `α = ${alpha} (${i + 1}/${order.length}): ${message}`, isMain ? partial : undefined),
    };
    const r = await runOne({ ...spec, sweepAlpha: undefined, mainAlpha: undefined, checkpoints: fill(spec.checkpoints, alpha), out: runOut }, runCtx);
    if (isMain) {
      main = r;
      // The sweep's thresholds: the user's, else the analysis's default from the main run.
      trainThreshold = spec.trainLossBelow ?? defaultLossThreshold(r.result.trainLoss) ?? Number.NaN;
      testThreshold = spec.testLossBelow ?? spec.trainLossBelow ?? trainThreshold;
    }
    runs.push(sweepRun(r.result, alpha, `α = ${alpha}`, trainThreshold, testThreshold, path.basename(runOut)));
    const done = i + 1 === order.length;
    const sweep = makeSweep('alpha', 'α (output scale; larger is lazier)', trainThreshold, testThreshold, runs, `checkpoints ${patterns.join(' ')}, α ∈ {${alphas.join(', ')}}`);
    const combined: GrokkingResult = {
      ...main!,
      schema: SCHEMA_ID,
      complete: done && main!.complete,
      status: done ? main!.status : `sweep: ${i + 1} of ${order.length} runs done`,
      options: { ...main!.options, sweepAlpha: alphas, mainAlpha },
      result: { ...main!.result, sweep },
    };
    writeResult(out, combined);
    if (done) {
      ctx.progress(1, 'done', combined);
      return combined;
    }
  }
  throw new Error('unreachable: an α sweep has at least two runs');
}
