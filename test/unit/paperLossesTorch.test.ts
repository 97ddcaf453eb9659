import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectBackend } from '../../src/engine/backend';
import { prepareInputs } from '../../src/engine/inputs';
import { Rng } from '../../src/engine/linalg/rng';
import { setEngineInfo } from '../../src/engine/runtime';
import { closeTorchWorkers } from '../../src/engine/torch/worker';
import { InputError } from '../../src/shared/errors';
import { makeTwinWorkspace, torchPython, type TwinWorkspace } from './helpers/torchTwins';

/**
 * The papers' losses through both engines end to end (prepareInputs: the same seeded batches and
 * episodes, the loss in each engine's own code): on the twin MLP (the same weights in TF.js and
 * PyTorch) loss and gradient agree to float32 accuracy, the zloss GGN products agree (TF.js:
 * closed-form H_ℓ; torch: autograd), and the provenance is the same. Needs the torch venv
 * (scripts/setup-torch.sh); without it this fails, it does not skip.
 */
describe('papers’ losses: torch engine against the TF.js engine', function () {
  this.timeout(300_000);
  let ws: TwinWorkspace;
  let python: string;
  before(async () => {
    python = torchPython();
    setEngineInfo(await selectBackend('cpu'));
    ws = await makeTwinWorkspace(mkdtempSync(path.join(os.tmpdir(), 'losscape-paper-torch-')), 'mlp');
  });
  after(() => closeTorchWorkers());

  const tfjsSpec = (extra: Record<string, unknown>) => ({ model: ws.tfjs[0], data: ws.tfjsData, batchSize: 16, seed: 4, out: 'x', ...extra });
  const torchSpec = (extra: Record<string, unknown>) => ({ model: ws.torchModel, weights: ws.torch[0], data: ws.torchData, python, batchSize: 16, seed: 4, out: 'x', ...extra });

  const cases: { title: string; extra: Record<string, unknown> }[] = [
    { title: 'zloss (a = 1.5, b = 1)', extra: { loss: 'zloss', lossParams: { a: 1.5, b: 1 } } },
    { title: 'proto_triplet on 4 episodes of 3-way 2-shot 3-query', extra: { loss: 'proto_triplet', lossParams: { margin: 0.4 }, episode: { way: 3, shot: 2, query: 3, count: 4 } } },
    { title: 'icnn on 4 episodes of 3-way 2-shot 3-query', extra: { loss: 'icnn', lossParams: { k: 3 }, episode: { way: 3, shot: 2, query: 3, count: 4 } } },
    { title: 'multi_similarity on fixed batches of 10', extra: { loss: 'multi_similarity', lossParams: { beta: 10 }, batchSize: 10 } },
  ];

  for (const c of cases) {
    it(`${c.title}: loss and gradient agree (1e-5), and the provenance`, async () => {
      const a = await prepareInputs(tfjsSpec(c.extra));
      const b = await prepareInputs(torchSpec(c.extra));
      try {
        assert.equal(b.objective.engine, 'torch');
        const [ea, eb] = [await a.objective.evaluate(), await b.objective.evaluate()];
        assert.ok(Math.abs(eb.loss - ea.loss) <= 1e-5 * Math.max(1, Math.abs(ea.loss)), `loss: torch ${eb.loss} vs tfjs ${ea.loss}`);
        const ga = (await a.objective.grad()).grad;
        const gb = (await b.objective.grad()).grad;
        const scale = ga.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(scale > 1e-4, 'a non-trivial gradient');
        for (let i = 0; i < gb.length; i++) assert.ok(Math.abs(gb[i] - ga[ws.index[i]]) <= 1e-5 * scale + 1e-7, `gradient ${i}: ${gb[i]} vs ${ga[ws.index[i]]}`);
        for (const k of ['name', 'params', 'batches', 'episodes'] as const) assert.deepEqual(b.lossInfo[k], a.lossInfo[k], k);
        assert.ok(b.lossInfo.definition && a.lossInfo.definition, 'both record the formula');
        assert.deepEqual(Array.from(b.indices ?? []), Array.from(a.indices ?? []), 'the same samples in the same order');
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }

  it('zloss: GGN products agree (TF.js closed form, torch autograd; 1e-4)', async () => {
    const extra = { loss: 'zloss', lossParams: { a: 1.5, b: 1 } };
    const a = await prepareInputs(tfjsSpec(extra));
    const b = await prepareInputs(torchSpec(extra));
    try {
      const v = new Float64Array(a.objective.dim);
      new Rng(3).fillNormal(v);
      const ca = a.objective.curvature('ggn');
      const cb = b.objective.curvature('ggn');
      const [ya] = await ca.op.matmat([v]);
      const [yb] = await cb.op.matmat([Float64Array.from(ws.index, (j) => v[j])]);
      ca.dispose();
      cb.dispose();
      let num = 0;
      let den = 0;
      for (let i = 0; i < yb.length; i++) {
        num += (yb[i] - ya[ws.index[i]]) ** 2;
        den += ya[ws.index[i]] ** 2;
      }
      assert.ok(Math.sqrt(num / den) <= 1e-4, `relative error ${Math.sqrt(num / den)}`);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('the torch engine refuses the GGN and Fisher of an episode loss, and bad episodes and parameters, in one line', async () => {
    const b = await prepareInputs(torchSpec({ loss: 'icnn', episode: { way: 3, shot: 2, query: 3, count: 1 } }));
    try {
      for (const [op, re] of [['ggn', /--operator: icnn is a batch-level loss: .* samples of an episode/], ['fisher', /--operator: the empirical Fisher needs per-sample gradients; icnn/]] as const) {
        const cv = b.objective.curvature(op);
        await assert.rejects(cv.op.matmat([new Float64Array(b.objective.dim)]), (e: unknown) => e instanceof InputError && re.test(e.message));
        cv.dispose();
      }
    } finally {
      b.dispose();
    }
    const bad = async (extra: Record<string, unknown>, re: RegExp) => assert.rejects(prepareInputs(torchSpec(extra)), (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes('\n'));
    await bad({ loss: 'proto_triplet' }, /--episode: proto_triplet is an episode loss/);
    await bad({ loss: 'icnn', episode: { way: 4, shot: 2, query: 3, count: 1 } }, /--episode: 4-way episodes with 2 \+ 3 samples per class need 4 classes/);
    await bad({ loss: 'zloss', lossParams: { a: 0 } }, /--loss-param: zloss needs a in \(0, ∞\), got 0/);
    await bad({ loss: 'mse', episode: { way: 3, shot: 1, query: 1, count: 1 } }, /--episode: applies to the episode losses/);
  });
});
