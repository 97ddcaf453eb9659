/**
 * The papers' losses in plain float64 JavaScript, written from their definitions (issue 11,
 * docs/numerics.md, "Loss families"), independently of the engine's tensor code: the references of the loss tests.
 */
function lse(h: number[]): number {
  const m = Math.max(...h);
  return m + Math.log(h.reduce((s, v) => s + Math.exp(v - m), 0));
}

export function ce64(h: number[], y: number): number {
  return lse(h) - h[y];
}

/** Φ_τ(u), u = Σ_{k≠y} e^{h_k − h_y}, straight from the definition. */
export function compSum64(h: number[], y: number, tau: number): number {
  let u = 0;
  h.forEach((v, k) => {
    if (k !== y) u += Math.exp(v - h[y]);
  });
  return tau === 1 ? Math.log1p(u) : (Math.pow(1 + u, 1 - tau) - 1) / (1 - tau);
}

export function gce64(h: number[], y: number, q: number): number {
  const py = Math.exp(h[y] - lse(h));
  return (1 - Math.pow(py, q)) / q;
}

export function zloss64(h: number[], y: number, a: number, b: number): number {
  const K = h.length;
  const mu = h.reduce((s, v) => s + v, 0) / K;
  const sd = Math.sqrt(h.reduce((s, v) => s + (v - mu) ** 2, 0) / K);
  const zy = sd === 0 ? 0 : (h[y] - mu) / sd;
  const x = a * (b - zy);
  const softplus = Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  return softplus / a;
}

export function taylor64(h: number[], y: number): number {
  const t = (x: number) => 1 + x + (x * x) / 2;
  return -Math.log(t(h[y]) / h.reduce((s, v) => s + t(v), 0));
}

export interface MsParams {
  alpha: number;
  beta: number;
  lambda: number;
  epsilon: number;
}

/** The multi-similarity loss of one batch, loops over anchors and pairs as the paper writes it. */
export function multiSimilarity64(emb: number[][], labels: number[], p: MsParams): number {
  const n = emb.length;
  const unit = emb.map((e) => {
    const norm = Math.sqrt(e.reduce((s, v) => s + v * v, 0));
    return e.map((v) => v / Math.max(norm, 1e-12));
  });
  const S = unit.map((a) => unit.map((b) => a.reduce((s, v, i) => s + v * b[i], 0)));
  let total = 0;
  for (let i = 0; i < n; i++) {
    const P: number[] = [];
    const N: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      if (labels[j] === labels[i]) P.push(j);
      else N.push(j);
    }
    const minPos = P.length ? Math.min(...P.map((j) => S[i][j])) : Infinity;
    const maxNeg = N.length ? Math.max(...N.map((k) => S[i][k])) : -Infinity;
    const keptN = N.filter((k) => S[i][k] > minPos - p.epsilon);
    const keptP = P.filter((j) => S[i][j] < maxNeg + p.epsilon);
    const posSum = keptP.reduce((s, j) => s + Math.exp(-p.alpha * (S[i][j] - p.lambda)), 0);
    const negSum = keptN.reduce((s, k) => s + Math.exp(p.beta * (S[i][k] - p.lambda)), 0);
    total += Math.log1p(posSum) / p.alpha + Math.log1p(negSum) / p.beta;
  }
  return total / n;
}

/** Central-difference gradient of f at x in float64 (step h). */
export function numericGrad(f: (x: number[]) => number, x: number[], h = 1e-5): number[] {
  return x.map((_, i) => {
    const up = x.slice();
    const down = x.slice();
    up[i] += h;
    down[i] -= h;
    return (f(up) - f(down)) / (2 * h);
  });
}

/** Central-difference Hessian of f at x in float64. */
export function numericHessian(f: (x: number[]) => number, x: number[], h = 1e-4): number[][] {
  return x.map((_, i) =>
    numericGrad(
      (y) => {
        const up = y.slice();
        const down = y.slice();
        up[i] += h;
        down[i] -= h;
        return (f(up) - f(down)) / (2 * h);
      },
      x,
      h,
    ),
  );
}
