/**
 * Per-gradient and per-Hv cost on the demo-digits CNN (wasm), as process CPU time and wall time
 * in one run — the machine may be shared, so CPU seconds of this process are what compare
 * before/after a kernel change; the ratio Hv/gradient is measured in the same run.
 *
 *   npx tsx scripts/bench/cnnProducts.ts [SAMPLES=256] [REPS=5]
 */
import { selectBackend } from '../../src/engine/backend';
import { Rng } from '../../src/engine/linalg/rng';
import { setEngineInfo } from '../../src/engine/runtime';
import { digitsCnn } from './exactCurvature';

async function cost(f: () => Promise<unknown>, reps: number): Promise<{ cpu: number; wall: number }> {
  await f();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await f();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6 / reps, wall: (performance.now() - t0) / 1000 / reps };
}

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 256);
  const reps = Number(process.argv[3] ?? 5);
  setEngineInfo(await selectBackend('wasm'));
  const { obj, model } = digitsCnn(samples);
  const v = new Float64Array(obj.dim);
  new Rng(1).fillNormal(v);
  const hess = obj.curvature('hessian');
  const ggn = obj.curvature('ggn');
  const loss = await cost(() => obj.loss(obj.theta0), reps);
  const grad = await cost(() => obj.grad(obj.theta0), reps);
  const hv = await cost(() => hess.op.matvec(v), reps);
  const gv = await cost(() => ggn.op.matvec(v), reps);
  const line = (name: string, c: { cpu: number; wall: number }) => console.log(`${name.padEnd(10)} cpu ${c.cpu.toFixed(3)} s   wall ${c.wall.toFixed(3)} s   cpu ×grad ${(c.cpu / grad.cpu).toFixed(2)}`);
  console.log(`demo-digits CNN, ${obj.dim} parameters, ${samples} samples, wasm, ${reps} reps`);
  line('loss', loss);
  line('gradient', grad);
  line('Hv exact', hv);
  line('Gv', gv);
  hess.dispose();
  ggn.dispose();
  obj.dispose();
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
