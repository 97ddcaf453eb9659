import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext, type AnalysisContext } from '../../src/engine/analysisContext';
import { runGrokking } from '../../src/engine/analyses/grokking';
import { runHessian } from '../../src/engine/analyses/hessian';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { runSharpness } from '../../src/engine/analyses/sharpness';
import { selectBackend } from '../../src/engine/backend';
import { prepareInputs, type PreparedInputs } from '../../src/engine/inputs';
import { Rng } from '../../src/engine/linalg/rng';
import { setEngineInfo } from '../../src/engine/runtime';
import { busyTorchWorkers, closeTorchWorkers, WorkerDiedError } from '../../src/engine/torch/worker';
import { InputError } from '../../src/shared/errors';
import type { LosscapeResult } from '../../src/shared/result';
import { makeTwinWorkspace, torchPython, type TwinKind, type TwinWorkspace } from './helpers/torchTwins';

/**
 * The torch engine against the TF.js engine on the same networks (an MLP and a CNN with the same
 * weights in both, layouts converted), and its bad-input lines. Needs the torch venv of
 * scripts/setup-torch.sh: without it these tests fail (they never skip).
 */
const LOSS = 'sparse_categorical_crossentropy';

/**
 * Titles tagged @smoke also run on Debian's torch 1.13 (the oldest supported): scripts/test.mjs
 * runs them with LOSSCAPE_TEST_PYTHON=/usr/bin/python3 and LOSSCAPE_TEST_TORCH=1.13.
 */
const SMOKE = ' @smoke';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(rel(a, b) <= tol, `${what}: torch ${a} vs tfjs ${b} (relative ${rel(a, b).toExponential(2)} > ${tol})`);
}

