/**
 * TF.js Layers models on disk (`model.json` + weight shards) without tfjs-node: pure tfjs has no
 * `file://` handler under Node, so we read the files ourselves and hand tfjs the bytes through
 * `tf.io.fromMemory`. Shard paths come from the (untrusted) model.json, so each one must stay
 * inside the model's folder, symlinks included.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../shared/errors';
import { checkSize, readInputFile, statInput } from './inputFile';
import { checkLoadedModel } from './modelChecks';

export interface LoadedModel {
  model: tf.LayersModel;
  path: string;
  sha256: string;
  /**
   * From model.json's `trainingConfig` (tfjs) or `modelTopology.training_config` (Keras converter),
   * a .keras file's `compile_config`, or an .h5 file's `training_config`.
   */
  trainingConfig?: { loss?: unknown; metrics?: unknown; optimizer_config?: unknown };
  /** tfjs model.json, Keras 3 .keras zip, or legacy Keras .h5 (see loaders/model.ts). */
  format: 'tfjs-layers' | 'keras' | 'keras-h5';
}

type WeightSpec = tf.io.WeightsManifestEntry;

const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function specBytes(spec: WeightSpec, source: string): number {
  // Quantized weights are stored in the quantized dtype; tfjs dequantizes them while decoding.
  const dtype = spec.quantization ? spec.quantization.dtype : spec.dtype;
  const size = BYTES_PER_DTYPE[dtype];
  if (size === undefined) {
    throw new InputError(source, `weight '${spec.name}' has dtype '${dtype}', which Losscape cannot load (float32, int32, bool, or uint8/uint16/float16 quantized)`);
  }
  return spec.shape.reduce((a, b) => a * b, 1) * size;
}

function checkSpec(spec: unknown, source: string, where: string): WeightSpec {
  const ok =
    isObject(spec) &&
    typeof spec.name === 'string' &&
    Array.isArray(spec.shape) &&
    spec.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) &&
    typeof spec.dtype === 'string';
  if (!ok) throw new InputError(source, `${where} is malformed; expected {name, shape, dtype}`);
  return spec as unknown as WeightSpec;
}

/** Resolves a manifest path inside `dirReal` (already realpath'd), or refuses it. */
function resolveShard(p: string, dirReal: string, source: string): string {
  const escapes = (target: string): boolean => {
    const rel = path.relative(dirReal, target);
    return rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel);
  };
  const refuse = (): never => {
    throw new InputError(source, `weight path '${p}' points outside the model's folder; shard paths must be relative names inside ${dirReal}`);
  };
  // Absolute paths in either OS's syntax, and URLs (http:, file:, C:), are refused outright.
  if (path.posix.isAbsolute(p) || path.win32.isAbsolute(p) || /^[a-z][a-z0-9+.-]*:/i.test(p)) refuse();
  const resolved = path.resolve(dirReal, p);
  if (escapes(resolved)) refuse();
  let real: string;
  try {
    real = fs.realpathSync(resolved);
  } catch {
    throw new InputError(source, `weight shard '${p}' listed in weightsManifest was not found in ${dirReal}`);
  }
  if (escapes(real)) refuse(); // a symlink inside the folder that leads out of it
  return real;
}

const firstLine = (e: unknown): string => String(e instanceof Error ? e.message : e).split('\n')[0];

