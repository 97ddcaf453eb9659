import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runGrokking } from '../../src/engine/analyses/grokking';
import { selectBackend } from '../../src/engine/backend';
import { denseNtk, jacobianNtk } from '../../src/engine/tfjs/ntk';
import { setEngineInfo } from '../../src/engine/runtime';
import { resolveCheckpoints } from '../../src/engine/checkpoints';
import { prepareTfjsSeries } from '../../src/engine/tfjs/series';
import type { Row } from './types';

const G = 'examples/mnist/generated';
const CHECKPOINTS = `${G}/checkpoints`;
const DATA = `${G}/data.npz`;

/**
 * The grokking statistics on the demo's MNIST checkpoint series (wasm backend): seconds per
 * checkpoint for the whole analysis (all train and test samples, probe 128), and the empirical NTK
 * on a 128-sample probe by the Dense-layer structure against explicit Jacobian rows.
 */
export async function benchGrokking(): Promise<Row[]> {
  if (!existsSync(CHECKPOINTS)) throw new Error(`${CHECKPOINTS} is missing: run npx tsx examples/mnist/prepare.ts (npm run demo does)`);
  const info = await selectBackend('wasm');
  setEngineInfo(info);
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'losscape-bench-')), 'grokking.losscape.json');
  const t0 = performance.now();
  const r = await runGrokking({ kind: 'grokking', checkpoints: CHECKPOINTS, data: DATA, loss: 'sparse_categorical_crossentropy', probe: 128, out }, quietContext());
  const seconds = (performance.now() - t0) / 1000;
  const T = r.result.steps.length;
  const ph = r.provenance.timings.phases;
  const rows: Row[] = [
    {
      name: `grokking statistics, per checkpoint (${T} checkpoints, probe 128) [${info.backend}]`,
      seconds: seconds / T,
      note: `${r.provenance.data.samplesUsed} train samples; phases per checkpoint: losses ${((ph.losses ?? 0) / T).toFixed(2)} s, outputs ${((ph.outputs ?? 0) / T).toFixed(2)} s, NTK ${((ph.ntk ?? 0) / T).toFixed(2)} s`,
    },
  ];
  const spec = { checkpoints: CHECKPOINTS, data: DATA, loss: 'sparse_categorical_crossentropy', batchSize: 512, seed: 0, out };
  const series = await prepareTfjsSeries(spec, resolveCheckpoints(spec.checkpoints));
  try {
    await series.load(T - 1);
    const { objective } = series.subset(128, 0);
    try {
      let t = performance.now();
      const dense = await denseNtk(objective);
      const tDense = (performance.now() - t) / 1000;
      t = performance.now();
      await jacobianNtk(objective);
      const tJac = (performance.now() - t) / 1000;
      rows.push({ name: `empirical NTK, 128-sample probe, Dense-layer structure [${info.backend}]`, seconds: tDense, note: `${objective.dim} parameters, 10 outputs${dense ? '' : ' (model did not qualify)'}` });
      rows.push({ name: `empirical NTK, 128-sample probe, Jacobian rows [${info.backend}]`, seconds: tJac, ratio: tJac / tDense, note: 'baseline: the Dense-layer row above (1,280 single-sample backward passes)' });
    } finally {
      objective.dispose();
    }
  } finally {
    series.dispose();
  }
  return rows;
}
