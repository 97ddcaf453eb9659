/**
 * Keras models: the Keras 3 `.keras` zip (config.json + model.weights.h5, as saving_lib writes
 * it) and the legacy `.h5` of Keras 2 / tf.keras (a `model_config` attribute + `model_weights`).
 * The architecture is rebuilt by tfjs from the converted config (kerasConfig.ts), then every
 * layer's weights are set from the file in that layer's own order, checked for count and shape.
 */
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { InputError } from '../../shared/errors';
import { isDataset, isGroup, isHdf5, lookup, readFloat32, stringAttr, stringListAttr, withH5File, type H5Group } from './h5';
import { convertModel, isObject, kerasWeightPaths, trainingConfigFrom, type Json, type WeightPath } from './kerasConfig';
import type { LoadedModel } from './modelJson';
import { checkSize, readInputFile } from './inputFile';
import { checkLoadedModel } from './modelChecks';

interface Values {
  shape: number[];
  values: Float32Array;
}

const isZip = (b: Uint8Array): boolean => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

const message = (e: unknown): string => String(e instanceof Error ? e.message : e).split('\n')[0];

function readModelFile(file: string): Uint8Array {
  return readInputFile(file, 'model file');
}

function parseJson(text: string, source: string, what: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InputError(source, `${what} is not valid JSON (${message(e)})`);
  }
  if (!isObject(v)) throw new InputError(source, `${what} is not a JSON object`);
  return v;
}

async function buildModel(entry: Json, source: string): Promise<tf.LayersModel> {
  let topology: Json;
  try {
    topology = convertModel(entry);
  } catch (e) {
    throw new InputError(source, message(e));
  }
  // A build that fails half way leaves its variables registered; free them (the engine lives long).
  const before = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    return await tf.models.modelFromJSON({ modelTopology: topology } as Parameters<typeof tf.models.modelFromJSON>[0]);
  } catch (e) {
    for (const [name, v] of Object.entries(tf.engine().registeredVariables)) if (!before.has(name)) v.dispose();
    throw new InputError(source, `TensorFlow.js could not rebuild the model from its config: ${message(e)}`);
  }
}

