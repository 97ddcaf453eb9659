import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeNpy, type NdArray } from '../../../src/engine/loaders/npy';
import { encodeNpz } from '../../../src/engine/loaders/npz';
import { saveLayersModelToDir } from '../../../src/engine/loaders/modelJson';
import type { AnalysisSpecInput } from '../../../src/shared/protocol';
import { k3CompileConfig, k3Dense, k3Input, k3Sequential, k3WeightsH5, kerasZip, layerTensors, k2H5, type Json } from './kerasFixtures';
import type { TinyWorkspace } from './tinyModel';

/**
 * A corpus of malformed inputs, generated in the tiny workspace's folder (nothing large is
 * committed; "large" fixtures are sparse files or zip headers that state large sizes). Every
 * case must be refused with exit code 2 and one line naming `names` (a file, or an option).
 */
export interface BadCase {
  name: string;
  /** The request (engine route); absent for CLI-only cases (option parsing). */
  spec?: AnalysisSpecInput;
  /** CLI arguments; derived from `spec` when absent. */
  args?: string[];
  /** What the one line must name (a path, or an option such as --points). */
  names: string;
  /** What it must say. */
  problem: RegExp;
}

const f32 = (shape: number[], data: ArrayLike<number>): NdArray => ({ dtype: 'float32', shape, data: Float32Array.from(data) });
const i32 = (shape: number[], data: ArrayLike<number>): NdArray => ({ dtype: 'int32', shape, data: Int32Array.from(data) });

function mkfifo(p: string): void {
  const r = spawnSync('mkfifo', [p]);
  if (r.status !== 0) throw new Error(`mkfifo ${p} failed: ${r.stderr}`);
}

/** The CLI arguments of a spec (the fields the corpus uses). */
export function cliArgs(spec: AnalysisSpecInput): string[] {
  const s = spec as Record<string, unknown>;
  const a: string[] = [spec.kind === 'saliency' ? 'prune-saliency' : spec.kind];
  const flag: Record<string, string> = { model: '--model', data: '--data', loss: '--loss', lossModule: '--loss-module', lossExport: '--loss-export', samples: '--samples', points: '--points', dims: '--dims', to: '--to', out: '--out', labelColumn: '--label-column', top: '--top', mode: '--mode', probe: '--probe' };
  for (const [k, v] of Object.entries(s)) {
    if (k === 'kind' || v === undefined) continue;
    if (k === 'checkpoints') a.push('--checkpoints', ...(Array.isArray(v) ? (v as string[]) : [String(v)]));
    else if (k === 'range') a.push('--range', (v as number[]).join(','));
    else if (k === 'lossParams') for (const [pk, pv] of Object.entries(v as Record<string, number>)) a.push('--loss-param', `${pk}=${pv}`);
    else if (k === 'episode') {
      const e = v as { way: number; shot: number; query: number; count: number };
      a.push('--episode', [e.way, e.shot, e.query, e.count].join(','));
    }
    else if (k === 'trace') {
      if (v) a.push('--trace');
    } else if (flag[k]) a.push(flag[k], String(v));
    else throw new Error(`cliArgs: no flag for ${k}`);
  }
  return a;
}

