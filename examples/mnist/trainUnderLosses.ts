/**
 * Trains copies of the demo MLP (the same initial weights, checkpoint step 0) under papers'
 * losses, for the demo's loss comparison: each copy's last layer outputs logits (its softmax
 * switched off, as the engine reads a softmax-final model), trained with Adam (1e-3, batch 64)
 * on the loss's per-sample mean as the engine computes it. Reused when present.
 *
 *   npx tsx examples/mnist/trainUnderLosses.ts gce:q=0.7 comp_sum:tau=0.5 [--epochs 3]
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../../src/engine/backend';
import { Rng } from '../../src/engine/linalg/rng';
import { loadLayersModelFromFile, saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { loadDataset } from '../../src/engine/loaders/dataset';
import { makeLoss, resolveLossName } from '../../src/engine/losses';
import { stripOutputActivation } from '../../src/engine/losses/outputActivation';
import { parseLossList } from '../../src/shared/lossParams';

const G = path.join(__dirname, 'generated');

export function trainedDir(choice: string): string {
  return path.join(G, 'trained', choice.replace(/[^a-zA-Z0-9_.=-]+/g, '_').replace(/=/g, '-'));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--epochs');
  const epochs = at >= 0 ? Number(args[at + 1]) : 3;
  const choices = args.filter((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
  await selectBackend('auto');
  const { train } = await loadDataset(path.join(G, 'data.npz'), {});
  const n = train.xShape[0];
  const xAll = tf.tensor2d(train.x, [n, 784]);
  const y = train.y;
  for (const choice of choices) {
    const out = trainedDir(choice);
    if (existsSync(path.join(out, 'model.json'))) {
      console.log(`reusing ${path.relative(process.cwd(), out)}`);
      continue;
    }
    const [{ name, params }] = parseLossList(choice);
    const loss = makeLoss(resolveLossName(name).name, true, params);
    const loaded = await loadLayersModelFromFile(path.join(G, 'checkpoints', 'step-000000', 'model.json'));
    const model = loaded.model;
    stripOutputActivation(model);
    const opt = tf.train.adam(1e-3);
    const rng = new Rng(99);
    for (let e = 1; e <= epochs; e++) {
      const perm = rng.permutation(n);
      let sum = 0;
      for (let s = 0; s < n; s += 64) {
        const idx = perm.subarray(s, Math.min(n, s + 64));
        const xb = tf.tidy(() => tf.gather(xAll, tf.tensor1d(idx, 'int32')));
        const yb = tf.tensor1d(Array.from(idx, (i) => y[i]));
        const l = opt.minimize(() => loss.perSample(yb, model.apply(xb) as tf.Tensor).mean() as tf.Scalar, true);
        sum += (await l!.data())[0] * idx.length;
        tf.dispose([xb, yb, l!]);
      }
      console.log(`${choice}: epoch ${e}/${epochs}, mean training loss ${(sum / n).toFixed(4)}`);
    }
    await saveLayersModelToDir(model, out);
    model.dispose();
    opt.dispose();
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  }
  xAll.dispose();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