function listNames(names: string[]): string {
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

/** tfjs's layer-name fallback: `outer/inner/kernel` may address a weight named `outer/kernel`. */
function shortName(name: string): string {
  const t = name.split('/');
  return [...t.slice(0, -2), t[t.length - 1]].join('/');
}

/** Turns a tfjs load failure into an InputError that names the culprit. */
async function explainLoadError(e: unknown, source: string, modelTopology: object, specs: WeightSpec[]): Promise<Error> {
  const msg = firstLine(e);
  let m = /^Unknown layer: ([^\s.]+)/.exec(msg);
  if (m) {
    return new InputError(source, `unknown layer class '${m[1]}'; Losscape loads the built-in TF.js layers only (re-create a custom layer in a JS/TS model module)`);
  }
  m = /^Unknown (\w+): ([^\s.]+)/.exec(msg);
  if (m) return new InputError(source, `unknown ${m[1]} '${m[2]}' in modelTopology; TF.js has no built-in ${m[1]} of that name`);
  m = /Provided weight data has no target variable: (.+)$/.exec(msg);
  if (m) return new InputError(source, `weight '${m[1]}' in weightsManifest matches no weight of modelTopology; are the shards from another model?`);
  m = /(\d+) of (\d+) weights are not set: (.+)$/.exec(msg);
  if (m) {
    return new InputError(source, `weightsManifest lacks ${m[1]} of the model's ${m[2]} weights (${listNames(m[3].split(','))}); are the shards from another model?`);
  }
  if (/^Shape mismatch/.test(msg)) {
    // tfjs does not say which weight; rebuild the bare topology and compare shapes ourselves.
    try {
      const bare = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology }));
      try {
        const shapes = new Map(bare.weights.map((w) => [w.originalName, w.shape]));
        for (const spec of specs) {
          if (spec.group === 'optimizer') continue;
          const want = shapes.get(spec.name) ?? shapes.get(shortName(spec.name));
          if (want && want.join() !== spec.shape.join()) {
            return new InputError(source, `weight '${spec.name}' has shape [${spec.shape.join(', ')}] in weightsManifest but modelTopology needs [${want.join(', ')}]`);
          }
        }
      } finally {
        bare.dispose();
      }
    } catch {
      // fall through to the generic message
    }
    return new InputError(source, `a weight's shape in weightsManifest does not match modelTopology (${msg})`);
  }
  return new InputError(source, `TensorFlow.js could not load the model: ${msg}`);
}

