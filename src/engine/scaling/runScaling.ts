/**
 * `losscape scaling`: read the runs, choose the rows, fit the law from its grid of starts,
 * bootstrap, predict, and write a `kind: "scaling"` result. Pure TypeScript (no TF.js): the CLI
 * runs it in process, the engine process runs it for the extension.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkpoint, type AnalysisContext } from '../analysisContext';
import { writeResult } from '../resultWriter';
import { InputError } from '../../shared/errors';
import { SCHEMA_ID, type ResultOf } from '../../shared/result';
import type { ScalingPayload, ScalingRow } from '../../shared/results/scaling';
import { ScalingSpecSchema, type ScalingSpec, type ScalingSpecInput } from '../../shared/specs/scaling';
import { LOSSCAPE_VERSION } from '../../shared/version';
import { finalRow, selectRows } from './exclusions';
import { allRows, bestDistinctOptima, fitFromStarts, mergeFits, percentileInterval, resample, type MultiStartFit } from './fit';
import { scalingLaw, type LogRows, type ScalingLaw } from './laws';
import { rowsFromResults } from './fromResults';
import { Rng } from '../linalg/rng';
import { allocation, curve, logSpace, optimalPoint, optimumAt, pointOfRow, predictLoss, spread, withInterval, type Point } from './predictions';
import { readRunsTable } from './table';

const FORMULAS: Record<ScalingSpec['law'], string> = {
  chinchilla: 'L(N, D) = E + A/N^alpha + B/D^beta',
  power: 'L(x) = E + A*x^-alpha',
  kaplan: 'L(N, D) = [(Nc/N)^(alphaN/alphaD) + Dc/D]^alphaD',
};

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function logRows(law: ScalingLaw, rows: ScalingRow[]): LogRows {
  const [v1, v2] = law.variables;
  return {
    x1: Float64Array.from(rows, (r) => Math.log(r[v1])),
    x2: Float64Array.from(rows, (r) => (v2 ? Math.log(r[v2]) : 0)),
    logLoss: Float64Array.from(rows, (r) => Math.log(r.loss)),
  };
}

/** One-line refusals of tables a law cannot be fitted to. */
function checkIdentifiable(law: ScalingLaw, rows: ScalingRow[], source: string): void {
  const p = law.rawNames.length;
  if (rows.length < p) {
    throw new InputError(source, `${rows.length} row${rows.length === 1 ? '' : 's'} left to fit, fewer than the ${p} parameters of the ${law.name} law`);
  }
  const names: Record<string, string> = { N: 'model size (params)', D: 'data size (tokens)', C: 'compute' };
  for (const v of law.variables) {
    const distinct = new Set(rows.map((r) => r[v])).size;
    if (distinct < 2) {
      const two = law.variables.length === 2 ? ` the two-variable ${law.name} law` : ` a power law in ${v}`;
      throw new InputError(source, `every row left to fit has one ${names[v]} (${rows[0][v]}):${two} needs at least two`);
    }
  }
}

export function parsePrediction(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([NDC])\s*=\s*([^\s]+)\s*$/.exec(part);
    const v = m ? Number(m[2]) : NaN;
    if (!m || !(v > 0) || !Number.isFinite(v)) throw new InputError('--predict', `expects N=…,D=… with positive numbers (or C=… / the power law's variable), got '${text}'`);
    out[m[1]] = v;
  }
  return out;
}

