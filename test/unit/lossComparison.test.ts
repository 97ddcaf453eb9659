import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runLossComparison } from '../../src/engine/analyses/lossComparison';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { setEngineInfo } from '../../src/engine/runtime';
import { parseResult } from '../../src/shared/result';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/** compare-losses in process on the tiny workspace (4-8-3 tanh/softmax MLP, 80 samples). */
describe('loss comparison (in process)', () => {
  let ws: TinyWorkspace;
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    ws = await makeTinyWorkspace();
  });

  const small = { top: 2, maxIter: 16, probes: 6, ascentSteps: 1, points1d: 5, points2d: 3 };

  it('ce and comp_sum at τ = 1 give the same entry; every entry in the order given, raw and relative', async () => {
    const out = path.join(ws.dir, 'cmp.losscape.json');
    const r = await runLossComparison(
      { kind: 'loss-comparison', model: ws.model, data: ws.data, out, losses: [{ name: 'ce' }, { name: 'comp_sum', params: { tau: 1 } }, { name: 'gce', params: { q: 0.7 } }], ...small },
      quietContext(),
    );
    assert.equal(r.kind, 'loss-comparison');
    assert.equal(r.complete, true);
    const [ce, cs, gce] = r.result.losses;
    assert.deepEqual(r.result.losses.map((e) => [e.name, e.given]), [['categorical_crossentropy', 'ce'], ['comp_sum', 'comp_sum:tau=1'], ['gce', 'gce:q=0.7']]);
    assert.deepEqual(cs.params, { tau: 1 });
    const near = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
    near(cs.loss, ce.loss, 1e-6, 'loss');
    near(cs.gradNorm, ce.gradNorm, 1e-5, '‖∇L‖');
    cs.eigenvalues.forEach((v, i) => near(v, ce.eigenvalues[i], 1e-3, `λ${i + 1}`));
    near(cs.trace.estimate, ce.trace.estimate, 1e-3, 'trace');
    cs.landscape2d.flat().forEach((v, i) => near(v!, ce.landscape2d.flat()[i]!, 1e-5, `2D point ${i}`));
    assert.ok(Math.abs(gce.loss - ce.loss) > 1e-3, 'gce differs');
    // Relative values: the landscape is 1 at θ, curvature divided by L(θ).
    for (const e of r.result.losses) {
      assert.ok(Math.abs(e.relative.landscape2d[1][1]! - 1) < 1e-6);
      near(e.relative.eigenvalues[0], e.eigenvalues[0] / e.loss, 1e-12, 'relative λ1');
      assert.ok(e.trace.stderr > 0);
      assert.ok(e.sam.ascent >= e.sam.firstOrder);
    }
    // The landscape of a single analysis agrees at θ; the file parses.
    const land = await runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, loss: 'gce', lossParams: { q: 0.7 }, out: path.join(ws.dir, 'g.losscape.json'), dims: 1, points: 3 }, quietContext());
    near(land.result.centerLoss, gce.loss, 1e-6, 'landscape centreLoss under gce');
    assert.deepEqual(land.provenance.loss.params, { q: 0.7 });
    const parsed = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.equal(parsed.kind, 'loss-comparison');
    assert.match(parsed.definitions?.['loss comp_sum:tau=1'] ?? '', /Φ_τ/);
  });

  it('a batch-level loss runs on fixed seeded batches, recorded in the entry', async () => {
    const out = path.join(ws.dir, 'ms.losscape.json');
    const r = await runLossComparison({ kind: 'loss-comparison', model: ws.model, data: ws.data, out, batchSize: 16, samples: 48, losses: [{ name: 'multi_similarity' }], ...small }, quietContext());
    const e = r.result.losses[0];
    assert.deepEqual(e.lossInfo.batches, { size: 16, count: 3, seed: 0 });
    assert.deepEqual(e.params, { alpha: 2, beta: 50, lambda: 1, epsilon: 0.1 });
    assert.ok(Number.isFinite(e.loss) && e.loss >= 0);
    assert.equal(e.accuracy, null);
    assert.equal(e.lossInfo.reading, 'outputs');
  });

  it('refuses a bad loss before any work with one line', async () => {
    const out = path.join(ws.dir, 'bad.losscape.json');
    await assert.rejects(runLossComparison({ kind: 'loss-comparison', model: ws.model, data: ws.data, out, losses: [{ name: 'ce' }, { name: 'comp_sum', params: { tau: 2.5 } }] }, quietContext()), /^InputError: --losses: comp_sum:tau=2.5: comp_sum needs tau in \[0, 2\], got 2.5$/);
    await assert.rejects(runLossComparison({ kind: 'loss-comparison', model: ws.model, data: ws.data, out, losses: [{ name: 'ce' }, { name: 'kl' }] }, quietContext()), /^InputError: --losses: kl: unknown loss 'kl'/);
    await assert.rejects(runLossComparison({ kind: 'loss-comparison', model: ws.model, data: ws.data, out, batchSize: 1, losses: [{ name: 'multi_similarity' }] }, quietContext()), /--batch-size: multi_similarity is a batch-level loss: it needs batches of at least 2 samples, got 1/);
  });
});
