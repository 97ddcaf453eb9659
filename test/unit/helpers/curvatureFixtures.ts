import * as tf from '@tensorflow/tfjs';
import { makeLoss, type LossName } from '../../../src/engine/losses';
import type { LinearOperator } from '../../../src/engine/linalg/operator';
import { Rng } from '../../../src/engine/linalg/rng';
import { TfjsObjective as Objective } from '../../../src/engine/tfjs/objective';
import type { Data64, Mlp64, RefLoss } from './mlp64';
import { blobs, buildTinyModel } from './tinyModel';

/**
 * Small objectives with float64 references for the curvature tests: each holds the TF.js
 * objective and the same model, data and parameters as an `Mlp64` description.
 */
export interface Fixture {
  obj: Objective;
  net: Mlp64;
  loss: RefLoss;
  data: Data64;
  theta: Float64Array;
  dispose(): void;
}

function rows(x: Float32Array, n: number, w: number): Float64Array[] {
  return Array.from({ length: n }, (_, i) => Float64Array.from(x.subarray(i * w, (i + 1) * w)));
}

function fixture(model: tf.LayersModel, lossName: LossName, fromLogits: boolean, net: Mlp64, ref: RefLoss, x: Float32Array, y: Float32Array, yShape: number[], batchSize: number): Fixture {
  const n = x.length / net.sizes[0];
  const obj = new Objective(model, makeLoss(lossName, fromLogits), { x, sampleShape: [net.sizes[0]], y, ySampleShape: yShape, n }, batchSize);
  const yw = yShape.length ? yShape.reduce((a, b) => a * b, 1) : 1;
  return {
    obj,
    net,
    loss: ref,
    data: { x: rows(x, n, net.sizes[0]), y: rows(y, n, yw) },
    theta: Float64Array.from(obj.theta0),
    dispose() {
      obj.dispose();
      model.dispose();
    },
  };
}

/** The 4-8-3 tanh/softmax MLP on 80 blob samples, sparse cross-entropy on probabilities. */
export function tanhMlp(batchSize = 32, act: 'tanh' | 'relu' = 'tanh'): Fixture {
  const { x, y } = blobs(80, 5);
  return fixture(buildTinyModel(11, act), 'categorical_crossentropy', false, { sizes: [4, 8, 3], acts: [act, 'softmax'] }, 'ce', x, Float32Array.from(y), [], batchSize);
}

/** Linear regression ŷ = Wx + b, C outputs, MSE (a mean over outputs too): H = 2·X̃ᵀX̃/(nC) per output. */
export function linearRegression(C = 1, n = 64, features = 3, seed = 3): Fixture {
  const rng = new Rng(seed);
  const x = new Float32Array(n * features);
  rng.fillNormal(x);
  const y = new Float32Array(n * C);
  for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) y[i * C + c] = x[i * features] - 0.5 * x[i * features + (c % features)] + 0.3 * rng.normal() + c;
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [features], units: C, kernelInitializer: tf.initializers.randomNormal({ seed, stddev: 0.5 }), biasInitializer: 'ones' })] });
  return fixture(model, 'mse', false, { sizes: [features, C], acts: ['linear'] }, 'mse', x, y, [C], 24);
}

/** Logistic regression p = σ(wᵀx + b), binary cross-entropy on probabilities (or on logits): H = X̃ᵀdiag(p(1−p))X̃/n. */
export function logisticRegression(logits = false, n = 72, features = 3, seed = 4): Fixture {
  const rng = new Rng(seed);
  const x = new Float32Array(n * features);
  rng.fillNormal(x);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = x[i * features] + 0.5 * x[i * features + 1] + 0.7 * rng.normal() > 0 ? 1 : 0;
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [features], units: 1, activation: logits ? 'linear' : 'sigmoid', kernelInitializer: tf.initializers.randomNormal({ seed, stddev: 0.7 }), biasInitializer: tf.initializers.constant({ value: 0.2 }) })],
  });
  return fixture(model, 'binary_crossentropy', logits, { sizes: [features, 1], acts: ['sigmoid'] }, 'bce', x, y, [1], 32);
}

/** Column j of a dense matrix from products with unit vectors: A itself (A may be slightly asymmetric). */
export async function denseOf(op: LinearOperator): Promise<number[][]> {
  const cols: Float64Array[] = [];
  for (let j = 0; j < op.dim; j++) {
    const e = new Float64Array(op.dim);
    e[j] = 1;
    cols.push(await op.matvec(e));
  }
  return Array.from({ length: op.dim }, (_, i) => Array.from({ length: op.dim }, (_, j) => cols[j][i]));
}

/** ‖A − B‖_F / ‖B‖_F. */
export function frobeniusRel(A: number[][], B: number[][]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < B.length; i++) {
    for (let j = 0; j < B.length; j++) {
      num += (A[i][j] - B[i][j]) ** 2;
      den += B[i][j] ** 2;
    }
  }
  return Math.sqrt(num / den);
}

/** Closed-form X̃ᵀ diag(w) X̃ / n with X̃ = [X, 1], in the objective's order (kernel rows, then bias). */
export function weightedGram(x: Float64Array[], w: (i: number) => number): number[][] {
  const f = x[0].length + 1;
  const H = Array.from({ length: f }, () => new Array<number>(f).fill(0));
  x.forEach((row, i) => {
    const xt = [...row, 1];
    for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) H[a][b] += (w(i) * xt[a] * xt[b]) / x.length;
  });
  return H;
}
