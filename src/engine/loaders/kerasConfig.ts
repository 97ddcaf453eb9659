/**
 * Keras model configs → the Keras 2 form that `tf.models.modelFromJSON` reads. Keras 3 wraps
 * every object as {module, class_name, config, registered_name}, writes dtype policies as
 * objects, InputLayer's `batch_shape`, and functional nodes as {args, kwargs} with serialised
 * tensors; Keras 2 configs pass through nearly as they are. Also: where each layer's weights
 * live in a Keras 3 weights file, and the loss from a saved compile/training config.
 */
import * as tf from '@tensorflow/tfjs';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

export const isModelClass = (className: unknown): boolean => typeof className === 'string' && MODEL_CLASSES.has(className);

/** Keras's naming.to_snake_case, which names a layer's group in the Keras 3 weights file. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Where a layer's variables are in the weights file; nested models list their own layers. */
export interface WeightPath {
  path: string;
  children?: Map<string, WeightPath>;
}

/**
 * Keras 3 (saving_lib) saves a model's `layers` list as `layers/<snake_case(class)>`, numbering
 * repeats (`dense`, `dense_1`, …) in list order, each with its variables in `vars/0`, `vars/1`,
 * …; names are not used because auto-generated names do not survive a reload.
 */
export function kerasWeightPaths(modelEntry: Json, base = ''): Map<string, WeightPath> {
  const layers = (isObject(modelEntry.config) && Array.isArray(modelEntry.config.layers) ? modelEntry.config.layers : []) as unknown[];
  const used = new Map<string, number>();
  const out = new Map<string, WeightPath>();
  for (const entry of layers) {
    if (!isObject(entry) || typeof entry.class_name !== 'string') continue;
    let key = toSnakeCase(entry.class_name);
    const n = used.get(key);
    used.set(key, n === undefined ? 0 : n + 1);
    if (n !== undefined) key = `${key}_${n + 1}`;
    const path = `${base}layers/${key}`;
    const name = layerName(entry);
    if (name === undefined) continue;
    out.set(name, isModelClass(entry.class_name) ? { path, children: kerasWeightPaths(entry, `${path}/`) } : { path });
  }
  return out;
}

function layerName(entry: Json): string | undefined {
  if (typeof entry.name === 'string') return entry.name;
  return isObject(entry.config) && typeof entry.config.name === 'string' ? entry.config.name : undefined;
}

/** Float policies compute in float32 here (tfjs has no float16 layers); variables are float32 in Keras too. */
function dtypeName(v: unknown, where: () => string): unknown {
  if (!isObject(v)) return v;
  const cfg = isObject(v.config) ? v.config : {};
  const name = typeof cfg.name === 'string' ? cfg.name : 'float32';
  if (/^(int|float8|uint)/.test(name) || /Quantized/.test(String(v.class_name))) {
    throw new Error(`${where()} is quantized (dtype policy '${name}'); Losscape loads float models only`);
  }
  return /float/.test(name) ? 'float32' : name;
}

/** Every weight is overwritten from the file, so initialisers only cost time and may be unknown to tfjs. */
const ZEROS = { class_name: 'Zeros', config: {} };

/** Checks for features tfjs lacks that would silently change the function. */
function checkSupported(cls: string, cfg: Json, where: () => string): void {
  const fail = (what: string): never => {
    throw new Error(`${where()} uses ${what}, which TF.js cannot reproduce`);
  };
  if (typeof cfg.groups === 'number' && cfg.groups !== 1) fail(`groups=${cfg.groups}`);
  if (cls === 'ReLU' && ((typeof cfg.negative_slope === 'number' && cfg.negative_slope !== 0) || (typeof cfg.threshold === 'number' && cfg.threshold !== 0))) {
    fail('negative_slope/threshold');
  }
  if (cfg.quantization_config != null || cfg.lora_rank) fail('quantization or LoRA');
}

