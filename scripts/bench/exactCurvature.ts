import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { selectBackend } from '../../src/engine/backend';
import { hutchinsonTrace } from '../../src/engine/linalg/hutchinson';
import { Rng } from '../../src/engine/linalg/rng';
import { parseNpz } from '../../src/engine/loaders/npz';
import { makeLoss } from '../../src/engine/losses';
import type { Objective } from '../../src/engine/objective';
import { setEngineInfo } from '../../src/engine/runtime';
import { prepareTfjsInputs } from '../../src/engine/tfjs/inputs';
import { TfjsObjective } from '../../src/engine/tfjs/objective';
import { demoCnn } from '../reference/demoCnnReference';
import { DEMO_DATA, DEMO_MODEL } from './landscape';
import { median as medianOf, once } from './timing';
import type { Row } from './types';

// One warm-up, then the median of 5 (3 for the slower products).
const median = (f: () => Promise<unknown>, reps = 5): Promise<number> => medianOf(f, reps, 1);
const seconds = async (f: () => Promise<unknown>): Promise<number> => (await once(f)).seconds;

/**
 * The demo-digits CNN of issue 9 (Conv2D 8 → MaxPool → Conv2D 16 → Dense 10, 20,618
 * parameters), seeded Glorot initialisation, on the first `n` demo digits as 28×28×1 images.
 */
export function digitsCnn(n: number): { obj: TfjsObjective; model: tf.LayersModel } {
  const arrays = parseNpz(readFileSync(DEMO_DATA), DEMO_DATA);
  const x = Float32Array.from((arrays.x.data as ArrayLike<number>) as Float32Array).subarray(0, n * 784);
  const y = Float32Array.from(arrays.y.data as ArrayLike<number>).subarray(0, n);
  const model = demoCnn();
  const obj = new TfjsObjective(model, makeLoss('categorical_crossentropy', false), { x, sampleShape: [28, 28, 1], y, ySampleShape: [], n }, 256);
  return { obj, model };
}

/** Gradient, exact and finite-difference Hv, and the 100-probe Hutchinson trace by both routes. */
async function productRows(obj: Objective, tag: string, hutchinson: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const v = new Float64Array(obj.dim);
  new Rng(1).fillNormal(v);
  const grad = await median(() => obj.grad(obj.theta0));
  const evals = await median(() => obj.loss(obj.theta0));
  rows.push({ name: `gradient, ${tag}`, seconds: grad, note: `${obj.dim} parameters; ${(1 / evals).toFixed(1)} loss evaluations/s (${evals.toFixed(3)} s each)` });
  const exact = obj.curvature('hessian');
  const fd = obj.curvature('hessian', { hv: 'finite-difference' });
  const ggn = obj.curvature('ggn');
  const hv = await median(() => exact.op.matvec(v));
  const hvFd = await median(() => fd.op.matvec(v), 3);
  const gv = await median(() => ggn.op.matvec(v), 3);
  rows.push({ name: `Hv exact (double backprop), ${tag}`, seconds: hv, ratio: hv / grad, note: '× one gradient; summed on the device, one readback' });
  rows.push({ name: `Hv finite differences (--hv finite-difference), ${tag}`, seconds: hvFd, ratio: hvFd / grad, note: '× one gradient; four gradients, Richardson' });
  rows.push({ name: `Gv (Gauss–Newton), ${tag}`, seconds: gv, ratio: gv / grad, note: '× one gradient' });
  // One line per model with the four figures side by side (MLP and CNN rows line up).
  rows.push({ name: `products summary, ${tag}`, seconds: hv, ratio: hv / grad, note: `${(1 / evals).toFixed(1)} evaluations/s · ${grad.toFixed(3)} s per gradient · ${hv.toFixed(3)} s per exact Hv · Hv/gradient ${(hv / grad).toFixed(2)}×` });
  if (hutchinson) {
    const tExact = await seconds(() => hutchinsonTrace(exact.op, { probes: 100, rng: new Rng(3) }));
    const tFd = await seconds(() => hutchinsonTrace(fd.op, { probes: 100, rng: new Rng(3), block: 1 }));
    rows.push({ name: `Hutchinson 100 probes, exact Hv in blocks of 10 (matmat), ${tag}`, seconds: tExact, ratio: tFd / tExact, note: 'speed-up over the finite-difference route below' });
    rows.push({ name: `Hutchinson 100 probes, finite-difference Hv one by one, ${tag}`, seconds: tFd, ratio: tFd / grad, note: '× one gradient (the route before exact products)' });
  }
  for (const c of [exact, fd, ggn]) c.dispose();
  return rows;
}

/** Exact curvature products on the demo MLP and the demo-digits CNN side by side (wasm). */
export async function benchExactCurvature(): Promise<Row[]> {
  if (!existsSync(DEMO_MODEL)) throw new Error(`${DEMO_MODEL} is missing: run npx tsx examples/mnist/prepare.ts (npm run demo does)`);
  const samples = Number(process.env.LOSSCAPE_BENCH_CURVATURE_SAMPLES ?? 1000);
  const cnnSamples = Number(process.env.LOSSCAPE_BENCH_CNN_SAMPLES ?? 256);
  const info = await selectBackend('wasm');
  setEngineInfo(info);
  const rows: Row[] = [];
  const p = await prepareTfjsInputs({ model: DEMO_MODEL, data: DEMO_DATA, loss: 'sparse_categorical_crossentropy', samples, batchSize: 512, seed: 0, out: 'bench.losscape.json' });
  try {
    rows.push(...(await productRows(p.objective, `MLP, ${samples} samples [${info.backend}]`, true)));
  } finally {
    p.dispose();
  }
  const cnn = digitsCnn(cnnSamples);
  try {
    rows.push(...(await productRows(cnn.obj, `CNN, ${cnnSamples} samples [${info.backend}]`, false)));
  } finally {
    cnn.obj.dispose();
    cnn.model.dispose();
  }
  return rows;
}
