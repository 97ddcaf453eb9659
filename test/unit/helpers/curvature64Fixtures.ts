import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeLoss } from '../../../src/engine/losses';
import { TfjsObjective } from '../../../src/engine/tfjs/objective';

/**
 * The convolutional, depthwise, embedding and indefinite fixtures of
 * test/fixtures/curvature64/generate.py: the same models built in TF.js, with the parameters,
 * data and float64 references (PyTorch double backprop) read from the JSON it wrote.
 */
export type Conv64Name = 'cnn' | 'depthwise' | 'embedding' | 'indefinite';

export interface Conv64Reference {
  name: Conv64Name;
  paramShapes: number[][];
  theta: number[];
  nonTrainable: { moving_mean?: number[]; moving_variance?: number[] };
  x: number[];
  xShape: number[];
  y: number[];
  yShape: number[];
  loss: number;
  grad: number[];
  vectors: number[][];
  hv: number[][];
  gv: number[][];
  /** Empirical Fisher products (1/n) Σ gₙ(gₙᵀv). */
  fv: number[][];
  /** All eigenvalues, ascending. */
  hessianEigenvalues: number[];
  ggnEigenvalues: number[];
  /** Empirical NTK of the outputs (after a final softmax), n×n row-major. */
  ntk: number[];
}

export interface Conv64Fixture {
  ref: Conv64Reference;
  model: tf.LayersModel;
  obj: TfjsObjective;
  dispose(): void;
}

function layers(name: Conv64Name): tf.layers.Layer[] {
  switch (name) {
    case 'cnn':
      return [
        tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu' }),
        tf.layers.batchNormalization(),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ];
    case 'depthwise':
      return [
        tf.layers.depthwiseConv2d({ inputShape: [6, 6, 3], kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'tanh' }),
        tf.layers.averagePooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2 }),
      ];
    case 'embedding':
      return [
        tf.layers.embedding({ inputDim: 12, outputDim: 3, inputLength: 5 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, activation: 'tanh' }),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ];
    case 'indefinite':
      return [tf.layers.conv2d({ inputShape: [5, 5, 1], filters: 2, kernelSize: 3, activation: 'tanh' }), tf.layers.flatten(), tf.layers.dense({ units: 2 })];
  }
}

export function readConv64(name: Conv64Name): Conv64Reference {
  return JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'curvature64', `${name}.json`), 'utf8')) as Conv64Reference;
}

export function conv64Fixture(name: Conv64Name, batchSize = 10): Conv64Fixture {
  const ref = readConv64(name);
  const model = tf.sequential({ layers: layers(name) });
  // Trainable weights in Keras order from θ; a BatchNormalization layer's moving statistics after its γ, β.
  let offset = 0;
  let shape = 0;
  for (const layer of model.layers) {
    const values: tf.Tensor[] = layer.trainableWeights.map(() => {
      const s = ref.paramShapes[shape++];
      const size = s.reduce((a, b) => a * b, 1);
      const t = tf.tensor(ref.theta.slice(offset, offset + size), s, 'float32');
      offset += size;
      return t;
    });
    if (layer.getClassName() === 'BatchNormalization') values.push(tf.tensor1d(ref.nonTrainable.moving_mean!), tf.tensor1d(ref.nonTrainable.moving_variance!));
    if (values.length) layer.setWeights(values);
    tf.dispose(values);
  }
  if (offset !== ref.theta.length) throw new Error(`${name}: the TF.js model has ${offset} parameters, the reference ${ref.theta.length}`);
  const classification = name === 'cnn' || name === 'embedding';
  const loss = classification ? makeLoss('categorical_crossentropy', false) : makeLoss('mse', false);
  const n = ref.xShape[0];
  const obj = new TfjsObjective(
    model,
    loss,
    { x: Float32Array.from(ref.x), sampleShape: ref.xShape.slice(1), y: Float32Array.from(ref.y), ySampleShape: ref.yShape.slice(1), n },
    batchSize,
  );
  return {
    ref,
    model,
    obj,
    dispose() {
      obj.dispose();
      model.dispose();
    },
  };
}
