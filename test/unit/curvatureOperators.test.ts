import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend';
import { lossCurvature } from '../../src/engine/tfjs/lossHessian';
import {
  EmpiricalFisherOperator,
  ExactHessianOperator,
  FiniteDifferenceHessian,
  GaussNewtonOperator,
  curvatureOperator,
} from '../../src/engine/tfjs/curvatureOperators';
import { layerRanges, restrictOperator } from '../../src/engine/curvature/paramRanges';
import { makeCustomLoss, makeLoss } from '../../src/engine/losses';
import { Rng } from '../../src/engine/linalg/rng';
import { TfjsObjective as Objective } from '../../src/engine/tfjs/objective';
import { setEngineInfo } from '../../src/engine/runtime';
import { InputError } from '../../src/shared/errors';
import { blobs } from './helpers/tinyModel';
import { denseOf, frobeniusRel, linearRegression, logisticRegression, tanhMlp, weightedGram, type Fixture } from './helpers/curvatureFixtures';
import * as R from './helpers/mlp64';

/**
 * Curvature-vector products against float64 references (whole matrices, built column by column
 * from products with unit vectors):
 *   exact products (GGN, empirical Fisher): relative Frobenius error ≤ 1e-5 (float32 rounding);
 *   finite-difference Hessian (δ = 1e-3): ≤ 3e-4 on linear and logistic regression (float32
 *   rounding), ≤ 1e-3 on the tanh and ReLU MLPs, where each product's error is also at most 3× its
 *   own estimate.
 */
