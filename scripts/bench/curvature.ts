import { existsSync } from 'node:fs';
import { perSampleGradients } from '../../src/engine/tfjs/autodiff';
import { selectBackend } from '../../src/engine/backend';
import { EmpiricalFisherOperator, FiniteDifferenceHessian, GaussNewtonOperator } from '../../src/engine/tfjs/curvatureOperators';
import { prepareTfjsInputs as prepareInputs } from '../../src/engine/tfjs/inputs';
import { hutchinsonTrace } from '../../src/engine/linalg/hutchinson';
import { lanczosEigs, type LanczosResult } from '../../src/engine/linalg/lanczos';
import type { LinearOperator } from '../../src/engine/linalg/operator';
import { MFacInverse } from '../../src/engine/linalg/mfac';
import { Rng } from '../../src/engine/linalg/rng';
import { setEngineInfo } from '../../src/engine/runtime';
import { DEMO_DATA, DEMO_MODEL } from './landscape';
import { median as medianOf, once } from './timing';
import type { Row } from './types';

// Two warm-ups, then the median of 7.
const median = (f: () => Promise<unknown>): Promise<number> => medianOf(f, 7, 2);

/**
 * Lanczos top-5 as shipped (block of 2, thick restarts, deflated second-start check) against
 * single-vector Lanczos without the check (what it replaced, which can stop with a wanted
 * eigenvalue missing): time, products, restarts, whether it converged.
 */
async function benchLanczos(op: LinearOperator, label: string, tag: string, grad: number): Promise<Row[]> {
  const shipped = await once(() => lanczosEigs(op, { k: 5, rng: new Rng(2) }));
  const single = await once(() => lanczosEigs(op, { k: 5, blockSize: 1, check: false, rng: new Rng(2) }));
  const fmt = (r: LanczosResult) => `${r.matvecs} products (${r.checkMatvecs} in the check), ${r.restarts} restarts, converged ${r.converged}; λ = ${r.eigenvalues.map((x) => x.toPrecision(6)).join(', ')}`;
  return [
    { name: `Lanczos top-5 of the ${label}, ${tag}`, seconds: shipped.seconds, ratio: shipped.seconds / grad, note: `× one gradient; block 2 + check: ${fmt(shipped.value)}` },
    { name: `  single-vector Lanczos, no check, ${label}`, seconds: single.seconds, ratio: single.seconds / shipped.seconds, note: `× the row above; ${fmt(single.value)}` },
  ];
}

/**
 * Curvature products and algorithms on the demo model (MNIST MLP 784-32-10, 25,450 parameters)
 * over a seeded subset of LOSSCAPE_BENCH_CURVATURE_SAMPLES (default 1000) samples, on wasm:
 * one Hv (finite differences, Richardson, 4 gradients), one Gv and one Fisher product as
 * multiples of one gradient; Lanczos top-5 and a 100-probe Hutchinson trace of the Hessian;
 * M-FAC set-up with m = 64 per-sample gradients.
 */
export async function benchCurvature(): Promise<Row[]> {
  if (!existsSync(DEMO_MODEL)) throw new Error(`${DEMO_MODEL} is missing: run npx tsx examples/mnist/prepare.ts (npm run demo does)`);
  const samples = Number(process.env.LOSSCAPE_BENCH_CURVATURE_SAMPLES ?? 1000);
  const info = await selectBackend('wasm');
  setEngineInfo(info);
  const p = await prepareInputs({ model: DEMO_MODEL, data: DEMO_DATA, loss: 'sparse_categorical_crossentropy', samples, batchSize: 512, seed: 0, out: 'bench.losscape.json' });
  const rows: Row[] = [];
  const tag = `${samples} samples [${info.backend}]`;
  try {
    const obj = p.objective;
    const v = new Float64Array(obj.dim);
    new Rng(1).fillNormal(v);
    const grad = await median(() => obj.grad(obj.theta0));
    rows.push({ name: `gradient, ${tag}`, seconds: grad, note: `baseline of the product ratios; ${obj.dim} parameters` });
    const hess = new FiniteDifferenceHessian(obj);
    const ggn = new GaussNewtonOperator(obj);
    const fisher = new EmpiricalFisherOperator(obj);
    for (const [name, op, note] of [
      ['Hv (Hessian, finite differences)', hess, 'four gradients, Richardson; ReLU patterns frozen at θ'],
      ['Gv (Gauss–Newton, exact)', ggn, 'J v by the dual trick, H_ℓ closed form, Jᵀ(·)'],
      ['Fv (empirical Fisher)', fisher, 'per-sample directional derivatives, then one VJP'],
    ] as const) {
      const s = await median(() => op.matvec(v));
      rows.push({ name: `${name}, ${tag}`, seconds: s, ratio: s / grad, note: `× one gradient; ${note}` });
    }
    const errs = [...hess.stats.relativeErrors].sort((a, b) => a - b);
    rows[1].note += `; estimated relative error median ${errs[Math.floor(errs.length / 2)].toExponential(1)}`;

    rows.push(...(await benchLanczos(hess, 'Hessian (finite differences)', tag, grad)));
    const exact = obj.curvature('hessian', { hv: 'exact' });
    try {
      rows.push(...(await benchLanczos(exact.op, 'Hessian (exact products)', tag, grad)));
    } finally {
      exact.dispose();
    }
    rows.push(...(await benchLanczos(ggn, 'GGN', tag, grad)));
    const tr = await once(() => hutchinsonTrace(hess, { probes: 100, rng: new Rng(3) }));
    rows.push({ name: `Hutchinson trace of the Hessian, 100 probes, ${tag}`, seconds: tr.seconds, ratio: tr.seconds / grad, note: `× one gradient; tr = ${tr.value.estimate.toPrecision(4)} ± ${tr.value.stderr.toPrecision(2)}` });
    hess.dispose();

    const idx = new Rng(4).permutation(obj.sampleCount).slice(0, 64);
    const g = await once(() => perSampleGradients(obj, idx));
    const mf = await once(() => MFacInverse.build(g.value, { lambda: 1e-5 }));
    rows.push({ name: `M-FAC set-up, m = 64, d = ${obj.dim}`, seconds: mf.seconds, note: `O(d·m²) Sherman–Morrison; collecting the 64 per-sample gradients took ${g.seconds.toFixed(2)} s more` });
  } finally {
    p.dispose();
  }
  return rows;
}
