import * as tf from '@tensorflow/tfjs';
import { Rng } from '../linalg/rng';

/**
 * The model of the seed paper, "Grokking as the Transition from Lazy to Rich Training Dynamics"
 * (Kumar, Bordelon, Gershman & Pehlevan 2023), in TF.js:
 *
 *   f(x) = (α/N) Σᵢ φ(wᵢ·x),  φ(h) = h + (ε/2)h²,   target y = (β·x)²/2,   x ~ N(0, I/D),
 *
 * wᵢ ∈ ℝᴰ the N hidden weights (the only trainable parameters; the read-out is fixed), trained by
 * full-batch gradient descent on the mean squared error L = mean (f − y)² (no ½) with η ∝ N/α²:
 * α is the output scale, and a larger α makes training lazier (the weights move by O(1/α)).
 * As in the paper's code (its `CENTER_LOSS`), the model can be centred, f − f₀ with f₀ the
 * network at initialisation, so that a large α does not start from a large output.
 *
 * Sufficient statistics. With m = (1/N)Σwᵢ and M = (1/N)Σwᵢwᵢᵀ,
 *   f(x) = α m·x + (αε/2) xᵀMx,   so   f(x) − y = α m·x + xᵀAx,   A = (αε/2)M − ββᵀ/2.
 * For x ~ N(0, Σ), Σ = I/D: E[(m·x)²] = mᵀΣm = ‖m‖²/D; E[(m·x)(xᵀAx)] = 0 (odd moment);
 * E[xᵀAx] = tr(AΣ) = tr A/D and Var(xᵀAx) = 2 tr(AΣAΣ) = 2 tr(A²)/D² (Gaussian fourth moments,
 * A symmetric). Hence the population loss
 *   E[(f − y)²] = α²‖m‖²/D + [(tr A)² + 2 tr(A²)]/D²,
 * the paper's formula, for the plain squared error (no ½, no mean over outputs: one output).
 * The centred model is of the same form with m − m₀ and M − M₀, so the formula holds for it
 * with those differences.
 *
 * Layers (what `losscape grokking` recognises): `seed_w` (Dense D→N, no bias, trainable),
 * `seed_w0` (its frozen initial copy, centred models only), a Multiply squaring each, a
 * Concatenate, and `seed_readout` (Dense → 1, no bias, frozen, weights ±α/N and ±αε/(2N)).
 * The model.json's `userDefinedMetadata.losscape.seedModel` holds α, ε, centred and β.
 */
export interface SeedModelConfig {
  /** Input dimension D. */
  inputDim: number;
  /** Hidden units N. */
  width: number;
  alpha: number;
  epsilon: number;
  centred: boolean;
}

export interface SeedModelMetadata extends SeedModelConfig {
  beta: number[];
}

export const SEED_LAYER = 'seed_w';
export const SEED_LAYER_INIT = 'seed_w0';

/** The seed-model metadata of a checkpoint's userDefinedMetadata, or null if it has none. */
export function seedMetadataOf(meta: Record<string, unknown> | undefined): SeedModelMetadata | null {
  const l = meta?.losscape as Record<string, unknown> | undefined;
  const s = l?.seedModel as Record<string, unknown> | undefined;
  if (!s) return null;
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!num(s.alpha) || !num(s.epsilon) || !num(s.inputDim) || !num(s.width) || !Array.isArray(s.beta) || !s.beta.every(num)) return null;
  if (s.beta.length !== s.inputDim) return null;
  return { alpha: s.alpha, epsilon: s.epsilon, inputDim: s.inputDim, width: s.width, centred: s.centred === true, beta: s.beta as number[] };
}

/** The readout weights: [α/N]·N, [αε/(2N)]·N, then (centred) the same negated for the frozen copy. */
function readout(cfg: SeedModelConfig): Float32Array {
  const N = cfg.width;
  const parts = [cfg.alpha / N, (cfg.alpha * cfg.epsilon) / (2 * N)];
  if (cfg.centred) parts.push(-cfg.alpha / N, -(cfg.alpha * cfg.epsilon) / (2 * N));
  const k = new Float32Array(parts.length * N);
  parts.forEach((v, j) => k.fill(v, j * N, (j + 1) * N));
  return k;
}

/**
 * Builds the model with wᵢ ~ N(0, I_D) drawn from `seed` (the paper's initialisation), its
 * metadata set, compiled with MSE so saved checkpoints carry the loss name.
 */