describe('curvature operators (cpu backend)', () => {
  before(async () => setEngineInfo(await selectBackend('cpu')));

  for (const C of [1, 2]) {
    it(`linear regression, MSE, ${C} output(s): G = H = 2·X̃ᵀX̃/(nC) ⊗ I (GGN 1e-5, FD Hessian 3e-4)`, async () => {
      const f = linearRegression(C);
      try {
        const F = f.net.sizes[0];
        const gram = weightedGram(f.data.x, () => 2 / C);
        // Objective order: kernel [F, C] row-major, then bias [C].
        const index = (a: number, c: number) => (a < F ? a * C + c : F * C + c);
        const d = f.obj.dim;
        const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
        for (let a = 0; a <= F; a++) for (let b = 0; b <= F; b++) for (let c = 0; c < C; c++) H[index(a, c)][index(b, c)] = gram[a][b];
        const before = tf.memory().numTensors;
        const G = await denseOf(new GaussNewtonOperator(f.obj));
        assert.ok(frobeniusRel(G, H) < 1e-5, `GGN ${frobeniusRel(G, H)}`);
        const fd = new FiniteDifferenceHessian(f.obj);
        const Hfd = await denseOf(fd);
        assert.ok(frobeniusRel(Hfd, H) < 3e-4, `FD ${frobeniusRel(Hfd, H)}`);
        assert.equal(fd.stats.products, d);
        assert.equal(fd.stats.gradients, 4 * d);
        assert.ok(fd.stats.relativeErrors.every((e) => e < 1e-3), `estimated errors ${fd.stats.relativeErrors}`);
        assert.equal(tf.memory().numTensors, before, 'tensors leaked');
        // The products leave the parameters at θ.
        assert.deepEqual(f.obj.paramsSync(), f.obj.theta0);
      } finally {
        f.dispose();
      }
    });
  }

  for (const logits of [false, true]) {
    it(`logistic regression, BCE on ${logits ? 'logits' : 'sigmoid probabilities'}: H = X̃ᵀdiag(p(1−p))X̃/n (GGN 1e-5, FD Hessian 3e-4)`, async () => {
      const f = logisticRegression(logits);
      try {
        const p = f.data.x.map((x) => R.output(f.net, f.theta, x)[0]);
        const H = weightedGram(f.data.x, (i) => p[i] * (1 - p[i]));
        const G = await denseOf(new GaussNewtonOperator(f.obj));
        assert.ok(frobeniusRel(G, H) < 1e-5, `GGN ${frobeniusRel(G, H)}`);
        const Hfd = await denseOf(new FiniteDifferenceHessian(f.obj));
        assert.ok(frobeniusRel(Hfd, H) < 3e-4, `FD ${frobeniusRel(Hfd, H)}`);
        // The sigmoid is back in place after the GGN products.
        const out = await f.obj.outputs();
        const want = logits ? Math.log(p[0] / (1 - p[0])) : p[0];
        assert.ok(Math.abs(out.data[0] - want) < 1e-5, `${out.data[0]} vs ${want}`);
      } finally {
        f.dispose();
      }
    });
  }

  describe('4-8-3 tanh/softmax MLP, sparse cross-entropy on probabilities', () => {
    let f: Fixture;
    let H: number[][];
    before(() => {
      f = tanhMlp();
      H = R.hessian(f.net, f.loss, f.theta, f.data);
    });
    after(() => f.dispose());

    it('GGN (at the logits) matches the float64 Jᵀ(diag(p) − ppᵀ)J (1e-5)', async () => {
      const G = await denseOf(new GaussNewtonOperator(f.obj));
      const ref = R.gaussNewton(f.net, f.loss, f.theta, f.data);
      assert.ok(frobeniusRel(G, ref) < 1e-5, `${frobeniusRel(G, ref)}`);
      // …and differs from the Hessian (the model is not linear): the check has teeth.
      assert.ok(frobeniusRel(ref, H) > 1e-2);
    });

    it('exact Hessian (double backprop on the patched tape) matches the float64 Hessian (1e-5); matmat equals matvec column by column', async () => {
      const op = new ExactHessianOperator(f.obj);
      const He = await denseOf(op);
      assert.ok(frobeniusRel(He, H) < 1e-5, `${frobeniusRel(He, H)}`);
      const vs = [0, 1, 2].map((i) => {
        const v = new Float64Array(f.obj.dim);
        new Rng(30 + i).fillNormal(v);
        return v;
      });
      const before = tf.memory().numTensors;
      const block = await op.matmat(vs);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      for (let i = 0; i < 3; i++) assert.ok(R.relErr(block[i], await op.matvec(vs[i])) < 1e-6);
    });

    it('empirical Fisher matches (1/n)Σ gₙgₙᵀ in float64 (1e-5)', async () => {
      const F = await denseOf(new EmpiricalFisherOperator(f.obj));
      const ref = R.empiricalFisher(f.net, f.loss, f.theta, f.data);
      assert.ok(frobeniusRel(F, ref) < 1e-5, `${frobeniusRel(F, ref)}`);
    });

    it('finite-difference Hessian matches the exact Hessian (1e-3) and its error estimate bounds the error of random products', async () => {
      const fd = new FiniteDifferenceHessian(f.obj);
      const Hfd = await denseOf(fd);
      assert.ok(frobeniusRel(Hfd, H) < 1e-3, `${frobeniusRel(Hfd, H)}`);
      const rng = new Rng(5);
      for (let i = 0; i < 4; i++) {
        const v = new Float64Array(f.obj.dim);
        rng.fillNormal(v);
        const got = await fd.matvec(v);
        const err = R.relErr(got, R.matvec(H, v));
        const est = fd.stats.relativeErrors[fd.stats.relativeErrors.length - 1];
        assert.ok(err < 1e-3 && err <= 3 * est, `product ${i}: error ${err}, estimate ${est}`);
      }
    });

    it('restriction to a layer is the diagonal block, for every operator', async () => {
      const layers = layerRanges(f.obj);
      assert.deepEqual(layers.map((l) => [l.layer, l.size]), [[f.obj.groups[0].layer, 40], [f.obj.groups[2].layer, 27]]);
      const ref = R.gaussNewton(f.net, f.loss, f.theta, f.data);
      const second = layers[1];
      const block = await denseOf(restrictOperator(new GaussNewtonOperator(f.obj), second.ranges));
      const want = Array.from({ length: 27 }, (_, i) => Array.from({ length: 27 }, (_, j) => ref[40 + i][40 + j]));
      assert.ok(frobeniusRel(block, want) < 1e-5);
      const hb = await denseOf(restrictOperator(new FiniteDifferenceHessian(f.obj), layers[0].ranges));
      const hwant = Array.from({ length: 40 }, (_, i) => Array.from({ length: 40 }, (_, j) => H[i][j]));
      assert.ok(frobeniusRel(hb, hwant) < 1e-3, `${frobeniusRel(hb, hwant)}`);
    });
  });

  it('ReLU MLP: with activation patterns frozen at θ the FD Hessian is the a.e. Hessian (1e-3); kinks crossed otherwise', async () => {
    const f = tanhMlp(32, 'relu');
    try {
      // The exact route needs no freezing: double backprop gives the a.e. Hessian directly.
      const exact = await denseOf(new ExactHessianOperator(f.obj));
      const want = R.hessian(f.net, f.loss, f.theta, f.data);
      assert.ok(frobeniusRel(exact, want) < 1e-5, `exact: ${frobeniusRel(exact, want)}`);
      const H = R.hessian(f.net, f.loss, f.theta, f.data, 1e-6);
      // δ = 1e-2: steps large enough that some of the 640 pre-activations change sign.
      const fd = new FiniteDifferenceHessian(f.obj, f.obj.theta0, { relativeStep: 1e-2 });
      assert.equal(fd.stats.frozenSites, 1);
      const rng = new Rng(11);
      const before = tf.memory().numTensors;
      let worstFrozen = 0;
      let worstRaw = 0;
      const raw = new FiniteDifferenceHessian(f.obj, f.obj.theta0, { relativeStep: 1e-2, freezeKinks: false });
      for (let i = 0; i < 4; i++) {
        const v = new Float64Array(f.obj.dim);
        rng.fillNormal(v);
        const want = R.matvec(H, v);
        worstFrozen = Math.max(worstFrozen, R.relErr(await fd.matvec(v), want));
        worstRaw = Math.max(worstRaw, R.relErr(await raw.matvec(v), want));
      }
      assert.ok(worstFrozen < 1e-3, `frozen: ${worstFrozen}`);
      assert.ok(worstRaw > 10 * worstFrozen, `without freezing the kinks show: ${worstRaw} vs ${worstFrozen}`);
      assert.deepEqual(raw.stats.unfrozen, [f.obj.model.layers[0].name]);
      fd.dispose();
      assert.equal(tf.memory().numTensors, before, 'the batches’ activation patterns are released');
    } finally {
      f.dispose();
    }
  });

  it('freezes ReLU layers and Activation layers too, and lists kinks it cannot freeze', async () => {
    const ref = tanhMlp(32, 'relu');
    const build = (layers: tf.layers.Layer[]) => tf.sequential({ layers });
    const variants = [
      build([tf.layers.dense({ inputShape: [4], units: 8 }), tf.layers.reLU(), tf.layers.dense({ units: 3, activation: 'softmax' })]),
      build([tf.layers.dense({ inputShape: [4], units: 8 }), tf.layers.activation({ activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'softmax' })]),
    ];
    const { x, y } = blobs(80, 5);
    try {
      const v = new Float64Array(67);
      new Rng(12).fillNormal(v);
      const want = R.matvec(R.hessian(ref.net, ref.loss, ref.theta, ref.data, 1e-6), v);
      for (const model of variants) {
        const obj = new Objective(model, makeLoss('categorical_crossentropy', false), { x, sampleShape: [4], y: Float32Array.from(y), ySampleShape: [], n: 80 }, 32);
        obj.assign(ref.obj.theta0);
        const fd = new FiniteDifferenceHessian(obj, obj.paramsSync());
        assert.equal(fd.stats.frozenSites, 1);
        const err = R.relErr(await fd.matvec(v), want);
        fd.dispose();
        obj.dispose();
        assert.ok(err < 1e-3, `${model.layers[1].getClassName()}: ${err}`);
      }
      const leaky = build([tf.layers.dense({ inputShape: [4], units: 8 }), tf.layers.leakyReLU(), tf.layers.dense({ units: 3 })]);
      const obj = new Objective(leaky, makeLoss('categorical_crossentropy', true), { x, sampleShape: [4], y: Float32Array.from(y), ySampleShape: [], n: 80 }, 32);
      assert.deepEqual(new FiniteDifferenceHessian(obj).stats.unfrozen, [`${leaky.layers[1].name} (LeakyReLU)`]);
      obj.dispose();
      leaky.dispose();
    } finally {
      variants.forEach((m) => m.dispose());
      ref.dispose();
    }
  });

  it('the GGN of a model ending in a Softmax layer is taken at its input (1e-5)', async () => {
    const ref = tanhMlp();
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 8, activation: 'tanh' }),
        tf.layers.dense({ units: 3 }),
        tf.layers.softmax(),
      ],
    });
    const { x, y } = blobs(80, 5);
    const obj = new Objective(model, makeLoss('categorical_crossentropy', false), { x, sampleShape: [4], y: Float32Array.from(y), ySampleShape: [], n: 80 }, 32);
    try {
      obj.assign(ref.obj.theta0);
      const G = await denseOf(new GaussNewtonOperator(obj, obj.paramsSync()));
      const want = R.gaussNewton(ref.net, ref.loss, ref.theta, ref.data);
      assert.ok(frobeniusRel(G, want) < 1e-5, `${frobeniusRel(G, want)}`);
      const probs = await obj.outputs();
      assert.ok(Math.abs(probs.data[0] + probs.data[1] + probs.data[2] - 1) < 1e-6, 'softmax restored');
    } finally {
      obj.dispose();
      model.dispose();
      ref.dispose();
    }
  });

  it('refuses the GGN for losses without a second derivative, and for probabilities without logits (a loss module gets H_ℓ by autodiff)', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 2, activation: 'relu' })] });
    try {
      for (const [loss, msg] of [
        [makeLoss('mae', false), /--operator: the Gauss–Newton operator needs a twice-differentiable loss.*mae has none/],
        [makeLoss('hinge', false), /hinge has none/],
        [makeLoss('categorical_crossentropy', false), /does not end in a softmax \(last activation 'relu'\)/],
        [makeLoss('binary_crossentropy', false), /does not end in a sigmoid/],
      ] as const) {
        assert.throws(() => lossCurvature(loss, model), (e: Error) => e instanceof InputError && msg.test(e.message), String(msg));
      }
      // Closed forms exist for these; a loss module's H_ℓ comes by automatic differentiation (paperLossCurvature.test.ts).
      for (const loss of [makeLoss('mse', false), makeLoss('huber', false), makeLoss('categorical_crossentropy', true), makeLoss('binary_crossentropy', true), makeCustomLoss((a, b) => tf.sub(a, b).square(), 'loss.ts')]) {
        assert.doesNotThrow(() => lossCurvature(loss, model));
      }
    } finally {
      model.dispose();
    }
  });

  it('curvatureOperator picks the operator; exact Hessian products by default, finite differences on request', () => {
    const f = tanhMlp();
    try {
      assert.equal(curvatureOperator(f.obj, 'ggn').fd, null);
      assert.equal(curvatureOperator(f.obj, 'fisher').fd, null);
      const exact = curvatureOperator(f.obj, 'hessian');
      assert.equal(exact.fd, null);
      assert.ok(exact.op instanceof ExactHessianOperator);
      const h = curvatureOperator(f.obj, 'hessian', { relativeStep: 1e-2, hv: 'finite-difference' });
      assert.equal(h.fd?.relativeStep, 1e-2);
      assert.throws(() => new FiniteDifferenceHessian(f.obj, f.obj.theta0, { relativeStep: 2 }), /relative step must be in \(0, 1\)/);
    } finally {
      f.dispose();
    }
  });
});

