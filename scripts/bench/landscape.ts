import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { setEngineInfo } from '../../src/engine/runtime';
import type { Row } from './types';

export const DEMO_MODEL = 'examples/mnist/generated/model/model.json';
export const DEMO_DATA = 'examples/mnist/generated/data.npz';

/**
 * Seconds per 41×41 landscape of the demo model, loss evaluations per second, and the same
 * landscape on the wasm and cpu backends side by side (cpu as a multiple of wasm).
 */
export async function benchLandscape(samples: number): Promise<Row[]> {
  if (!existsSync(DEMO_MODEL)) throw new Error(`${DEMO_MODEL} is missing: run npx tsx examples/mnist/prepare.ts (npm run demo does)`);
  const rows: Row[] = [];
  const times: Record<string, number> = {};
  // wasm on one thread (the baseline), wasm with the grid worker thread, then cpu on one thread.
  for (const [backend, threads] of [['wasm', 1], ['wasm', 2], ['cpu', 1]] as const) {
    const info = await selectBackend(backend);
    setEngineInfo(info);
    const out = path.join(os.tmpdir(), `losscape-bench-${backend}-${threads}.losscape.json`);
    const t0 = performance.now();
    const r = await runLandscape({ kind: 'landscape', model: DEMO_MODEL, data: DEMO_DATA, samples, points: 41, threads, out }, quietContext());
    const seconds = (performance.now() - t0) / 1000;
    times[`${backend}-${threads}`] = seconds;
    const grid = r.provenance.timings.phases.grid ?? seconds;
    const evaluators = r.result.dims === 2 ? (r.result.evaluators ?? 1) : 1;
    rows.push({
      name: `landscape 41×41, ${samples} samples [${info.backend}, ${threads === 1 ? '1 thread' : `${threads} threads`}]`,
      seconds,
      ...(threads === 2 ? { ratio: seconds / times['wasm-1'] } : {}),
      note: `${(1681 / grid).toFixed(1)} loss evaluations/s (${r.provenance.model.parameterCount} parameters)${threads === 2 ? `; × the 1-thread wasm row; ${evaluators} evaluators took rows, speed-up ${(times['wasm-1'] / seconds).toFixed(2)}× on ${os.availableParallelism()} cores` : ''}`,
    });
  }
  rows.push({ name: 'landscape 41×41: cpu time ÷ wasm time', seconds: times['cpu-1'], ratio: times['cpu-1'] / times['wasm-1'], note: 'baseline: the 1-thread wasm row above' });
  return rows;
}
