// "What it must show" (issue 9): the demo-digits CNN (Conv2D 8 → MaxPool → Conv2D 16 → Dense
// 10, 20,618 parameters) on 64 demo digits, through the CLI on the default wasm backend —
// top-5 Hessian and GGN eigenvalues, the Hutchinson trace, SAM sharpness and the grokking
// statistics of a three-checkpoint series — against float64 references built without TF.js
// (torch float64 on the same weights, NHWC → NCHW, scipy eigsh; made by
// `bash scripts/setup-demo-cnn-reference.sh`, see scripts/reference/demo_cnn_reference.py).
// Fails, not skips, without them. Needs the CLI build (bin/losscape.js builds on first use).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_CNN_DIR } from '../../scripts/reference/demoCnnReference';
import { parseResult } from '../../src/shared/result';

interface Reference {
  parameters: number;
  samples: number;
  loss: number;
  hessianTop: number[];
  ggnTop: number[];
  trace: number;
  sam: { rho: number; loss: number; gradientNorm: number; firstOrder: number; ascent: number; steps: number };
  grokking: Record<string, (number | null)[]>;
}

const bin = path.resolve(__dirname, '../../bin/losscape.js');
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

function losscape(args: string[]): void {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, LOSSCAPE_BACKEND: 'wasm' } });
  assert.equal(r.status, 0, r.stderr);
}

