/**
 * Limited-memory BFGS with a strong-Wolfe line search (Nocedal & Wright 2006, Algorithms 7.4
 * (two-loop recursion), 3.5 and 3.6 (bracketing line search with zoom by cubic interpolation)).
 *
 * Written here rather than taken from npm: the packages that offer it (optimization-js 1.5,
 * `numeric`'s dense `uncmin`, `fmin`, which has no L-BFGS) are unmaintained and either lack a
 * Wolfe line search (optimization-js scales its step by "magic" 0.5/1.2 factors and has no
 * iteration cap) or are dense BFGS. Scaling-law fits need a robust, deterministic minimiser
 * whose stopping rules match scipy's L-BFGS-B (the reference implementation the papers used),
 * so that fits can be compared with theirs: stop when max |gᵢ| ≤ gtol, or when the relative
 * reduction (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol, or after maxIter iterations.
 *
 * The objective may return a non-finite value (e.g. outside a law's domain): the line search
 * treats it as "too far" and shrinks the step.
 */
export type ValueAndGradient = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** History pairs kept (scipy's `maxcor`, default 10). */
  memory?: number;
  /** Projected-gradient tolerance on max |gᵢ| (scipy's `gtol`, default 1e-5). */
  gtol?: number;
  /** Relative reduction tolerance (scipy's `ftol`, default 2.22e-9 = factr 1e7 × eps). */
  ftol?: number;
  maxIter?: number;
  /** Evaluations allowed in one line search. */
  maxLineSearch?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  gradInfNorm: number;
  iterations: number;
  evaluations: number;
  /** Why it stopped: 'gtol' | 'ftol' | 'maxIter' | 'lineSearch' (no acceptable step found). */
  reason: 'gtol' | 'ftol' | 'maxIter' | 'lineSearch';
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

const infNorm = (a: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

/** Minimiser of the cubic through (a, fa, ga), (b, fb, gb), clamped inside [lo, hi] (N&W eq. 3.59). */
function cubicMin(a: number, fa: number, ga: number, b: number, fb: number, gb: number): number {
  const d1 = ga + gb - 3 * ((fa - fb) / (a - b));
  const disc = d1 * d1 - ga * gb;
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (Number.isFinite(fb) && disc >= 0) {
    const d2 = Math.sign(b - a) * Math.sqrt(disc);
    const t = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2));
    // Keep away from the ends so the bracket shrinks.
    const margin = 0.1 * (hi - lo);
    if (Number.isFinite(t) && t > lo + margin && t < hi - margin) return t;
  }
  return (a + b) / 2;
}

export function lbfgs(fg: ValueAndGradient, x0: ArrayLike<number>, opts: LbfgsOptions = {}): LbfgsResult {
  const m = opts.memory ?? 10;
  const gtol = opts.gtol ?? 1e-5;
  const ftol = opts.ftol ?? 2.220446049250313e-9;
  const maxIter = opts.maxIter ?? 1000;
  const maxLs = opts.maxLineSearch ?? 30;
  const c1 = 1e-4;
  const c2 = 0.9;
  const n = x0.length;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alphaBuf = new Float64Array(m);
  const d = new Float64Array(n);
  let xt = new Float64Array(n);
  let gt = new Float64Array(n);

  if (!Number.isFinite(f)) return { x, f, gradInfNorm: Infinity, iterations: 0, evaluations, reason: 'lineSearch' };

  for (let iter = 0; iter < maxIter; iter++) {
    const gInf = infNorm(g);
    if (gInf <= gtol) return { x, f, gradInfNorm: gInf, iterations: iter, evaluations, reason: 'gtol' };

    // Two-loop recursion: d = −H g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = rho[k] * dot(S[k], d);
      alphaBuf[k] = a;
      const y = Y[k];
      for (let i = 0; i < n; i++) d[i] -= a * y[i];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const b = rho[k] * dot(Y[k], d);
      const s = S[k];
      const c = alphaBuf[k] - b;
      for (let i = 0; i < n; i++) d[i] += c * s[i];
    }
    let dg0 = dot(d, g);
    if (!(dg0 < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      dg0 = -dot(g, g);
    }

    // Strong-Wolfe line search; the first step of the first iteration is scaled to ‖step‖ ≈ 1.
    let step = S.length === 0 && iter === 0 ? Math.min(1, 1 / Math.sqrt(-dg0)) : 1;
    let prevStep = 0;
    let prevF = f;
    let prevDg = dg0;
    let accepted = false;
    let lo = 0;
    let hi = 0;
    let fLo = f;
    let dgLo = dg0;
    let fHi = Infinity;
    let dgHi = 0;
    let zooming = false;
    let fNew = f;
    let dgNew = dg0;
    for (let ls = 0; ls < maxLs; ls++) {
      if (zooming) step = cubicMin(lo, fLo, dgLo, hi, fHi, dgHi);
      for (let i = 0; i < n; i++) xt[i] = x[i] + step * d[i];
      fNew = fg(xt, gt);
      evaluations++;
      dgNew = Number.isFinite(fNew) ? dot(gt, d) : NaN;
      if (!zooming) {
        if (!Number.isFinite(fNew) || fNew > f + c1 * step * dg0 || (ls > 0 && fNew >= prevF)) {
          zooming = true;
          lo = prevStep; fLo = prevF; dgLo = prevDg;
          hi = step; fHi = Number.isFinite(fNew) ? fNew : Infinity; dgHi = Number.isFinite(dgNew) ? dgNew : 0;
          continue;
        }
        if (Math.abs(dgNew) <= -c2 * dg0) { accepted = true; break; }
        if (dgNew >= 0) {
          zooming = true;
          lo = step; fLo = fNew; dgLo = dgNew;
          hi = prevStep; fHi = prevF; dgHi = prevDg;
          continue;
        }
        prevStep = step; prevF = fNew; prevDg = dgNew;
        step *= 2;
      } else {
        if (!Number.isFinite(fNew) || fNew > f + c1 * step * dg0 || fNew >= fLo) {
          hi = step; fHi = Number.isFinite(fNew) ? fNew : Infinity; dgHi = Number.isFinite(dgNew) ? dgNew : 0;
        } else {
          if (Math.abs(dgNew) <= -c2 * dg0) { accepted = true; break; }
          if (dgNew * (hi - lo) >= 0) { hi = lo; fHi = fLo; dgHi = dgLo; }
          lo = step; fLo = fNew; dgLo = dgNew;
        }
        if (Math.abs(hi - lo) < 1e-16 * Math.max(1, Math.abs(lo))) break;
      }
    }
    if (!accepted) {
      // Take the best sufficient-decrease point found, if any; else stop.
      if (zooming && lo > 0 && fLo < f) {
        step = lo;
        for (let i = 0; i < n; i++) xt[i] = x[i] + step * d[i];
        fNew = fg(xt, gt);
        evaluations++;
      } else {
        return { x, f, gradInfNorm: infNorm(g), iterations: iter, evaluations, reason: 'lineSearch' };
      }
    }

    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xt[i] - x[i];
      y[i] = gt[i] - g[i];
    }
    const sy = dot(s, y);
    // Skip the update when curvature is not positive (keeps H positive definite).
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const fOld = f;
    [x, xt] = [xt, x];
    [g, gt] = [gt, g];
    f = fNew;
    if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol) {
      return { x, f, gradInfNorm: infNorm(g), iterations: iter + 1, evaluations, reason: 'ftol' };
    }
  }
  return { x, f, gradInfNorm: infNorm(g), iterations: maxIter, evaluations, reason: 'maxIter' };
}
