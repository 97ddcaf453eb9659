import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { quietContext } from '../../src/engine/analysisContext';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { Rng } from '../../src/engine/linalg/rng';
import { convertModel, toSnakeCase } from '../../src/engine/loaders/kerasConfig';
import { loadModel } from '../../src/engine/loaders/model';
import { lossFromTrainingConfig } from '../../src/engine/losses';
import { setEngineInfo } from '../../src/engine/runtime';
import { InputError } from '../../src/shared/errors';
import {
  k2H5,
  k3BatchNorm,
  k3Call,
  k3CompileConfig,
  k3Conv2D,
  k3Dense,
  k3Flatten,
  k3Functional,
  k3Init,
  k3Input,
  k3Layer,
  k3Merge,
  k3Sequential,
  k3WeightsH5,
  kerasZip,
  layerTensors,
  type Json,
  type K2Layer,
  type Tensor,
} from './helpers/kerasFixtures';
import { makeTinyWorkspace } from './helpers/tinyModel';

/** Seeded weights for every layer (BN variances kept positive), so a wrong order shows. */
function randomise(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights().map((w, k) => {
      const v = Float32Array.from({ length: w.size }, () => 0.5 * rng.normal());
      if (layer.weights[k].originalName.endsWith('moving_variance')) v.forEach((x, i) => (v[i] = Math.abs(x) + 0.5));
      return tf.tensor(v, w.shape);
    });
    if (ws.length) layer.setWeights(ws);
    tf.dispose(ws);
  }
}

function randomInput(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

function maxDiff(a: tf.LayersModel, b: tf.LayersModel, x: tf.Tensor): number {
  return tf.tidy(() => (a.predict(x) as tf.Tensor).sub(b.predict(x) as tf.Tensor).abs().max().dataSync()[0]);
}

const weightsOf = (m: tf.LayersModel, name: string): Tensor[] => layerTensors(m.getLayer(name));

function sparseCce(): Json {
  return { class_name: 'SparseCategoricalCrossentropy', config: { reduction: 'auto', name: 'sparse_categorical_crossentropy', from_logits: false, ignore_class: null } };
}

// ---- fixtures ------------------------------------------------------------------------------

/** tfjs reference: 4 → dense(8, tanh) → dense_1(3, softmax). */
function tinyReference(): tf.LayersModel {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'tanh', name: 'dense' }), tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense_1' })] });
  randomise(m, 3);
  return m;
}

function tinyK3Config(): Json {
  return k3Sequential('sequential', [k3Input('input_layer', [null, 4]), k3Dense('dense', 8, 'tanh', [null, 4]), k3Dense('dense_1', 3, 'softmax', [null, 8])], k3CompileConfig('sparse_categorical_crossentropy'));
}

async function tinyKeras(ref: tf.LayersModel, opts: Parameters<typeof k3WeightsH5>[1] = {}, config = tinyK3Config()): Promise<Uint8Array> {
  const weights = await k3WeightsH5([{ className: 'Dense', weights: weightsOf(ref, 'dense') }, { className: 'Dense', weights: weightsOf(ref, 'dense_1') }], opts);
  return kerasZip(config, weights);
}

