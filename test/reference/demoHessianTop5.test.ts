// "What it must show" (issue 9): on the demo MLP (examples/mnist, 784-32-10), `losscape hessian`
// with its default settings (--top 5, Lanczos, default --tol and --max-iter, --samples 1000 as
// the demo runs it) gives, for every seed 0–9, the top-5 eigenvalues of the float64 reference
// (torch float64 exact Hessian products + scipy eigsh on the same samples; made by
// `bash scripts/setup-demo-reference.sh`) to a relative 1e-4. Fails, not skips, without them.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runHessian } from '../../src/engine/analyses/hessian';
import { selectBackend } from '../../src/engine/backend';
import { setEngineInfo } from '../../src/engine/runtime';
import { DEMO_DATA, DEMO_MODEL, DEMO_REFERENCE_DIR, DEMO_SAMPLES, DEMO_SEEDS } from '../../scripts/reference/demoHessianReference';

describe('demo MLP: default Lanczos top-5 against float64 eigsh, seeds 0–9', function () {
  this.timeout(900000);
  let out: string;
  before(async () => {
    for (const f of [DEMO_MODEL, ...DEMO_SEEDS.map((s) => path.join(DEMO_REFERENCE_DIR, `seed-${s}.json`))]) {
      if (!existsSync(f)) throw new Error(`${f} is missing: run \`bash scripts/setup-demo-reference.sh\``);
    }
    setEngineInfo(await selectBackend('wasm'));
    out = mkdtempSync(path.join(os.tmpdir(), 'losscape-demo-hessian-'));
  });

  for (const seed of DEMO_SEEDS) {
    it(`seed ${seed}: every eigenvalue within 1e-4 (relative) of eigsh's, converged, no warning`, async () => {
      const ref = JSON.parse(readFileSync(path.join(DEMO_REFERENCE_DIR, `seed-${seed}.json`), 'utf8')) as { top: number[] };
      const r = await runHessian(
        { kind: 'hessian', model: DEMO_MODEL, data: DEMO_DATA, loss: 'sparse_categorical_crossentropy', samples: DEMO_SAMPLES, seed, top: 5, vectors: false, out: path.join(out, `seed-${seed}.losscape.json`) },
        quietContext(),
      );
      const got = r.result.eigenvalues;
      const errs = got.map((l, i) => Math.abs(l - ref.top[i]) / Math.abs(ref.top[i]));
      const e = r.result.eigen!;
      console.log(`      seed ${seed}: max rel. error ${Math.max(...errs).toExponential(2)}, ${e.matvecs} products (${e.checkMatvecs} check), product ${r.result.product ?? '?'}`);
      assert.ok(errs.every((e) => e <= 1e-4), `seed ${seed}: ${got.map((l) => l.toFixed(6))} vs ${ref.top.map((l) => l.toFixed(6))} (rel. errors ${errs.map((e) => e.toExponential(1))})`);
      assert.equal(r.result.eigen!.converged, true, r.result.eigen!.warnings?.join('; '));
    });
  }
});
