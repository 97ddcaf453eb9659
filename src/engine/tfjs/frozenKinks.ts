import * as tf from '@tensorflow/tfjs';
import type { TfjsObjective as Objective } from './objective';

/**
 * ReLU activation patterns frozen at θ, for finite-difference Hessian products of
 * piecewise-linear models. A central difference [∇L(θ+hv) − ∇L(θ−hv)]/2h of a ReLU network
 * also sees every unit whose pre-activation changes sign within ±h: each such kink adds a
 * gradient jump of size O(1) divided by h, and about O(h) of them are crossed, so their effect
 * does not vanish as h → 0 until h is below the smallest |pre-activation| (measured on the demo
 * MLP: traces from 29 to 57 as δ went from 1e-2 to 1e-3). Replacing relu(a) by a ⊙ 1[a₀ > 0],
 * with a₀ the pre-activation at θ, gives a network that equals the original one on θ's linear
 * region, so its gradient and Hessian at θ are the original ones almost everywhere (what
 * double back-propagation computes: PyHessian's Hessian), and its gradient is smooth in θ.
 *
 * Covered: layers whose `activation` is relu (Dense, Conv*, Activation) and ReLU layers without
 * a cap. Not covered (listed in `unhandled`): max-pooling, LeakyReLU, PReLU, capped ReLU, relu6,
 * hard sigmoid; their kinks remain and show in the finite-difference error estimate.
 * Masks are float32 tensors of the activations' shape for every sample (kept until `dispose`).
 */
type Activation = { getClassName(): string; apply(x: tf.Tensor, axis?: number): tf.Tensor };
interface Site {
  layer: Record<string, unknown>;
  /** 'activation': swap `layer.activation`; 'call': swap the ReLU layer's `call`. */
  how: 'activation' | 'call';
}

const UNHANDLED_LAYERS = /^(MaxPooling[123]D|GlobalMaxPooling[123]D|LeakyReLU|PReLU|ThresholdedReLU)$/;
const UNHANDLED_ACTIVATIONS = new Set(['relu6', 'hardSigmoid', 'hard_sigmoid']);

export class FrozenKinks {
  readonly sites: Site[] = [];
  /** Layers with kinks this cannot freeze ("name (class)"). */
  readonly unhandled: string[] = [];
  /** masks[batch] in the order the forward pass applies the sites. */
  private masks: tf.Tensor[][] = [];

  constructor(model: tf.LayersModel) {
    for (const l of model.layers) {
      const layer = l as unknown as Record<string, unknown>;
      const cls = l.getClassName();
      const act = layer.activation as Activation | null | undefined;
      const actName = act && typeof act.getClassName === 'function' ? act.getClassName() : null;
      if (actName === 'relu') this.sites.push({ layer, how: 'activation' });
      else if (cls === 'ReLU' && (layer.maxValue === null || layer.maxValue === undefined)) this.sites.push({ layer, how: 'call' });
      else if (UNHANDLED_LAYERS.test(cls) || cls === 'ReLU') this.unhandled.push(`${l.name} (${cls})`);
      else if (actName && UNHANDLED_ACTIVATIONS.has(actName)) this.unhandled.push(`${l.name} (${actName})`);
    }
  }

  get active(): boolean {
    return this.sites.length > 0;
  }

  private swap<T>(make: (site: Site) => (x: tf.Tensor) => tf.Tensor, f: () => T): T {
    const saved = this.sites.map((s) => (s.how === 'activation' ? s.layer.activation : s.layer.call));
    try {
      for (const s of this.sites) {
        const fn = make(s);
        if (s.how === 'activation') s.layer.activation = { getClassName: () => 'FrozenReLU', apply: fn } satisfies Activation;
        else s.layer.call = (inputs: tf.Tensor | tf.Tensor[]) => fn(Array.isArray(inputs) ? inputs[0] : inputs);
      }
      return f();
    } finally {
      this.sites.forEach((s, i) => {
        if (s.how === 'activation') s.layer.activation = saved[i];
        else s.layer.call = saved[i];
      });
    }
  }

  /** Records the patterns 1[a > 0] of every batch at the objective's current parameters. */
  record(obj: Objective): void {
    this.release();
    for (const b of obj.batches) {
      const masks: tf.Tensor[] = [];
      this.swap(
        () => (x) => {
          masks.push(tf.keep(tf.cast(tf.greater(x, 0), 'float32')));
          return tf.relu(x);
        },
        () => tf.tidy(() => void obj.model.apply(b.x, { training: false })),
      );
      this.masks.push(masks);
    }
  }

  /** Runs f (synchronously) with batch `index`'s patterns frozen. */
  run<T>(index: number, f: () => T): T {
    const masks = this.masks[index];
    if (!masks) throw new Error(`no activation patterns recorded for batch ${index}`);
    let next = 0;
    return this.swap(
      () => (x) => {
        const m = masks[next++];
        if (!m || m.shape.join() !== x.shape.join()) throw new Error('frozen activation pattern does not match the forward pass');
        return tf.mul(x, m);
      },
      f,
    );
  }

  private release(): void {
    for (const ms of this.masks) tf.dispose(ms);
    this.masks = [];
  }

  dispose(): void {
    this.release();
  }
}