export async function loadLayersModelFromFile(modelJsonPath: string): Promise<LoadedModel> {
  const source = modelJsonPath;
  const jsonBytes = readInputFile(modelJsonPath, 'model file');
  let json: unknown;
  try {
    json = JSON.parse(jsonBytes.toString('utf-8'));
  } catch (e) {
    throw new InputError(source, `is not valid JSON (${firstLine(e)})`);
  }
  if (!isObject(json) || !isObject(json.modelTopology)) {
    throw new InputError(source, 'has no modelTopology object; expected a TF.js Layers model.json (tensorflowjs_converter --output_format=tfjs_layers_model)');
  }
  const modelTopology = json.modelTopology;
  if (json.format === 'graph-model' || 'node' in modelTopology) {
    throw new InputError(source, 'is a TF.js graph model, which has no layers to analyse; convert the Keras model with --output_format=tfjs_layers_model');
  }
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) {
    throw new InputError(source, 'has no weightsManifest, so the trained weights are missing; save the model with its weights');
  }

  const dirReal = fs.realpathSync(path.dirname(path.resolve(modelJsonPath)));
  const specs: WeightSpec[] = [];
  const shards: Uint8Array[] = [];
  let totalBytes = 0;
  manifest.forEach((group: unknown, gi: number) => {
    const where = `weightsManifest[${gi}]`;
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights) || !group.paths.every((p) => typeof p === 'string')) {
      throw new InputError(source, `${where} is malformed; expected {paths: [...], weights: [...]}`);
    }
    const groupSpecs = group.weights.map((s, i) => checkSpec(s, source, `${where}.weights[${i}]`));
    const need = groupSpecs.reduce((sum, s) => sum + specBytes(s, source), 0);
    // Sizes first (stat), so a wrong or huge shard is refused before a byte of it is read.
    const groupShards = (group.paths as string[]).map((p) => {
      const file = resolveShard(p, dirReal, source);
      try {
        return { p, file, size: statInput(file, 'weight shard').size };
      } catch (e) {
        throw e instanceof InputError ? new InputError(source, `weight shard '${p}' ${e.problem}`) : e;
      }
    });
    const have = groupShards.reduce((sum, s) => sum + s.size, 0);
    if (have !== need) {
      const files = groupShards.map((s) => `'${s.p}' (${s.size} bytes)`).join(', ');
      const problem = have < need ? 'is too short (truncated or from another model)' : 'is longer than its weights need (from another model?)';
      throw new InputError(source, `weight shard ${files} ${problem}: weightsManifest[${gi}] needs ${need} bytes, the shards hold ${have}`);
    }
    totalBytes += need;
    checkSize(source, totalBytes, 'has weights of');
    specs.push(...groupSpecs);
    for (const s of groupShards) shards.push(readInputFile(s.file, 'weight shard'));
  });

  const hash = createHash('sha256').update(jsonBytes);
  for (const s of shards) hash.update(s);
  const sha256 = hash.digest('hex');

  // One contiguous buffer, not ArrayBuffer[]: tfjs 4.22's CompositeArrayBuffer assumes every
  // shard but the last has the first one's size and decodes garbage when a later one is larger.
  const weightData = new Uint8Array(shards.reduce((sum, s) => sum + s.length, 0));
  let offset = 0;
  for (const s of shards) {
    weightData.set(s, offset);
    offset += s.length;
  }
  let model: tf.LayersModel | undefined;
  // A load that fails half way leaves the variables it created registered and unreachable; note
  // which exist now so a failure can free the new ones (the engine process lives long). The
  // weights are decoded here rather than by tf.loadLayersModel, which leaves its decoded tensors
  // allocated when setting them fails (a shape or name mismatch): these are always disposed.
  const varsBefore = new Set(Object.keys(tf.engine().registeredVariables));
  let decoded: tf.NamedTensorMap = {};
  try {
    decoded = tf.io.decodeWeights(weightData.buffer, specs);
    // The training config is not handed to tfjs: tfjs would compile the model with it and
    // throws on Keras optimizer configs it does not know, while Losscape computes the loss itself.
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology }));
    const modelWeights: tf.NamedTensorMap = {};
    for (const spec of specs) if (spec.group !== 'optimizer') modelWeights[spec.name] = decoded[spec.name];
    model.loadWeights(modelWeights, true);
  } catch (e) {
    model?.dispose();
    for (const [name, v] of Object.entries(tf.engine().registeredVariables)) if (!varsBefore.has(name)) v.dispose();
    throw await explainLoadError(e, source, modelTopology, specs);
  } finally {
    tf.dispose(Object.values(decoded));
  }
  checkLoadedModel(model, source);
  const trainingConfig = (isObject(json.trainingConfig) ? json.trainingConfig : undefined) ??
    (isObject(modelTopology.training_config) ? modelTopology.training_config : undefined);
  return { model, path: path.resolve(modelJsonPath), sha256, trainingConfig, format: 'tfjs-layers' };
}

/** Writes via a temporary name and a rename, so a watcher never reads half a checkpoint. */
async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, file);
}

export async function saveLayersModelToDir(model: tf.LayersModel, dir: string): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  if (!artifacts) throw new Error('saveLayersModelToDir: tfjs produced no artifacts');
  const shardName = 'group1-shard1of1.bin';
  const modelJson: Record<string, unknown> = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [shardName], weights: artifacts.weightSpecs ?? [] }],
  };
  // tfjs only writes trainingConfig together with optimizer state (includeOptimizer); we want
  // the loss name without the optimizer's slots, so take the config from the compiled model.
  if (artifacts.trainingConfig) {
    modelJson.trainingConfig = artifacts.trainingConfig;
  } else if (model.optimizer != null) {
    try {
      modelJson.trainingConfig = (model as unknown as { getTrainingConfig(): tf.io.TrainingConfig }).getTrainingConfig();
    } catch {
      // A loss given as a function has no name to save; the model loads without a config.
    }
  }
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  const weightData = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
  await fs.promises.mkdir(dir, { recursive: true });
  await writeAtomic(path.join(dir, shardName), new Uint8Array(weightData));
  await writeAtomic(path.join(dir, 'model.json'), JSON.stringify(modelJson));
}
