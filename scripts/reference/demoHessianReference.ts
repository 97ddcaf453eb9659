/**
 * Float64 references for the demo MLP's top-5 Hessian eigenvalues, one per seed 0–9: the
 * `--samples 1000` subset Losscape uses with that seed, written as indices, and
 * scripts/reference/hessian_eigsh.py (torch float64 + scipy eigsh) run on it. Results go to
 * test/fixtures/demo-hessian-reference/seed-<s>.json, cached by the SHA-256 of the model, the
 * data and both scripts.
 *
 *   npx tsx scripts/reference/demoHessianReference.ts [PYTHON]   (bash scripts/setup-demo-reference.sh runs it)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { seededSubset } from '../../src/engine/sampleSubset';

const root = path.resolve(__dirname, '../..');
export const DEMO_REFERENCE_DIR = path.join(root, 'test/fixtures/demo-hessian-reference');
export const DEMO_MODEL = path.join(root, 'examples/mnist/generated/model/model.json');
export const DEMO_DATA = path.join(root, 'examples/mnist/generated/data.npz');
export const DEMO_SAMPLES = 1000;
export const DEMO_SEEDS = Array.from({ length: 10 }, (_, s) => s);
const TRAIN = 8000;

const sha = (files: string[]): string => {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex');
};

function main(): void {
  const python = process.argv[2] ?? path.join(root, '.tools/torch-venv/bin/python');
  for (const f of [DEMO_MODEL, DEMO_DATA]) if (!existsSync(f)) throw new Error(`${f} is missing: run npx tsx examples/mnist/prepare.ts`);
  const shard = path.join(path.dirname(DEMO_MODEL), 'group1-shard1of1.bin');
  const script = path.join(__dirname, 'hessian_eigsh.py');
  const stamp = sha([DEMO_MODEL, shard, DEMO_DATA, script, __filename]);
  mkdirSync(DEMO_REFERENCE_DIR, { recursive: true });
  const stampFile = path.join(DEMO_REFERENCE_DIR, 'STAMP');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && DEMO_SEEDS.every((s) => existsSync(path.join(DEMO_REFERENCE_DIR, `seed-${s}.json`)))) {
    console.log(`demo Hessian reference: ${path.relative(root, DEMO_REFERENCE_DIR)} is current`);
    return;
  }
  for (const seed of DEMO_SEEDS) {
    const idx = seededSubset(TRAIN, { samples: DEMO_SAMPLES, seed })!;
    const idxFile = path.join(DEMO_REFERENCE_DIR, `indices-${seed}.npz`);
    writeFileSync(idxFile, encodeNpz({ indices: { dtype: 'int32', shape: [idx.length], data: idx } }));
    const p = spawnSync(python, [script, DEMO_MODEL, DEMO_DATA, idxFile, '5'], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`hessian_eigsh.py failed for seed ${seed}: ${p.stderr}`);
    const ref = JSON.parse(p.stdout.trim().split('\n').pop()!) as { top: number[] };
    writeFileSync(path.join(DEMO_REFERENCE_DIR, `seed-${seed}.json`), JSON.stringify({ seed, samples: DEMO_SAMPLES, ...ref }));
    console.log(`seed ${seed}: top-5 ${ref.top.map((x) => x.toFixed(6)).join(', ')}`);
  }
  writeFileSync(stampFile, stamp);
}

if (require.main === module) main();