function k2Dense(name: string, units: number, activation: string, inputShape?: number[]): Json {
  return {
    class_name: 'Dense',
    config: {
      name,
      trainable: true,
      dtype: 'float32',
      ...(inputShape ? { batch_input_shape: [null, ...inputShape] } : {}),
      units,
      activation,
      use_bias: true,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
  };
}

async function tinyH5(ref: tf.LayersModel, mutate: (layers: K2Layer[]) => void = () => {}, opts: Parameters<typeof k2H5>[3] = {}): Promise<Uint8Array> {
  const layers: K2Layer[] = [
    { entry: k2Dense('dense', 8, 'tanh', [4]), weightNames: ['dense/kernel:0', 'dense/bias:0'], weights: weightsOf(ref, 'dense') },
    { entry: k2Dense('dense_1', 3, 'softmax'), weightNames: ['dense_1/kernel:0', 'dense_1/bias:0'], weights: weightsOf(ref, 'dense_1') },
  ];
  mutate(layers);
  const input = { class_name: 'InputLayer', config: { batch_input_shape: [null, 4], dtype: 'float32', sparse: false, ragged: false, name: 'dense_input' } };
  const config = { class_name: 'Sequential', config: { name: 'sequential', layers: [input, ...layers.map((l) => l.entry)] } };
  const training = { loss: sparseCce(), metrics: [[{ class_name: 'MeanMetricWrapper', config: { name: 'accuracy', dtype: 'float32', fn: 'sparse_categorical_accuracy' } }]], weighted_metrics: null, loss_weights: null, optimizer_config: { class_name: 'Custom>SGD', config: { name: 'SGD', learning_rate: 0.01 }, is_legacy_optimizer: false } };
  return k2H5(config, layers, training, opts);
}

/** tfjs reference: [6, 6, 2] → conv2d(4, 3×3, relu) → batch_normalization → flatten → dense(3, softmax). */
function convReference(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2], name: 'input_layer' });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'conv2d' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'batch_normalization' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense' }).apply(x) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  randomise(m, 5);
  return m;
}

async function convKeras(ref: tf.LayersModel, layerClass = 'BatchNormalization'): Promise<Uint8Array> {
  const inp = k3Input('input_layer', [null, 6, 6, 2]);
  const conv = k3Conv2D('conv2d', 4, 3, 'relu', [null, 6, 6, 2]);
  const bn = k3BatchNorm('batch_normalization', conv.outShape);
  if (layerClass !== 'BatchNormalization') Object.assign(bn.entry, { module: 'my_package', class_name: layerClass, registered_name: `my_package>${layerClass}` });
  const fl = k3Flatten('flatten', bn.outShape);
  const dense = k3Dense('dense', 3, 'softmax', fl.outShape);
  const entries = [
    k3Call(inp, []),
    k3Call(conv, [{ name: 'input_layer', shape: inp.outShape }]),
    k3Call(bn, [{ name: 'conv2d', shape: conv.outShape }]),
    k3Call(fl, [{ name: 'batch_normalization', shape: bn.outShape }]),
    k3Call(dense, [{ name: 'flatten', shape: fl.outShape }]),
  ];
  const loss = { module: 'keras.src.losses.losses', class_name: 'function', config: 'sparse_categorical_crossentropy', registered_name: 'sparse_categorical_crossentropy' };
  const config = k3Functional('functional', entries, ['input_layer'], ['dense'], k3CompileConfig(loss));
  const weights = await k3WeightsH5([
    { className: 'InputLayer' },
    { className: 'Conv2D', weights: weightsOf(ref, 'conv2d') },
    { className: 'BatchNormalization', weights: weightsOf(ref, 'batch_normalization') },
    { className: 'Flatten' },
    { className: 'Dense', weights: weightsOf(ref, 'dense') },
  ]);
  return kerasZip(config, weights);
}

/** Two branches merged: [5] → dense(4, relu), dense_1(4, tanh) → add → concatenate with the input → dense_2(2). */
function mergeReference(): tf.LayersModel {
  const input = tf.input({ shape: [5], name: 'input_layer' });
  const a = tf.layers.dense({ units: 4, activation: 'relu', name: 'dense' }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.dense({ units: 4, activation: 'tanh', name: 'dense_1' }).apply(input) as tf.SymbolicTensor;
  const s = tf.layers.add({ name: 'add' }).apply([a, b]) as tf.SymbolicTensor;
  const c = tf.layers.concatenate({ name: 'concatenate' }).apply([s, input]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, name: 'dense_2' }).apply(c) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  randomise(m, 7);
  return m;
}

