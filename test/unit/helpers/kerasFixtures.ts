import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { h5wasm, type H5File, type H5Group } from '../../../src/engine/loaders/h5';

/**
 * Keras model files written the way Keras writes them, without Python:
 *
 * - `.keras`: Keras 3's saving_lib (keras/src/saving/saving_lib.py, Keras 3.x master as read for
 *   this code, layout unchanged since 3.0): an uncompressed zip of metadata.json, config.json
 *   (serialize_keras_object(model) + compile_config) and model.weights.h5, whose groups are
 *   `vars` (the model's own, empty), `layers/<snake_case(class)>[_n]/vars/<i>` per layer of
 *   `model.layers` (trainable then non-trainable variables) and `optimizer/vars/<i>`.
 * - `.h5`: the legacy HDF5 format of tf.keras 2.15 (keras/src/legacy/saving/legacy_h5_format.py,
 *   tf.keras hdf5_format.py): root attributes keras_version, backend, model_config and
 *   training_config (JSON as bytes), group model_weights with `layer_names`, one group per layer
 *   with `weight_names` ("dense/kernel:0", …) naming datasets inside it, and optimizer_weights.
 */

export type Json = Record<string, unknown>;
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export function layerTensors(layer: tf.layers.Layer): Tensor[] {
  return layer.getWeights().map((w) => ({ shape: w.shape, data: w.dataSync() as Float32Array }));
}

/** Creates the groups of `path` one by one (h5wasm, unlike h5py, makes no intermediate groups). */
export function ensureGroup(root: H5Group, path: string): H5Group {
  let g = root;
  for (const part of path.split('/').filter(Boolean)) g = (g.keys().includes(part) ? g.get(part) : g.create_group(part)) as H5Group;
  return g;
}

let n = 0;
export async function writeH5(build: (f: H5File) => void): Promise<Uint8Array> {
  const h5 = await h5wasm();
  const name = `/fixture-${process.pid}-${++n}.h5`;
  const f = new h5.File(name, 'w');
  try {
    build(f);
  } finally {
    f.close();
  }
  const bytes = h5.FS!.readFile(name);
  h5.FS!.unlink(name);
  return bytes;
}

export function writeDataset(g: H5Group, name: string, t: Tensor): void {
  g.create_dataset({ name, data: t.data, shape: t.shape, dtype: '<f4' });
}

/** Fixed-length byte strings, as h5py stores numpy `S` arrays (layer_names, weight_names, JSON). */
export function bytesAttr(node: H5Group, name: string, value: string | string[]): void {
  const list = Array.isArray(value) ? value : [value];
  const len = Math.max(1, ...list.map((s) => Buffer.byteLength(s)));
  if (Array.isArray(value)) {
    if (value.length === 0) node.create_attribute(name, new Float64Array(0), [0], '<d');
    else node.create_attribute(name, value, [value.length], `S${len}`);
  } else node.create_attribute(name, value, null, `S${len}`);
}

// ---- Keras 3 config pieces (serialize_keras_object output) ---------------------------------

const obj = (module: string, className: string, config: unknown, registered: string | null = null): Json => ({ module, class_name: className, config, registered_name: registered });
export const policy = (): Json => obj('keras', 'DTypePolicy', { name: 'float32' });
const init = (className: string, config: Json = {}): Json => obj('keras.initializers', className, config);
const tensorRef = (shape: (number | null)[], history: [string, number, number]): Json => ({ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: history } });

export interface K3Layer {
  entry: Json;
  outShape: (number | null)[];
}

function k3(className: string, config: Json, inShape: (number | null)[] | null, outShape: (number | null)[]): K3Layer {
  const entry = obj('keras.layers', className, config);
  if (inShape) entry.build_config = { input_shape: inShape };
  return { entry, outShape };
}

const base = (name: string): Json => ({ name, trainable: true, dtype: policy() });

export const k3Input = (name: string, batchShape: (number | null)[]): K3Layer =>
  k3('InputLayer', { batch_shape: batchShape, dtype: 'float32', sparse: false, ragged: false, name, optional: false }, null, batchShape);

export const k3Dense = (name: string, units: number, activation: string, inShape: (number | null)[]): K3Layer =>
  k3(
    'Dense',
    {
      ...base(name),
      units,
      activation,
      use_bias: true,
      kernel_initializer: init('GlorotUniform', { seed: null }),
      bias_initializer: init('Zeros'),
      kernel_regularizer: null,
      bias_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      quantization_config: null,
    },
    inShape,
    [...inShape.slice(0, -1), units],
  );

