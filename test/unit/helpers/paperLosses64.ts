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

/** Episode layout (support class-major, then queries class-major) → class of each position. */
export function episodeClasses64(way: number, shot: number, query: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < way; c++) for (let s = 0; s < shot; s++) out.push(c);
  for (let c = 0; c < way; c++) for (let q = 0; q < query; q++) out.push(c);
  return out;
}

function dist64(a: number[], b: number[]): number {
  return Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) + 1e-6);
}

/**
 * Proto-triplet loss of one episode, from the definition (Mendez-Ruiz et al. 2023, the authors'
 * proto_triplet_loss): prototypes = support means; per query max(0, d(q, c_y) − min_{j≠y} d(q, c_j) + m).
 */
export function protoTriplet64(emb: number[][], way: number, shot: number, query: number, margin: number): number {
  const d = emb[0].length;
  const protos = Array.from({ length: way }, (_, c) => {
    const p = new Array<number>(d).fill(0);
    for (let s = 0; s < shot; s++) emb[c * shot + s].forEach((v, i) => (p[i] += v / shot));
    return p;
  });
  let total = 0;
  for (let c = 0; c < way; c++) {
    for (let q = 0; q < query; q++) {
      const x = emb[way * shot + c * query + q];
      const pos = dist64(x, protos[c]);
      const neg = Math.min(...protos.filter((_, j) => j !== c).map((p) => dist64(x, p)));
      total += Math.max(0, pos - neg + margin);
    }
  }
  return total / (way * query);
}

/**
 * The ICNN score of one episode (support and queries together), written the way the authors'
 * modified_score proceeds: top-(ipc + 1) nearest samples including the sample itself, the first
 * column dropped; ν the smallest nonzero other-class distance (zeros read as ∞); rows normalised
 * by max(1, row max) over the first k; other-class distances over their global maximum; γ from
 * the same-class counts.
 */
export function icnnScore64(emb: number[][], way: number, shot: number, query: number, k0: number): number {
  const y = episodeClasses64(way, shot, query);
  const n = emb.length;
  const eps = 1e-7;
  const k = k0 + 2 >= n ? n - 2 : k0;
  const ipc = shot + query;
  const D: number[][] = [];
  const C: number[][] = [];
  for (let i = 0; i < n; i++) {
    const all = emb.map((e, j) => ({ j, v: dist64(emb[i], e) })).sort((a, b) => a.v - b.v || (a.j === i ? -1 : b.j === i ? 1 : a.j - b.j));
    const kept = all.slice(0, ipc + 1).slice(1);
    D.push(kept.map((t) => t.v));
    C.push(kept.map((t) => (y[t.j] === y[i] ? 1 : 0)));
  }
  const kk = Math.min(k, ipc);
  let scNumer = 0;
  let scRows = 0;
  let dcNumer = 0;
  let dcRows = 0;
  let dcMax = 0;
  let anyDc = false;
  let sameTotal = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < kk; j++) if (!C[i][j]) (dcMax = Math.max(dcMax, D[i][j])), (anyDc = true);
  for (let i = 0; i < n; i++) {
    const dcd = D[i].map((v, j) => (C[i][j] ? 0 : v));
    const nonzero = dcd.filter((v) => v !== 0);
    const nu = nonzero.length ? Math.min(...nonzero) : Infinity;
    const nd = D[i].slice(0, kk).map((v) => v / (nu + eps));
    const norm = Math.max(1, ...nd);
    let sc = 0;
    let sCount = 0;
    let dc = 0;
    let oCount = 0;
    for (let j = 0; j < kk; j++) {
      if (C[i][j]) {
        sc += nd[j] / norm;
        sCount++;
      } else {
        dc += D[i][j] / (dcMax + eps);
        oCount++;
      }
    }
    scNumer += sc / (sCount + eps);
    dcNumer += dc / (oCount + eps);
    if (sCount > 0) scRows++;
    if (oCount > 0) dcRows++;
    sameTotal += sCount / k;
  }
  const lamSc = 1 - scNumer / (scRows + eps);
  const lamDc = Math.abs(dcNumer / (dcRows + eps) + (anyDc ? 0 : -1));
  const gamma = k + 2 < n ? sameTotal / n : 1;
  return ((lamSc + lamDc) / 2 + gamma) / 2;
}

/** Cauchy–Schwarz divergence of the batch's targets and predictions (Parzen, Gaussian κ with width σ), float64. */
export function csDivergence64(pred: number[][], target: number[][], sigma: number): number {
  const k = (a: number[], b: number[]) => Math.exp(-a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / (2 * sigma * sigma));
  const sum = (A: number[][], B: number[][]) => A.reduce((s, a) => s + B.reduce((t, b) => t + k(a, b), 0), 0);
  return Math.log(sum(target, target)) + Math.log(sum(pred, pred)) - 2 * Math.log(sum(target, pred));
}