export function buildSeedModel(cfg: SeedModelConfig, beta: ArrayLike<number>, seed: number): tf.LayersModel {
  const { inputDim: D, width: N } = cfg;
  const x = tf.input({ shape: [D], name: 'seed_x' });
  const dense = (name: string, trainable: boolean) => tf.layers.dense({ units: N, useBias: false, name, trainable, kernelInitializer: 'zeros' });
  // h² as Multiply([h, linear(h)]): TF.js 4.22's layer executor frees a tensor too early when one
  // node takes it twice (Multiply([h, h])) and another node uses it too, so square a copy.
  const square = (t: tf.SymbolicTensor, name: string): tf.SymbolicTensor =>
    tf.layers.multiply({ name }).apply([t, tf.layers.activation({ activation: 'linear', name: `${name}_copy` }).apply(t) as tf.SymbolicTensor]) as tf.SymbolicTensor;
  const h = dense(SEED_LAYER, true).apply(x) as tf.SymbolicTensor;
  const feats: tf.SymbolicTensor[] = [h, square(h, 'seed_h2')];
  if (cfg.centred) {
    const h0 = dense(SEED_LAYER_INIT, false).apply(x) as tf.SymbolicTensor;
    feats.push(h0, square(h0, 'seed_h02'));
  }
  const cat = tf.layers.concatenate({ name: 'seed_features' }).apply(feats) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 1, useBias: false, trainable: false, name: 'seed_readout', kernelInitializer: 'zeros' }).apply(cat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: out, name: 'seed_model' });
  const w = new Float32Array(D * N);
  new Rng(seed).fillNormal(w);
  tf.tidy(() => {
    const wt = tf.tensor2d(w, [D, N]);
    model.getLayer(SEED_LAYER).setWeights([wt]);
    if (cfg.centred) model.getLayer(SEED_LAYER_INIT).setWeights([wt]);
    const r = readout(cfg);
    model.getLayer('seed_readout').setWeights([tf.tensor2d(r, [r.length, 1])]);
  });
  const meta: SeedModelMetadata = { ...cfg, beta: Array.from(beta) };
  model.setUserDefinedMetadata({ losscape: { seedModel: meta } });
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  return model;
}

export interface SeedData {
  beta: Float64Array;
  x: Float32Array;
  y: Float32Array;
  n: number;
}

/** β ~ N(0, I_D) from `seed`. */
export function seedTeacher(D: number, seed: number): Float64Array {
  const beta = new Float64Array(D);
  new Rng(seed).fillNormal(beta);
  return beta;
}

/** n samples x ~ N(0, I/D), y = (β·x)²/2 (x row-major [n, D]). */
export function seedSamples(beta: ArrayLike<number>, n: number, seed: number): SeedData {
  const D = beta.length;
  const rng = new Rng(seed);
  const x = new Float32Array(n * D);
  const y = new Float32Array(n);
  const s = 1 / Math.sqrt(D);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let d = 0; d < D; d++) {
      const v = Math.fround(rng.normal() * s);
      x[i * D + d] = v;
      dot += beta[d] * v;
    }
    y[i] = (dot * dot) / 2;
  }
  return { beta: Float64Array.from(beta), x, y, n };
}

export interface SeedStatistics {
  mNorm2: number;
  trM: number;
  trM2: number;
  betaMBeta: number;
  predictedTestLoss: number;
}

/** m and M of a kernel [D, N] (column i is wᵢ), in float64. */
function moments(W: ArrayLike<number>, D: number, N: number): { m: Float64Array; M: Float64Array } {
  const m = new Float64Array(D);
  const M = new Float64Array(D * D);
  for (let d = 0; d < D; d++) {
    let s = 0;
    for (let i = 0; i < N; i++) s += W[d * N + i];
    m[d] = s / N;
    for (let e = 0; e <= d; e++) {
      let t = 0;
      for (let i = 0; i < N; i++) t += W[d * N + i] * W[e * N + i];
      M[d * D + e] = t / N;
      M[e * D + d] = t / N;
    }
  }
  return { m, M };
}

/**
 * The sufficient statistics and the population loss they predict (see the file comment), from
 * the trainable kernel W [D, N] and, for a centred model, the frozen initial kernel W0.
 */
export function seedStatistics(cfg: SeedModelConfig, beta: ArrayLike<number>, W: ArrayLike<number>, W0: ArrayLike<number> | null): SeedStatistics {
  const { inputDim: D, width: N, alpha, epsilon } = cfg;
  const { m, M } = moments(W, D, N);
  if (cfg.centred) {
    if (!W0) throw new Error('seedStatistics: a centred model needs its initial kernel');
    const z = moments(W0, D, N);
    for (let k = 0; k < m.length; k++) m[k] -= z.m[k];
    for (let k = 0; k < M.length; k++) M[k] -= z.M[k];
  }
  let mNorm2 = 0;
  for (const v of m) mNorm2 += v * v;
  let trM = 0;
  for (let d = 0; d < D; d++) trM += M[d * D + d];
  let trM2 = 0;
  for (const v of M) trM2 += v * v; // tr M² = ‖M‖_F² for symmetric M
  let betaMBeta = 0;
  let beta2 = 0;
  for (let d = 0; d < D; d++) {
    beta2 += beta[d] * beta[d];
    for (let e = 0; e < D; e++) betaMBeta += beta[d] * M[d * D + e] * beta[e];
  }
  const c = (alpha * epsilon) / 2;
  // tr A = c tr M − ‖β‖²/2;  tr A² = c² tr M² − c βᵀMβ + ‖β‖⁴/4.
  const trA = c * trM - beta2 / 2;
  const trA2 = c * c * trM2 - c * betaMBeta + (beta2 * beta2) / 4;
  const predictedTestLoss = (alpha * alpha * mNorm2) / D + (trA * trA + 2 * trA2) / (D * D);
  return { mNorm2, trM, trM2, betaMBeta, predictedTestLoss };
}