/** Keras 3 tensor references in node arguments, in argument order. */
function collectTensors(v: unknown, out: unknown[][]): void {
  if (Array.isArray(v)) v.forEach((x) => collectTensors(x, out));
  else if (isObject(v) && v.class_name === '__keras_tensor__' && isObject(v.config) && Array.isArray(v.config.keras_history)) out.push(v.config.keras_history);
  else if (isObject(v) && v.class_name === '__tuple__' && isObject(v.config)) collectTensors(v.config.value, out);
}

interface Ctx {
  where: (layer?: string) => string;
  /** Layer name → class name, for node-index offsets of nested models. */
  classes: Map<string, string>;
}

/**
 * A Keras 3 node {args, kwargs} → Keras 2's [[layer, node, tensor, kwargs], …]. Keras 3 counts a
 * nested model's calls from 0, Keras 2 and tfjs count its built-in input→output node first.
 */
function convertNode(node: unknown, ctx: Ctx, layer: string): unknown {
  if (!isObject(node)) return node;
  const refs: unknown[][] = [];
  collectTensors(node.args, refs);
  const kwargs: Json = {};
  if (isObject(node.kwargs)) {
    for (const [k, v] of Object.entries(node.kwargs)) {
      const inner: unknown[][] = [];
      collectTensors(v, inner);
      if (inner.length) throw new Error(`${ctx.where(layer)} takes a tensor as keyword argument '${k}', which Losscape cannot rebuild`);
      kwargs[k] = v;
    }
  }
  return refs.map(([name, nodeIndex, tensorIndex]) => [name, (nodeIndex as number) + (isModelClass(ctx.classes.get(name as string)) ? 1 : 0), tensorIndex, kwargs]);
}

/** Keras 3 writes a single input as one [name, node, tensor] triple, a dict by key; tfjs wants a list of triples. */
function tensorList(v: unknown, ctx: Ctx, keras3: boolean): unknown[] {
  const out: unknown[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x) && x.length === 3 && typeof x[0] === 'string' && typeof x[1] === 'number') {
      // Keras 3 numbers a nested Sequential's calls from 0 here too (Functional from 1, as tfjs does).
      out.push([x[0], x[1] + (keras3 && ctx.classes.get(x[0]) === 'Sequential' ? 1 : 0), x[2]]);
    } else if (Array.isArray(x)) x.forEach(walk);
    else if (isObject(x)) Object.keys(x).sort().forEach((k) => walk(x[k]));
  };
  walk(v);
  return out;
}

function convertValue(key: string, v: unknown, where: () => string): unknown {
  if (key === 'dtype') return dtypeName(v, where);
  if (key.endsWith('_initializer')) return ZEROS;
  // The loss Losscape analyses is the data loss: penalties and constraints act only in training.
  if (key.endsWith('_regularizer') || key.endsWith('_constraint')) return null;
  return v;
}

function convertLayerConfig(cls: string, cfg: Json, where: () => string): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(cfg)) out[k] = convertValue(k, v, where);
  if (cls === 'InputLayer') {
    if (out.batch_shape !== undefined) out.batch_input_shape = out.batch_shape;
    delete out.batch_shape;
    delete out.optional;
    delete out.ragged;
  }
  // Keras 2's BatchNormalization saves the axis as a one-element list.
  if (Array.isArray(out.axis) && out.axis.length === 1) out.axis = out.axis[0];
  checkSupported(cls, out, where);
  return out;
}

function convertEntry(entry: unknown, ctx: Ctx, inFunctional: boolean): Json {
  if (!isObject(entry) || typeof entry.class_name !== 'string' || !isObject(entry.config)) {
    throw new Error(`${ctx.where()} has a malformed layer entry; expected {class_name, config}`);
  }
  const name = layerName(entry) ?? '?';
  const cls = entry.class_name;
  if (!isModelClass(cls) && !knownClasses().has(cls)) {
    throw new Error(`${ctx.where(name)} has class '${cls}', which TF.js does not have; Losscape loads built-in layers only (re-create a custom layer in a JS/TS model module)`);
  }
  const out: Json = isModelClass(cls)
    ? convertModel(entry, ctx.where(name))
    : { class_name: cls, config: convertLayerConfig(cls, entry.config, () => ctx.where(name)) };
  if (inFunctional) {
    out.name = name;
    const nodes = Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [];
    out.inbound_nodes = nodes.map((n) => convertNode(n, ctx, name));
  }
  return out;
}

