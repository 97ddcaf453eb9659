import { strict as assert } from 'node:assert';
import { lbfgs, type ValueAndGradient } from '../../../src/engine/scaling/lbfgs';

/** Extended Rosenbrock: Σ 100(x₂ᵢ − x₂ᵢ₋₁²)² + (1 − x₂ᵢ₋₁)², minimum 0 at (1, …, 1). */
const rosenbrock: ValueAndGradient = (x, g) => {
  let f = 0;
  g.fill(0);
  for (let i = 0; i + 1 < x.length; i += 2) {
    const t = x[i + 1] - x[i] * x[i];
    const u = 1 - x[i];
    f += 100 * t * t + u * u;
    g[i] += -400 * t * x[i] - 2 * u;
    g[i + 1] += 200 * t;
  }
  return f;
};

/** Beale's function, minimum 0 at (3, 0.5). */
const beale: ValueAndGradient = (x, g) => {
  const [a, b] = [x[0], x[1]];
  const t1 = 1.5 - a + a * b;
  const t2 = 2.25 - a + a * b * b;
  const t3 = 2.625 - a + a * b * b * b;
  g[0] = 2 * t1 * (b - 1) + 2 * t2 * (b * b - 1) + 2 * t3 * (b * b * b - 1);
  g[1] = 2 * t1 * a + 2 * t2 * 2 * a * b + 2 * t3 * 3 * a * b * b;
  return t1 * t1 + t2 * t2 + t3 * t3;
};

describe('L-BFGS (strong-Wolfe line search)', () => {
  it('finds the Rosenbrock minimum from (−1.2, 1) and in 10 dimensions', () => {
    const r = lbfgs(rosenbrock, [-1.2, 1], { gtol: 1e-8, ftol: 0 });
    assert.ok(Math.abs(r.x[0] - 1) < 1e-6 && Math.abs(r.x[1] - 1) < 1e-6, `x = ${Array.from(r.x)}`);
    assert.ok(r.iterations < 100, `${r.iterations} iterations`);
    const x0 = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
    const r10 = lbfgs(rosenbrock, x0, { gtol: 1e-8, ftol: 0 });
    for (const v of r10.x) assert.ok(Math.abs(v - 1) < 1e-6, `x = ${Array.from(r10.x)}`);
  });

  it('finds Beale’s minimum (3, 0.5)', () => {
    const r = lbfgs(beale, [1, 1], { gtol: 1e-9, ftol: 0 });
    assert.ok(Math.abs(r.x[0] - 3) < 1e-6 && Math.abs(r.x[1] - 0.5) < 1e-6, `x = ${Array.from(r.x)}`);
  });

  it('solves an ill-conditioned quadratic exactly and stops on gtol', () => {
    const diag = [1, 10, 100, 1000, 1e4];
    const quad: ValueAndGradient = (x, g) => {
      let f = 0;
      for (let i = 0; i < x.length; i++) {
        const r = x[i] - (i + 1);
        f += 0.5 * diag[i] * r * r;
        g[i] = diag[i] * r;
      }
      return f;
    };
    const r = lbfgs(quad, [0, 0, 0, 0, 0], { gtol: 1e-10, ftol: 0 });
    assert.equal(r.reason, 'gtol');
    r.x.forEach((v, i) => assert.ok(Math.abs(v - (i + 1)) < 1e-9, `x[${i}] = ${v}`));
  });

  it('backs off from non-finite values (a domain boundary) instead of failing', () => {
    // f = x − log x on x > 0 (minimum at 1); non-finite outside.
    const f: ValueAndGradient = (x, g) => {
      if (!(x[0] > 0)) return NaN;
      g[0] = 1 - 1 / x[0];
      return x[0] - Math.log(x[0]);
    };
    const r = lbfgs(f, [5], { gtol: 1e-10 });
    assert.ok(Math.abs(r.x[0] - 1) < 1e-6, `x = ${r.x[0]}`);
  });
});