export const k3Conv2D = (name: string, filters: number, k: number, activation: string, inShape: (number | null)[]): K3Layer =>
  k3(
    'Conv2D',
    {
      ...base(name),
      filters,
      kernel_size: [k, k],
      strides: [1, 1],
      padding: 'valid',
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      groups: 1,
      activation,
      use_bias: true,
      kernel_initializer: init('GlorotUniform', { seed: null }),
      bias_initializer: init('Zeros'),
      kernel_regularizer: obj('keras.regularizers', 'L2', { l2: 0.01 }),
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
    inShape,
    [inShape[0], (inShape[1] as number) - k + 1, (inShape[2] as number) - k + 1, filters],
  );

export const k3BatchNorm = (name: string, inShape: (number | null)[]): K3Layer =>
  k3(
    'BatchNormalization',
    {
      ...base(name),
      axis: -1,
      momentum: 0.99,
      epsilon: 0.001,
      center: true,
      scale: true,
      beta_initializer: init('Zeros'),
      gamma_initializer: init('Ones'),
      moving_mean_initializer: init('Zeros'),
      moving_variance_initializer: init('Ones'),
      beta_regularizer: null,
      gamma_regularizer: null,
      beta_constraint: null,
      gamma_constraint: null,
      synchronized: false,
    },
    inShape,
    inShape,
  );

export const k3Flatten = (name: string, inShape: (number | null)[]): K3Layer =>
  k3('Flatten', { ...base(name), data_format: 'channels_last' }, inShape, [inShape[0], inShape.slice(1).reduce((a: number, b) => a * (b as number), 1)]);

export const k3Merge = (className: 'Add' | 'Concatenate', name: string, inShapes: (number | null)[][], outShape: (number | null)[]): K3Layer =>
  k3(className, className === 'Concatenate' ? { ...base(name), axis: -1 } : base(name), inShapes as unknown as (number | null)[], outShape);

/** A Functional layer entry: the layer plus its name and one call on `inputs` (Keras 3 node format). */
export function k3Call(layer: K3Layer, inputs: { name: string; shape: (number | null)[] }[], list = false): Json {
  const refs = inputs.map((i) => tensorRef(i.shape, [i.name, 0, 0]));
  return {
    ...layer.entry,
    name: (layer.entry.config as Json).name,
    inbound_nodes: layer.entry.class_name === 'InputLayer' ? [] : [{ args: list ? [refs] : refs, kwargs: {} }],
  };
}

export function k3Sequential(name: string, layers: K3Layer[], compileConfig: Json | null): Json {
  const inShape = layers[0].outShape;
  return {
    ...obj('keras', 'Sequential', { name, trainable: true, dtype: policy(), layers: layers.map((l) => l.entry), build_input_shape: inShape }),
    build_config: { input_shape: inShape },
    ...(compileConfig ? { compile_config: compileConfig } : {}),
  };
}

export function k3Functional(name: string, layerEntries: Json[], inputs: string[], outputs: string[], compileConfig: Json | null): Json {
  return {
    ...obj('keras.src.models.functional', 'Functional', {
      name,
      trainable: true,
      layers: layerEntries,
      // A single input or output tensor is written as one triple (tree.map_structure on a tensor).
      input_layers: inputs.length === 1 ? [inputs[0], 0, 0] : inputs.map((i) => [i, 0, 0]),
      output_layers: outputs.length === 1 ? [outputs[0], 0, 0] : outputs.map((o) => [o, 0, 0]),
    }, 'Functional'),
    build_config: { input_shape: null },
    ...(compileConfig ? { compile_config: compileConfig } : {}),
  };
}

export function k3CompileConfig(loss: unknown): Json {
  return {
    optimizer: obj('keras.optimizers', 'SGD', { name: 'SGD', learning_rate: 0.01, weight_decay: null, clipnorm: null, global_clipnorm: null, clipvalue: null, use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, loss_scale_factor: null, gradient_accumulation_steps: null, momentum: 0.0, nesterov: false }),
    loss,
    loss_weights: null,
    metrics: ['accuracy'],
    weighted_metrics: null,
    run_eagerly: false,
    steps_per_execution: 1,
    jit_compile: false,
  };
}

export interface StoreLayer {
  className: string;
  weights?: Tensor[];
  /** A nested model's own layers (saved under `<its path>/layers/…`). */
  children?: StoreLayer[];
}

/** Keras 3's model.weights.h5: `vars` for the model, then each layer's, then the optimizer's. */
export async function k3WeightsH5(layers: StoreLayer[], opts: { legacyRoot?: boolean; skip?: string; transpose?: string } = {}): Promise<Uint8Array> {
  const container = opts.legacyRoot ? '_layer_checkpoint_dependencies' : 'layers';
  return writeH5((f) => {
    const save = (list: StoreLayer[], base: string): void => {
      const used = new Map<string, number>();
      for (const l of list) {
        // naming.to_snake_case(class name), numbered per class in list order.
        let key = l.className.replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
        const k = used.get(key);
        used.set(key, k === undefined ? 0 : k + 1);
        if (k !== undefined) key = `${key}_${k + 1}`;
        const at = `${base}${container}/${key}`;
        const vars = ensureGroup(f, `${at}/vars`);
        (l.weights ?? []).forEach((w, i) => {
          const where = `${at}/vars/${i}`;
          if (opts.skip === where) return;
          writeDataset(vars, String(i), opts.transpose === where ? { shape: [...w.shape].reverse(), data: w.data } : w);
        });
        if (l.children) save(l.children, `${at}/`);
      }
    };
    ensureGroup(f, 'vars');
    save(layers, '');
    const opt = ensureGroup(f, 'optimizer/vars');
    opt.create_dataset({ name: '0', data: [0], shape: [], dtype: '<q' }); // iterations (int64)
    opt.create_dataset({ name: '1', data: new Float32Array([0.01]), shape: [], dtype: '<f4' }); // learning_rate
  });
}

export function kerasZip(config: Json, weights: Uint8Array, kerasVersion = '3.6.0'): Uint8Array {
  const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
  return zipSync(
    {
      'metadata.json': [enc({ keras_version: kerasVersion, date_saved: '2025-01-02@03:04:05' }), { level: 0 }],
      'config.json': [enc(config), { level: 0 }],
      'model.weights.h5': [weights, { level: 0 }],
    },
    { level: 0 },
  );
}

// ---- Keras 2 legacy .h5 ------------------------------------------------------------------

export interface K2Layer {
  /** Keras 2 {class_name, config} (plus name/inbound_nodes in a Functional model). */
  entry: Json;
  /** Variable names as tf.keras writes them ("dense/kernel:0"); empty for weightless layers. */
  weightNames: string[];
  weights: Tensor[];
  /** Saves the weights under another layer name than the config's (a broken file). */
  fileName?: string;
}

export async function k2H5(modelConfig: Json, layers: K2Layer[], trainingConfig: Json | null, opts: { noModelConfig?: boolean } = {}): Promise<Uint8Array> {
  return writeH5((f) => {
    f.create_attribute('keras_version', '2.15.0');
    f.create_attribute('backend', 'tensorflow');
    if (!opts.noModelConfig) bytesAttr(f, 'model_config', JSON.stringify(modelConfig));
    if (trainingConfig) bytesAttr(f, 'training_config', JSON.stringify(trainingConfig));
    const mw = f.create_group('model_weights');
    const nameOf = (l: K2Layer): string => l.fileName ?? String((l.entry.config as Json).name);
    bytesAttr(mw, 'layer_names', layers.map(nameOf));
    bytesAttr(mw, 'backend', 'tensorflow');
    bytesAttr(mw, 'keras_version', '2.15.0');
    // tf.keras writes the layer groups sorted by name.
    for (const l of [...layers].sort((a, b) => nameOf(a).localeCompare(nameOf(b)))) {
      const g = mw.create_group(nameOf(l));
      bytesAttr(g, 'weight_names', l.weightNames);
      l.weightNames.forEach((wn, i) => {
        if (!l.weights[i]) return; // listed but not stored: a broken file
        const slash = wn.lastIndexOf('/');
        writeDataset(slash < 0 ? g : ensureGroup(g, wn.slice(0, slash)), wn.slice(slash + 1), l.weights[i]);
      });
    }
    const ow = f.create_group('optimizer_weights');
    bytesAttr(ow, 'weight_names', ['iteration:0']);
    ow.create_dataset({ name: 'iteration:0', data: [0], shape: [], dtype: '<q' });
  });
}

/** Any other Keras 3 layer: the base config (name, trainable, dtype policy) plus `extra`. */
export const k3Layer = (className: string, name: string, extra: Json, inShape: (number | null)[], outShape: (number | null)[]): K3Layer =>
  k3(className, { ...base(name), ...extra }, inShape, outShape);

export const k3Init = init;