describe('curvature operators on the wasm backend', () => {
  before(async () => setEngineInfo(await selectBackend('wasm')));
  after(async () => setEngineInfo(await selectBackend('cpu')));

  it('exact Hessian products from one recording per batch (tapeReplay.ts) equal one double backprop per vector, bit for bit', async () => {
    // The ReLU MLP's first Dense kernel is a plain MatMul on the data (tfjs-layers fuses the
    // tanh one), so its part is taken as ⟨dz, x·v⟩.
    const f = tanhMlp(32, 'relu');
    try {
      const vs = [0, 1, 2].map((i) => {
        const v = new Float64Array(f.obj.dim);
        new Rng(40 + i).fillNormal(v);
        return v;
      });
      const replayed = new ExactHessianOperator(f.obj);
      const plain = new ExactHessianOperator(f.obj, f.obj.theta0, { replay: false });
      const before = tf.memory().numTensors;
      const block = await replayed.matmat(vs);
      const one = await replayed.matvec(vs[1]);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      for (let i = 0; i < 3; i++) assert.deepEqual(block[i], await plain.matvec(vs[i]));
      assert.deepEqual(one, block[1]);
      // …and they are the float64 Hessian's products (the comparison has teeth).
      const H = R.hessian(f.net, f.loss, f.theta, f.data);
      assert.ok(R.relErr(block[0], R.matvec(H, vs[0])) < 1e-5);
    } finally {
      f.dispose();
    }
  });

  it('GGN, Fisher and FD-Hessian products of the tanh MLP match float64 (1e-5, 1e-5, 1e-3)', async () => {
    const f = tanhMlp();
    try {
      const v = new Float64Array(f.obj.dim);
      new Rng(9).fillNormal(v);
      const g = R.relErr(await new GaussNewtonOperator(f.obj).matvec(v), R.matvec(R.gaussNewton(f.net, f.loss, f.theta, f.data), v));
      const fi = R.relErr(await new EmpiricalFisherOperator(f.obj).matvec(v), R.matvec(R.empiricalFisher(f.net, f.loss, f.theta, f.data), v));
      const h = R.relErr(await new FiniteDifferenceHessian(f.obj).matvec(v), R.matvec(R.hessian(f.net, f.loss, f.theta, f.data), v));
      assert.ok(g < 1e-5 && fi < 1e-5 && h < 1e-3, `GGN ${g}, Fisher ${fi}, Hessian ${h}`);
    } finally {
      f.dispose();
    }
  });
});