describe('demo-digits CNN (20,618 parameters) through the CLI on wasm, against float64 references', function () {
  this.timeout(600_000);
  let ref: Reference;
  let out: string;
  const model = () => path.join(DEMO_CNN_DIR, 'run', 'step-2', 'model.json');
  const data = () => path.join(DEMO_CNN_DIR, 'data.npz');
  const io = () => ['--model', model(), '--data', data(), '--loss', 'sparse_categorical_crossentropy'];
  const read = (file: string) => parseResult(JSON.parse(readFileSync(file, 'utf8')), file);
  before(() => {
    const file = path.join(DEMO_CNN_DIR, 'reference.json');
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`bash scripts/setup-demo-cnn-reference.sh\``);
    ref = JSON.parse(readFileSync(file, 'utf8')) as Reference;
    assert.equal(ref.parameters, 20618);
    out = mkdtempSync(path.join(os.tmpdir(), 'losscape-demo-cnn-'));
  });

  it('hessian: exact-product top-5 within 1e-4 (relative) of eigsh; the Hutchinson trace within 3 standard errors of the exact trace', () => {
    const file = path.join(out, 'h.losscape.json');
    losscape(['hessian', ...io(), '--top', '5', '--trace', '--probes', '50', '--out', file]);
    const h = read(file);
    assert.ok(h.kind === 'hessian' && h.complete && h.backend === 'wasm');
    assert.equal(h.result.product, 'exact');
    assert.equal(h.result.dim, ref.parameters);
    assert.equal(h.result.eigen!.converged, true, h.result.eigen!.warnings?.join('; '));
    const errs = h.result.eigenvalues.map((l, i) => rel(l, ref.hessianTop[i]));
    const t = h.result.trace!;
    const z = (t.estimate - ref.trace) / t.stderr;
    console.log(`      Hessian top-5 max rel. error ${Math.max(...errs).toExponential(2)}; trace ${t.estimate.toFixed(3)} ± ${t.stderr.toFixed(3)} vs exact ${ref.trace.toFixed(3)} (z = ${z.toFixed(2)})`);
    assert.ok(errs.every((e) => e <= 1e-4), `${h.result.eigenvalues} vs ${ref.hessianTop}`);
    assert.ok(t.stderr > 0 && Math.abs(z) <= 3, `trace ${t.estimate} ± ${t.stderr} vs ${ref.trace}`);
  });

  it('hessian --operator ggn: top-5 within 1e-4 (relative) of eigsh', () => {
    const file = path.join(out, 'g.losscape.json');
    losscape(['hessian', ...io(), '--operator', 'ggn', '--top', '5', '--out', file]);
    const g = read(file);
    assert.ok(g.kind === 'hessian' && g.complete && g.backend === 'wasm');
    assert.equal(g.result.eigen!.converged, true, g.result.eigen!.warnings?.join('; '));
    const errs = g.result.eigenvalues.map((l, i) => rel(l, ref.ggnTop[i]));
    console.log(`      GGN top-5 max rel. error ${Math.max(...errs).toExponential(2)}`);
    assert.ok(errs.every((e) => e <= 1e-4), `${g.result.eigenvalues} vs ${ref.ggnTop}`);
  });

  it('sharpness: loss and gradient norm within 1e-5, SAM first order and 2-step ascent within 1e-4 of float64', () => {
    const file = path.join(out, 's.losscape.json');
    losscape(['sharpness', ...io(), '--rho', String(ref.sam.rho), '--ascent-steps', String(ref.sam.steps), '--average-samples', '0', '--out', file]);
    const s = read(file);
    assert.ok(s.kind === 'sharpness' && s.complete && s.backend === 'wasm');
    const sam = s.result.sam[0];
    console.log(`      SAM first order ${sam.firstOrder.toFixed(6)} vs ${ref.sam.firstOrder.toFixed(6)} (rel. ${rel(sam.firstOrder, ref.sam.firstOrder).toExponential(1)}), ascent ${sam.ascent.toFixed(6)} vs ${ref.sam.ascent.toFixed(6)} (rel. ${rel(sam.ascent, ref.sam.ascent).toExponential(1)})`);
    assert.ok(rel(s.result.loss, ref.sam.loss) <= 1e-5, `loss ${s.result.loss} vs ${ref.sam.loss}`);
    assert.ok(rel(s.result.gradientNorm, ref.sam.gradientNorm) <= 1e-5, `gradient norm ${s.result.gradientNorm} vs ${ref.sam.gradientNorm}`);
    assert.ok(rel(sam.firstOrder, ref.sam.firstOrder) <= 1e-4, `first order ${sam.firstOrder} vs ${ref.sam.firstOrder}`);
    assert.ok(rel(sam.ascent, ref.sam.ascent) <= 1e-4, `ascent ${sam.ascent} vs ${ref.sam.ascent}`);
  });

  it('grokking: every statistic of the 3-checkpoint series (NTK on all 64 samples, λ_max of the Hessian) within 1e-4 of float64', () => {
    const file = path.join(out, 'k.losscape.json');
    const n = String(ref.samples);
    losscape(['grokking', '--checkpoints', path.join(DEMO_CNN_DIR, 'run'), '--data', data(), '--loss', 'sparse_categorical_crossentropy', '--probe', n, '--sharpness', 'hessian', '--sharpness-samples', n, '--out', file]);
    const k = read(file);
    assert.ok(k.kind === 'grokking' && k.complete && k.backend === 'wasm');
    assert.deepEqual(k.result.steps, [0, 1, 2]);
    assert.equal(k.result.sharpness!.product, 'exact');
    const got: Record<string, (number | null)[]> = { ...(k.result as unknown as Record<string, (number | null)[]>), lambdaMax: k.result.sharpness!.lambdaMax };
    // Absolute floors where a value is a small difference of large ones (ntkMovement = 1 − cos
    // is ~1e-3 here and float32 kernels carry ~1e-7 of rounding; it is 0 at the first checkpoint).
    const floor: Record<string, number> = { ntkMovement: 1e-6, ntkDistance: 1e-6, paramDistance: 1e-7 };
    let worst = 0;
    for (const [key, want] of Object.entries(ref.grokking)) {
      const have = got[key];
      assert.ok(Array.isArray(have) && have.length === want.length, `${key}: ${JSON.stringify(have)}`);
      want.forEach((w, i) => {
        if (w === null) return assert.equal(have[i], null, `${key}[${i}]`);
        const v = have[i]!;
        const err = Math.abs(v - w);
        if (err > (floor[key] ?? 0)) worst = Math.max(worst, err / Math.abs(w));
        assert.ok(err <= 1e-4 * Math.abs(w) + (floor[key] ?? 0), `${key}[${i}]: ${v} vs float64 ${w} (rel. ${(err / Math.abs(w)).toExponential(2)})`);
      });
    }
    console.log(`      grokking: ${Object.keys(ref.grokking).length} statistics × 3 checkpoints, worst rel. error ${worst.toExponential(2)}`);
  });
});
