/**
 * Float64 reference implementations of TF.js's NHWC image ops, written from their definitions
 * (TensorFlow's padding rules), sharing nothing with TF.js: 2-D convolution, depthwise
 * convolution, max and average pooling. Tensors are flat C-order arrays with explicit shapes.
 */
export type Pad = 'valid' | 'same';

export interface Geometry {
  outH: number;
  outW: number;
  top: number;
  left: number;
}

/** TensorFlow's output size and leading padding for one spatial axis. */
function axis(size: number, k: number, s: number, pad: Pad): { out: number; before: number } {
  if (pad === 'valid') return { out: Math.floor((size - k) / s) + 1, before: 0 };
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return { out, before: Math.floor(total / 2) };
}

export function geometry(h: number, w: number, kh: number, kw: number, s: number, pad: Pad): Geometry {
  const a = axis(h, kh, s, pad);
  const b = axis(w, kw, s, pad);
  return { outH: a.out, outW: b.out, top: a.before, left: b.before };
}

/** y[n,i,j,o] = Σ x[n, i·s+p−top, j·s+q−left, c] · W[p,q,c,o]; W is [kh, kw, C, O]. */
export function conv2d(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[], s: number, pad: Pad): { y: Float64Array; shape: number[] } {
  const [N, H, W, C] = xs;
  const [kh, kw, , O] = ws;
  const g = geometry(H, W, kh, kw, s, pad);
  const y = new Float64Array(N * g.outH * g.outW * O);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < g.outH; i++)
      for (let j = 0; j < g.outW; j++)
        for (let p = 0; p < kh; p++)
          for (let q = 0; q < kw; q++) {
            const r = i * s + p - g.top;
            const t = j * s + q - g.left;
            if (r < 0 || r >= H || t < 0 || t >= W) continue;
            for (let c = 0; c < C; c++) {
              const xv = x[((n * H + r) * W + t) * C + c];
              for (let o = 0; o < O; o++) y[((n * g.outH + i) * g.outW + j) * O + o] += xv * w[((p * kw + q) * C + c) * O + o];
            }
          }
  return { y, shape: [N, g.outH, g.outW, O] };
}

/** y[n,i,j,c·M+m] = Σ x[n, i·s+p−top, j·s+q−left, c] · W[p,q,c,m]; W is [kh, kw, C, M]. */
export function depthwise(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[], s: number, pad: Pad): { y: Float64Array; shape: number[] } {
  const [N, H, W, C] = xs;
  const [kh, kw, , M] = ws;
  const g = geometry(H, W, kh, kw, s, pad);
  const y = new Float64Array(N * g.outH * g.outW * C * M);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < g.outH; i++)
      for (let j = 0; j < g.outW; j++)
        for (let p = 0; p < kh; p++)
          for (let q = 0; q < kw; q++) {
            const r = i * s + p - g.top;
            const t = j * s + q - g.left;
            if (r < 0 || r >= H || t < 0 || t >= W) continue;
            for (let c = 0; c < C; c++)
              for (let m = 0; m < M; m++)
                y[((n * g.outH + i) * g.outW + j) * C * M + c * M + m] += x[((n * H + r) * W + t) * C + c] * w[((p * kw + q) * C + c) * M + m];
          }
  return { y, shape: [N, g.outH, g.outW, C * M] };
}

/** Max or average over each window; padded positions are skipped (TF's rule for both). */
export function pool(kind: 'max' | 'avg', x: ArrayLike<number>, xs: number[], k: number, s: number, pad: Pad): { y: Float64Array; shape: number[] } {
  const [N, H, W, C] = xs;
  const g = geometry(H, W, k, k, s, pad);
  const y = new Float64Array(N * g.outH * g.outW * C);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < g.outH; i++)
      for (let j = 0; j < g.outW; j++)
        for (let c = 0; c < C; c++) {
          let acc = kind === 'max' ? -Infinity : 0;
          let count = 0;
          for (let p = 0; p < k; p++)
            for (let q = 0; q < k; q++) {
              const r = i * s + p - g.top;
              const t = j * s + q - g.left;
              if (r < 0 || r >= H || t < 0 || t >= W) continue;
              const v = x[((n * H + r) * W + t) * C + c];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          y[((n * g.outH + i) * g.outW + j) * C + c] = kind === 'max' ? acc : acc / count;
        }
  return { y, shape: [N, g.outH, g.outW, C] };
}

/**
 * H v of a float64 scalar function by the mixed central difference
 * (Hv)ᵢ ≈ [f(x+heᵢ+hv) − f(x+heᵢ−hv) − f(x−heᵢ+hv) + f(x−heᵢ−hv)] / 4h²: truncation O(h²),
 * rounding O(ε|f|/h²); h = 1e-4 gives ~1e-8 relative for the smooth tests here.
 */
export function fdHessianVector(f: (x: Float64Array) => number, x: ArrayLike<number>, v: ArrayLike<number>, h = 1e-4): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  const p = new Float64Array(n);
  const at = (si: number, sv: number, i: number): number => {
    for (let k = 0; k < n; k++) p[k] = x[k] + sv * h * v[k];
    p[i] += si * h;
    return f(p);
  };
  for (let i = 0; i < n; i++) out[i] = (at(1, 1, i) - at(1, -1, i) - at(-1, 1, i) + at(-1, -1, i)) / (4 * h * h);
  return out;
}
