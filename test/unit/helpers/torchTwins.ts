import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../../../src/engine/linalg/rng';
import { saveLayersModelToDir } from '../../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../../src/engine/loaders/npz';

/**
 * The same network in both engines: a TF.js model.json and a PyTorch module (a .py file) with a
 * state_dict holding the same weights. Layouts differ: Dense kernels are [in, out] and Linear
 * weights [out, in]; Conv2D kernels [kh, kw, in, out] and Conv2d weights [out, in, kh, kw]; the
 * CNN's inputs are NHWC for TF.js and NCHW for torch (one channel: the same bytes).
 */
export const REPO = path.resolve(__dirname, '../../..');

/** The torch venv scripts/setup-torch.sh creates; a missing one FAILS the torch tests (CI must have it). */
export function torchPython(): string {
  const py = process.env.LOSSCAPE_TEST_PYTHON ?? path.join(REPO, '.tools', 'torch-venv', 'bin', 'python');
  if (!existsSync(py)) throw new Error(`${py} is missing: run scripts/setup-torch.sh (the torch-engine tests need torch; they do not skip)`);
  return py;
}

export const NETS_PY = `import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.fc1 = nn.Linear(4, width)
        self.fc2 = nn.Linear(width, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3)
        self.conv2 = nn.Conv2d(2, 3, 3)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        h = torch.tanh(self.conv1(x))
        h = torch.tanh(self.conv2(h))
        return self.fc(self.pool(h).flatten(1))


def raising_factory():
    raise ValueError("the factory is broken")
`;

export const LOSSES_PY = `import torch


def raising_loss(outputs, targets):
    raise RuntimeError("loss exploded")


def wrong_shape_loss(outputs, targets):
    return outputs[:2]


def nll(outputs, targets):
    return torch.nn.functional.cross_entropy(outputs, targets.long(), reduction="none")
`;

export type TwinKind = 'mlp' | 'cnn';

export function buildTfjsTwin(kind: TwinKind, seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.randomNormal({ seed: s, stddev: 0.5 });
  if (kind === 'mlp') {
    return tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 8, activation: 'tanh', kernelInitializer: init(seed), biasInitializer: init(seed + 1) }),
        tf.layers.dense({ units: 3, kernelInitializer: init(seed + 2), biasInitializer: init(seed + 3) }),
      ],
    });
  }
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'tanh', kernelInitializer: init(seed), biasInitializer: init(seed + 1) }),
      tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'tanh', kernelInitializer: init(seed + 2), biasInitializer: init(seed + 3) }),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: init(seed + 4), biasInitializer: init(seed + 5) }),
    ],
  });
}

