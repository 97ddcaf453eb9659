import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { episodeOrder } from '../../src/engine/lossBatches';
import { loadModel } from '../../src/engine/loaders/model';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { icnnScore64, protoTriplet64 } from './helpers/paperLosses64';
import { parseResult } from '../../src/shared/result';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/** The papers' losses and compare-losses from the command line (needs `npm run build`). */
const bin = path.resolve(__dirname, '../../bin/losscape.js');

function losscape(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, LOSSCAPE_BACKEND: 'wasm' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help'));
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
}

describe('losscape CLI: --loss-param and compare-losses', function () {
  this.timeout(120_000);
  let ws: TinyWorkspace;
  before(async () => {
    assert.ok(existsSync(path.resolve(__dirname, '../../dist/cli.js')), 'dist/cli.js is missing: run npm run build');
    ws = await makeTinyWorkspace();
  });

  it('a landscape under gce with --loss-param records the loss, its parameters and formula', () => {
    const out = path.join(ws.dir, 'gce.losscape.json');
    const r = losscape(['landscape', '--model', ws.model, '--data', ws.data, '--loss', 'gce', '--loss-param', 'q=0.5', '--dims', '1', '--points', '3', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /loss gce \(q = 0\.5\)/);
    const res = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(res.kind === 'landscape' && 'loss' in res.provenance);
    assert.deepEqual(res.provenance.loss.params, { q: 0.5 });
    assert.equal(res.provenance.loss.reading, 'pre-activation');
    assert.match(res.provenance.loss.definition ?? '', /\(1 − p_y\^q\)\/q/);
  });

  it('bad loss names and parameters are one line and exit 2', () => {
    const base = ['landscape', '--model', ws.model, '--data', ws.data, '--dims', '1', '--points', '3', '--out', path.join(ws.dir, 'bad.losscape.json')];
    oneLine(losscape([...base, '--loss', 'comp_sum', '--loss-param', 'tau=3']), /--loss-param: comp_sum needs tau in \[0, 2\], got 3/);
    oneLine(losscape([...base, '--loss', 'gce', '--loss-param', 'q=0']), /--loss-param: gce needs q in \(0, 1\], got 0/);
    oneLine(losscape([...base, '--loss', 'zloss', '--loss-param', 'a=-1']), /--loss-param: zloss needs a in \(0, ∞\), got -1/);
    oneLine(losscape([...base, '--loss', 'nope']), /--loss: unknown loss 'nope'/);
    oneLine(losscape([...base, '--loss', 'gce', '--loss-param', 'q']), /expects KEY=VALUE with a number, got 'q'/);
    oneLine(losscape([...base, '--loss', 'multi_similarity', '--batch-size', '1']), /--batch-size: multi_similarity is a batch-level loss: it needs batches of at least 2 samples, got 1/);
    oneLine(losscape(['compare-losses', '--model', ws.model, '--data', ws.data, '--losses', 'ce,gce:q=2', '--out', path.join(ws.dir, 'c.losscape.json')]), /--losses: gce:q=2: gce needs q in \(0, 1\], got 2/);
  });

  it('proto_triplet and icnn on --episode episodes: recorded, the same episodes at every point, and the centre loss is the mean episode loss', async () => {
    for (const [name, param] of [['proto_triplet', 'margin=0.3'], ['icnn', 'k=3']]) {
      const runs = [1, 2].map((i) => {
        const out = path.join(ws.dir, `${name}${i}.losscape.json`);
        const r = losscape(['landscape', '--model', ws.model, '--data', ws.data, '--loss', name, '--loss-param', param, '--episode', '3,2,4,5', '--seed', '3', '--dims', '1', '--points', '5', '--out', out]);
        assert.equal(r.code, 0, r.stderr);
        return parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
      });
      const [a, b] = runs;
      assert.ok(a.kind === 'landscape' && b.kind === 'landscape' && 'loss' in a.provenance);
      assert.deepEqual(a.provenance.loss.episodes, { way: 3, shot: 2, query: 4, count: 5, seed: 3 });
      assert.equal(a.provenance.loss.batches, undefined);
      assert.match(a.provenance.loss.definition ?? '', name === 'icnn' ? /−log\(score\)/ : /max\(0, d\(q, c_y\) − min_\{j≠y\} d\(q, c_j\) \+ m\)/);
      assert.deepEqual(a.provenance.loss.params, name === 'icnn' ? { k: 3 } : { margin: 0.3 });
      assert.deepEqual(a.result.loss, b.result.loss, 'the same seed draws the same episodes');
      assert.equal(a.result.loss.length, 5);
      // The centre loss is the mean over the same 5 episodes, recomputed here in float64 from the model's outputs.
      const order = episodeOrder({ name }, Float32Array.from(ws.y), { way: 3, shot: 2, query: 4, count: 5 }, 3, 'data.npz').order;
      const loaded = await loadModel(ws.model);
      const out = tf.tidy(() => (loaded.model.predict(tf.tensor2d(ws.x, [ws.n, 4])) as tf.Tensor).arraySync() as number[][]);
      loaded.model.dispose();
      let mean = 0;
      for (let e = 0; e < 5; e++) {
        const emb = Array.from(order.subarray(e * 18, (e + 1) * 18), (i) => out[i]);
        mean += (name === 'icnn' ? -Math.log(icnnScore64(emb, 3, 2, 4, 3)) : protoTriplet64(emb, 3, 2, 4, 0.3)) / 5;
      }
      assert.ok(Math.abs(a.result.centerLoss - mean) <= 1e-5 * Math.max(1, mean), `centre loss ${a.result.centerLoss} vs ${mean}`);
    }
  });

  it('episode, parameter and operator errors are one line; cs_divergence runs on fixed batches', () => {
    const base = ['landscape', '--model', ws.model, '--data', ws.data, '--dims', '1', '--points', '3', '--out', path.join(ws.dir, 'bad2.losscape.json')];
    oneLine(losscape([...base, '--loss', 'proto_triplet']), /--episode: proto_triplet is an episode loss: pass --episode N,K,Q/);
    oneLine(losscape([...base, '--loss', 'icnn', '--episode', '4,2,2']), /--episode: 4-way episodes with 2 \+ 2 samples per class need 4 classes with at least 4 samples each; data\.npz has 3 such classes/);
    oneLine(losscape([...base, '--loss', 'icnn', '--episode', '3,30,2']), /need 3 classes with at least 32 samples each; data\.npz has 0 such classes \(of 3, largest 27 samples\)/);
    oneLine(losscape([...base, '--loss', 'icnn', '--episode', '1,2,2']), /--episode.*needs at least 2 classes per episode/);
    oneLine(losscape([...base, '--loss', 'icnn', '--episode', '3,x,2']), /--episode.*expects N,K,Q or N,K,Q,E/);
    oneLine(losscape([...base, '--loss', 'ce', '--episode', '3,2,2']), /--episode: applies to the episode losses proto_triplet and icnn, not categorical_crossentropy/);
    oneLine(losscape([...base, '--loss', 'icnn', '--episode', '3,2,2', '--loss-param', 'k=0']), /--loss-param: icnn needs k in \{1, 2, …\}, got 0/);
    oneLine(losscape([...base, '--loss', 'proto_triplet', '--episode', '3,2,2', '--loss-param', 'margin=-0.1']), /--loss-param: proto_triplet needs margin in \[0, ∞\), got -0\.1/);
    oneLine(losscape([...base, '--loss', 'cs_divergence', '--loss-param', 'sigma=0']), /--loss-param: cs_divergence needs sigma in \(0, ∞\), got 0/);
    oneLine(losscape([...base, '--loss', 'cs_divergence', '--batch-size', '1']), /--batch-size: cs_divergence is a batch-level loss: it needs batches of at least 2 samples, got 1/);
    oneLine(losscape(['hessian', '--model', ws.model, '--data', ws.data, '--loss', 'icnn', '--episode', '3,2,2', '--operator', 'ggn', '--out', path.join(ws.dir, 'g.losscape.json')]), /--operator: icnn is a batch-level loss: its Hessian with respect to the outputs couples the samples of an episode/);
    // A run: the softmax outputs against one-hot targets as a 3-output regression.
    const data = path.join(ws.dir, 'onehot.npz');
    const y = new Float32Array(ws.n * 3);
    ws.y.forEach((c, i) => (y[i * 3 + c] = 1));
    writeFileSync(data, encodeNpz({ x: { dtype: 'float32', shape: [ws.n, 4], data: ws.x }, y: { dtype: 'float32', shape: [ws.n, 3], data: y } }));
    const out = path.join(ws.dir, 'csd.losscape.json');
    const r = losscape(['landscape', '--model', ws.model, '--data', data, '--loss', 'cs_divergence', '--loss-param', 'sigma=0.5', '--batch-size', '32', '--dims', '1', '--points', '3', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const res = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(res.kind === 'landscape' && 'loss' in res.provenance);
    assert.deepEqual(res.provenance.loss.batches, { size: 32, count: 3, seed: 0 });
    assert.deepEqual(res.provenance.loss.params, { sigma: 0.5 });
    assert.match(res.provenance.loss.definition ?? '', /Cauchy–Schwarz/);
    assert.ok(res.result.centerLoss > 0 && Number.isFinite(res.result.centerLoss));
  });

  it('compare-losses writes a loss-comparison with one entry per loss, in order', () => {
    const out = path.join(ws.dir, 'cmp.losscape.json');
    const r = losscape(['compare-losses', '--model', ws.model, '--data', ws.data, '--losses', 'ce,zloss:a=1:b=2', '--top', '1', '--probes', '4', '--points1d', '5', '--points2d', '3', '--samples', '32', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const res = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(res.kind === 'loss-comparison');
    assert.deepEqual(res.result.losses.map((e) => [e.name, e.params]), [['categorical_crossentropy', {}], ['zloss', { a: 1, b: 2 }]]);
    for (const e of res.result.losses) assert.ok(e.eigenvalues.length === 1 && Number.isFinite(e.trace.estimate) && e.landscape2d.length === 3);
    assert.match(r.stdout, /zloss:a=1:b=2 +L /);
  });
});
