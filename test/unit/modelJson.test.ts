import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadLayersModelFromFile, saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { InputError } from '../../src/shared/errors';

interface ModelJsonFile {
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string; quantization?: object }[] }[];
  trainingConfig?: { loss?: unknown };
  [k: string]: unknown;
}

const SHARD = 'group1-shard1of1.bin';

function buildModel(compile: boolean): tf.Sequential {
  const m = tf.sequential({
    layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: 'relu' }), tf.layers.dense({ units: 2 })],
  });
  if (compile) m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  return m;
}

const probe = (): tf.Tensor => tf.tensor2d([[0.1, -0.2, 0.3], [1, 2, -3]]);
const predict = (m: tf.LayersModel): number[] => Array.from((m.predict(probe()) as tf.Tensor).dataSync());

describe('modelJson', () => {
  let root: string; // holds `model/` and things outside it
  let dir: string;
  let original: tf.Sequential;
  const modelPath = (): string => path.join(dir, 'model.json');
  const readJson = (): ModelJsonFile => JSON.parse(fs.readFileSync(modelPath(), 'utf-8'));
  const writeJson = (j: ModelJsonFile): void => fs.writeFileSync(modelPath(), JSON.stringify(j));
  /** Expects loading to fail with an InputError for model.json whose message matches `re`. */
  const rejects = (re: RegExp): Promise<void> =>
    assert.rejects(loadLayersModelFromFile(modelPath()), (e: Error) => {
      assert.ok(e instanceof InputError, `expected an InputError, got ${e.name}: ${e.message}`);
      assert.ok(e.message.startsWith(`${modelPath()}: `), e.message);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });

  before(async () => {
    await tf.setBackend('cpu');
  });

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'losscape-model-'));
    dir = path.join(root, 'model');
    original = buildModel(true);
    await saveLayersModelToDir(original, dir);
  });

  afterEach(() => {
    original.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  describe('round trip', () => {
    it('writes model.json and one shard, and reloads the same predictions', async () => {
      assert.deepEqual(fs.readdirSync(dir).sort(), [SHARD, 'model.json']);
      const loaded = await loadLayersModelFromFile(modelPath());
      try {
        assert.equal(loaded.format, 'tfjs-layers');
        assert.equal(loaded.path, path.resolve(modelPath()));
        assert.deepEqual(predict(loaded.model), predict(original));
        const expected = createHash('sha256').update(fs.readFileSync(modelPath())).update(fs.readFileSync(path.join(dir, SHARD))).digest('hex');
        assert.equal(loaded.sha256, expected);
      } finally {
        loaded.model.dispose();
      }
    });

    it("keeps a compiled model's training config (loss name) and omits it when not compiled", async () => {
      const loaded = await loadLayersModelFromFile(modelPath());
      assert.equal(loaded.trainingConfig?.loss, 'mean_squared_error');
      loaded.model.dispose();
      const plain = buildModel(false);
      const plainDir = path.join(root, 'plain');
      await saveLayersModelToDir(plain, plainDir);
      const reloaded = await loadLayersModelFromFile(path.join(plainDir, 'model.json'));
      assert.equal(reloaded.trainingConfig, undefined);
      assert.deepEqual(predict(reloaded.model), predict(plain));
      reloaded.model.dispose();
      plain.dispose();
    });

    it("reads the Keras converter's modelTopology.training_config", async () => {
      const j = readJson();
      delete j.trainingConfig;
      j.modelTopology.training_config = { loss: 'sparse_categorical_crossentropy' };
      writeJson(j);
      const loaded = await loadLayersModelFromFile(modelPath());
      assert.equal(loaded.trainingConfig?.loss, 'sparse_categorical_crossentropy');
      loaded.model.dispose();
    });

    it('concatenates several shards, including one in a subfolder', async () => {
      const bin = fs.readFileSync(path.join(dir, SHARD));
      fs.mkdirSync(path.join(dir, 'w'));
      fs.writeFileSync(path.join(dir, 'a.bin'), bin.subarray(0, 10));
      fs.writeFileSync(path.join(dir, 'w', 'b.bin'), bin.subarray(10));
      const j = readJson();
      j.weightsManifest[0].paths = ['a.bin', 'w/b.bin'];
      writeJson(j);
      const loaded = await loadLayersModelFromFile(modelPath());
      assert.deepEqual(predict(loaded.model), predict(original));
      loaded.model.dispose();
    });

    it('dequantizes uint8-quantized weights', async () => {
      // Replace the first bias (2nd spec, 4 float32s after the 3x4 kernel) with 4 uint8 codes.
      const bin = fs.readFileSync(path.join(dir, SHARD));
      const kernelBytes = 3 * 4 * 4;
      const codes = Uint8Array.from([0, 1, 2, 255]);
      fs.writeFileSync(path.join(dir, SHARD), Buffer.concat([bin.subarray(0, kernelBytes), codes, bin.subarray(kernelBytes + 16)]));
      const j = readJson();
      j.weightsManifest[0].weights[1].quantization = { dtype: 'uint8', scale: 0.5, min: -1 };
      writeJson(j);
      const loaded = await loadLayersModelFromFile(modelPath());
      assert.deepEqual(Array.from(loaded.model.layers[0].getWeights()[1].dataSync()), [-1, -0.5, 0, 126.5]);
      loaded.model.dispose();
    });
  });

  describe('weight paths that leave the model folder', () => {
    beforeEach(() => {
      fs.copyFileSync(path.join(dir, SHARD), path.join(root, 'evil.bin')); // a valid shard, outside
    });
    it("refuses '../evil.bin'", async () => {
      const j = readJson();
      j.weightsManifest[0].paths = ['../evil.bin'];
      writeJson(j);
      await rejects(/weight path '\.\.\/evil\.bin' points outside the model's folder/);
    });
    it('refuses an absolute path', async () => {
      const j = readJson();
      j.weightsManifest[0].paths = [path.join(root, 'evil.bin')];
      writeJson(j);
      await rejects(/weight path '.*evil\.bin' points outside the model's folder/);
    });
    it('refuses a URL', async () => {
      const j = readJson();
      j.weightsManifest[0].paths = [`file://${path.join(root, 'evil.bin')}`];
      writeJson(j);
      await rejects(/weight path 'file:\/\/.*' points outside the model's folder/);
    });
    it('refuses a symlink inside the folder that resolves outside it', async () => {
      fs.symlinkSync(path.join(root, 'evil.bin'), path.join(dir, 'link.bin'));
      const j = readJson();
      j.weightsManifest[0].paths = ['link.bin'];
      writeJson(j);
      await rejects(/weight path 'link\.bin' points outside the model's folder/);
    });
    it('accepts a symlink that stays inside the folder', async () => {
      fs.symlinkSync(path.join(dir, SHARD), path.join(dir, 'inside.bin'));
      const j = readJson();
      j.weightsManifest[0].paths = ['inside.bin'];
      writeJson(j);
      const loaded = await loadLayersModelFromFile(modelPath());
      loaded.model.dispose();
    });
  });

  describe('bad shards and manifests', () => {
    it('refuses a missing shard, naming it', async () => {
      fs.rmSync(path.join(dir, SHARD));
      await rejects(/weight shard 'group1-shard1of1\.bin' listed in weightsManifest was not found/);
    });
    it('refuses a short shard, naming it and the sizes', async () => {
      const bin = fs.readFileSync(path.join(dir, SHARD));
      fs.writeFileSync(path.join(dir, SHARD), bin.subarray(0, bin.length - 4));
      // 3*4 + 4 + 4*2 + 2 = 26 float32 weights = 104 bytes
      await rejects(/weight shard 'group1-shard1of1\.bin' \(100 bytes\) is too short .*needs 104 bytes, the shards hold 100/);
    });
    it('refuses a shard longer than its weights', async () => {
      fs.appendFileSync(path.join(dir, SHARD), Buffer.alloc(8));
      await rejects(/weight shard 'group1-shard1of1\.bin' \(112 bytes\) is longer than its weights need/);
    });
    it('refuses a weight whose shape does not match the topology, naming the weight', async () => {
      const j = readJson();
      const kernel = j.weightsManifest[0].weights[0];
      assert.deepEqual(kernel.shape, [3, 4]);
      kernel.shape = [4, 3]; // same byte count, so only the shape check can catch it
      writeJson(j);
      const name = kernel.name.replace(/[/.]/g, '\\$&');
      const variablesBefore = Object.keys(tf.engine().registeredVariables).length;
      await rejects(new RegExp(`weight '${name}' has shape \\[4, 3\\] in weightsManifest but modelTopology needs \\[3, 4\\]`));
      assert.equal(Object.keys(tf.engine().registeredVariables).length, variablesBefore, 'a failed load frees the variables it made');
    });
    it('refuses a manifest that lacks a weight', async () => {
      const j = readJson();
      const dropped = j.weightsManifest[0].weights.pop();
      assert.deepEqual(dropped?.shape, [2]);
      writeJson(j);
      const bin = fs.readFileSync(path.join(dir, SHARD));
      fs.writeFileSync(path.join(dir, SHARD), bin.subarray(0, bin.length - 8));
      await rejects(/weightsManifest lacks 1 of the model's 4 weights \(.*bias.*\)/);
    });
    it('refuses an unknown layer class, naming it', async () => {
      const text = fs.readFileSync(modelPath(), 'utf-8');
      assert.ok(text.includes('"class_name":"Dense"'));
      fs.writeFileSync(modelPath(), text.replace('"class_name":"Dense"', '"class_name":"FancyDense"'));
      await rejects(/unknown layer class 'FancyDense'/);
    });
    it('refuses an unknown activation', async () => {
      fs.writeFileSync(modelPath(), fs.readFileSync(modelPath(), 'utf-8').replace('"activation":"relu"', '"activation":"swooshy"'));
      await rejects(/unknown activation 'swooshy'/);
    });
    it('refuses non-JSON, a graph model, and a model.json without weights', async () => {
      fs.writeFileSync(modelPath(), '{"modelTopology": ');
      await rejects(/is not valid JSON/);
      fs.writeFileSync(modelPath(), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
      await rejects(/is a TF\.js graph model/);
      const j = { ...JSON.parse(JSON.stringify({ modelTopology: {} })) };
      fs.writeFileSync(modelPath(), JSON.stringify(j));
      await rejects(/has no weightsManifest/);
    });
    it('refuses a missing model.json with "not found"', async () => {
      fs.rmSync(modelPath());
      await rejects(/model file not found/);
    });
  });
});
