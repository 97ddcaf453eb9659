import assert from 'node:assert/strict';
import { cosine, linspace, normaliseDirection, pointOnPlane, randomDirection } from '../../src/engine/directions';
import { Rng } from '../../src/engine/linalg/rng';
import type { ParamGroup } from '../../src/engine/objective';

// A conv kernel [3,3,2,4] (4 filters), its bias [4], a dense kernel [5,3] and its bias [3].
const groups: ParamGroup[] = [];
let off = 0;
for (const [name, shape] of [
  ['conv/kernel', [3, 3, 2, 4]],
  ['conv/bias', [4]],
  ['dense/kernel', [5, 3]],
  ['dense/bias', [3]],
] as [string, number[]][]) {
  const size = shape.reduce((a, b) => a * b, 1);
  groups.push({ name, layer: name.split('/')[0], shape, offset: off, size, filters: shape.length >= 2 ? shape[shape.length - 1] : 0 });
  off += size;
}
const dim = off;

function theta(): Float32Array {
  const t = new Float32Array(dim);
  new Rng(3).fillNormal(t);
  for (let i = 0; i < dim; i++) t[i] *= 1 + (i % 7); // uneven filter scales
  return t;
}

function filterNorms(v: Float32Array, g: ParamGroup): number[] {
  const n = new Array(g.filters).fill(0);
  for (let k = 0; k < g.size; k++) n[k % g.filters] += v[g.offset + k] ** 2;
  return n.map(Math.sqrt);
}

describe('directions (Li et al. 2018 filter normalisation)', () => {
  it("gives every filter of δ the norm of θ's same filter", () => {
    const t = theta();
    const d = randomDirection(t, groups, new Rng(1), 'filter', 'zero');
    for (const g of groups.filter((g) => g.filters > 0)) {
      const dn = filterNorms(d, g);
      const tn = filterNorms(t, g);
      dn.forEach((v, f) => assert.ok(Math.abs(v - tn[f]) <= 1e-5 * tn[f], `${g.name} filter ${f}: ${v} vs ${tn[f]}`));
    }
  });

  it('zeroes biases by default and copies them with bias=keep', () => {
    const t = theta();
    const z = randomDirection(t, groups, new Rng(1), 'filter', 'zero');
    const k = randomDirection(t, groups, new Rng(1), 'filter', 'keep');
    for (const g of groups.filter((g) => g.filters === 0)) {
      for (let i = g.offset; i < g.offset + g.size; i++) {
        assert.equal(z[i], 0);
        assert.equal(k[i], t[i]);
      }
    }
  });

  it('layer normalisation matches whole-tensor norms; none leaves δ Gaussian', () => {
    const t = theta();
    const d = randomDirection(t, groups, new Rng(2), 'layer', 'zero');
    for (const g of groups.filter((g) => g.filters > 0)) {
      const n = (v: Float32Array) => Math.sqrt(Array.from(v.subarray(g.offset, g.offset + g.size)).reduce((s, x) => s + x * x, 0));
      assert.ok(Math.abs(n(d) - n(t)) <= 1e-5 * n(t));
    }
    const raw = new Float32Array(dim);
    new Rng(2).fillNormal(raw);
    const none = raw.slice();
    normaliseDirection(none, t, groups, 'none', 'keep');
    assert.equal(none[0], raw[0]);
  });

  it('is reproducible from the seed and two directions are nearly orthogonal', () => {
    const t = theta();
    const a = randomDirection(t, groups, new Rng(7), 'filter', 'zero');
    const b = randomDirection(t, groups, new Rng(7), 'filter', 'zero');
    assert.deepEqual(a, b);
    const rng = new Rng(8);
    const big = new Float32Array(20000).fill(1);
    const g: ParamGroup[] = [{ name: 'k', layer: 'k', shape: [200, 100], offset: 0, size: 20000, filters: 100 }];
    const c = randomDirection(big, g, rng, 'filter', 'zero');
    const d = randomDirection(big, g, rng, 'filter', 'zero');
    assert.ok(Math.abs(cosine(c, d)) < 0.05);
  });

  it('linspace hits 0 exactly and pointOnPlane adds in float64', () => {
    const xs = linspace(-1, 1, 41);
    assert.equal(xs.length, 41);
    assert.equal(xs[20], 0);
    const p = pointOnPlane(Float32Array.from([1, 2]), [Float32Array.from([1, 0]), Float32Array.from([0, 2])], [0.5, -1]);
    assert.deepEqual(Array.from(p), [1.5, 0]);
  });
});