async function mergeKeras(ref: tf.LayersModel): Promise<Uint8Array> {
  const inp = k3Input('input_layer', [null, 5]);
  const d0 = k3Dense('dense', 4, 'relu', [null, 5]);
  const d1 = k3Dense('dense_1', 4, 'tanh', [null, 5]);
  const add = k3Merge('Add', 'add', [[null, 4], [null, 4]], [null, 4]);
  const cat = k3Merge('Concatenate', 'concatenate', [[null, 4], [null, 5]], [null, 9]);
  const d2 = k3Dense('dense_2', 2, 'linear', [null, 9]);
  const src = (name: string, shape: (number | null)[]) => ({ name, shape });
  const entries = [
    k3Call(inp, []),
    k3Call(d0, [src('input_layer', [null, 5])]),
    k3Call(d1, [src('input_layer', [null, 5])]),
    k3Call(add, [src('dense', [null, 4]), src('dense_1', [null, 4])], true),
    k3Call(cat, [src('add', [null, 4]), src('input_layer', [null, 5])], true),
    k3Call(d2, [src('concatenate', [null, 9])]),
  ];
  const loss = { module: 'keras.losses', class_name: 'MeanSquaredError', config: { name: 'mean_squared_error', reduction: 'sum_over_batch_size' }, registered_name: null };
  const config = k3Functional('functional_1', entries, ['input_layer'], ['dense_2'], k3CompileConfig(loss));
  const weights = await k3WeightsH5([
    { className: 'InputLayer' },
    { className: 'Dense', weights: weightsOf(ref, 'dense') },
    { className: 'Dense', weights: weightsOf(ref, 'dense_1') },
    { className: 'Add' },
    { className: 'Concatenate' },
    { className: 'Dense', weights: weightsOf(ref, 'dense_2') },
  ]);
  return kerasZip(config, weights);
}

/** The other layers Losscape supports, in one Sequential image model and one text model. */
function zooReference(): tf.LayersModel[] {
  const img = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, name: 'conv2d' }),
      tf.layers.reLU({ name: 're_lu' }),
      tf.layers.averagePooling2d({ poolSize: 2, name: 'average_pooling2d' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1, name: 'max_pooling2d' }),
      tf.layers.dropout({ rate: 0.3, name: 'dropout' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 5, name: 'dense' }),
      tf.layers.activation({ activation: 'tanh', name: 'activation' }),
      tf.layers.dense({ units: 3, name: 'dense_1' }),
      tf.layers.softmax({ name: 'softmax' }),
    ],
  });
  const text = tf.sequential({
    layers: [tf.layers.embedding({ inputShape: [6], inputDim: 10, outputDim: 3, name: 'embedding' }), tf.layers.flatten({ name: 'flatten' }), tf.layers.dense({ units: 2, name: 'dense' })],
  });
  randomise(img, 11);
  randomise(text, 13);
  return [img, text];
}