export async function runScaling(input: ScalingSpecInput, ctx: AnalysisContext): Promise<ResultOf<'scaling'>> {
  const spec = ScalingSpecSchema.parse(input);
  const started = Date.now();
  const phases: Record<string, number> = {};
  const tick = (name: string, t0: number): void => {
    phases[name] = (Date.now() - t0) / 1000;
  };
  const law = scalingLaw(spec.law, spec.variable);
  const source = [...spec.runs, ...spec.fromResults].join(', ') || '--runs';
  if (spec.runs.length === 0 && spec.fromResults.length === 0) throw new InputError('--runs', 'give a runs table (--runs runs.csv) or Losscape results (--from-results a.losscape.json …)');

  // Read.
  let t0 = Date.now();
  const columns = { params: spec.paramsColumn, tokens: spec.tokensColumn, loss: spec.lossColumn, run: spec.runColumn, step: spec.stepColumn, compute: spec.computeColumn };
  const rows: ScalingRow[] = [];
  let hasSteps = spec.fromResults.length > 0;
  for (const file of spec.runs) {
    const t = readRunsTable(file, columns);
    // Rows of several tables without a run column stay apart by table.
    const name = path.basename(file);
    rows.push(...t.rows.map((r) => (r.run === null && spec.runs.length > 1 ? { ...r, run: `${name}:N=${r.N}` } : r)));
    hasSteps ||= t.hasSteps;
  }
  rows.push(...rowsFromResults(spec.fromResults, { samplesPerStep: spec.samplesPerStep, lossSeries: spec.lossSeries }));
  if (rows.length === 0) throw new InputError(source, 'no rows with a positive step and loss');
  tick('read', t0);

  // Choose rows.
  const skipFraction = spec.skipFraction ?? (hasSteps ? 0.1 : 0);
  const sel = selectRows(rows, { skipFraction, excludeWorst: spec.excludeWorst, holdout: spec.holdout, source });
  checkIdentifiable(law, sel.fit, source);
  const lr = logRows(law, sel.fit);
  const n = sel.fit.length;

  // Full fit from every start, in chunks so that a cancel gets through.
  t0 = Date.now();
  const grid = law.grid(spec.grid === 'coarse');
  let full: MultiStartFit | undefined;
  const chunk = 64;
  for (let s = 0; s < grid.length; s += chunk) {
    full = mergeFits(full, fitFromStarts(law, lr, allRows(n), spec.huberDelta, grid.slice(s, s + chunk)));
    ctx.progress((0.5 * Math.min(grid.length, s + chunk)) / grid.length, `fit: ${Math.min(grid.length, s + chunk)}/${grid.length} starts`);
    await checkpoint(ctx.stop);
  }
  const fit = full!;
  tick('fit', t0);
  const theta = fit.best.theta;

  // Bootstrap.
  t0 = Date.now();
  const reps: Float64Array[] = [];
  const starts = bestDistinctOptima(fit, spec.startsPerReplicate).map((s) => Array.from(s));
  const rng = new Rng(spec.seed);
  for (let b = 0; b < spec.bootstrap; b++) {
    reps.push(fitFromStarts(law, lr, resample(n, rng), spec.huberDelta, starts).best.theta);
    if (b % 10 === 9 || b === spec.bootstrap - 1) {
      ctx.progress(0.5 + (0.5 * (b + 1)) / spec.bootstrap, `bootstrap: ${b + 1}/${spec.bootstrap} replicates`);
      await checkpoint(ctx.stop);
    }
  }
  tick('bootstrap', t0);
  const repParams = reps.map((t) => law.params(t));
  const params = law.params(theta);
  const level = spec.level;
  const intervals = reps.length > 0 ? Object.fromEntries(law.paramNames.map((k) => [k, percentileInterval(repParams.map((p) => p[k]), level)])) : undefined;

  // Predictions.
  const predictAt = (at: Point) => ({
    loss: predictLoss(law, theta, at),
    interval: withInterval(reps.map((t) => predictLoss(law, t, at)), level),
  });
  const predictions = spec.predict.map((at) => {
    for (const v of law.variables) if (at[v] === undefined) throw new InputError('--predict', `the ${law.name} law needs ${law.variables.join(' and ')} (got ${Object.keys(at).join(', ')})`);
    return { at, ...predictAt(at) };
  });

  const holdout = sel.holdout && sel.heldOut.length > 0
    ? (() => {
        const final = finalRow(sel.heldOut);
        const p = predictAt(pointOfRow(final));
        return { ...sel.holdout, rows: sel.heldOut, final, predicted: p.loss, interval: p.interval, absoluteRelativeError: Math.abs(p.loss - final.loss) / final.loss };
      })()
    : null;

  // Compute-optimal allocation (chinchilla under C = 6ND).
  const all = [...sel.fit, ...sel.heldOut];
  const maxC = Math.max(...all.map((r) => r.C));
  const minC = Math.min(...all.map((r) => r.C));
  let computeOptimal: ScalingPayload['computeOptimal'] = null;
  if (law.name === 'chinchilla') {
    const al = allocation(params);
    const repAl = repParams.map(allocation);
    const budgets = spec.optimalCompute ?? [maxC, 10 * maxC, 100 * maxC];
    computeOptimal = {
      ...al,
      intervals: reps.length > 0 ? { a: percentileInterval(repAl.map((x) => x.a), level), b: percentileInterval(repAl.map((x) => x.b), level) } : undefined,
      points: budgets.map((C) => optimalPoint(law, theta, reps, C, level)),
    };
  }

  // Curves for the panel.
  const band = reps.slice(0, 200);
  let bySize: ScalingPayload['curves']['bySize'];
  if (law.variables.length === 2) {
    const dLo = Math.min(...all.map((r) => r.D)) / 1.5;
    const dHi = Math.max(...all.map((r) => r.D)) * 3;
    const ds = logSpace(dLo, dHi, 48);
    bySize = spread(all.map((r) => r.N), 10).map((N) => ({ N, ...curve(law, theta, band, ds, (D) => ({ N, D }), level) }));
  } else {
    const v = law.variables[0];
    const xs = logSpace(Math.min(...all.map((r) => r[v])) / 1.5, Math.max(...all.map((r) => r[v])) * 3, 64);
    bySize = [{ N: null, ...curve(law, theta, band, xs, (x) => ({ [v]: x }), level) }];
  }
  const isoFlop: ScalingPayload['curves']['isoFlop'] = [];
  if (law.name === 'chinchilla') {
    const levels = [...logSpace(minC, maxC, 4), ...(computeOptimal?.points.map((p) => p.C) ?? [])];
    for (const C of [...new Set(levels)].sort((a, b) => a - b)) {
      const o = optimumAt(law, theta, C);
      const Ns = logSpace(o.N / 30, o.N * 30, 41);
      isoFlop.push({ C, optimum: o, ...curve(law, theta, band, Ns, (N) => ({ N, D: C / (6 * N) }), level) });
    }
  }

  const fitted = sel.fit.map((r) => {
    const predicted = predictLoss(law, theta, pointOfRow(r));
    return { ...r, predicted, residual: Math.log(predicted) - Math.log(r.loss) };
  });
  const payload: ScalingPayload = {
    law: law.name,
    variables: [...law.variables],
    formula: FORMULAS[law.name],
    fit: {
      params,
      raw: Array.from(theta),
      rawNames: [...law.rawNames],
      objective: fit.best.f,
      huberDelta: spec.huberDelta,
      starts: grid.length,
      startsAtBest: fit.startsAtBest,
      bestStart: fit.best.start,
      stopReason: fit.best.reason,
      intervals,
      bootstrap: reps.length > 0 ? { replicates: reps.length, seed: spec.seed, startsPerReplicate: starts.length, level, params: repParams } : undefined,
    },
    rows: fitted,
    excluded: sel.excluded,
    table: {
      sources: [...spec.runs, ...spec.fromResults].map((f) => path.resolve(f)),
      rowsRead: rows.length,
      columns: Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== undefined)) as Record<string, string>,
      computeFrom: spec.computeColumn ? 'column' : '6ND',
    },
    predictions,
    computeOptimal,
    holdout,
    curves: { bySize, isoFlop },
  };
  const seconds = (Date.now() - started) / 1000;
  const result: ResultOf<'scaling'> = {
    schema: SCHEMA_ID,
    kind: 'scaling',
    complete: true,
    backend: 'js',
    provenance: {
      inputs: [...spec.runs, ...spec.fromResults].map((f) => ({ path: path.resolve(f), sha256: sha256(f) })),
      seed: spec.seed,
      timings: { startedAt: new Date(started).toISOString(), finishedAt: new Date().toISOString(), seconds, phases },
      losscapeVersion: LOSSCAPE_VERSION,
    },
    options: { ...spec, runs: spec.runs.map((f) => path.resolve(f)), fromResults: spec.fromResults.map((f) => path.resolve(f)), out: path.resolve(spec.out), skipFraction },
    definitions: {
      objective: `Σ Huber_δ(log L̂ − log L) over the rows fitted, δ = ${spec.huberDelta} (Hoffmann et al. 2022, approach 3)`,
      intervals: `${Math.round(level * 100)} % bootstrap percentile intervals over ${reps.length} replicates (rows resampled with replacement, seed ${spec.seed})`,
      computeOptimal: 'N_opt = G (C/6)^a, D_opt = G⁻¹ (C/6)^b, a = β/(α+β), b = α/(α+β), G = (αA/(βB))^{1/(α+β)} under C = 6ND',
      absoluteRelativeError: '|L̂ − L| / L of the held-out final row (Choshen, Zhang & Andreas 2024)',
      residual: 'log L̂ − log L',
    },
    result: payload,
  };
  writeResult(spec.out, result);
  ctx.progress(1, 'done');
  return result;
}