/** Transposes a C-order array of `shape` by `perm` (out axis i = in axis perm[i]). */
export function transpose(data: ArrayLike<number>, shape: number[], perm: number[]): Float64Array {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float64Array(data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let a = 0; a < perm.length; a++) src += idx[a] * inStrides[perm[a]];
    out[o] = data[src];
    for (let a = perm.length - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

const TORCH_NAMES: Record<TwinKind, string[]> = {
  mlp: ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'],
  cnn: ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', 'fc.bias'],
};

/** TF.js trainable tensors (kernel, bias per layer) in torch layout, keyed by state_dict name. */
export function torchStateOf(model: tf.LayersModel, kind: TwinKind): Record<string, { shape: number[]; data: Float64Array }> {
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  model.trainableWeights.forEach((w, i) => {
    const shape = w.shape as number[];
    const data = w.read().dataSync();
    const perm = shape.length === 4 ? [3, 2, 0, 1] : shape.length === 2 ? [1, 0] : [0];
    out[TORCH_NAMES[kind][i]] = { shape: perm.map((p) => shape[p]), data: transpose(data, shape, perm) };
  });
  return out;
}

/** Index map: torch θ position → TF.js θ position (both flat in their objective's order). */
export function torchToTfjsIndex(model: tf.LayersModel): Int32Array {
  const parts: Float64Array[] = [];
  let offset = 0;
  for (const w of model.trainableWeights) {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const ids = Float64Array.from({ length: size }, (_, k) => offset + k);
    const perm = shape.length === 4 ? [3, 2, 0, 1] : shape.length === 2 ? [1, 0] : [0];
    parts.push(transpose(ids, shape, perm));
    offset += size;
  }
  const out = new Int32Array(offset);
  let o = 0;
  for (const p of parts) for (const v of p) out[o++] = v;
  return out;
}

/** Writes state_dicts as .pt files with the torch venv (one interpreter start for all). */
export function saveStateDicts(items: { file: string; state: Record<string, { shape: number[]; data: Float64Array }> }[]): void {
  const jobs = items.map(({ file, state }) => {
    const npz = `${file}.npz`;
    const arrays = Object.fromEntries(Object.entries(state).map(([k, v]) => [k, { dtype: 'float32' as const, shape: v.shape, data: Float32Array.from(v.data) }]));
    writeFileSync(npz, encodeNpz(arrays));
    return [npz, file];
  });
  const script = [
    'import json, sys, numpy as np, torch',
    'for npz, out in json.loads(sys.argv[1]):',
    '    d = np.load(npz)',
    '    torch.save({k: torch.from_numpy(d[k].copy()) for k in d.files}, out)',
  ].join('\n');
  execFileSync(torchPython(), ['-c', script, JSON.stringify(jobs)], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface TwinWorkspace {
  dir: string;
  kind: TwinKind;
  /** TF.js model.json files, and the torch weights with the same values, per seed. */
  tfjs: string[];
  torch: string[];
  /** net.py:MLP or net.py:CNN. */
  torchModel: string;
  netsPy: string;
  lossesPy: string;
  tfjsData: string;
  torchData: string;
  index: Int32Array;
}

/** Two seeded twins (for the line between models) and data (train + test) for each engine's layout. */
export async function makeTwinWorkspace(root: string, kind: TwinKind, seeds: number[] = [3, 17]): Promise<TwinWorkspace> {
  const dir = path.join(root, kind);
  mkdirSync(dir, { recursive: true });
  const netsPy = path.join(dir, 'nets.py');
  writeFileSync(netsPy, NETS_PY);
  const lossesPy = path.join(dir, 'losses.py');
  writeFileSync(lossesPy, LOSSES_PY);
  const tfjs: string[] = [];
  const torch: string[] = [];
  const states: { file: string; state: ReturnType<typeof torchStateOf> }[] = [];
  let index: Int32Array = new Int32Array(0);
  for (const s of seeds) {
    const m = buildTfjsTwin(kind, s);
    const d = path.join(dir, `tfjs-${s}`);
    await saveLayersModelToDir(m, d);
    tfjs.push(path.join(d, 'model.json'));
    const pt = path.join(dir, `weights-${s}.pt`);
    states.push({ file: pt, state: torchStateOf(m, kind) });
    torch.push(pt);
    index = torchToTfjsIndex(m);
    m.dispose();
  }
  saveStateDicts(states);
  const { tfjsData, torchData } = writeTwinData(dir, kind, 36, 12, 5);
  return { dir, kind, tfjs, torch, torchModel: `${netsPy}:${kind === 'mlp' ? 'MLP' : 'CNN'}`, netsPy, lossesPy, tfjsData, torchData, index };
}

export function writeTwinData(dir: string, kind: TwinKind, n: number, nTest: number, seed: number): { tfjsData: string; torchData: string } {
  const rng = new Rng(seed);
  const per = kind === 'mlp' ? 4 : 36;
  const total = n + nTest;
  const x = new Float32Array(total * per);
  const y = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    const c = i % 3;
    y[i] = c;
    for (let j = 0; j < per; j++) x[i * per + j] = (j % 3 === c ? 1 : 0) + 0.7 * rng.normal();
  }
  const write = (file: string, shape: number[]) =>
    writeFileSync(
      file,
      encodeNpz({
        x: { dtype: 'float32', shape: [n, ...shape], data: x.subarray(0, n * per) },
        y: { dtype: 'int32', shape: [n], data: y.subarray(0, n) },
        x_test: { dtype: 'float32', shape: [nTest, ...shape], data: x.subarray(n * per) },
        y_test: { dtype: 'int32', shape: [nTest], data: y.subarray(n) },
      }),
    );
  const tfjsData = path.join(dir, 'data-tfjs.npz');
  const torchData = path.join(dir, 'data-torch.npz');
  write(tfjsData, kind === 'mlp' ? [4] : [6, 6, 1]);
  write(torchData, kind === 'mlp' ? [4] : [1, 6, 6]);
  return { tfjsData, torchData };
}
