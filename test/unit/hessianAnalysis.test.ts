import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runHessian } from '../../src/engine/analyses/hessian';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { symmetricEig } from '../../src/engine/linalg/tridiagonal';
import { sidecarFile } from '../../src/engine/resultWriter';
import { setEngineInfo } from '../../src/engine/runtime';
import { CancelledError, InputError } from '../../src/shared/errors';
import { parseResult } from '../../src/shared/result';
import { readSidecarArray } from '../../src/shared/sidecar';
import * as R from './helpers/mlp64';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/**
 * The `hessian` analysis end to end on the tiny workspace (4-8-3 tanh/softmax MLP, 80 samples,
 * 67 parameters), against its exact float64 Hessian, Gauss–Newton matrix and Fisher:
 * eigenvalues within 1e-3·λ₁ (Hessian) or 1e-5·λ₁ (GGN, Fisher); stochastic estimates within
 * 4 of their standard errors; per-layer values against the exact diagonal blocks.
 */
describe('hessian analysis (in process)', function () {
  let ws: TinyWorkspace;
  const net: R.Mlp64 = { sizes: [4, 8, 3], acts: ['tanh', 'softmax'] };
  let data: R.Data64;
  let theta: Float64Array;
  let H: number[][];
  let eigH: number[];
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    ws = await makeTinyWorkspace();
    data = { x: Array.from({ length: ws.n }, (_, i) => Float64Array.from(ws.x.subarray(i * 4, i * 4 + 4))), y: Array.from(ws.y, (c) => Float64Array.of(c)) };
    // θ as the engine reads it: run a trivial analysis and take the centre from its sidecar.
    const out = path.join(ws.dir, 'theta.losscape.json');
    const r = await runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, out, dims: 1, points: 2 }, quietContext());
    theta = Float64Array.from(readSidecarArray(readFileSync(sidecarFile(out, r.result.directions.center)), r.result.directions.center));
    H = R.hessian(net, 'ce', theta, data);
    eigH = Array.from(symmetricEig(H).values).reverse();
  });

  const out = (name: string) => path.join(ws.dir, `${name}.losscape.json`);
  const common = () => ({ model: ws.model, data: ws.data });
  const trH = () => H.reduce((s, row, i) => s + row[i], 0);

  it('writes the contract: eigenvalues (descending) with residuals, trace with stderr and samples, exact products by default', async () => {
    const before = tf.memory().numTensors;
    const file = out('contract');
    const r = await runHessian({ kind: 'hessian', ...common(), top: 5, trace: true, probes: 60, out: file }, quietContext());
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const parsed = parseResult(JSON.parse(readFileSync(file, 'utf8')), file);
    assert.ok(parsed.kind === 'hessian' && parsed.complete);
    const h = parsed.result;
    assert.equal(h.operator, 'hessian');
    assert.equal(h.eigenvalues.length, 5);
    assert.deepEqual([...h.eigenvalues].sort((a, b) => b - a), h.eigenvalues);
    assert.equal(h.product, 'exact');
    assert.equal(h.finiteDifference, null);
    h.eigenvalues.forEach((l, i) => assert.ok(Math.abs(l - eigH[i]) <= 1e-5 * eigH[0], `λ${i + 1} ${l} vs ${eigH[i]}`));
    assert.equal(h.residuals.length, 5);
    h.residuals.forEach((res) => assert.ok(res >= 0 && res < 1e-3 * eigH[0]));
    assert.ok(h.trace && h.trace.samples.length === 60 && h.trace.probes === 60);
    assert.ok(Math.abs(h.trace.estimate - trH()) <= 4 * h.trace.stderr, `${h.trace.estimate} ± ${h.trace.stderr} vs ${trH()}`);
    assert.ok(Math.abs(h.lambdaMaxOverTrace! - h.eigenvalues[0] / h.trace.estimate) < 1e-12);
    assert.deepEqual(h.phases, ['eigen', 'trace']);
    assert.ok(r.definitions?.hessian && r.definitions.trace && r.definitions.finiteDifference);
    // Eigenvectors from the sidecar: unit norm, Rayleigh quotient on the exact H.
    const bin = readFileSync(sidecarFile(file, h.eigen!.vectors[0]));
    h.eigen!.vectors.forEach((desc, i) => {
      const v = readSidecarArray(bin, desc);
      assert.ok(Math.abs(R.relErr([Math.hypot(...v)], [1])) < 1e-5);
      const rq = R.matvec(H, v).reduce((s, x, j) => s + x * v[j], 0);
      assert.ok(Math.abs(rq - eigH[i]) <= 1e-3 * eigH[0], `vᵀHv ${rq} vs ${eigH[i]}`);
    });
  });

  it('--hv finite-difference: the FD step, products and estimated errors are recorded; eigenvalues within 1e-3·λ₁', async () => {
    const r = await runHessian({ kind: 'hessian', ...common(), top: 3, trace: true, probes: 20, hv: 'finite-difference', out: out('fd') }, quietContext());
    const h = r.result;
    assert.equal(h.product, 'finite-difference');
    h.eigenvalues.forEach((l, i) => assert.ok(Math.abs(l - eigH[i]) <= 1e-3 * eigH[0], `λ${i + 1} ${l} vs ${eigH[i]}`));
    const fd = h.finiteDifference!;
    assert.equal(fd.relativeStep, 1e-3);
    assert.equal(fd.products, h.eigen!.matvecs + 20);
    assert.equal(fd.gradients, 4 * fd.products);
    assert.ok(fd.minStep! > 0 && fd.maxStep! >= fd.minStep! && fd.medianRelativeError! > 0 && fd.maxRelativeError! < 1e-2);
    assert.ok(r.definitions?.finiteDifference);
  });

  it('GGN and Fisher operators: eigenvalues against the exact matrices (1e-5·λ₁); no finite differences', async () => {
    for (const [operator, ref] of [
      ['ggn', R.gaussNewton(net, 'ce', theta, data)],
      ['fisher', R.empiricalFisher(net, 'ce', theta, data)],
    ] as const) {
      const r = await runHessian({ kind: 'hessian', ...common(), operator, top: 3, out: out(operator) }, quietContext());
      const want = Array.from(symmetricEig(ref as number[][]).values).reverse();
      r.result.eigenvalues.forEach((l, i) => assert.ok(Math.abs(l - want[i]) <= 1e-5 * want[0], `${operator} λ${i + 1} ${l} vs ${want[i]}`));
      assert.equal(r.result.finiteDifference, null);
      assert.match(r.result.operatorDescription, operator === 'ggn' ? /diag\(p\) − ppᵀ/ : /empirical Fisher/);
    }
  });

  it('diagonal, density and per-layer blocks; bottom eigenvalues; power iteration', async () => {
    const r = await runHessian(
      { kind: 'hessian', ...common(), top: 2, bottom: 2, trace: true, diagonal: true, density: true, densitySteps: 40, densityStarts: 3, perLayer: true, probes: 80, out: out('all') },
      quietContext(),
    );
    const h = r.result;
    const asc = [...eigH].reverse();
    h.bottom!.eigenvalues.forEach((l, i) => assert.ok(Math.abs(l - asc[i]) <= 1e-3 * eigH[0], `bottom ${i}: ${l} vs ${asc[i]}`));
    assert.ok(h.bottom!.eigenvalues[0] < 0, 'the tanh MLP has negative curvature');
    // Diagonal: per-layer sums are the exact block traces within their noise.
    const blocks = [[0, 40], [40, 67]];
    h.diagonal!.perLayer.forEach((l, i) => {
      const [a, b] = blocks[i];
      let exact = 0;
      for (let j = a; j < b; j++) exact += H[j][j];
      assert.equal(l.size, b - a);
      assert.ok(Math.abs(l.sum - exact) <= 4 * l.meanStderr * l.size * Math.sqrt(l.size) + 1e-9, `layer ${i} diag sum ${l.sum} vs ${exact}`);
    });
    // Per layer: λmax of the exact diagonal block; trace from the layer's part of the Hutchinson samples.
    assert.equal(h.layers!.length, 2);
    h.layers!.forEach((l, i) => {
      const [a, b] = blocks[i];
      const block = H.slice(a, b).map((row) => row.slice(a, b));
      const lmax = symmetricEig(block).values[b - a - 1];
      const tr = block.reduce((s, row, j) => s + row[j], 0);
      assert.ok(Math.abs(l.topEigenvalue! - lmax) <= 1e-3 * eigH[0], `layer ${i} λmax ${l.topEigenvalue} vs ${lmax}`);
      assert.ok(Math.abs(l.trace! - tr) <= 4 * l.traceStderr!, `layer ${i} trace ${l.trace} ± ${l.traceStderr} vs ${tr}`);
      assert.equal(l.probes, 80);
    });
    // The layers' Hutchinson parts add up to the global samples' mean.
    assert.ok(Math.abs(h.layers!.reduce((s, l) => s + l.trace!, 0) - h.trace!.estimate) < 1e-9 * Math.abs(h.trace!.estimate) + 1e-12);
    const dens = h.density!;
    const dx = dens.x[1] - dens.x[0];
    assert.ok(Math.abs(dens.density.reduce((a, b) => a + b, 0) * dx - 1) < 1e-6);
    assert.ok(dens.weights.every((w) => Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-9));
    assert.deepEqual(h.phases, ['eigen', 'trace', 'diagonal', 'density', 'layers']);

    const p = await runHessian({ kind: 'hessian', ...common(), method: 'power', top: 1, out: out('power') }, quietContext());
    assert.ok(Math.abs(p.result.eigenvalues[0] - eigH[0]) <= 1e-2 * eigH[0], `power ${p.result.eigenvalues[0]} vs ${eigH[0]}`);
    assert.equal(p.result.eigen!.method, 'power');
  });

  it('per-layer traces without a trace phase, and beside a Hutch++ trace (GGN)', async () => {
    const G = R.gaussNewton(net, 'ce', theta, data);
    const blockTrace = (a: number, b: number) => G.slice(a, b).reduce((s, row, j) => s + row[a + j], 0);
    const want = [blockTrace(0, 40), blockTrace(40, 67)];
    const a = await runHessian({ kind: 'hessian', ...common(), operator: 'ggn', top: 1, perLayer: true, probes: 40, out: out('layers-only') }, quietContext());
    assert.equal(a.result.trace, null);
    a.result.layers!.forEach((l, i) => {
      assert.equal(l.probes, 40);
      assert.ok(Math.abs(l.trace! - want[i]) <= 4 * l.traceStderr!, `layer ${i}: ${l.trace} ± ${l.traceStderr} vs ${want[i]}`);
    });
    const b = await runHessian({ kind: 'hessian', ...common(), operator: 'ggn', top: 1, trace: true, traceMethod: 'hutch++', perLayer: true, probes: 30, out: out('hpp') }, quietContext());
    const t = b.result.trace!;
    assert.equal(t.method, 'hutch++');
    assert.equal(t.matvecs, 30);
    assert.ok(Math.abs(t.estimate - (want[0] + want[1])) <= 4 * t.stderr + 1e-3 * (want[0] + want[1]), `Hutch++ ${t.estimate} ± ${t.stderr}`);
    assert.ok(b.result.layers!.every((l) => l.probes === 30 && l.trace !== null));
  });

  it('bad input: k too large, a loss without GGN, NaN in the data, an over-large basis — clear errors, nothing computed', async () => {
    // One-hot targets, so that a regression loss fits the 3-output model.
    const oneHot = path.join(ws.dir, 'onehot.npz');
    const y = new Float32Array(ws.n * 3);
    ws.y.forEach((c, i) => (y[i * 3 + c] = 1));
    writeFileSync(oneHot, encodeNpz({ x: { dtype: 'float32', shape: [ws.n, 4], data: ws.x }, y: { dtype: 'float32', shape: [ws.n, 3], data: y } }));
    const cases: [object, RegExp][] = [
      [{ top: 68 }, /--top: k = 68 exceeds the 67 parameters of the model/],
      [{ top: 34, bottom: 1 }, /--top: 34 eigenvalues at both ends need 2k ≤ the 67 parameters/],
      [{ operator: 'ggn', loss: 'mae', data: oneHot }, /--operator: the Gauss–Newton operator needs a twice-differentiable loss.*mae has none/],
      [{ method: 'power', bottom: 1 }, /--bottom: the smallest eigenvalues need --method lanczos/],
      [{ memoryLimitMb: 0.01 }, /--top: k = 5 needs Lanczos bases of 65 vectors of 67 parameters .* over the 0.01 MB limit/],
    ];
    for (const [extra, msg] of cases) {
      const file = out(`bad-${Object.keys(extra).join('-')}`);
      await assert.rejects(runHessian({ kind: 'hessian', ...common(), out: file, ...extra }, quietContext()), (e: Error) => e instanceof InputError && msg.test(e.message), String(msg));
      assert.equal(existsSync(file), false, 'no result for a refused input');
    }
    const nanData = path.join(ws.dir, 'nan.npz');
    const x = Float32Array.from(ws.x);
    x[17] = Number.NaN;
    writeFileSync(nanData, encodeNpz({ x: { dtype: 'float32', shape: [ws.n, 4], data: x }, y: { dtype: 'int32', shape: [ws.n], data: ws.y } }));
    await assert.rejects(
      runHessian({ kind: 'hessian', model: ws.model, data: nanData, out: out('nan') }, quietContext()),
      /nan\.npz: nan\.npz\[x\] holds NaN at flat index 17 \(sample 4\)/,
    );
  });

  it('cancellation keeps the finished phases in a valid incomplete file', async () => {
    const file = out('cancel');
    // Stop 6 checks after the eigen phase has finished (Lanczos stops on convergence, so its
    // product count is not known in advance); the trace checks before each block of 10 probes.
    let checks = 0;
    let eigenDoneAt = Infinity;
    const stop = {
      get isCancellationRequested() {
        return ++checks > eigenDoneAt + 6;
      },
    };
    const ctx = { ...quietContext(stop), progress: (_f: number, message?: string) => { if (message === 'eigen done') eigenDoneAt = checks; } };
    await assert.rejects(runHessian({ kind: 'hessian', ...common(), top: 3, trace: true, probes: 100, out: file }, ctx), CancelledError);
    const parsed = parseResult(JSON.parse(readFileSync(file, 'utf8')), file);
    assert.ok(parsed.kind === 'hessian');
    assert.equal(parsed.complete, false);
    assert.match(parsed.status ?? '', /^cancelled during trace after \d+ products$/);
    assert.equal(parsed.result.eigenvalues.length, 3);
    assert.equal(parsed.result.trace, null);
    assert.deepEqual(parsed.result.phases, ['eigen']);
  });

  it('landscape along the top Hessian eigenvectors: second differences give λ₁ and λ₂ (2 %)', async () => {
    const file = out('hessian-plane');
    const r = await runLandscape({ kind: 'landscape', ...common(), directions: 'hessian', points: 5, range: [-0.2, 0.2], out: file }, quietContext());
    const l = r.result;
    assert.ok(l.dims === 2);
    assert.equal(l.directions.kind, 'hessian');
    assert.equal(l.directions.norm, 'none');
    assert.match(l.directions.note ?? '', /λ1 = .*λ2 = /);
    l.directions.norms.forEach((n) => assert.ok(Math.abs(n - 1) < 1e-5));
    assert.ok(Math.abs(l.directions.cosine!) < 1e-4);
    const h = l.x[1] - l.x[0];
    const second = (a: number, b: number, c: number) => (a - 2 * b + c) / (h * h);
    const row = l.loss[2] as number[];
    const col = l.loss.map((rw) => rw[2] as number);
    const l1 = second(row[1], row[2], row[3]);
    const l2 = second(col[1], col[2], col[3]);
    assert.ok(Math.abs(l1 - eigH[0]) <= 0.02 * eigH[0], `λ₁ from the grid ${l1} vs ${eigH[0]}`);
    assert.ok(Math.abs(l2 - eigH[1]) <= 0.02 * eigH[0], `λ₂ from the grid ${l2} vs ${eigH[1]}`);
  });
});