export async function makeBadInputCorpus(ws: TinyWorkspace): Promise<BadCase[]> {
  const root = path.join(ws.dir, 'bad');
  mkdirSync(root);
  const at = (...p: string[]): string => path.join(root, ...p);
  const out = (name: string): string => at(`${name}.losscape.json`);
  const cases: BadCase[] = [];
  const base = { model: ws.model, data: ws.data, loss: 'sparse_categorical_crossentropy', points: 3 };
  const land = (name: string, over: Record<string, unknown>, names: string, problem: RegExp): void => {
    cases.push({ name, spec: { kind: 'landscape', ...base, out: out(name), ...over } as AnalysisSpecInput, names, problem });
  };

  // ---- model.json ------------------------------------------------------------------------
  const goodJson = JSON.parse(readFileSync(ws.model, 'utf8')) as Json;
  const shard = path.join(path.dirname(ws.model), 'group1-shard1of1.bin');
  const shardBytes = readFileSync(shard);
  let serial = 0;
  /** A model folder with a mutated model.json and (by default) the good shard. */
  const variant = (mutate: (j: Json) => unknown, shardData: Uint8Array | null = shardBytes, shardName = 'group1-shard1of1.bin'): string => {
    const dir = at(`m${++serial}`);
    mkdirSync(dir);
    const j = JSON.parse(JSON.stringify(goodJson)) as Json;
    const replaced = mutate(j);
    const text = typeof replaced === 'string' ? replaced : JSON.stringify(replaced ?? j);
    writeFileSync(path.join(dir, 'model.json'), text);
    if (shardData) writeFileSync(path.join(dir, shardName), shardData);
    return path.join(dir, 'model.json');
  };
  const manifest = (j: Json): Json[] => j.weightsManifest as Json[];
  const modelCase = (name: string, file: string, problem: RegExp, names = file): void => land(name, { model: file }, names, problem);

  modelCase('model.json missing', at('nowhere', 'model.json'), /model file not found/);
  modelCase('model.json not JSON', variant(() => '{"modelTopology": '), /is not valid JSON/);
  modelCase('model.json empty', variant(() => ''), /is not valid JSON/);
  modelCase('model.json an array', variant(() => [1, 2]), /has no modelTopology/);
  modelCase('model.json without modelTopology', variant((j) => ({ weightsManifest: j.weightsManifest })), /has no modelTopology/);
  modelCase('graph model', variant((j) => ({ ...j, format: 'graph-model' })), /graph model/);
  modelCase('no weightsManifest', variant((j) => ({ modelTopology: j.modelTopology })), /has no weightsManifest/);
  modelCase('weightsManifest group malformed', variant((j) => ({ ...j, weightsManifest: [{ paths: 'x' }] })), /weightsManifest\[0\] is malformed/);
  modelCase('weight spec negative shape', variant((j) => void ((manifest(j)[0].weights as Json[])[0].shape = [-4, 8])), /weights\[0\] is malformed/);
  modelCase('weight dtype string', variant((j) => void ((manifest(j)[0].weights as Json[])[0].dtype = 'string')), /dtype 'string'/);
  modelCase('shard missing', variant(() => undefined, null), /weight shard 'group1-shard1of1\.bin' listed in weightsManifest was not found/);
  modelCase('shard path absolute', variant((j) => void (manifest(j)[0].paths = ['/etc/passwd'])), /points outside the model's folder/);
  modelCase('shard path ../', variant((j) => void (manifest(j)[0].paths = ['../m1/group1-shard1of1.bin'])), /points outside the model's folder/);
  modelCase('shard URL', variant((j) => void (manifest(j)[0].paths = ['file:///etc/passwd'])), /points outside the model's folder/);
  {
    const file = variant(() => undefined, null);
    symlinkSync('/etc/hostname', path.join(path.dirname(file), 'group1-shard1of1.bin'));
    modelCase('shard symlink out of the folder', file, /points outside the model's folder/);
  }
  modelCase('shard truncated', variant(() => undefined, shardBytes.subarray(0, 100)), /is too short/);
  modelCase('shard too long', variant(() => undefined, Buffer.concat([shardBytes, Buffer.alloc(16)])), /is longer than its weights need/);
  {
    // 1.5 GB and sparse: must be refused from its size, not read.
    const file = variant(() => undefined, new Uint8Array(0));
    truncateSync(path.join(path.dirname(file), 'group1-shard1of1.bin'), 1.5e9);
    modelCase('shard 1.5 GB sparse', file, /is longer than its weights need/);
  }
  {
    const file = variant(() => undefined, null);
    mkfifo(path.join(path.dirname(file), 'group1-shard1of1.bin'));
    modelCase('shard a FIFO', file, /named pipe \(FIFO\)/);
  }
  {
    const file = variant(() => undefined, null);
    mkdirSync(path.join(path.dirname(file), 'group1-shard1of1.bin'));
    modelCase('shard a folder', file, /is a folder/);
  }
  modelCase('unknown layer class', variant((j) => void (((j.modelTopology as Json).config as Json).layers as Json[]).forEach((l, i) => i === 1 && (l.class_name = 'Bogus'))), /unknown layer class 'Bogus'/);
  modelCase(
    'weight shape mismatch',
    variant((j) => {
      ((manifest(j)[0].weights as Json[])[0].shape as number[]) = [8, 4];
    }),
    /shape \[8, 4\] in weightsManifest but modelTopology needs \[4, 8\]/,
  );
  modelCase('weight name mismatch', variant((j) => void ((manifest(j)[0].weights as Json[])[0].name = 'other/kernel')), /matches no weight|lacks/);
  {
    const nan = new Float32Array(shardBytes.buffer.slice(shardBytes.byteOffset, shardBytes.byteOffset + shardBytes.byteLength));
    nan[5] = Number.NaN;
    modelCase('NaN weight', variant(() => undefined, new Uint8Array(nan.buffer)), /weight 'dense_Dense\d+\/kernel' holds NaN at flat index 5/);
    const inf = Float32Array.from(nan);
    inf[5] = 1;
    inf[40] = Number.POSITIVE_INFINITY;
    modelCase('Inf weight', variant(() => undefined, new Uint8Array(inf.buffer)), /holds Inf at flat index/);
    const m = variant(() => undefined, new Uint8Array(nan.buffer));
    land('NaN weight under MSE', { model: m, loss: 'mse', data: ws.data }, m, /holds NaN/);
  }
  modelCase('empty Sequential', variant(() => ({ modelTopology: { class_name: 'Sequential', config: { name: 'empty', layers: [] } }, weightsManifest: [{ paths: [], weights: [] }] }), null), /has no layers|could not load/);
  modelCase(
    'no trainable weights',
    variant(() => ({ modelTopology: { class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'Activation', config: { name: 'act', activation: 'relu', batch_input_shape: [null, 4] } }] } }, weightsManifest: [{ paths: [], weights: [] }] }), null),
    /no trainable weights/,
  );
  {
    // Two inputs, and two outputs: built with tfjs, saved as model.json.
    if (!tf.engine().backendName) await tf.setBackend('cpu');
    const a = tf.input({ shape: [4], name: 'a' });
    const b = tf.input({ shape: [4], name: 'b' });
    const merged = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const twoIn = tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 3, activation: 'softmax' }).apply(merged) as tf.SymbolicTensor });
    await saveLayersModelToDir(twoIn, at('two-inputs'));
    const c = tf.input({ shape: [4], name: 'c' });
    const twoOut = tf.model({ inputs: c, outputs: [tf.layers.dense({ units: 3, name: 'o1' }).apply(c) as tf.SymbolicTensor, tf.layers.dense({ units: 2, name: 'o2' }).apply(c) as tf.SymbolicTensor] });
    await saveLayersModelToDir(twoOut, at('two-outputs'));
    twoIn.dispose();
    twoOut.dispose();
    modelCase('two inputs', at('two-inputs', 'model.json'), /has 2 inputs/);
    modelCase('two outputs', at('two-outputs', 'model.json'), /has 2 outputs/);
  }
  {
    const fifo = at('fifo-model.json');
    mkfifo(fifo);
    modelCase('model.json a FIFO', fifo, /named pipe/);
    const zero = at('zero-model.json');
    symlinkSync('/dev/zero', zero);
    modelCase('model.json is /dev/zero', zero, /is a device/);
    const loop = at('loop-model.json');
    symlinkSync(loop, loop);
    modelCase('model.json a symlink loop', loop, /loops/);
    mkdirSync(at('folder.json'));
    modelCase('model.json a folder', at('folder.json'), /is a folder/);
    modelCase('model format .pb', at('saved_model.pb'), /is not a model format Losscape reads/);
    const big = at('big', 'model.json');
    mkdirSync(path.dirname(big));
    writeFileSync(big, '');
    truncateSync(big, 3 * 2 ** 30); // sparse: over any limit the suite sets
    modelCase('model.json 3 GiB', big, /over the .* Losscape reads at once/);
  }
  {
    const noConfig = variant((j) => ({ modelTopology: j.modelTopology, weightsManifest: j.weightsManifest }));
    land('no training config and no --loss', { model: noConfig, loss: undefined }, 'model.json', /has no training config naming a loss; pass --loss/);
  }

  // ---- Keras .keras / .h5 ----------------------------------------------------------------
  const ref = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'tanh', name: 'dense' }), tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense_1' })] });
  const k3Config = k3Sequential('sequential', [k3Input('input_layer', [null, 4]), k3Dense('dense', 8, 'tanh', [null, 4]), k3Dense('dense_1', 3, 'softmax', [null, 8])], k3CompileConfig('sparse_categorical_crossentropy'));
  const k3Weights = await k3WeightsH5([
    { className: 'Dense', weights: layerTensors(ref.getLayer('dense')) },
    { className: 'Dense', weights: layerTensors(ref.getLayer('dense_1')) },
  ]);
  const k2Dense = (name: string, units: number, activation: string, inputShape?: number[]): Json => ({
    class_name: 'Dense',
    config: { name, trainable: true, dtype: 'float32', ...(inputShape ? { batch_input_shape: [null, ...inputShape] } : {}), units, activation, use_bias: true },
  });
  const k2Layers = [
    { entry: k2Dense('dense', 8, 'tanh', [4]), weightNames: ['dense/kernel:0', 'dense/bias:0'], weights: layerTensors(ref.getLayer('dense')) },
    { entry: k2Dense('dense_1', 3, 'softmax'), weightNames: ['dense_1/kernel:0', 'dense_1/bias:0'], weights: layerTensors(ref.getLayer('dense_1')) },
  ];
  const k2Config = { class_name: 'Sequential', config: { name: 'sequential', layers: k2Layers.map((l) => l.entry) } };
  const goodH5 = await k2H5(k2Config, k2Layers, { loss: 'sparse_categorical_crossentropy' });
  ref.dispose();
  const enc = (o: unknown): Uint8Array => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));
  const file = (name: string, bytes: Uint8Array | string): string => {
    writeFileSync(at(name), bytes);
    return at(name);
  };
  modelCase('.keras not a zip', file('text.keras', 'hello'), /is not a \.keras archive/);
  modelCase('.keras holding HDF5', file('h5.keras', goodH5), /it is an HDF5 file/);
  modelCase('.keras without config.json', file('noconfig.keras', zipSync({ 'model.weights.h5': [k3Weights, { level: 0 }] })), /has no config\.json/);
  modelCase('.keras without weights', file('noweights.keras', zipSync({ 'config.json': enc(k3Config) })), /has no model\.weights\.h5/);
  modelCase('.keras config not JSON', file('badconfig.keras', zipSync({ 'config.json': enc('{'), 'model.weights.h5': [k3Weights, { level: 0 }] })), /config\.json is not valid JSON/);
  modelCase('.keras weights not HDF5', file('badweights.keras', kerasZip(k3Config, enc('not hdf5'))), /model\.weights\.h5 is not an HDF5 file/);
  modelCase('.keras weights truncated', file('truncweights.keras', kerasZip(k3Config, k3Weights.subarray(0, Math.floor(k3Weights.length / 2)))), /model\.weights\.h5 cannot be (opened|read)/);
  modelCase('.keras truncated zip', file('trunc.keras', kerasZip(k3Config, k3Weights).subarray(0, 300)), /is not a readable zip archive|has no config/);
  modelCase('.keras empty file', file('empty.keras', ''), /is not a \.keras archive/);
  {
    // A zip bomb: deflated zeros (24 KiB on disk), 24 MiB inflated, over the suite's limit.
    const bomb = zipSync({ 'config.json': enc(k3Config), 'model.weights.h5': [new Uint8Array(24 * 2 ** 20), { level: 1 }] });
    modelCase('.keras zip bomb', file('bomb.keras', bomb), /inflating to .* over the/);
  }
  modelCase('.h5 holding a zip', file('zip.h5', kerasZip(k3Config, k3Weights)), /is a zip archive, not HDF5/);
  modelCase('.h5 random bytes', file('random.h5', new Uint8Array(4096).map((_, i) => (i * 7919) % 251)), /is not an HDF5 file/);
  modelCase('.h5 truncated', file('trunc.h5', goodH5.subarray(0, Math.floor(goodH5.length / 2))), /cannot be (opened|read) as HDF5/);
  modelCase('.h5 weights only', file('weightsonly.h5', await k2H5(k2Config, k2Layers, null, { noModelConfig: true })), /has no model_config attribute/);
  modelCase('.h5 empty', file('empty.h5', ''), /is not an HDF5 file/);
  {
    const fifo = at('fifo.keras');
    mkfifo(fifo);
    modelCase('.keras a FIFO', fifo, /named pipe/);
  }

  // ---- data ------------------------------------------------------------------------------
  const n = ws.n;
  const xs = ws.x;
  const ys = ws.y;
  const dataCase = (name: string, file: string, problem: RegExp, over: Record<string, unknown> = {}, names = file): void => land(name, { data: file, ...over }, names, problem);
  const npz = (name: string, arrays: Record<string, NdArray>): string => file(name, encodeNpz(arrays));
  const good = { x: f32([n, 4], xs), y: i32([n], ys) };

  dataCase('data missing', at('nothing.npz'), /data file not found/);
  dataCase('data extension .txt', file('data.txt', '1,2'), /unsupported extension '\.txt'/);
  dataCase('npz not a zip', file('plain.npz', 'x,y\n1,2'), /is not an \.npz archive/);
  dataCase('npz truncated', file('trunc.npz', encodeNpz(good).subarray(0, 200)), /damaged \.npz archive|is truncated|has no array/);
  dataCase('npz without x', npz('nox.npz', { y: good.y }), /has no array 'x'/);
  dataCase('npz without y', npz('noy.npz', { x: good.x }), /has no array 'y'/);
  dataCase('npz x_test without y_test', npz('halftest.npz', { ...good, x_test: good.x }), /without 'y_test'/);
  dataCase('npz sample counts differ', npz('counts.npz', { x: good.x, y: i32([n - 1], ys.subarray(1)) }), /has 80 samples but .* has 79/);
  dataCase('npz x scalar', npz('scalar.npz', { x: f32([], [1]), y: good.y }), /is a scalar/);
  dataCase('npz no samples', npz('zero.npz', { x: f32([0, 4], []), y: i32([0], []) }), /holds no samples/);
  {
    const nanX = Float32Array.from(xs);
    nanX[13] = Number.NaN;
    dataCase('x holds NaN', npz('nanx.npz', { x: f32([n, 4], nanX), y: good.y }), /\[x\] holds NaN at flat index 13 \(sample 3\)/);
    const infX = Float32Array.from(xs);
    infX[n * 4 - 1] = Number.NEGATIVE_INFINITY;
    dataCase('x holds -Inf in the last sample', npz('infx.npz', { x: f32([n, 4], infX), y: good.y }), /holds -Inf at flat index 319 \(sample 79\)/, { samples: 5 });
    const nanY = Float32Array.from(ys);
    nanY[2] = Number.NaN;
    dataCase('y holds NaN', npz('nany.npz', { x: good.x, y: f32([n], nanY) }), /\[y\] holds NaN at flat index 2/, { loss: 'mse' });
    const nanTest = Float32Array.from(xs.subarray(0, 16 * 4));
    nanTest[0] = Number.NaN;
    dataCase('x_test holds NaN', npz('nantest.npz', { ...good, x_test: f32([16, 4], nanTest), y_test: i32([16], ys.subarray(0, 16)) }), /\[x_test\] holds NaN/);
  }
  {
    // A central directory that states 5 × 3.9 GB: refused from the directory, nothing inflated.
    const small = encodeNpz({ a: f32([1], [0]), b: f32([1], [0]), c: f32([1], [0]), d: f32([1], [0]), x: f32([1], [0]) });
    const lying = Buffer.from(small);
    for (let i = lying.length - 22; i >= 0; i--) {
      if (lying.readUInt32LE(i) === 0x02014b50) lying.writeUInt32LE(3.9e9, i + 24); // central directory: uncompressed size
    }
    dataCase('npz members stating 5 × 3.9 GB', file('lying.npz', lying), /inflates to 3\.6 GiB, over the/);
    const bomb = zipSync({ 'x.npy': [new Uint8Array(24 * 2 ** 20), { level: 1 }], 'y.npy': encodeNpy(good.y) });
    dataCase('npz zip bomb (24 MiB of zeros)', file('bomb.npz', bomb), /\[x\]: inflates to 24\.0 MiB, over the/);
  }
  const badNpy = (name: string, bytes: Uint8Array, problem: RegExp): void =>
    dataCase(name, file(`${name.replace(/\W+/g, '_')}.npz`, zipSync({ 'x.npy': [bytes, { level: 0 }], 'y.npy': [encodeNpy(good.y), { level: 0 }] })), problem);
  const header = (dict: string, body = new Uint8Array(0)): Uint8Array => {
    const h = `${dict}${' '.repeat(Math.max(0, 117 - dict.length))}\n`;
    const out = new Uint8Array(10 + h.length + body.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(out.buffer).setUint16(8, h.length, true);
    for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
    out.set(body, 10 + h.length);
    return out;
  };
  badNpy('npy member bad magic', enc('not numpy at all'), /bad magic bytes/);
  badNpy('npy member complex', header(`{'descr': '<c8', 'fortran_order': False, 'shape': (80, 4), }`), /complex/);
  badNpy('npy member big-endian', header(`{'descr': '>f4', 'fortran_order': False, 'shape': (80, 4), }`), /big-endian/);
  badNpy('npy member Fortran order', header(`{'descr': '<f4', 'fortran_order': True, 'shape': (80, 4), }`), /Fortran order/);
  badNpy('npy member object dtype', header(`{'descr': '|O', 'fortran_order': False, 'shape': (80, 4), }`), /Python objects/);
  badNpy('npy member float16', header(`{'descr': '<f2', 'fortran_order': False, 'shape': (80, 4), }`), /float16/);
  badNpy('npy member truncated data', header(`{'descr': '<f4', 'fortran_order': False, 'shape': (80, 4), }`, new Uint8Array(12)), /is truncated/);
  badNpy('npy member structured', header(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (80,), }`), /structured/);
  badNpy('npy member huge shape', header(`{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 4), }`), /is truncated/);
  badNpy('npy member malformed shape', header(`{'descr': '<f4', 'fortran_order': False, 'shape': (a, b), }`), /malformed \.npy header/);
  badNpy('npy member version 9', (() => {
    const b = header(`{'descr': '<f4', 'fortran_order': False, 'shape': (80, 4), }`);
    b[6] = 9;
    return b;
  })(), /format version 9/);
  {
    const dir = at('npy');
    mkdirSync(dir);
    const p = (name: string): string => path.join(dir, name);
    writeFileSync(p('alone_x.npy'), encodeNpy(good.x));
    dataCase('npy without labels', p('alone_x.npy'), /has no labels/);
    writeFileSync(p('badmagic_x.npy'), 'nope');
    writeFileSync(p('badmagic_y.npy'), encodeNpy(good.y));
    dataCase('npy bad magic', p('badmagic_x.npy'), /bad magic bytes/);
    writeFileSync(p('short_x.npy'), encodeNpy(good.x).subarray(0, 9));
    writeFileSync(p('short_y.npy'), encodeNpy(good.y));
    dataCase('npy truncated header', p('short_x.npy'), /not a NumPy \.npy file|truncated/);
    symlinkSync('/dev/zero', p('zero_x.npy'));
    writeFileSync(p('zero_y.npy'), encodeNpy(good.y));
    dataCase('npy x is /dev/zero', p('zero_x.npy'), /is a device/);
    mkfifo(p('fifo_x.npy'));
    writeFileSync(p('fifo_y.npy'), encodeNpy(good.y));
    dataCase('npy x is a FIFO', p('fifo_x.npy'), /named pipe/);
    writeFileSync(p('fifolabels_x.npy'), encodeNpy(good.x));
    mkfifo(p('fifolabels_y.npy'));
    dataCase('npy labels a FIFO', p('fifolabels_x.npy'), /named pipe/, {}, p('fifolabels_y.npy'));
    writeFileSync(p('mismatch_x.npy'), encodeNpy(good.x));
    writeFileSync(p('mismatch_y.npy'), encodeNpy(i32([n + 3], new Int32Array(n + 3))));
    dataCase('npy labels count', p('mismatch_x.npy'), /has 80 samples but mismatch_y\.npy has 83/);
    writeFileSync(p('big_x.npy'), encodeNpy({ dtype: 'int64', shape: [n, 4], data: BigInt64Array.from({ length: n * 4 }, (_, i) => (i === 7 ? 2n ** 60n : 1n)) }));
    writeFileSync(p('big_y.npy'), encodeNpy(good.y));
    dataCase('npy int64 beyond 2^53', p('big_x.npy'), /outside ±2\^53/, {}, 'big_x.npy');
    writeFileSync(p('wide_x.npy'), encodeNpy(f32([n, 5], new Float32Array(n * 5))));
    writeFileSync(p('wide_y.npy'), encodeNpy(good.y));
    dataCase('x features do not fit the model', p('wide_x.npy'), /samples of shape \[5\] but the model expects \[4\]/, {}, 'wide_x.npy');
    const sparse = p('sparse_x.npy');
    writeFileSync(sparse, '');
    truncateSync(sparse, 3 * 2 ** 30);
    writeFileSync(p('sparse_y.npy'), encodeNpy(good.y));
    dataCase('npy 3 GiB sparse', sparse, /over the .* Losscape reads at once/);
    mkdirSync(p('empty-folder'));
    dataCase('data folder without x.npy', p('empty-folder'), /is a folder without x\.npy and y\.npy/);
  }
  {
    const labels = Int32Array.from(ys);
    labels[77] = 7;
    // --samples 4 picks samples that do not include 77: the whole file is checked anyway.
    dataCase('label out of range outside the --samples subset', npz('labels.npz', { x: good.x, y: i32([n], labels) }), /labels range over 0\.\.7 but the model has 3 outputs/, { samples: 4 });
    const floatLabels = Float32Array.from(ys, (v) => v + 0.5);
    dataCase('float labels for a classifier', npz('floatlabels.npz', { x: good.x, y: f32([n], floatLabels) }), /are the labels class indices/);
  }
  // CSV
  const csvCase = (name: string, text: string, problem: RegExp, over: Record<string, unknown> = {}): void => dataCase(name, file(`${name.replace(/\W+/g, '_')}.csv`, text), problem, over);
  const rows = Array.from({ length: 10 }, (_, i) => `${i % 3},0.1,0.2,0.3,0.4`).join('\n');
  csvCase('csv empty', '', /is empty/);
  csvCase('csv header only', 'label,a,b,c,d\n', /no data rows/);
  csvCase('csv without header', rows, /has no header row/);
  csvCase('csv without label column', `a,b,c,d,e\n${rows}`, /has no label column 'label'/);
  csvCase('csv non-numeric cell', `label,a,b,c,d\n0,0.1,x,0.3,0.4\n`, /line 2, column 'b': 'x' is not a number/);
  csvCase('csv NaN cell', `label,a,b,c,d\n0,0.1,NaN,0.3,0.4\n`, /'NaN' is not a number/);
  csvCase('csv Infinity cell', `label,a,b,c,d\n0,0.1,Infinity,0.3,0.4\n`, /'Infinity' is not a number/);
  csvCase('csv empty cell', `label,a,b,c,d\n0,0.1,,0.3,0.4\n`, /an empty cell is not a number/);
  csvCase('csv duplicate column', `label,a,a,c,d\n${rows}`, /two columns named 'a'/);
  csvCase('csv label column only', `label\n0\n1\n`, /has only the label column/);
  csvCase('csv ragged row', `label,a,b,c,d\n0,1,2,3,4\n1,2,3\n`, /is not valid CSV/);
  csvCase('csv wrong feature count', `label,a,b,c\n0,1,2,3\n`, /samples of shape \[3\] but the model expects \[4\]/);
  csvCase('csv --label-column missing', `label,a,b,c,d\n${rows}`, /has no label column 'target'/, { labelColumn: 'target' });
  {
    const fifo = at('fifo.csv');
    mkfifo(fifo);
    dataCase('csv a FIFO', fifo, /named pipe/);
    const sparse = at('sparse.csv');
    writeFileSync(sparse, '');
    truncateSync(sparse, 2 ** 30);
    dataCase('csv 1 GiB sparse', sparse, /to parse as CSV/);
  }

  // ---- losses and loss modules -----------------------------------------------------------
  const mod = (name: string, code: string): string => file(name, code);
  const lossCase = (name: string, file: string, problem: RegExp, over: Record<string, unknown> = {}): void => land(name, { lossModule: file, loss: undefined, ...over }, file, problem);
  land('unknown --loss', { loss: 'nope' }, '--loss', /unknown loss 'nope'/);
  land('training config with a per-output loss', { model: variant((j) => void (j.trainingConfig = { loss: ['mse', 'mae'] })), loss: undefined }, 'model.json', /per-output loss/);
  lossCase('loss module missing', at('missing-loss.js'), /loss module not found/);
  {
    mkdirSync(at('loss-folder.js'));
    lossCase('loss module a folder', at('loss-folder.js'), /is a folder/);
    const fifo = at('fifo-loss.js');
    mkfifo(fifo);
    lossCase('loss module a FIFO', fifo, /named pipe/);
  }
  lossCase('loss module syntax error (CommonJS)', mod('syntax.js', 'module.exports = function (a, b) { return a.sub(b) '), /does not parse as JavaScript/);
  lossCase('loss module TS compile error', mod('broken.ts', 'export default function loss(a: number, b: number { return a }'), /does not compile \(line 1\)/);
  lossCase('loss module throws at load', mod('throws.js', 'throw new Error("not today")'), /threw while loading: not today/);
  lossCase('loss module throws a string at load', mod('throwsstr.js', 'throw "just a string"'), /threw while loading: just a string/);
  lossCase('loss module exports nothing', mod('nothing.js', 'module.exports = { answer: 42 }'), /exports no loss function to pick/);
  lossCase('loss module exports a number', mod('number.js', 'module.exports = 42'), /exports no loss function to pick \(functions exported: none\)/);
  lossCase('loss module two functions, none named loss', mod('two.js', 'exports.a = () => 0; exports.b = () => 0;'), /exports no loss function to pick \(functions exported: a, b\)/);
  lossCase('--loss-export not exported', mod('named.js', 'exports.myLoss = (t, p) => p.sub(t).square().mean(-1)'), /exports no function 'other'/, { lossExport: 'other' });
  lossCase('loss function throws when called', mod('callthrows.js', 'module.exports = function (yTrue, yPred) { throw new Error("boom in loss") }'), /the loss function threw: boom in loss/);
  lossCase('loss function returns NaN', mod('nan.js', "const tf = require('@tensorflow/tfjs'); module.exports = (t, p) => tf.fill([p.shape[0]], NaN)"), /the loss function returns NaN at the model's weights/);
  lossCase('loss function returns Infinity', mod('inf.js', "const tf = require('@tensorflow/tfjs'); module.exports = (t, p) => tf.fill([p.shape[0]], Infinity)"), /returns Infinity at the model's weights/);
  lossCase('loss function returns a number', mod('plain.js', 'module.exports = (t, p) => 0.5'), /did not return a tensor/);
  lossCase('loss function returns the wrong shape', mod('shape.js', 'module.exports = (t, p) => p.sum().reshape([1, 1]).tile([2, 1])'), /returned shape \[2,1\], expected \[80\]/);
  lossCase('loss module requires a missing package', mod('requires.js', "require('no-such-package-xyz'); module.exports = (t, p) => p"), /threw while loading: Cannot find module 'no-such-package-xyz'/);

  // ---- options checked by the engine -----------------------------------------------------
  land('--to missing', { dims: 1, to: at('none', 'model.json') }, at('none', 'model.json'), /model file not found/);
  {
    const other = at('other-arch');
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 5, activation: 'tanh' }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    await saveLayersModelToDir(m, other);
    m.dispose();
    land('--to another architecture', { dims: 1, to: path.join(other, 'model.json') }, path.join(other, 'model.json'), /is not the same architecture/);
  }
  // The papers' episode and batch-level losses (issue 11).
  land('episode loss without --episode', { loss: 'proto_triplet' }, '--episode', /proto_triplet is an episode loss: pass --episode N,K,Q/);
  land('episodes the data cannot fill', { loss: 'icnn', episode: { way: 3, shot: 30, query: 2, count: 1 } }, '--episode', /need 3 classes with at least 32 samples each; data\.npz has 0 such classes/);
  land('--episode with a per-sample loss', { episode: { way: 3, shot: 1, query: 1, count: 1 } }, '--episode', /applies to the episode losses proto_triplet and icnn/);
  land('cs_divergence bandwidth 0', { loss: 'cs_divergence', lossParams: { sigma: 0 } }, '--loss-param', /cs_divergence needs sigma in \(0, ∞\), got 0/);
  land('icnn k not an integer', { loss: 'icnn', lossParams: { k: 1.5 }, episode: { way: 3, shot: 1, query: 1, count: 1 } }, '--loss-param', /icnn needs k in \{1, 2, …\}, got 1\.5/);
  cases.push({ name: 'hessian --top over the dimension', spec: { kind: 'hessian', ...base, points: undefined, top: 500, out: out('hessian-top') } as AnalysisSpecInput, names: '--top', problem: /--top/ });

  // ---- checkpoint series (trajectory, grokking) ------------------------------------------
  {
    const series = at('series');
    mkdirSync(series);
    for (const step of [0, 10]) {
      mkdirSync(path.join(series, `step-${step}`));
      copyFileSync(ws.model, path.join(series, `step-${step}`, 'model.json'));
      const moved = Buffer.from(shardBytes);
      moved.writeFloatLE(moved.readFloatLE(0) + step, 0); // distinct checkpoints
      writeFileSync(path.join(series, `step-${step}`, 'group1-shard1of1.bin'), moved);
    }
    const same = at('same');
    for (const step of [1, 2]) {
      mkdirSync(path.join(same, `step-${step}`), { recursive: true });
      copyFileSync(ws.model, path.join(same, `step-${step}`, 'model.json'));
      copyFileSync(shard, path.join(same, `step-${step}`, 'group1-shard1of1.bin'));
    }
    const traj = (name: string, checkpoints: string | string[], names: string, problem: RegExp, kind: 'trajectory' | 'grokking' = 'trajectory'): void => {
      const spec = kind === 'trajectory' ? { kind, data: ws.data, loss: 'sparse_categorical_crossentropy', checkpoints, mode: 'line', points: 3, out: out(name) } : { kind, data: ws.data, loss: 'sparse_categorical_crossentropy', checkpoints, probe: 0, out: out(name) };
      cases.push({ name, spec: spec as AnalysisSpecInput, names, problem });
    };
    traj('two checkpoints that are the same point', same, same, /the two checkpoints are the same point: the line mode needs checkpoints that differ/);
    traj('glob matching nothing', path.join(series, 'nope-*/model.json'), 'nope-*', /matches no files/);
    // A symlink cycle under a `**` glob: the walk ends (each real folder once) and finds nothing.
    mkdirSync(at('cycle', 'a'), { recursive: true });
    symlinkSync('..', at('cycle', 'a', 'up'));
    traj('** glob over a symlink cycle', at('cycle', '**', 'model.json'), '**', /matches no files/);
    traj('folder without checkpoints', at('cycle'), at('cycle'), /is a folder without checkpoints/);
    traj('checkpoint missing', [path.join(series, 'step-0', 'model.json'), at('gone', 'model.json')], at('gone', 'model.json'), /checkpoint not found/);
    mkdirSync(at('bad-ckpt', 'step-5'), { recursive: true });
    writeFileSync(at('bad-ckpt', 'step-5', 'model.json'), '{oops');
    traj('checkpoint not JSON', [path.join(series, 'step-0', 'model.json'), at('bad-ckpt', 'step-5', 'model.json')], 'step-5', /is not valid JSON/);
    mkdirSync(at('nostep', 'final'), { recursive: true });
    copyFileSync(ws.model, at('nostep', 'final', 'model.json'));
    traj('checkpoint without a step', [path.join(series, 'step-0', 'model.json'), at('nostep', 'final', 'model.json')], 'final', /has no step/);
    mkdirSync(at('dup', 'run-10'), { recursive: true });
    copyFileSync(ws.model, at('dup', 'run-10', 'model.json'));
    traj('two checkpoints with one step', [path.join(series, 'step-10', 'model.json'), at('dup', 'run-10', 'model.json')], 'model.json', /has step 10, like/);
    const otherArch = path.join(at('other-arch'), 'model.json');
    mkdirSync(at('arch', 'step-20'), { recursive: true });
    copyFileSync(otherArch, at('arch', 'step-20', 'model.json'));
    traj('checkpoints of two architectures', [path.join(series, 'step-0', 'model.json'), at('arch', 'step-20', 'model.json')], 'step-20', /is not the same architecture/);
    mkdirSync(at('fifo-ckpt', 'step-3'), { recursive: true });
    mkfifo(at('fifo-ckpt', 'step-3', 'model.json'));
    traj('checkpoint a FIFO', [path.join(series, 'step-0', 'model.json'), at('fifo-ckpt', 'step-3', 'model.json')], 'step-3', /named pipe/);
    mkdirSync(at('nan-ckpt', 'step-30'), { recursive: true });
    copyFileSync(ws.model, at('nan-ckpt', 'step-30', 'model.json'));
    const nanShard = Buffer.from(shardBytes);
    nanShard.writeFloatLE(Number.NaN, 8);
    writeFileSync(at('nan-ckpt', 'step-30', 'group1-shard1of1.bin'), nanShard);
    traj('checkpoint with NaN weights', [path.join(series, 'step-0', 'model.json'), at('nan-ckpt', 'step-30', 'model.json')], 'step-30', /holds NaN at flat index 2/);
    traj('grokking: glob matching nothing', path.join(series, 'none-*', 'model.json'), 'none-*', /matches no files/, 'grokking');
    traj('grokking: checkpoint not JSON', [path.join(series, 'step-0', 'model.json'), at('bad-ckpt', 'step-5', 'model.json')], 'step-5', /is not valid JSON/, 'grokking');
    traj('trajectory --out is a checkpoint', series, path.join(series, 'step-0', 'model.json'), /is one of the analysis inputs/);
    Object.assign(cases[cases.length - 1].spec!, { out: path.join(series, 'step-0', 'model.json'), mode: 'line' });
  }

  // ---- the result path -------------------------------------------------------------------
  const outCase = (name: string, outPath: string, problem: RegExp, over: Record<string, unknown> = {}): void => {
    cases.push({ name, spec: { kind: 'landscape', ...base, ...over, out: outPath } as AnalysisSpecInput, names: outPath, problem });
  };
  {
    const own = at('own');
    mkdirSync(own);
    const model = path.join(own, 'model.json');
    copyFileSync(ws.model, model);
    copyFileSync(shard, path.join(own, 'group1-shard1of1.bin'));
    const data = path.join(own, 'data.npz');
    copyFileSync(ws.data, data);
    const over = { model, data };
    outCase('--out is the model.json', model, /is one of the analysis inputs/, over);
    outCase('--out is the data file', data, /is one of the analysis inputs/, over);
    outCase('--out is the weight shard', path.join(own, 'group1-shard1of1.bin'), /is one of the analysis inputs/, over);
    const lossFile = path.join(own, 'loss.js');
    writeFileSync(lossFile, 'module.exports = (t, p) => p.sub(t.reshape(p.shape)).square().mean(-1)');
    outCase('--out is the loss module', lossFile, /is one of the analysis inputs/, { ...over, lossModule: lossFile, loss: undefined, data: npz('mse.npz', { x: good.x, y: f32([n, 3], new Float32Array(n * 3)) }) });
    symlinkSync(model, path.join(own, 'link.losscape.json'));
    outCase('--out is a symlink to the model.json', path.join(own, 'link.losscape.json'), /is one of the analysis inputs/, over);
    linkSync(data, path.join(own, 'hard.losscape.json'));
    outCase('--out is a hard link to the data', path.join(own, 'hard.losscape.json'), /is one of the analysis inputs/, over);
    outCase('--out is the --to model', path.join(at('other-arch'), 'model.json'), /is one of the analysis inputs/, { dims: 1, to: path.join(at('other-arch'), 'model.json') });
    outCase('--out is a folder', own, /is a folder; the result path names a file/);
    outCase('--out under a file', path.join(data, 'r.losscape.json'), /a part of its folder path is a file/);
    const fifo = at('fifo.losscape.json');
    mkfifo(fifo);
    outCase('--out is a FIFO', fifo, /is not a regular file/);
    const locked = at('locked.losscape.json');
    writeFileSync(`${locked}.lock`, String(process.pid));
    outCase('--out locked by a live run', locked, new RegExp(`is being written by another Losscape run \\(pid ${process.pid}\\)`));
    outCase('--out in /proc', '/proc/losscape-test.losscape.json', /cannot be written/);
  }
  return cases;
}

/** Option errors the CLI refuses before any engine starts (one line each, exit 2). */
export function optionCases(ws: TinyWorkspace, outFile: string): BadCase[] {
  const m = ['--model', ws.model, '--data', ws.data, '--out', outFile];
  const c = (name: string, args: string[], names: string, problem: RegExp): BadCase => ({ name, args, names, problem });
  return [
    c('--points not a number', ['landscape', ...m, '--points', 'many'], '--points', /--points must be an integer/),
    c('--points 1', ['landscape', ...m, '--points', '1'], '--points', /--points must be an integer ≥ 2/),
    c('--range decreasing', ['landscape', ...m, '--range', '1,0'], '--range', /two increasing numbers/),
    c('--range one number', ['landscape', ...m, '--range', '1'], '--range', /two increasing numbers/),
    c('--range NaN', ['landscape', ...m, '--range', 'NaN,1'], '--range', /comma-separated numbers/),
    c('--dims 3', ['landscape', ...m, '--dims', '3'], '--dims', /Allowed choices are 1, 2/),
    c('--norm bogus', ['landscape', ...m, '--norm', 'bogus'], '--norm', /Allowed choices/),
    c('--samples 0', ['landscape', ...m, '--samples', '0'], '--samples', /--samples must be an integer ≥ 1/),
    c('--batch-size abc', ['landscape', ...m, '--batch-size', 'abc'], '--batch-size', /--batch-size must be an integer/),
    c('--seed -1', ['landscape', ...m, '--seed', '-1'], '--seed', /--seed must be an integer ≥ 0/),
    c('--backend bogus', ['landscape', ...m, '--backend', 'bogus'], '--backend', /Allowed choices/),
    c('--from-logits with --from-probabilities', ['landscape', ...m, '--from-logits', '--from-probabilities'], '--from-probabilities', /cannot be used with/),
    c('--model missing', ['landscape', '--data', ws.data, '--out', outFile], '--model', /required option '--model <file>' not specified/),
    c('--out missing', ['landscape', '--model', ws.model, '--data', ws.data], '--out', /required option '--out <file>' not specified/),
    c('unknown option', ['landscape', ...m, '--bogus'], '--bogus', /unknown option '--bogus'/),
    c('unknown command', ['landscap'], 'landscap', /unknown command 'landscap'/),
    c('hessian --operator bogus', ['hessian', ...m, '--operator', 'bogus'], '--operator', /argument 'bogus' is invalid/),
    c('hessian --top -1', ['hessian', ...m, '--top', '-1'], '--top', /--top must be an integer ≥ 0/),
    c('sharpness --rho abc', ['sharpness', ...m, '--rho', 'abc'], '--rho', /--rho/),
    c('prune-saliency --gradients 0', ['prune-saliency', ...m, '--gradients', '0'], '--gradients', /--gradients/),
    c('trajectory --mode bogus', ['trajectory', '--checkpoints', ws.dir, '--data', ws.data, '--out', outFile, '--mode', 'bogus'], '--mode', /Allowed choices/),
    c('grokking --lag 0', ['grokking', '--checkpoints', ws.dir, '--data', ws.data, '--out', outFile, '--lag', '0'], '--lag', /--lag must be an integer ≥ 1/),
    c('report of a file that is not a result', ['report', ws.model, '--out', outFile + '.html'], 'model.json', /not a valid Losscape result/),
  ];
}