async function zooKeras([img, text]: tf.LayersModel[]): Promise<Uint8Array[]> {
  const pool = (n: number, s: number) => ({ pool_size: [n, n], padding: 'valid', strides: [s, s], data_format: 'channels_last' });
  const imgLayers = [
    k3Input('input_layer', [null, 8, 8, 1]),
    k3Conv2D('conv2d', 2, 3, 'linear', [null, 8, 8, 1]),
    k3Layer('ReLU', 're_lu', { max_value: null, negative_slope: 0.0, threshold: 0.0 }, [null, 6, 6, 2], [null, 6, 6, 2]),
    k3Layer('AveragePooling2D', 'average_pooling2d', pool(2, 2), [null, 6, 6, 2], [null, 3, 3, 2]),
    k3Layer('MaxPooling2D', 'max_pooling2d', pool(2, 1), [null, 3, 3, 2], [null, 2, 2, 2]),
    k3Layer('Dropout', 'dropout', { rate: 0.3, seed: null, noise_shape: null }, [null, 2, 2, 2], [null, 2, 2, 2]),
    k3Flatten('flatten', [null, 2, 2, 2]),
    k3Dense('dense', 5, 'linear', [null, 8]),
    k3Layer('Activation', 'activation', { activation: 'tanh' }, [null, 5], [null, 5]),
    k3Dense('dense_1', 3, 'linear', [null, 5]),
    k3Layer('Softmax', 'softmax', { axis: -1 }, [null, 3], [null, 3]),
  ];
  const embedding = k3Layer('Embedding', 'embedding', {
    input_dim: 10,
    output_dim: 3,
    embeddings_initializer: k3Init('RandomUniform', { minval: -0.05, maxval: 0.05, seed: null }),
    embeddings_regularizer: null,
    activity_regularizer: null,
    embeddings_constraint: null,
    mask_zero: false,
  }, [null, 6], [null, 6, 3]);
  const textLayers = [k3Input('input_layer', [null, 6]), embedding, k3Flatten('flatten', [null, 6, 3]), k3Dense('dense', 2, 'linear', [null, 18])];
  const store = (m: tf.LayersModel, cfg: Json) =>
    k3WeightsH5(((cfg.config as Json).layers as Json[]).slice(1).map((e) => {
      const name = String((e.config as Json).name);
      return { className: String(e.class_name), weights: weightsOf(m, name) };
    }));
  const imgCfg = k3Sequential('sequential', imgLayers, null);
  const textCfg = k3Sequential('sequential_1', textLayers, k3CompileConfig('mse'));
  return [kerasZip(imgCfg, await store(img, imgCfg)), kerasZip(textCfg, await store(text, textCfg))];
}

/** A Sequential used as a layer of a Functional model: [4] → sequential(dense, dense_1) → dense_2. */
function nestedReference(): tf.LayersModel {
  const inner = tf.sequential({ name: 'sequential', layers: [tf.layers.dense({ inputShape: [4], units: 6, activation: 'relu', name: 'dense' }), tf.layers.dense({ units: 5, name: 'dense_1' })] });
  const input = tf.input({ shape: [4], name: 'input_layer_1' });
  const h = inner.apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, name: 'dense_2' }).apply(h) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  randomise(inner, 17);
  randomise(m, 19);
  return m;
}

async function nestedKeras(ref: tf.LayersModel): Promise<Uint8Array> {
  const inner = ref.getLayer('sequential') as tf.LayersModel;
  const seq = k3Sequential('sequential', [k3Input('input_layer', [null, 4]), k3Dense('dense', 6, 'relu', [null, 4]), k3Dense('dense_1', 5, 'linear', [null, 6])], null);
  const seqLayer = { entry: seq, outShape: [null, 5] };
  const inp = k3Input('input_layer_1', [null, 4]);
  const d2 = k3Dense('dense_2', 2, 'linear', [null, 5]);
  const entries = [k3Call(inp, []), k3Call(seqLayer, [{ name: 'input_layer_1', shape: [null, 4] }]), k3Call(d2, [{ name: 'sequential', shape: [null, 5] }])];
  entries[1].name = 'sequential';
  const config = k3Functional('functional_2', entries, ['input_layer_1'], ['dense_2'], null);
  const weights = await k3WeightsH5([
    { className: 'InputLayer' },
    { className: 'Sequential', children: [{ className: 'Dense', weights: weightsOf(inner, 'dense') }, { className: 'Dense', weights: weightsOf(inner, 'dense_1') }] },
    { className: 'Dense', weights: weightsOf(ref, 'dense_2') },
  ]);
  return kerasZip(config, weights);
}

