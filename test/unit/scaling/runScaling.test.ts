import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../../src/engine/analysisContext';
import { runScaling } from '../../../src/engine/scaling/runScaling';
import { InputError } from '../../../src/shared/errors';
import { parseResult } from '../../../src/shared/result';
import type { ScalingSpecInput } from '../../../src/shared/specs/scaling';
import { BESIROGLU, chinchillaGrid, chinchillaLoss, toCsv } from './generate';

const root = path.resolve(__dirname, '../../..');
let dir: string;
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const quick = (spec: Omit<ScalingSpecInput, 'kind' | 'out'> & { out?: string }) =>
  runScaling({ kind: 'scaling', grid: 'coarse', bootstrap: 0, out: path.join(dir, 'fit.losscape.json'), ...spec }, quietContext());

async function inputError(spec: Parameters<typeof quick>[0]): Promise<string> {
  try {
    await quick(spec);
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${(e as Error).stack}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e.message;
  }
  assert.fail('expected an input error');
}

describe('losscape scaling: runs tables, exclusions, predictions, result', () => {
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-scaling-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fits a CSV table, holds out the largest model, predicts with intervals, writes a valid result', async () => {
    const csv = file('runs.csv', toCsv(chinchillaGrid(BESIROGLU, { sizes: 6, tokens: 10, sigma: 0.005, seed: 2 })));
    const r = await quick({ runs: [csv], runColumn: 'run', holdout: 'largest', bootstrap: 30, predict: [{ N: 7e10, D: 1.4e12 }], optimalCompute: [5.76e23] });
    const back = parseResult(JSON.parse(readFileSync(path.join(dir, 'fit.losscape.json'), 'utf8')), 'fit');
    assert.equal(back.kind, 'scaling');
    const s = r.result;
    // The contract outside scripts rely on.
    assert.equal(s.law, 'chinchilla');
    for (const k of ['E', 'A', 'B', 'alpha', 'beta']) assert.ok(Number.isFinite(s.fit.params[k]) && s.fit.intervals?.[k], k);
    assert.ok(s.fit.objective > 0);
    assert.equal(s.rows.length, 50, 'the largest of 6 sizes (10 rows) is held out');
    assert.ok(s.rows.every((row) => row.N < 1.6e10));
    // The held-out prediction: the largest model's last row.
    const h = s.holdout!;
    assert.equal(h.rows.length, 10);
    assert.equal(h.final.D, 5e11);
    const truth = chinchillaLoss(BESIROGLU, h.final.N, h.final.D);
    assert.ok(Math.abs(h.predicted - truth) / truth < 0.02, `predicted ${h.predicted} vs truth ${truth}`);
    assert.ok(Math.abs(h.absoluteRelativeError - Math.abs(h.predicted - h.final.loss) / h.final.loss) < 1e-12);
    assert.ok(h.interval && h.interval.lo <= h.predicted && h.predicted <= h.interval.hi);
    // Predictions and the compute-optimal allocation, each with an interval.
    const p = s.predictions[0];
    assert.ok(p.interval && p.interval.lo < p.loss && p.loss < p.interval.hi);
    const opt = s.computeOptimal!.points[0];
    assert.ok(Math.abs(opt.N * opt.D * 6 - 5.76e23) / 5.76e23 < 1e-9, 'C = 6 N_opt D_opt');
    assert.ok(Math.abs(opt.tokensPerParameter - opt.D / opt.N) < 1e-9 && opt.intervals);
    // Curves for the panel: one per model size (held-out included), iso-FLOP levels, bands.
    assert.equal(s.curves.bySize.length, 6);
    assert.ok(s.curves.bySize.every((c) => c.lo && c.hi && c.lo.every((v, i) => v <= c.loss[i] + 1e-12)));
    assert.ok(s.curves.isoFlop.length >= 4);
  });

  it('reads JSON tables, a compute column, steps (skip-fraction 0.1 by default) and exclude-worst', async () => {
    const rows = chinchillaGrid(BESIROGLU, { sizes: 4, tokens: 10 }).map((r, i) => ({ model: r.run, n_params: r.N, seen: r.D, flops: 7 * r.N * r.D, val: r.loss, it: i % 10 }));
    rows[8].val *= 3; // an outlier (late in its run, so not skipped)
    const json = file('runs.json', JSON.stringify({ runs: rows }));
    const r = await quick({ runs: [json], paramsColumn: 'n_params', tokensColumn: 'seen', lossColumn: 'val', runColumn: 'model', stepColumn: 'it', computeColumn: 'flops', excludeWorst: 1 });
    const s = r.result;
    assert.equal(s.table.computeFrom, 'column');
    assert.ok(s.rows.every((row) => Math.abs(row.C - 7 * row.N * row.D) < 1e-3 * row.C));
    // Token counts 5e9 · 1.668^k: the first five (up to 3.9e10) are below 0.1 × 5e11 in each of the 4 runs.
    assert.equal(s.excluded.filter((e) => e.reason === 'skip-fraction').length, 20);
    assert.deepEqual(s.excluded.filter((e) => e.reason === 'exclude-worst').map((e) => e.loss), [rows[8].val]);
    assert.equal(r.options.skipFraction, 0.1);
    assert.ok(Math.abs(s.fit.params.alpha - BESIROGLU.alpha) < 1e-4, 'the outlier is gone, the rest is exact');
  });

  it('--holdout run=NAME, the power law in C, Kaplan’s law', async () => {
    const csv = file('runs2.csv', toCsv(chinchillaGrid(BESIROGLU, { sizes: 4, tokens: 8 })));
    const named = (await quick({ runs: [csv], runColumn: 'run', holdout: 'run=N=4.28e+8' })).result;
    assert.equal(named.holdout?.mode, 'run');
    assert.equal(named.holdout?.rows.length, 8);
    assert.ok(named.holdout!.absoluteRelativeError < 1e-6, 'noise-free: the held-out run is predicted exactly');
    const power = (await quick({ runs: [csv], law: 'power', variable: 'C', predict: [{ C: 1e22 }] })).result;
    assert.deepEqual(Object.keys(power.fit.params).sort(), ['A', 'E', 'alpha']);
    assert.equal(power.computeOptimal, null);
    assert.ok(power.predictions[0].loss > 0);
    const kaplan = (await quick({ runs: [csv], law: 'kaplan' })).result;
    assert.deepEqual(Object.keys(kaplan.fit.params).sort(), ['Dc', 'Nc', 'alphaD', 'alphaN']);
  });

  it('builds the table from checkpoint-series results: N = parameter count, D = step × samples per step', async () => {
    const seed = JSON.parse(readFileSync(path.join(root, 'test/fixtures/results/grokking-seed.losscape.json'), 'utf8'));
    const files = [5100, 20400, 81600, 326400].map((count, i) => {
      const copy = structuredClone(seed);
      copy.provenance.model.parameterCount = count;
      // A bigger model reaches a lower loss: L = 0.5 + 30/N^0.4 + 8/D^0.3 at every checkpoint.
      copy.result.testLoss = copy.result.steps.map((s: number) => (s > 0 ? 0.5 + 30 / count ** 0.4 + 8 / (s * 64) ** 0.3 : null));
      return file(`run${i}.losscape.json`, JSON.stringify(copy));
    });
    const r = (await quick({ fromResults: files, samplesPerStep: 64, skipFraction: 0 })).result;
    const steps = seed.result.steps.filter((s: number) => s > 0);
    assert.equal(r.rows.length, 4 * steps.length, 'step 0 (D = 0) is left out');
    assert.deepEqual(r.rows.filter((x) => x.N === 5100).map((x) => x.D), steps.map((s: number) => s * 64));
    assert.equal(r.rows[0].run, 'run0');
    assert.ok(Math.abs(r.fit.params.alpha - 0.4) < 1e-3 && Math.abs(r.fit.params.beta - 0.3) < 1e-3, JSON.stringify(r.fit.params));
    // One result is one model size: a two-variable law refuses it.
    assert.match(await inputError({ fromResults: [files[0]], samplesPerStep: 64 }), /one model size .*two-variable chinchilla law needs at least two/);
  });

  it('degenerate input: one clear line each', async () => {
    const good = toCsv(chinchillaGrid(BESIROGLU, { sizes: 3, tokens: 3 }));
    assert.match(await inputError({ runs: [file('few.csv', good.split('\n').slice(0, 5).join('\n'))] }), /few\.csv: 4 rows left to fit, fewer than the 5 parameters of the chinchilla law/);
    assert.match(await inputError({ runs: [file('zero.csv', good.replace(/\n([^,]+),([^,]+),/, '\n$1,0,'))] }), /zero\.csv: row 1: params must be positive, got 0/);
    assert.match(await inputError({ runs: [file('negD.csv', good.replace(/\n([^,]+),([^,]+),([^,]+),/, '\n$1,$2,-5,'))] }), /row 1: tokens must be positive, got -5/);
    assert.match(await inputError({ runs: [file('negL.csv', good.replace(/,([0-9.]+)\n/, ',-1\n'))] }), /row 1: loss must be positive, got -1/);
    assert.match(await inputError({ runs: [file('nan.csv', good.replace(/,([0-9.]+)\n/, ',NaN\n'))] }), /nan\.csv: row 1: loss is 'NaN', not a finite number/);
    assert.match(await inputError({ runs: [file('cols.csv', good.replace('params', 'size'))] }), /cols\.csv: has no column 'params' \(columns: run, size, tokens, loss\); name it with --params-column/);
    const one = chinchillaGrid(BESIROGLU, { sizes: 1, tokens: 10 });
    assert.match(await inputError({ runs: [file('one.csv', toCsv(one))] }), /every row left to fit has one model size \(params\) \(70000000\): the two-variable chinchilla law needs at least two/);
    assert.match(await inputError({ runs: [file('bad.json', '{"runs": 3}')] }), /bad\.json: must hold an array of rows/);
    assert.match(await inputError({ runs: [file('ok.csv', good)], holdout: 'run=nope', runColumn: 'run' }), /no run named 'nope' to hold out/);
  });

  it('the CLI: a summary on stdout; bad input is one line on stderr and exit 2', () => {
    const cli = path.join(root, 'dist/cli.js');
    assert.ok(existsSync(cli), 'dist/cli.js is missing: run npm run build');
    const csv = file('cli.csv', toCsv(chinchillaGrid(BESIROGLU, { sizes: 4, tokens: 6, sigma: 0.003, seed: 4 })));
    const out = path.join(dir, 'cli.losscape.json');
    const ok = spawnSync(process.execPath, [cli, 'scaling', '--runs', csv, '--grid', 'coarse', '--bootstrap', '20', '--holdout', 'largest', '--predict', 'N=1e11,D=2e12', '--out', out], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /chinchilla: .* rows fitted/);
    assert.match(ok.stdout, /held out largest model .* absolute relative error/);
    assert.match(ok.stdout, /predict N=1\.000e\+11, D=2\.000e\+12: L [0-9.]+ \[/);
    assert.ok(existsSync(out));
    const bad = spawnSync(process.execPath, [cli, 'scaling', '--runs', file('nan2.csv', 'params,tokens,loss\n1e8,1e9,nan\n'), '--out', out], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^losscape scaling: .*nan2\.csv: row 1: loss is 'nan', not a finite number/);
    const before = readFileSync(csv, 'utf8');
    const over = spawnSync(process.execPath, [cli, 'scaling', '--runs', csv, '--grid', 'coarse', '--bootstrap', '0', '--out', csv], { encoding: 'utf8' });
    assert.equal(over.status, 2, over.stderr);
    assert.equal(over.stderr.trim().split('\n').length, 1, over.stderr);
    assert.equal(readFileSync(csv, 'utf8'), before, 'the input is never overwritten');
    const badPredict = spawnSync(process.execPath, [cli, 'scaling', '--runs', csv, '--predict', 'N=x', '--out', out], { encoding: 'utf8' });
    assert.equal(badPredict.status, 2);
    assert.match(badPredict.stderr, /--predict: expects N=…,D=…/);
  });
});
