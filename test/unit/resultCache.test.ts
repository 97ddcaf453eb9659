import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { estimateTimeLeft, formatDuration, ProgressIncrements } from '../../src/extension/analysis/eta';
import { canonicalJson, resultFileName, resultKey } from '../../src/extension/results/cacheKey';
import { inputFingerprints } from '../../src/extension/results/fingerprint';
import type { AnalysisSpecInput } from '../../src/shared/protocol';

const spec: AnalysisSpecInput = { kind: 'landscape', model: '/w/m/model.json', data: '/w/d.npz', out: '/w/.losscape/a.json', dims: 2, points: 11 };

describe('result cache key', () => {
  it('ignores key order and the output path, and changes with any option or fingerprint', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] }), '{"a":[{"d":2}],"b":1}');
    const fp = { '/w/m/model.json': 'x', '/w/d.npz': '1:2' };
    const k = resultKey(spec, fp);
    assert.match(k, /^[0-9a-f]{64}$/);
    assert.equal(resultKey({ points: 11, dims: 2, data: '/w/d.npz', model: '/w/m/model.json', kind: 'landscape', out: '/elsewhere' }, fp), k);
    assert.notEqual(resultKey({ ...spec, points: 12 }, fp), k);
    assert.notEqual(resultKey({ ...spec, loss: 'mse' }, fp), k);
    assert.notEqual(resultKey(spec, { ...fp, '/w/d.npz': '1:3' }), k);
    assert.equal(resultFileName('Tiny MLP (2D)!', spec, k), `tiny-mlp-2d-landscape-2d-${k.slice(0, 12)}.losscape.json`);
  });

  it('fingerprints a model by content and its shards by size and time', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lc-fp-'));
    try {
      mkdirSync(path.join(dir, 'm'));
      const model = path.join(dir, 'm', 'model.json');
      const shard = path.join(dir, 'm', 'group1-shard1of1.bin');
      const data = path.join(dir, 'd.npz');
      writeFileSync(model, '{}');
      writeFileSync(shard, 'abcd');
      writeFileSync(data, '1234');
      const s: AnalysisSpecInput = { kind: 'landscape', model, data, out: path.join(dir, 'o.json') };
      const a = await inputFingerprints(s);
      assert.deepEqual(Object.keys(a).sort(), [data, model].sort());
      utimesSync(shard, new Date(2000, 1, 1), new Date(2000, 1, 1));
      const b = await inputFingerprints(s);
      assert.notEqual(b[model], a[model], 'a rewritten shard changes the model fingerprint');
      assert.equal(b[data], a[data]);
      assert.equal((await inputFingerprints({ ...s, data: path.join(dir, 'nope') }))[path.join(dir, 'nope')], 'missing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fingerprints a Keras file by size and time, and a checkpoint series by every checkpoint under its folder', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lc-fp-'));
    try {
      const data = path.join(dir, 'd.npz');
      writeFileSync(data, '1234');
      const keras = path.join(dir, 'm.keras');
      writeFileSync(keras, 'zip');
      const k = await inputFingerprints({ kind: 'hessian', model: keras, data, out: path.join(dir, 'o.json') });
      assert.match(k[keras], /^3:\d+$/);
      const ck = (step: number): string => {
        const d = path.join(dir, 'run', `step-${step}`);
        mkdirSync(d, { recursive: true });
        writeFileSync(path.join(d, 'model.json'), `{"step":${step}}`);
        writeFileSync(path.join(d, 'group1-shard1of1.bin'), 'w');
        return d;
      };
      ck(0);
      ck(10);
      const folder = path.join(dir, 'run');
      const glob = path.join(dir, 'run', 'step-*', 'model.json');
      const spec = (checkpoints: string | string[]): AnalysisSpecInput => ({ kind: 'grokking', checkpoints, data, out: path.join(dir, 'o.json') });
      const a = await inputFingerprints(spec([folder, glob]));
      assert.match(a[folder], /^[0-9a-f]{64}$/);
      assert.equal(a[glob], a[folder], 'a glob is fingerprinted by its folder before the first wildcard');
      writeFileSync(path.join(folder, 'step-10', 'model.json'), '{"step":10,"retrained":true}');
      const b = await inputFingerprints(spec(folder));
      assert.notEqual(b[folder], a[folder], 'a rewritten checkpoint changes the key');
      ck(20);
      const c = await inputFingerprints(spec(folder));
      assert.notEqual(c[folder], b[folder], 'an added checkpoint changes the key');
      assert.equal((await inputFingerprints(spec(path.join(dir, 'none', '*'))))[path.join(dir, 'none', '*')], 'missing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('progress arithmetic', () => {
  it('estimates the time left from the time spent', () => {
    assert.equal(estimateTimeLeft(500, 0.5), '', 'too early to tell');
    assert.equal(estimateTimeLeft(10_000, 0.01), '', 'too little done');
    assert.equal(estimateTimeLeft(10_000, 0.5), '~10 s left');
    assert.equal(estimateTimeLeft(60_000, 0.25), '~3 min left');
    assert.equal(estimateTimeLeft(10_000, 1), '');
    assert.equal(formatDuration(95), '1 min 35 s');
    assert.equal(formatDuration(7260), '2 h 1 min');
  });

  it('turns fractions into increments that never go backwards', () => {
    const p = new ProgressIncrements();
    assert.equal(p.next(0.1), 10);
    assert.equal(p.next(0.05), 0);
    assert.ok(Math.abs(p.next(0.35) - 25) < 1e-9);
    assert.ok(Math.abs(p.next(2) - 65) < 1e-9);
    assert.equal(p.percent, 100);
  });
});