describe('torch engine (PyTorch worker) against the TF.js engine', function () {
  this.timeout(300_000);
  let root: string;
  let python: string;
  before(async () => {
    python = torchPython();
    setEngineInfo(await selectBackend('cpu'));
    root = mkdtempSync(path.join(os.tmpdir(), 'losscape-torch-'));
  });
  after(() => closeTorchWorkers());

  it(`results record the interpreter's torch, its device and threads (LOSSCAPE_TEST_TORCH pins the version)${SMOKE}`, async () => {
    const ws = await makeTwinWorkspace(root, 'mlp', [11]);
    const p = await prepareInputs({ model: ws.torchModel, weights: ws.torch[0], data: ws.torchData, loss: LOSS, python, batchSize: 16, seed: 0, out: 'x' });
    try {
      const b = p.objective.backend;
      const want = execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).trim();
      assert.equal(b.name, 'torch');
      assert.ok(b.version.startsWith(`torch ${want}`), `${b.version} names torch ${want}`);
      const pinned = process.env.LOSSCAPE_TEST_TORCH;
      if (pinned) assert.ok(want.startsWith(pinned), `${python} has torch ${want}, this run wants ${pinned}`);
      assert.match(b.device ?? '', /^(cpu|cuda|mps)/);
      assert.ok(Number.isInteger(b.threads) && b.threads! >= 1, `threads ${b.threads}`);
    } finally {
      p.dispose();
    }
  });

  for (const kind of ['mlp', 'cnn'] as TwinKind[]) {
    describe(kind.toUpperCase(), () => {
      let ws: TwinWorkspace;
      const tfjsSpec = () => ({ model: ws.tfjs[0], data: ws.tfjsData, loss: LOSS, batchSize: 16, seed: 0 });
      const torchSpec = () => ({ model: ws.torchModel, weights: ws.torch[0], data: ws.torchData, loss: LOSS, python, batchSize: 16, seed: 0 });
      before(async () => {
        ws = await makeTwinWorkspace(root, kind);
      });

      it(`loss, accuracy and gradient agree (float32, 1e-5)${SMOKE}`, async () => {
        const a = await prepareInputs({ ...tfjsSpec(), out: 'x' });
        const b = await prepareInputs({ ...torchSpec(), out: 'x' });
        try {
          assert.equal(b.objective.engine, 'torch');
          assert.equal(b.objective.dim, a.objective.dim);
          const ea = await a.objective.evaluate();
          const eb = await b.objective.evaluate();
          close(eb.loss, ea.loss, 1e-5, 'loss');
          assert.equal(eb.accuracy, ea.accuracy);
          const ga = (await a.objective.grad()).grad;
          const gb = (await b.objective.grad()).grad;
          let scale = 0;
          for (const v of ga) scale = Math.max(scale, Math.abs(v));
          for (let i = 0; i < gb.length; i++) {
            const j = ws.index[i];
            assert.ok(Math.abs(gb[i] - ga[j]) <= 1e-5 * scale + 1e-7, `gradient entry ${i} (tfjs ${j}): ${gb[i]} vs ${ga[j]}`);
          }
          // θ₀ is the same vector in the two layouts.
          for (let i = 0; i < gb.length; i++) assert.equal(b.objective.theta0[i], a.objective.theta0[ws.index[i]]);
          assert.equal(b.objective.groups[0].filters, b.objective.groups[0].shape[0], 'a torch filter is one index of dim 0');
        } finally {
          a.dispose();
          b.dispose();
        }
      });

      it(`Hessian and GGN products agree (k vectors in one matmat, each in its engine’s layout; 1e-4)${SMOKE}`, async () => {
        const a = await prepareInputs({ ...tfjsSpec(), out: 'x' });
        const b = await prepareInputs({ ...torchSpec(), out: 'x' });
        try {
          const d = a.objective.dim;
          const rng = new Rng(7);
          const vs = [0, 1].map(() => {
            const v = new Float64Array(d);
            rng.fillNormal(v);
            return v;
          });
          // v in torch layout: entry i is the TF.js entry index[i].
          const toTorch = (v: Float64Array) => Float64Array.from(ws.index, (j) => v[j]);
          for (const op of ['ggn', 'hessian'] as const) {
            const ca = a.objective.curvature(op);
            const cb = b.objective.curvature(op);
            const ya = await ca.op.matmat(vs);
            const yb = await cb.op.matmat(vs.map(toTorch));
            ca.dispose();
            cb.dispose();
            vs.forEach((_, k) => {
              const want = toTorch(ya[k]);
              let num = 0;
              let den = 0;
              for (let i = 0; i < d; i++) {
                num += (yb[k][i] - want[i]) ** 2;
                den += want[i] ** 2;
              }
              assert.ok(Math.sqrt(num / den) <= 1e-4, `${op} product ${k}: relative error ${Math.sqrt(num / den)}`);
            });
          }
        } finally {
          a.dispose();
          b.dispose();
        }
      });

      it(`top-5 eigenvalues of the GGN and the Hessian (1e-4·λ₁) and the Hutchinson trace${kind === 'mlp' ? SMOKE : ''}`, async () => {
        const out = (e: string, op: string) => path.join(ws.dir, `h-${e}-${op}.losscape.json`);
        for (const operator of ['ggn', 'hessian'] as const) {
          const common = { kind: 'hessian' as const, operator, top: 5, maxIter: 40, trace: true, probes: 20 };
          const ra = await runHessian({ ...tfjsSpec(), ...common, out: out('tfjs', operator) }, quietContext());
          const rb = await runHessian({ ...torchSpec(), ...common, out: out('torch', operator) }, quietContext());
          assert.equal(rb.backend, 'torch');
          assert.match(rb.provenance.backend.version, /^torch \d/);
          assert.equal(rb.provenance.backend.dtype, 'float32');
          assert.ok(rb.provenance.backend.device?.startsWith('cpu'));
          assert.equal(rb.result.finiteDifference, null, 'torch products are exact');
          const tol = 1e-4;
          rb.result.eigenvalues.forEach((l, i) => close(l, ra.result.eigenvalues[i], tol * (Math.abs(ra.result.eigenvalues[0]) / Math.max(Math.abs(ra.result.eigenvalues[i]), 1e-12)), `${operator} λ${i + 1}`));
          // Rademacher probes differ between the layouts: the estimates agree within their errors.
          const [ta, tb] = [ra.result.trace!, rb.result.trace!];
          assert.ok(Math.abs(ta.estimate - tb.estimate) <= 4 * Math.hypot(ta.stderr, tb.stderr), `${operator} trace ${tb.estimate} ± ${tb.stderr} vs ${ta.estimate} ± ${ta.stderr}`);
        }
      });

      it('SAM sharpness (first order and ascent) agrees (1e-3; loss 1e-5)', async () => {
        const common = { kind: 'sharpness' as const, rho: [0.05, 0.2], ascentSteps: 3, averageSamples: 0, keskar: false };
        const ra = await runSharpness({ ...tfjsSpec(), ...common, out: path.join(ws.dir, 's-tfjs.losscape.json') }, quietContext());
        const rb = await runSharpness({ ...torchSpec(), ...common, out: path.join(ws.dir, 's-torch.losscape.json') }, quietContext());
        close(rb.result.loss, ra.result.loss, 1e-5, 'loss');
        rb.result.sam.forEach((s, i) => {
          close(s.firstOrder, ra.result.sam[i].firstOrder, 1e-3, `SAM ρ=${s.rho} first order`);
          close(s.ascent, ra.result.sam[i].ascent, 1e-3, `SAM ρ=${s.rho} ascent`);
        });
      });

      it(`a landscape row (the line to a second model) agrees (1e-5)${SMOKE}`, async () => {
        const common = { kind: 'landscape' as const, points: 9 };
        const ra = await runLandscape({ ...tfjsSpec(), ...common, to: ws.tfjs[1], out: path.join(ws.dir, 'l-tfjs.losscape.json') }, quietContext());
        const rb = await runLandscape({ ...torchSpec(), ...common, to: ws.torch[1], out: path.join(ws.dir, 'l-torch.losscape.json') }, quietContext());
        assert.ok(ra.result.dims === 1 && rb.result.dims === 1);
        rb.result.loss.forEach((l, i) => close(l!, (ra.result.loss as number[])[i], 1e-5, `line point ${i}`));
        assert.equal(rb.complete, true);
      });

      it(`grokking statistics over a checkpoint series agree (1e-4)${kind === 'mlp' ? SMOKE : ''}`, async () => {
        const common = { kind: 'grokking' as const, probe: 6, testSamples: 6, lag: 1 };
        const { model: _m, ...tfjsSeries } = tfjsSpec();
        const ra = await runGrokking({ ...tfjsSeries, ...common, checkpoints: ws.tfjs.map((f) => path.dirname(f)).map((d) => path.join(d, 'model.json')), out: path.join(ws.dir, 'g-tfjs.losscape.json') }, quietContext());
        const { weights: _w, ...spec } = torchSpec();
        const rb = await runGrokking({ ...spec, ...common, checkpoints: ws.torch, out: path.join(ws.dir, 'g-torch.losscape.json') }, quietContext());
        assert.deepEqual(rb.result.steps, ra.result.steps);
        for (const key of ['trainLoss', 'testLoss', 'paramNorm', 'paramDistance', 'ntkAlignment', 'ntkTrace', 'ntkEffectiveRank', 'ntkMovement', 'outputChange', 'trajectoryKL', 'trainAccuracy'] as const) {
          const a = ra.result[key] as (number | null)[];
          const b = rb.result[key] as (number | null)[];
          b.forEach((v, i) => {
            if (a[i] === null) assert.equal(v, null, `${key}[${i}]`);
            else if (Math.abs(a[i]!) < 1e-6) assert.ok(Math.abs(v! - a[i]!) < 1e-6, `${key}[${i}]: ${v} vs ${a[i]}`);
            else close(v!, a[i]!, 1e-4, `${key}[${i}]`);
          });
        }
      });

      if (kind === 'mlp') {
        it(`grokking with --data-module: the NTK probe and sharpness subsets are drawn as for the data file (same statistics)`, async () => {
          const module = path.join(ws.dir, 'twin_data.py');
          writeFileSync(module, ['import numpy as np, torch', '', 'def twin_data():', `    d = np.load(${JSON.stringify(ws.torchData)})`, '    return torch.from_numpy(d["x"]), torch.from_numpy(d["y"].astype(np.int64))', ''].join('\n'));
          const { weights: _w, ...spec } = torchSpec();
          const common = { ...spec, kind: 'grokking' as const, probe: 6, sharpness: 'ggn' as const, sharpnessSamples: 8, lag: 1, checkpoints: ws.torch };
          const fromFile = await runGrokking({ ...common, out: path.join(ws.dir, 'g-file.losscape.json') }, quietContext());
          const fromModule = await runGrokking({ ...common, dataModule: `${module}:twin_data`, out: path.join(ws.dir, 'g-module.losscape.json') }, quietContext());
          assert.equal(fromModule.complete, true);
          assert.equal(fromModule.result.probe.size, 6);
          assert.equal(fromModule.result.sharpness?.samples, 8);
          assert.deepEqual(fromModule.result.steps, fromFile.result.steps);
          // The module has no test split; everything computed on the train samples agrees.
          assert.ok(fromModule.result.testLoss.every((v) => v === null));
          for (const key of ['trainLoss', 'trainAccuracy', 'paramNorm', 'ntkAlignment', 'ntkTrace', 'ntkEffectiveRank', 'ntkMovement', 'outputChange'] as const) {
            const a = fromFile.result[key] as (number | null)[];
            (fromModule.result[key] as (number | null)[]).forEach((v, i) => {
              if (a[i] === null) assert.equal(v, null, `${key}[${i}]`);
              else assert.ok(v !== null && Math.abs(v - a[i]!) <= 1e-6 * Math.max(1, Math.abs(a[i]!)), `${key}[${i}]: module ${v} vs file ${a[i]}`);
            });
          }
          fromModule.result.sharpness!.lambdaMax.forEach((v, i) => close(v!, fromFile.result.sharpness!.lambdaMax[i]!, 1e-4, `sharpness λ_max[${i}]`));
        });
      }
    });
  }

  describe('bad input: one clear line', () => {
    let ws: TwinWorkspace;
    before(async () => {
      ws = await makeTwinWorkspace(root, 'mlp', [5]);
    });
    const spec = (extra: Record<string, unknown> = {}) => ({ model: ws.torchModel, weights: ws.torch[0], data: ws.torchData, loss: LOSS, python, batchSize: 16, seed: 0, out: 'x', ...extra });
    const oneLine = (re: RegExp) => (e: Error) => {
      assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
      assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
      assert.match(e.message, re);
      return true;
    };
    it(`a model file without that name${SMOKE}`, async () => {
      await assert.rejects(prepareInputs(spec({ model: `${ws.netsPy}:Nope` })), oneLine(/nets\.py: has no 'Nope'/));
    });
    it('a factory that raises', async () => {
      await assert.rejects(prepareInputs(spec({ model: `${ws.netsPy}:raising_factory`, weights: undefined })), oneLine(/nets\.py.*the factory is broken/));
    });
    it(`weights that do not match the architecture${SMOKE}`, async () => {
      await assert.rejects(prepareInputs(spec({ model: `${ws.netsPy}:CNN` })), oneLine(/weights-5\.pt.*(missing|unexpected)/));
      await assert.rejects(prepareInputs(spec({ modelArgs: { width: 5 } })), oneLine(/weights-5\.pt.*shape/));
    });
    it('a loss module that raises, or returns the wrong shape', async () => {
      await assert.rejects(prepareInputs(spec({ lossModule: `${ws.lossesPy}:raising_loss` })), oneLine(/losses\.py.*loss exploded/));
      await assert.rejects(prepareInputs(spec({ lossModule: `${ws.lossesPy}:wrong_shape_loss` })), oneLine(/losses\.py.*shape/));
      // A good one runs.
      const p = await prepareInputs(spec({ lossModule: `${ws.lossesPy}:nll` }));
      assert.ok(Number.isFinite((await p.objective.evaluate()).loss));
      p.dispose();
    });
    it('torch missing: the interpreter tried and how to install torch there', async () => {
      // python3 without site-packages: no torch, no numpy.
      const noTorch = path.join(root, 'python-without-torch');
      writeFileSync(noTorch, '#!/bin/sh\nexec python3 -S "$@"\n');
      chmodSync(noTorch, 0o755);
      await assert.rejects(prepareInputs(spec({ python: noTorch })), oneLine(/python-without-torch: .*is not installed in .*python-without-torch; install torch and numpy there: .*pip install torch/));
      await assert.rejects(prepareInputs(spec({ python: path.join(root, 'no-such-python') })), oneLine(/cannot start the Python interpreter .*no-such-python.*--python/));
    });
    it('no loss for a PyTorch model', async () => {
      await assert.rejects(prepareInputs(spec({ loss: undefined })), oneLine(/--loss: a PyTorch model carries no loss/));
    });

    it(`a worker killed mid-run: a clear error, the partial result kept, and the next request starts a new worker${SMOKE}`, async () => {
      const out = path.join(ws.dir, 'killed.losscape.json');
      let killed = 0;
      const ctx: AnalysisContext = {
        ...quietContext(),
        progress: (_f, _m, partial?: LosscapeResult) => {
          if (partial && partial.kind === 'landscape' && partial.result.dims === 2 && partial.result.rowsDone >= 2 && !killed) {
            for (const w of busyTorchWorkers()) w.kill('SIGKILL');
            killed++;
          }
        },
      };
      await assert.rejects(
        runLandscape({ ...spec(), kind: 'landscape', points: 15, out }, ctx),
        (e: Error) => e instanceof WorkerDiedError && /torch worker .* was killed by SIGKILL/.test(e.message) && !e.message.includes('\n'),
      );
      assert.equal(killed, 1);
      const saved = JSON.parse(readFileSync(out, 'utf8')) as LosscapeResult;
      assert.equal(saved.complete, false);
      assert.ok(saved.kind === 'landscape' && saved.result.dims === 2 && saved.result.rowsDone >= 2, 'rows before the kill are kept');
      assert.match(saved.status ?? '', /failed after \d+ of 225 points: the torch worker/);
      if (saved.kind === 'landscape' && saved.result.dims === 2) assert.ok(saved.result.loss[0].every((v) => typeof v === 'number'));
      const again: PreparedInputs = await prepareInputs(spec());
      try {
        assert.ok(Number.isFinite((await again.objective.evaluate()).loss), 'a new worker answers');
      } finally {
        again.dispose();
      }
    });
  });
});
