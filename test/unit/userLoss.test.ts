import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { loadUserLoss } from '../../src/engine/loaders/userModule';
import { setEngineInfo } from '../../src/engine/runtime';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/** Custom JS/TS losses from the workspace, bundled with esbuild and run on the engine's TF.js. */
describe('user loss modules', () => {
  let ws: TinyWorkspace;
  let dir: string;
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    ws = await makeTinyWorkspace();
    dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-userloss-'));
  });

  it('a TypeScript loss equal to sparse cross-entropy gives the same landscape centre as the built-in', async () => {
    const file = path.join(dir, 'myLoss.ts');
    writeFileSync(
      file,
      `import * as tf from '@tensorflow/tfjs';
       export function myLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
         const y = tf.oneHot(tf.cast(yTrue, 'int32'), 3);
         return tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(yPred, 1e-7, 1 - 1e-7))), -1));
       }`,
    );
    const custom = await runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, lossModule: file, out: path.join(dir, 'c.losscape.json'), dims: 1, points: 3 }, quietContext());
    const builtin = await runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, loss: 'sparse_categorical_crossentropy', out: path.join(dir, 'b.losscape.json'), dims: 1, points: 3 }, quietContext());
    assert.ok(Math.abs(custom.result.centerLoss - builtin.result.centerLoss) <= 1e-6 * builtin.result.centerLoss);
    assert.equal(custom.provenance.loss.origin, 'module');
    assert.equal(custom.provenance.loss.name, 'myLoss.ts#myLoss');
  });

  it('a CommonJS module returning a scalar mean works too', async () => {
    const file = path.join(dir, 'mean.js');
    writeFileSync(file, `const tf = require('@tensorflow/tfjs'); module.exports.meanLoss = (y, p) => tf.mean(tf.square(tf.sub(p, tf.oneHot(tf.cast(y, 'int32'), 3))));`);
    const r = await runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, lossModule: file, out: path.join(dir, 'm.losscape.json'), dims: 1, points: 3 }, quietContext());
    assert.ok(r.result.centerLoss > 0 && r.result.centerLoss < 1);
  });

  it('names the file and the problem: syntax error, no such export, wrong shape', async () => {
    const broken = path.join(dir, 'broken.ts');
    writeFileSync(broken, 'export function loss( {');
    assert.throws(() => loadUserLoss(broken), /broken\.ts: does not compile \(line 1\)/);
    const two = path.join(dir, 'two.ts');
    writeFileSync(two, 'export const a = () => 1; export const b = () => 2;');
    assert.throws(() => loadUserLoss(two), /two\.ts: exports no loss function to pick \(functions exported: a, b\)/);
    assert.throws(() => loadUserLoss(two, 'c'), /two\.ts: exports no function 'c'/);
    const shape = path.join(dir, 'shape.ts');
    writeFileSync(shape, `import * as tf from '@tensorflow/tfjs'; export default (y: tf.Tensor, p: tf.Tensor) => tf.zeros([2, 2, 2]);`);
    await assert.rejects(
      runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, lossModule: shape, out: path.join(dir, 's.losscape.json'), dims: 1, points: 3 }, quietContext()),
      /shape\.ts: the loss function returned shape \[2,2,2\], expected \[80\]/,
    );
  });
});