/** The trainable and (centred) frozen kernels of a seed model, as flat [D, N] arrays. */
export function seedKernels(model: tf.LayersModel, centred: boolean): { W: Float32Array; W0: Float32Array | null } {
  const W = model.getLayer(SEED_LAYER).getWeights()[0].dataSync() as Float32Array;
  const W0 = centred ? (model.getLayer(SEED_LAYER_INIT).getWeights()[0].dataSync() as Float32Array) : null;
  return { W: Float32Array.from(W), W0: W0 ? Float32Array.from(W0) : null };
}

/** Mean squared error of the model on fresh samples, with its standard error. */
export async function seedTestLoss(model: tf.LayersModel, beta: ArrayLike<number>, n: number, seed: number, batch = 2000): Promise<{ mean: number; se: number }> {
  const data = seedSamples(beta, n, seed);
  const D = beta.length;
  let s = 0;
  let s2 = 0;
  for (let start = 0; start < n; start += batch) {
    const k = Math.min(batch, n - start);
    const pred = tf.tidy(() => model.predict(tf.tensor2d(data.x.subarray(start * D, (start + k) * D), [k, D])) as tf.Tensor);
    const p = await pred.data();
    pred.dispose();
    for (let i = 0; i < k; i++) {
      const e = (p[i] - data.y[start + i]) ** 2;
      s += e;
      s2 += e * e;
    }
  }
  const mean = s / n;
  const variance = Math.max(0, s2 / n - mean * mean) * (n / (n - 1));
  return { mean, se: Math.sqrt(variance / n) };
}

export interface TrainOptions {
  learningRate: number;
  /** Steps to stop at and report (ascending; the last is the number of steps run). */
  checkpoints: number[];
  onCheckpoint(step: number, trainLoss: number): Promise<void> | void;
}

/**
 * Full-batch gradient descent on L = mean (f − y)², with the gradient in closed form:
 *   ∂L/∂W = (2α/(PN)) Xᵀ [r ⊙ (1 + εH)],   H = XW,  r = f − y
 * (the frozen copy, if any, only shifts f). Two matmuls per step; the kernel is written into
 * the model's `seed_w` layer before every checkpoint call.
 */
export async function trainSeedModel(model: tf.LayersModel, cfg: SeedModelConfig, data: SeedData, opts: TrainOptions): Promise<void> {
  const { inputDim: D, width: N, alpha, epsilon } = cfg;
  const P = data.n;
  const layer = model.getLayer(SEED_LAYER);
  const init = layer.getWeights()[0].clone();
  const W = tf.variable(init, true);
  init.dispose();
  const X = tf.tensor2d(data.x, [P, D]);
  const XT = tf.tidy(() => X.transpose().clone());
  const y = tf.tensor2d(data.y, [P, 1]);
  const f0 = tf.tidy(() => {
    if (!cfg.centred) return tf.zeros([P, 1]);
    const H0 = tf.matMul(X, (model.getLayer(SEED_LAYER_INIT).getWeights()[0]));
    return H0.add(H0.square().mul(epsilon / 2)).sum(1, true).mul(alpha / N);
  });
  const coef = (2 * alpha) / (P * N);
  const stops = [...new Set(opts.checkpoints)].sort((a, b) => a - b);
  try {
    let t = 0;
    for (const stop of stops) {
      for (; t < stop; t++) {
        tf.tidy(() => {
          const H = tf.matMul(X, W);
          const f = H.add(H.square().mul(epsilon / 2)).sum(1, true).mul(alpha / N).sub(f0);
          const r = f.sub(y);
          const G = tf.matMul(XT, r.mul(H.mul(epsilon).add(1)));
          W.assign(W.sub(G.mul(coef * opts.learningRate)));
        });
      }
      const loss = tf.tidy(() => {
        const H = tf.matMul(X, W);
        return H.add(H.square().mul(epsilon / 2)).sum(1, true).mul(alpha / N).sub(f0).sub(y).square().mean();
      });
      const lv = (await loss.data())[0];
      loss.dispose();
      tf.tidy(() => layer.setWeights([W]));
      await opts.onCheckpoint(stop, lv);
    }
  } finally {
    tf.dispose([W, X, XT, y, f0]);
  }
}
