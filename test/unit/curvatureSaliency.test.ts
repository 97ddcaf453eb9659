import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inverse, Matrix } from 'ml-matrix';
import { quietContext } from '../../src/engine/analysisContext';
import { runSaliency } from '../../src/engine/analyses/saliency';
import { selectBackend } from '../../src/engine/backend';
import { prepareInputs } from '../../src/engine/inputs';
import { Rng } from '../../src/engine/linalg/rng';
import { sidecarFile } from '../../src/engine/resultWriter';
import { setEngineInfo } from '../../src/engine/runtime';
import { InputError } from '../../src/shared/errors';
import { parseResult } from '../../src/shared/result';
import { readSidecarArray } from '../../src/shared/sidecar';
import * as R from './helpers/mlp64';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/**
 * `prune-saliency` against a dense float64 computation: the same m gradients (per-sample or
 * mini-batch, float64 from helpers/mlp64), F̂ = λI + (1/m)GᵀG inverted by ml-matrix, saliency
 * θ²/(2[F̂⁻¹]ᵢᵢ). Per-entry relative tolerance 1e-3 (float32 gradients, cond(F̂) ≈ 1e3).
 */
describe('saliency analysis (M-FAC OBS, in process)', () => {
  let ws: TinyWorkspace;
  let theta: Float64Array;
  let data: R.Data64;
  const net: R.Mlp64 = { sizes: [4, 8, 3], acts: ['tanh', 'softmax'] };
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    ws = await makeTinyWorkspace();
    const p = await prepareInputs({ model: ws.model, data: ws.data, out: 'x', batchSize: 512, seed: 0 });
    theta = Float64Array.from(p.objective.theta0);
    p.dispose();
    data = { x: Array.from({ length: ws.n }, (_, i) => Float64Array.from(ws.x.subarray(i * 4, i * 4 + 4))), y: Array.from(ws.y, (c) => Float64Array.of(c)) };
  });

  function reference(m: number, b: number, lambda: number, seed: number, blockSize = Infinity): Float64Array {
    const perm = new Rng(seed + 303).permutation(ws.n);
    const d = theta.length;
    const grads = Array.from({ length: m }, (_, i) => {
      const g = new Float64Array(d);
      for (const n of perm.subarray(i * b, (i + 1) * b)) R.sampleLoss(net, 'ce', theta, data.x[n], data.y[n]).grad.forEach((x, j) => (g[j] += x / b));
      return g;
    });
    // (λI + F̂_b)⁻¹ per consecutive block of blockSize coordinates (the whole F̂ by default).
    const invDiag = new Float64Array(d);
    for (let a = 0; a < d; a += Math.min(blockSize, d)) {
      const e = Math.min(d, a + Math.min(blockSize, d));
      const F = Matrix.eye(e - a, e - a).mul(lambda);
      for (const g of grads) for (let i = a; i < e; i++) for (let j = a; j < e; j++) F.set(i - a, j - a, F.get(i - a, j - a) + (g[i] * g[j]) / m);
      const inv = inverse(F);
      for (let i = a; i < e; i++) invDiag[i] = inv.get(i - a, i - a);
    }
    return Float64Array.from(theta, (t, i) => (t * t) / (2 * invDiag[i]));
  }

  /** Spearman's ρ by counting (ranks as 1 + #smaller + (#equal − 1)/2), independent of the engine's. */
  function spearmanByCounting(x: ArrayLike<number>, y: ArrayLike<number>): number {
    const rank = (v: ArrayLike<number>) => Array.from(v, (a) => {
      let less = 0;
      let eq = 0;
      for (let j = 0; j < v.length; j++) if (v[j] < a) less++; else if (v[j] === a) eq++;
      return 1 + less + (eq - 1) / 2;
    });
    const rx = rank(x);
    const ry = rank(y);
    const n = rx.length;
    const mean = (n + 1) / 2;
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < n; i++) {
      sxy += (rx[i] - mean) * (ry[i] - mean);
      sxx += (rx[i] - mean) ** 2;
      syy += (ry[i] - mean) ** 2;
    }
    return sxy / Math.sqrt(sxx * syy);
  }

  it('block-diagonal F̂ (--block-size 16: blocks of 16, the last of 3) matches the dense block inverses, and reports Spearman ρ vs |θ|', async () => {
    const out = path.join(ws.dir, 'sal-blocks.losscape.json');
    const r = await runSaliency({ kind: 'saliency', model: ws.model, data: ws.data, gradients: 20, lambda: 1e-3, blockSize: 16, top: 5, seed: 2, out }, quietContext());
    const s = r.result;
    assert.equal(s.blockSize, 16);
    assert.equal(s.blocks, 5);
    const sal = readSidecarArray(readFileSync(sidecarFile(out, s.saliency!)), s.saliency!);
    const want = reference(20, 1, 1e-3, 2, 16);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(sal[i] - want[i]) <= 1e-3 * want[i] + 1e-12, `entry ${i}: ${sal[i]} vs ${want[i]}`);
    const mag = Array.from(theta, Math.abs);
    assert.ok(Math.abs(s.spearmanVsMagnitude! - spearmanByCounting(want, mag)) < 1e-3, `ρ ${s.spearmanVsMagnitude}`);
    const kernel1 = Array.from({ length: 32 }, (_, i) => i);
    assert.ok(Math.abs(s.layers[0].spearmanVsMagnitude! - spearmanByCounting(kernel1.concat(Array.from({ length: 8 }, (_, i) => 32 + i)).map((i) => want[i]), kernel1.concat(Array.from({ length: 8 }, (_, i) => 32 + i)).map((i) => mag[i]))) < 1e-3);
    for (const t of s.thresholds) assert.ok(t.magnitudeOverlap! >= 0 && t.magnitudeOverlap! <= 1);
    // The full form of the same gradients is reported as one block of d.
    const full = await runSaliency({ kind: 'saliency', model: ws.model, data: ws.data, gradients: 20, lambda: 1e-3, blockSize: 'full', top: 5, seed: 2, out: path.join(ws.dir, 'sal-full.losscape.json') }, quietContext());
    assert.equal(full.result.blocks, 1);
    assert.equal(full.result.blockSize, 67);
  });

  for (const [m, b] of [[20, 1], [10, 4]]) {
    it(`matches the dense (λI + F̂)⁻¹ saliency: m = ${m} gradients of ${b} sample(s)`, async () => {
      const out = path.join(ws.dir, `sal-${m}-${b}.losscape.json`);
      const r = await runSaliency({ kind: 'saliency', model: ws.model, data: ws.data, gradients: m, gradientBatch: b, lambda: 1e-3, top: 5, seed: 2, out }, quietContext());
      const parsed = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
      assert.ok(parsed.kind === 'saliency' && parsed.complete);
      const s = r.result;
      const sal = readSidecarArray(readFileSync(sidecarFile(out, s.saliency!)), s.saliency!);
      const want = reference(m, b, 1e-3, 2);
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(sal[i] - want[i]) <= 1e-3 * want[i] + 1e-12, `entry ${i}: ${sal[i]} vs ${want[i]}`);
      // Summaries are consistent with the vector.
      assert.equal(s.layers.length, 2);
      assert.ok(Math.abs(s.layers[0].sum + s.layers[1].sum - sal.reduce((a, x) => a + x, 0)) <= 1e-5 * s.layers[0].sum);
      const sorted = Array.from(sal).sort((a, c) => a - c);
      assert.ok(Math.abs(s.mostSalient[0].saliency - sorted[sorted.length - 1]) <= 1e-6 * sorted[sorted.length - 1]);
      assert.ok(Math.abs(s.leastSalient[0].saliency - sorted[0]) <= 1e-6 * sorted[0] + 1e-30);
      // Flat index ↔ variable and position (kernel [4,8] at 0, bias [8] at 32, kernel [8,3] at 40, bias [3] at 64).
      const locate = (i: number): [string, number[]] =>
        i < 32 ? ['kernel1', [Math.floor(i / 8), i % 8]] : i < 40 ? ['bias1', [i - 32]] : i < 64 ? ['kernel2', [Math.floor((i - 40) / 3), (i - 40) % 3]] : ['bias2', [i - 64]];
      for (const p of [...s.mostSalient, ...s.leastSalient]) {
        const [kind, pos] = locate(p.index);
        assert.deepEqual(p.position, pos);
        assert.match(p.variable, kind.startsWith('kernel') ? /kernel$/ : /bias$/);
        assert.equal(p.weight, Math.fround(theta[p.index]));
      }
      const pruned = s.layers.reduce((a, l) => a + l.pruned[0].fraction * l.size, 0) / 67;
      assert.ok(Math.abs(pruned - 0.5) < 0.02, `global share pruned at 50 %: ${pruned}`);
    });
  }

  it('refuses more gradients than samples', async () => {
    await assert.rejects(
      runSaliency({ kind: 'saliency', model: ws.model, data: ws.data, gradients: 30, gradientBatch: 3, out: path.join(ws.dir, 'bad.losscape.json') }, quietContext()),
      (e: Error) => e instanceof InputError && /--gradients: 30 gradients of 3 samples need 90 samples; 80 are used/.test(e.message),
    );
  });
});
