import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectBackend } from '../../src/engine/backend';
import { expandGlob, findCheckpointFiles, resolveCheckpoints, stepFromPath } from '../../src/engine/checkpoints';
import { saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { setEngineInfo } from '../../src/engine/runtime';
import { buildTinyModel } from './helpers/tinyModel';

async function save(model: tf.LayersModel, dir: string): Promise<string> {
  await saveLayersModelToDir(model, dir);
  return path.join(dir, 'model.json');
}

describe('checkpoint series', () => {
  let root: string;
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    root = mkdtempSync(path.join(os.tmpdir(), 'losscape-ckpt-'));
    const m = buildTinyModel(3);
    // Lexical order (step-1, step-10, step-2) differs from step order (1, 2, 10).
    for (const s of [10, 2, 1]) await save(m, path.join(root, 'run', `step-${s}`));
    m.dispose();
  });

  it('reads the step from the folder name, the file name, or a step field', () => {
    assert.equal(stepFromPath('/a/run/step-000125/model.json'), 125);
    assert.equal(stepFromPath('/a/ckpt_7.json'), 7);
    assert.equal(stepFromPath('/a/epoch3-step200/model.json'), 200);
    assert.equal(stepFromPath('/a/final/model.json'), null);
    const file = path.join(root, 'run', 'step-2', 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    const dir = path.join(root, 'withfield', 'final');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ ...json, userDefinedMetadata: { step: 42 } }));
    writeFileSync(path.join(dir, 'group1-shard1of1.bin'), readFileSync(path.join(root, 'run', 'step-2', 'group1-shard1of1.bin')));
    const [h] = resolveCheckpoints(path.join(dir, 'model.json'));
    assert.equal(h.step, 42);
    assert.equal(h.stepSource, 'file');
  });

  it('orders a folder, a glob and a list of paths by step, not by name', () => {
    const byFolder = resolveCheckpoints(path.join(root, 'run'));
    assert.deepEqual(byFolder.map((h) => h.step), [1, 2, 10]);
    assert.ok(byFolder.every((h) => h.stepSource === 'path'));
    const byGlob = resolveCheckpoints(path.join(root, 'run', 'step-*', 'model.json'));
    assert.deepEqual(byGlob.map((h) => h.path), byFolder.map((h) => h.path));
    const relGlob = resolveCheckpoints('run/step-{1,10}/model.json', root);
    assert.deepEqual(relGlob.map((h) => h.step), [1, 10]);
    const list = resolveCheckpoints([path.join(root, 'run', 'step-10', 'model.json'), path.join(root, 'run', 'step-1', 'model.json')]);
    assert.deepEqual(list.map((h) => h.step), [1, 10]);
    assert.deepEqual(expandGlob(path.join(root, 'run', '**', 'model.json')).length, 3);
  });

  it('names what is wrong: no match, no step, duplicate steps, another architecture', async () => {
    assert.throws(() => findCheckpointFiles(path.join(root, 'nothing-*', 'model.json')), /matches no files/);
    assert.throws(() => resolveCheckpoints(path.join(root, 'missing', 'model.json')), /checkpoint not found/);

    const m = buildTinyModel(5);
    await save(m, path.join(root, 'nostep', 'final'));
    assert.throws(() => resolveCheckpoints(path.join(root, 'nostep')), /final[/\\]model\.json: has no step/);

    await save(m, path.join(root, 'dup', 'a-5'));
    await save(m, path.join(root, 'dup', 'b-5'));
    assert.throws(() => resolveCheckpoints(path.join(root, 'dup')), /b-5[/\\]model\.json: has step 5, like .*a-5[/\\]model\.json/);
    m.dispose();

    const other = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 5, activation: 'tanh' }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    const mixed = path.join(root, 'mixed');
    const good = buildTinyModel(7);
    await save(good, path.join(mixed, 'step-1'));
    await save(other, path.join(mixed, 'step-2'));
    good.dispose();
    other.dispose();
    assert.throws(
      () => resolveCheckpoints(mixed),
      (err: Error) => err.name === 'InputError' && /step-2[/\\]model\.json: is not the same architecture as step-1\/model\.json: weight 0 .* has shape \[4, 5\], expected \[4, 8\]/.test(err.message),
    );
  });
});
