import { strict as assert } from 'node:assert';
import { BUILTIN_ALIAS_KEYS, builtinLoss, ENGINE_LOSSES } from '../../src/shared/lossNames';
import { resolveLossName } from '../../src/engine/losses';

/** The shared loss-name table, as the engine resolves names and as the extension reads them. */
describe('loss names (shared by engine and extension)', () => {
  it('maps every alias exactly as the engine resolves it', () => {
    for (const key of BUILTIN_ALIAS_KEYS) {
      const engine = resolveLossName(key);
      const ours = builtinLoss(key);
      assert.deepEqual({ name: ours?.name, fromLogits: ours?.fromLogits }, { name: engine.name, fromLogits: engine.fromLogits }, key);
    }
  });

  it('knows no loss the engine refuses, and every engine loss by its canonical name', () => {
    for (const name of ['KLDivLoss', 'NLLLoss', 'kl_divergence', 'absoluteDifference', 'cosineDistance', 'Poisson']) {
      assert.equal(builtinLoss(name), undefined, name);
      assert.throws(() => resolveLossName(name), name);
    }
    for (const { name } of ENGINE_LOSSES) assert.equal(builtinLoss(name)?.name, name);
  });

  it('reads library spellings', () => {
    assert.equal(builtinLoss('SparseCategoricalCrossentropy')?.name, 'categorical_crossentropy');
    assert.equal(builtinLoss('sparse_categorical_crossentropy')?.name, 'categorical_crossentropy');
    assert.equal(builtinLoss('meanSquaredError')?.name, 'mse');
    assert.deepEqual(builtinLoss('BCEWithLogitsLoss'), { name: 'binary_crossentropy', fromLogits: true });
  });
});