/** The conv model as tf.keras 2.15 saves it to .h5: Keras 2 nodes, BatchNormalization axis [3]. */
async function convH5(ref: tf.LayersModel): Promise<Uint8Array> {
  const init = (c: string) => ({ class_name: c, config: c === 'GlorotUniform' ? { seed: null } : {} });
  const node = (from: string) => [[[from, 0, 0, {}]]];
  const entry = (className: string, name: string, config: Json, from: string | null): Json => ({ class_name: className, config: { name, trainable: true, dtype: 'float32', ...config }, name, inbound_nodes: from ? node(from) : [] });
  const input: Json = { class_name: 'InputLayer', config: { batch_input_shape: [null, 6, 6, 2], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' }, name: 'input_1', inbound_nodes: [] };
  const conv = entry('Conv2D', 'conv2d', { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'relu', use_bias: true, kernel_initializer: init('GlorotUniform'), bias_initializer: init('Zeros'), kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null }, 'input_1');
  const bn = entry('BatchNormalization', 'batch_normalization', { axis: [3], momentum: 0.99, epsilon: 0.001, center: true, scale: true, beta_initializer: init('Zeros'), gamma_initializer: init('Ones'), moving_mean_initializer: init('Zeros'), moving_variance_initializer: init('Ones'), beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null }, 'conv2d');
  const flatten = entry('Flatten', 'flatten', { data_format: 'channels_last' }, 'batch_normalization');
  const dense = entry('Dense', 'dense', { units: 3, activation: 'softmax', use_bias: true, kernel_initializer: init('GlorotUniform'), bias_initializer: init('Zeros'), kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null }, 'flatten');
  const config = { class_name: 'Functional', config: { name: 'model', layers: [input, conv, bn, flatten, dense], input_layers: [['input_1', 0, 0]], output_layers: [['dense', 0, 0]] } };
  const names = (layer: string, ws: string[]) => ws.map((w) => `${layer}/${w}:0`);
  const layers: K2Layer[] = [
    { entry: input, weightNames: [], weights: [] },
    { entry: conv, weightNames: names('conv2d', ['kernel', 'bias']), weights: weightsOf(ref, 'conv2d') },
    { entry: bn, weightNames: names('batch_normalization', ['gamma', 'beta', 'moving_mean', 'moving_variance']), weights: weightsOf(ref, 'batch_normalization') },
    { entry: flatten, weightNames: [], weights: [] },
    { entry: dense, weightNames: names('dense', ['kernel', 'bias']), weights: weightsOf(ref, 'dense') },
  ];
  return k2H5(config, layers, { loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'], weighted_metrics: null, loss_weights: null, optimizer_config: { class_name: 'Adam', config: {} } });
}

// ---- tests ---------------------------------------------------------------------------------

describe('Keras model loading (.keras and .h5)', function () {
  let dir: string;
  const file = (name: string, bytes: Uint8Array | string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const rejects = async (p: string, ...parts: (string | RegExp)[]): Promise<void> => {
    await assert.rejects(loadModel(p), (e: Error) => {
      assert.ok(e instanceof InputError, `not an InputError: ${e.stack}`);
      assert.ok(e.message.includes(p), `message does not name the file: ${e.message}`);
      for (const part of parts) assert.ok(typeof part === 'string' ? e.message.includes(part) : part.test(e.message), `message lacks ${part}: ${e.message}`);
      return true;
    });
  };

  before(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-keras-'));
  });

  it('.keras Sequential (Keras 3): predictions, training-config loss, hash, format', async () => {
    const ref = tinyReference();
    const bytes = await tinyKeras(ref);
    const p = file('tiny.keras', bytes);
    const loaded = await loadModel(p);
    try {
      assert.equal(loaded.format, 'keras');
      assert.equal(loaded.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(loaded.path, path.resolve(p));
      assert.ok(maxDiff(loaded.model, ref, randomInput([16, 4], 1)) <= 1e-6);
      assert.equal(loaded.trainingConfig?.loss, 'sparse_categorical_crossentropy');
      assert.equal(lossFromTrainingConfig(loaded.trainingConfig?.loss, 'tiny.keras')?.name, 'categorical_crossentropy');
    } finally {
      loaded.model.dispose();
      ref.dispose();
    }
  });

  it('.keras with Keras 2.13 weight groups (_layer_checkpoint_dependencies)', async () => {
    const ref = tinyReference();
    const loaded = await loadModel(file('legacy-root.keras', await tinyKeras(ref, { legacyRoot: true })));
    assert.ok(maxDiff(loaded.model, ref, randomInput([8, 4], 2)) <= 1e-6);
    loaded.model.dispose();
    ref.dispose();
  });

  it('.h5 Sequential (tf.keras 2 legacy HDF5): predictions and training_config loss object', async () => {
    const ref = tinyReference();
    for (const ext of ['h5', 'hdf5']) {
      const bytes = await tinyH5(ref);
      const loaded = await loadModel(file(`tiny.${ext}`, bytes));
      try {
        assert.equal(loaded.format, 'keras-h5');
        assert.equal(loaded.sha256, createHash('sha256').update(bytes).digest('hex'));
        assert.ok(maxDiff(loaded.model, ref, randomInput([16, 4], 3)) <= 1e-6);
        const resolved = lossFromTrainingConfig(loaded.trainingConfig?.loss, 'tiny.h5');
        assert.equal(resolved?.name, 'categorical_crossentropy');
        assert.equal(resolved?.fromLogits, false);
      } finally {
        loaded.model.dispose();
      }
    }
    ref.dispose();
  });

  it('.keras Functional Conv2D + BatchNormalization + Flatten + Dense', async () => {
    const ref = convReference();
    const loaded = await loadModel(file('conv.keras', await convKeras(ref)));
    try {
      assert.deepEqual(loaded.model.inputs[0].shape, [null, 6, 6, 2]);
      assert.ok(maxDiff(loaded.model, ref, randomInput([5, 6, 6, 2], 4)) <= 1e-6);
      // BatchNormalization's moving statistics (non-trainable) came from the file too.
      const bn = loaded.model.getLayer('batch_normalization').getWeights();
      assert.equal(bn.length, 4);
      assert.deepEqual(Array.from(bn[3].dataSync()), Array.from(ref.getLayer('batch_normalization').getWeights()[3].dataSync()));
      assert.equal(loaded.trainingConfig?.loss, 'sparse_categorical_crossentropy');
    } finally {
      loaded.model.dispose();
      ref.dispose();
    }
  });

  it('.h5 Functional Conv2D + BatchNormalization (Keras 2 nodes, weightless layers in layer_names)', async () => {
    const ref = convReference();
    const loaded = await loadModel(file('conv.h5', await convH5(ref)));
    try {
      assert.ok(maxDiff(loaded.model, ref, randomInput([5, 6, 6, 2], 9)) <= 1e-6);
      assert.equal(loaded.trainingConfig?.loss, 'sparse_categorical_crossentropy');
    } finally {
      loaded.model.dispose();
      ref.dispose();
    }
  });

  it('.keras Functional with Add and Concatenate (multi-input nodes)', async () => {
    const ref = mergeReference();
    const loaded = await loadModel(file('merge.keras', await mergeKeras(ref)));
    try {
      assert.ok(maxDiff(loaded.model, ref, randomInput([6, 5], 5)) <= 1e-6);
      assert.equal(lossFromTrainingConfig(loaded.trainingConfig?.loss, 'merge.keras')?.name, 'mse');
    } finally {
      loaded.model.dispose();
      ref.dispose();
    }
  });

  it('.keras Sequential models of ReLU, pooling, Dropout, Activation, Softmax and Embedding layers', async () => {
    const refs = zooReference();
    const files = await zooKeras(refs);
    const inputs = [randomInput([4, 8, 8, 1], 6), tf.tensor2d([[0, 1, 2, 3, 4, 5], [9, 8, 7, 6, 5, 4]])];
    for (let i = 0; i < 2; i++) {
      const loaded = await loadModel(file(`zoo${i}.keras`, files[i]));
      assert.ok(maxDiff(loaded.model, refs[i], inputs[i]) <= 1e-6, `model ${i}`);
      loaded.model.dispose();
      refs[i].dispose();
    }
  });

  it('.keras Functional with a nested Sequential', async () => {
    const ref = nestedReference();
    const loaded = await loadModel(file('nested.keras', await nestedKeras(ref)));
    try {
      assert.ok(maxDiff(loaded.model, ref, randomInput([3, 4], 8)) <= 1e-6);
    } finally {
      loaded.model.dispose();
      ref.dispose();
    }
  });

  it('unknown layer class: InputError naming the file, layer and class', async () => {
    const ref = convReference();
    await rejects(file('custom.keras', await convKeras(ref, 'MyNorm')), "'batch_normalization'", 'MyNorm');
    ref.dispose();
  });

  it('missing weights dataset: InputError naming the layer and the dataset', async () => {
    const ref = tinyReference();
    await rejects(file('missing.keras', await tinyKeras(ref, { skip: 'layers/dense_1/vars/1' })), "'dense_1'", 'layers/dense_1/vars/1');
    await rejects(
      file('missing.h5', await tinyH5(ref, (layers) => layers[1].weightNames.push('dense_1/extra:0'))),
      "'dense_1'",
      'dense_1/extra:0',
    );
    ref.dispose();
  });

  it('shape mismatch: InputError naming the layer and both shapes', async () => {
    const ref = tinyReference();
    await rejects(file('shape.keras', await tinyKeras(ref, { transpose: 'layers/dense/vars/0' })), "'dense'", '[8, 4]', '[4, 8]');
    await rejects(file('shape.h5', await tinyH5(ref, (layers) => (layers[0].weights[0] = { shape: [8, 4], data: layers[0].weights[0].data }))), "'dense'", '[8, 4]', '[4, 8]');
    ref.dispose();
  });

  it('leaves no tensors or variables behind, loaded or refused', async () => {
    const ref = convReference();
    const good = file('leak.keras', await convKeras(ref));
    const bad = file('leak-bad.keras', await convKeras(ref, 'MyNorm'));
    const tinyRef = tinyReference();
    const badShape = file('leak-shape.keras', await tinyKeras(tinyRef, { transpose: 'layers/dense_1/vars/0' }));
    const before = tf.memory().numTensors;
    const vars = Object.keys(tf.engine().registeredVariables).length;
    (await loadModel(good)).model.dispose();
    await assert.rejects(loadModel(bad), InputError);
    await assert.rejects(loadModel(badShape), InputError);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(Object.keys(tf.engine().registeredVariables).length, vars);
    ref.dispose();
    tinyRef.dispose();
  });

  it('weight count mismatch and weights for an unknown layer', async () => {
    const ref = tinyReference();
    await rejects(file('count.h5', await tinyH5(ref, (layers) => layers[1].weightNames.pop())), "'dense_1'", /2 weight tensors.*but 1/);
    await rejects(
      file('stray.h5', await tinyH5(ref, (layers) => (layers[1].fileName = 'ghost'))),
      "'ghost'",
    );
    ref.dispose();
  });

  it('files that are not what their extension says', async () => {
    await rejects(file('text.keras', 'not a zip'), 'not a .keras archive');
    await rejects(file('text.h5', 'not hdf5 either'), 'not an HDF5 file');
    await rejects(file('zip.h5', zipSync({ 'a.txt': new TextEncoder().encode('x') })), 'zip archive, not HDF5', 'rename it to .keras');
    const ref0 = tinyReference();
    await rejects(file('h5.keras', await tinyH5(ref0)), 'not a .keras archive', 'rename it to .h5');
    ref0.dispose();
    const badWeights = zipSync({ 'config.json': new TextEncoder().encode(JSON.stringify(tinyK3Config())), 'model.weights.h5': new TextEncoder().encode('garbage') });
    await rejects(file('badweights.keras', badWeights), 'model.weights.h5 is not an HDF5 file');
    await rejects(file('noconfig.keras', zipSync({ 'x.txt': new Uint8Array(1) })), 'no config.json');
    const ref = tinyReference();
    await rejects(file('weightsonly.h5', await tinyH5(ref, () => {}, { noModelConfig: true })), 'weights only');
    ref.dispose();
    await rejects(file('model.onnx', 'x'), 'supported:', '.keras');
    await rejects(path.join(dir, 'absent.keras'), 'not found');
  });
});

describe('Keras config conversion', function () {
  it("names weight groups as Keras's naming.to_snake_case does", () => {
    const cases: Record<string, string> = { Dense: 'dense', Conv2D: 'conv2d', BatchNormalization: 'batch_normalization', ReLU: 're_lu', PReLU: 'p_re_lu', InputLayer: 'input_layer', Conv2DTranspose: 'conv2d_transpose', MaxPooling2D: 'max_pooling2d' };
    for (const [cls, snake] of Object.entries(cases)) assert.equal(toSnakeCase(cls), snake, cls);
  });

  it('maps float dtype policies to float32 and refuses quantized ones and unsupported options', () => {
    const model = (dtype: unknown, extra: Json = {}): Json => {
      const dense = k3Dense('d', 1, 'linear', [null, 2]);
      Object.assign(dense.entry.config as Json, { dtype, ...extra });
      return k3Sequential('s', [k3Input('input_layer', [null, 2]), dense], null);
    };
    const denseConfig = (m: Json): Json => (((convertModel(m).config as Json).layers as Json[])[1].config as Json);
    const policy = (name: string, cls = 'DTypePolicy') => ({ module: 'keras', class_name: cls, config: { name }, registered_name: null });
    assert.equal(denseConfig(model(policy('mixed_float16'))).dtype, 'float32');
    assert.equal(denseConfig(model('float32')).dtype, 'float32');
    // Initialisers are replaced: every weight is set from the file.
    assert.deepEqual(denseConfig(model('float32')).kernel_initializer, { class_name: 'Zeros', config: {} });
    assert.throws(() => convertModel(model(policy('int8_from_float32', 'QuantizedDTypePolicy'))), /layer 'd'.*quantized/);
    assert.throws(() => convertModel(model('float32', { lora_rank: 4 })), /layer 'd'.*LoRA/);
    assert.throws(() => convertModel({ module: 'my', class_name: 'MyModel', config: {} }), /subclassed/);
  });
});

describe('Keras model loading end to end', function () {
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
  });

  it('runLandscape on a .keras model gives the centre loss of the same model as model.json', async () => {
    const ws = await makeTinyWorkspace();
    const json = await loadModel(ws.model);
    // The tiny workspace model (4-8-3, tanh/softmax) as Keras 3 would save it.
    const [l0, l1] = json.model.layers.filter((l) => l.weights.length > 0);
    const weights = await k3WeightsH5([{ className: 'Dense', weights: layerTensors(l0) }, { className: 'Dense', weights: layerTensors(l1) }]);
    json.model.dispose();
    const kerasPath = path.join(ws.dir, 'tiny.keras');
    writeFileSync(kerasPath, kerasZip(tinyK3Config(), weights));
    const run = (model: string, out: string) => runLandscape({ kind: 'landscape', model, data: ws.data, out: path.join(ws.dir, out), dims: 1, points: 5 }, quietContext());
    const fromJson = await run(ws.model, 'json.losscape.json');
    const fromKeras = await run(kerasPath, 'keras.losscape.json');
    assert.ok(Math.abs(fromKeras.result.centerLoss - fromJson.result.centerLoss) <= 1e-6 * fromJson.result.centerLoss, `${fromKeras.result.centerLoss} vs ${fromJson.result.centerLoss}`);
    assert.equal(fromKeras.result.centerAccuracy, fromJson.result.centerAccuracy);
    // --loss was omitted: it came from config.json's compile_config.
    assert.equal(fromKeras.provenance.loss.origin, 'trainingConfig');
    assert.equal(fromKeras.provenance.loss.name, 'categorical_crossentropy');
    // A softmax-final model: the cross-entropy reads the pre-softmax values, as Keras does.
    assert.equal(fromKeras.provenance.loss.fromLogits, true);
    assert.equal(fromKeras.provenance.loss.reading, 'pre-activation');
  });
});
