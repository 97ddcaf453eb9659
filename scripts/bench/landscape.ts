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
  for (const backend of ['wasm', 'cpu'] as const) {
    const info = await selectBackend(backend);
    setEngineInfo(info);
    const out = path.join(os.tmpdir(), `losscape-bench-${backend}.losscape.json`);
    const t0 = performance.now();
    const r = await runLandscape({ kind: 'landscape', model: DEMO_MODEL, data: DEMO_DATA, samples, points: 41, out }, quietContext());
    const seconds = (performance.now() - t0) / 1000;
    times[backend] = seconds;
    const grid = r.provenance.timings.phases.grid ?? seconds;
    rows.push({
      name: `landscape 41×41, ${samples} samples [${info.backend}]`,
      seconds,
      note: `${(1681 / grid).toFixed(1)} loss evaluations/s (${r.provenance.model.parameterCount} parameters)`,
    });
  }
  rows.push({ name: 'landscape 41×41: cpu time ÷ wasm time', seconds: times.cpu, ratio: times.cpu / times.wasm, note: 'baseline: the wasm row above' });
  return rows;
}