function setLayerWeights(layer: tf.layers.Layer, values: Values[], source: string, where: string): void {
  const want = layer.weights;
  if (values.length !== want.length) {
    throw new InputError(source, `layer '${layer.name}' has ${want.length} weight tensors in its config but ${values.length} in ${where}`);
  }
  values.forEach((v, i) => {
    if (v.shape.join() !== want[i].shape.join()) {
      throw new InputError(source, `layer '${layer.name}': weight ${i} (${want[i].originalName}) has shape [${v.shape.join(', ')}] in ${where} but the config needs [${want[i].shape.join(', ')}]`);
    }
  });
  const tensors = values.map((v) => tf.tensor(v.values, v.shape, 'float32'));
  try {
    layer.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

const hasWeights = (l: tf.layers.Layer): boolean => l.weights.length > 0;

/** Builds, then fills; the model is disposed if filling fails. */
async function buildAndFill(entry: Json, source: string, fill: (model: tf.LayersModel) => void | Promise<void>): Promise<tf.LayersModel> {
  const model = await buildModel(entry, source);
  try {
    await fill(model);
  } catch (e) {
    model.dispose();
    throw e;
  }
  checkLoadedModel(model, source);
  return model;
}

// ---- Keras 3 .keras ----------------------------------------------------------------------

const WEIGHTS_H5 = 'model.weights.h5';

/** Sets a (possibly nested) list of layers from a Keras 3 weights file, following `paths`. */
function fillFromStore(layers: tf.layers.Layer[], paths: Map<string, WeightPath>, root: H5Group, source: string): void {
  // Keras 2.13's .keras files kept layers under `_layer_checkpoint_dependencies`; Keras 3 reads them the same way.
  const legacy = root.keys().includes('_layer_checkpoint_dependencies') && !root.keys().includes('layers');
  for (const layer of layers.filter(hasWeights)) {
    const wp = paths.get(layer.name);
    if (!wp) throw new InputError(source, `layer '${layer.name}' is not in config.json's layer list`);
    if (layer instanceof tf.LayersModel) {
      if (!wp.children) throw new InputError(source, `layer '${layer.name}' is a nested model without a layer list in config.json`);
      fillFromStore(layer.layers, wp.children, root, source);
      continue;
    }
    const at = legacy ? wp.path.split('layers').join('_layer_checkpoint_dependencies') : wp.path;
    const vars = lookup(root, `${at}/vars`);
    if (!isGroup(vars)) throw new InputError(source, `${WEIGHTS_H5} has no group ${at}/vars for layer '${layer.name}'`);
    const n = layer.weights.length;
    const values: Values[] = [];
    for (let i = 0; i < n; i++) {
      const ds = lookup(vars, String(i));
      if (!isDataset(ds)) throw new InputError(source, `${WEIGHTS_H5} has no weights dataset ${at}/vars/${i} for layer '${layer.name}' (${layer.weights[i].originalName})`);
      values.push(readFloat32(ds, source, `${at}/vars/${i} (layer '${layer.name}')`));
    }
    const stored = vars.keys().length;
    if (stored > n) throw new InputError(source, `${WEIGHTS_H5} holds ${stored} weight tensors for layer '${layer.name}' in ${at}/vars but its config has ${n}`);
    setLayerWeights(layer, values, source, `${WEIGHTS_H5} (${at}/vars)`);
  }
}

export async function loadKerasArchive(file: string): Promise<LoadedModel> {
  const source = file;
  const bytes = readModelFile(file);
  if (!isZip(bytes)) {
    const hint = isHdf5(bytes) ? 'it is an HDF5 file: a legacy Keras model saved under a .keras name? rename it to .h5' : 'Keras 3 writes .keras with model.save("model.keras")';
    throw new InputError(source, `is not a .keras archive (not a zip file); ${hint}`);
  }
  let members: Record<string, Uint8Array>;
  try {
    // Only the members Losscape reads are inflated: assets can be large.
    // Sizes from the central directory, checked before inflating (fflate inflates into a buffer of that size).
    let inflated = 0;
    members = unzipSync(bytes, {
      filter: (f) => {
        if (!['config.json', 'metadata.json', WEIGHTS_H5, 'model.weights.npz'].includes(f.name)) return false;
        inflated += f.originalSize;
        checkSize(source, inflated, `has ${f.name} inflating to`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(source, `is not a readable zip archive (${message(e)})`);
  }
  if (!members['config.json']) throw new InputError(source, 'has no config.json; expected a Keras 3 .keras archive');
  const config = parseJson(new TextDecoder().decode(members['config.json']), source, 'config.json');
  const weights = members[WEIGHTS_H5];
  if (!weights) {
    const npz = members['model.weights.npz'] ? ' (it has model.weights.npz, which holds pickled Python objects; re-save with the default weights format)' : '';
    throw new InputError(source, `has no ${WEIGHTS_H5}${npz}`);
  }
  const model = await buildAndFill(config, source, (m) =>
    withH5File(weights, source, WEIGHTS_H5, (h5) => fillFromStore(m.layers, kerasWeightPaths(config), h5, source)),
  );
  return {
    model,
    path: path.resolve(file),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    trainingConfig: trainingConfigFrom(config.compile_config),
    format: 'keras',
  };
}

// ---- legacy .h5 --------------------------------------------------------------------------

/**
 * Reads the `model_weights` group: per layer (in `layer_names`), the datasets its
 * `weight_names` attribute lists, relative to the layer's group (e.g. `dense/kernel:0`).
 */
function readLegacyWeights(group: H5Group, source: string): Map<string, Values[]> {
  const out = new Map<string, Values[]>();
  for (const name of stringListAttr(group, 'layer_names')) {
    const g = lookup(group, name);
    if (!isGroup(g)) throw new InputError(source, `model_weights lists layer '${name}' but has no group for it`);
    const values = stringListAttr(g, 'weight_names').map((w) => {
      const ds = lookup(g, w);
      if (!isDataset(ds)) throw new InputError(source, `has no weights dataset model_weights/${name}/${w} for layer '${name}'`);
      return readFloat32(ds, source, `model_weights/${name}/${w}`);
    });
    if (values.length) out.set(name, values);
  }
  return out;
}

export async function loadKerasH5(file: string): Promise<LoadedModel> {
  const source = file;
  const bytes = readModelFile(file);
  if (isZip(bytes)) throw new InputError(source, 'is a zip archive, not HDF5: a Keras 3 model saved under an .h5 name? rename it to .keras');
  const read = await withH5File(bytes, source, '', (f) => {
    const configText = stringAttr(f, 'model_config');
    if (configText === undefined) {
      throw new InputError(source, 'has no model_config attribute: it holds weights only (save_weights); save the whole model with model.save("model.keras") or model.save("model.h5")');
    }
    const group = lookup(f, 'model_weights');
    if (!isGroup(group)) throw new InputError(source, 'has no model_weights group; expected a Keras model saved with model.save("model.h5")');
    const training = stringAttr(f, 'training_config');
    return { configText, training, weights: readLegacyWeights(group, source) };
  });
  const config = parseJson(read.configText, source, 'the model_config attribute');
  const model = await buildAndFill(config, source, (m) => {
    const byName = new Map(m.layers.map((l) => [l.name, l]));
    for (const [name, values] of read.weights) {
      const layer = byName.get(name);
      if (!layer) throw new InputError(source, `model_weights has weights for layer '${name}', which model_config does not have`);
      setLayerWeights(layer, values, source, `model_weights/${name}`);
    }
    const missing = m.layers.filter((l) => hasWeights(l) && !read.weights.has(l.name));
    if (missing.length) throw new InputError(source, `model_weights has no weights for layer '${missing[0].name}'${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`);
  });
  return {
    model,
    path: path.resolve(file),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    trainingConfig: read.training === undefined ? undefined : trainingConfigFrom(parseJson(read.training, source, 'the training_config attribute')),
    format: 'keras-h5',
  };
}