let known: Set<string> | undefined;
/** tfjs's registered layer classes (its own name for "which layers can be deserialised"). */
function knownClasses(): Set<string> {
  known ??= new Set(Object.keys(tf.serialization.SerializationMap.getMap().classNameMap));
  return known;
}

/**
 * Converts a saved model entry ({class_name, config, …}) for tfjs. Throws plain Errors whose
 * message says which layer; the loaders prefix the file.
 */
export function convertModel(entry: Json, label = 'model'): Json {
  const cls = entry.class_name;
  if (!isModelClass(cls) || !isObject(entry.config)) {
    throw new Error(`${label} is a '${String(cls)}', not a Sequential or Functional model; subclassed models have no config Losscape can rebuild (save a Sequential or Functional model, or use a JS/TS model module)`);
  }
  const cfg = entry.config;
  const layers = Array.isArray(cfg.layers) ? cfg.layers : [];
  const where = (layer?: string): string => (layer === undefined ? label : `layer '${layer}'${label === 'model' ? '' : ` of ${label}`}`);
  const classes = new Map<string, string>();
  for (const l of layers) if (isObject(l) && typeof l.class_name === 'string') classes.set(layerName(l) ?? '', l.class_name);
  const ctx: Ctx = { where, classes };
  const base: Json = { name: typeof cfg.name === 'string' ? cfg.name : label };
  if (typeof cfg.trainable === 'boolean') base.trainable = cfg.trainable;

  if (cls === 'Sequential') {
    const converted = layers.map((l) => convertEntry(l, ctx, false));
    const first = converted[0]?.config as Json | undefined;
    if (first && converted[0].class_name !== 'InputLayer' && first.batch_input_shape === undefined) {
      // Keras 3 keeps the input shape of a Sequential without an InputLayer beside the layers.
      const firstEntry = layers[0] as Json;
      const shape = cfg.build_input_shape ?? (isObject(firstEntry.build_config) ? firstEntry.build_config.input_shape : undefined) ?? (isObject(entry.build_config) ? entry.build_config.input_shape : undefined);
      if (!Array.isArray(shape)) throw new Error(`${label} was saved before it was built, so its input shape is unknown; build or call it once before saving`);
      first.batch_input_shape = shape;
    }
    return { class_name: 'Sequential', config: { ...base, layers: converted } };
  }
  const keras3 = layers.some((l) => isObject(l) && Array.isArray(l.inbound_nodes) && l.inbound_nodes.some(isObject));
  return {
    class_name: cls === 'Model' ? 'Model' : 'Functional',
    config: {
      ...base,
      layers: layers.map((l) => convertEntry(l, ctx, true)),
      input_layers: tensorList(cfg.input_layers, ctx, keras3),
      output_layers: tensorList(cfg.output_layers, ctx, keras3),
    },
  };
}

/**
 * The loss of a saved compile/training config in the form `lossFromTrainingConfig` reads: Keras
 * 3 serialises a loss function as {class_name: 'function', config: '<name>'}.
 */
export function normaliseLoss(loss: unknown): unknown {
  if (isObject(loss) && loss.class_name === 'function') return typeof loss.config === 'string' ? loss.config : loss.registered_name;
  if (isObject(loss) && typeof loss.class_name === 'string') return { class_name: loss.class_name, config: loss.config };
  return loss;
}

export function trainingConfigFrom(cfg: unknown): { loss?: unknown; metrics?: unknown; optimizer_config?: unknown } | undefined {
  if (!isObject(cfg)) return undefined;
  return { loss: normaliseLoss(cfg.loss), metrics: cfg.metrics, optimizer_config: cfg.optimizer_config ?? cfg.optimizer };
}
