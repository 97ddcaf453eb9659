/**
 * The TF.js engine's paper losses on numbers given on stdin, for python/tests/test_paper_losses.py
 * (values and gradients between the two engines). Input: JSON
 *   [{ name, params, outputs: number[][], targets: number[] | number[][], episode? }, …]
 * Output: JSON [{ values: number[], grad: number[][] }, …], values per sample (the batch's loss
 * repeated for a batch-level loss), grad = ∂(Σ values or the batch loss)/∂outputs.
 * Run: npx tsx test/crossEngine/paperLossesTfjs.ts < cases.json
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { makeLoss } from '../../src/engine/losses';
import type { LossName } from '../../src/engine/losses';

interface Case {
  name: LossName;
  params: Record<string, number>;
  outputs: number[][];
  targets: number[] | number[][];
  episode?: { way: number; shot: number; query: number };
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const cases = JSON.parse(readFileSync(0, 'utf8')) as Case[];
  const out = cases.map((c) =>
    tf.tidy(() => {
      const loss = makeLoss(c.name, !['multi_similarity', 'cs_divergence', 'proto_triplet', 'icnn'].includes(c.name), c.params, c.episode);
      const y = tf.tensor(c.targets);
      const h = tf.tensor2d(c.outputs);
      const values = Array.from(loss.perSample(y, h).dataSync());
      // For a batch-level loss the objective's batch sum is n·L_b: its gradient divided by n is ∂L_b.
      const scale = loss.batchLevel ? 1 / c.outputs.length : 1;
      const grad = tf.grad((z: tf.Tensor) => loss.perSample(y, z).sum().mul(scale))(h).arraySync() as number[][];
      return { values, grad };
    }),
  );
  process.stdout.write(JSON.stringify(out));
}

void main();
