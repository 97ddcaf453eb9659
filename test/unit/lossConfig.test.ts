import { strict as assert } from 'node:assert';
import { parseRunConfigurations, toSpec, type RunConfiguration } from '../../src/extension/config/runConfig';
import { AnalysisSpecSchema } from '../../src/shared/protocol';

/** Run configurations with a parameterised loss, and the Compare Losses spec made from one. */
describe('run configurations: parameterised losses and Compare Losses', () => {
  const base: RunConfiguration = { name: 'tiny', analysis: 'landscape', model: 'models/tiny/model.json', data: 'data/tiny.npz' };
  const ctx = { folder: '/w', out: '/w/.losscape/r.losscape.json', trusted: true };

  it('reads "loss": {"name", "params"} into the engine spec’s loss and lossParams', () => {
    const { configurations, problems } = parseRunConfigurations(
      JSON.stringify({ version: 1, configurations: [{ ...base, loss: { name: 'gce', params: { q: 0.5 } } }, { ...base, name: 'bad', loss: { name: 'gce', q: 0.5 } }] }),
      'losscape.json',
    );
    assert.equal(configurations.length, 1);
    assert.match(problems[0], /configuration 2 "bad": loss/);
    const r = toSpec(configurations[0], ctx);
    assert.ok(r.ok && r.spec.kind === 'landscape');
    assert.equal(r.spec.loss, 'gce');
    assert.deepEqual(r.spec.lossParams, { q: 0.5 });
    assert.ok(AnalysisSpecSchema.safeParse(r.spec).success);
    const plain = toSpec({ ...base, loss: 'mse' }, ctx);
    assert.ok(plain.ok && plain.spec.kind === 'landscape' && plain.spec.lossParams === undefined);
  });

  it('Compare Losses makes a loss-comparison spec from any configuration with a model', () => {
    const losses: { name: string; params: Record<string, number> }[] = [{ name: 'ce', params: {} }, { name: 'comp_sum', params: { tau: 0.5 } }];
    const r = toSpec({ ...base, analysis: 'sharpness', loss: { name: 'gce', params: { q: 0.5 } }, samples: 32, seed: 4 }, ctx, { compareLosses: losses });
    assert.ok(r.ok);
    assert.deepEqual(r.spec, { kind: 'loss-comparison', model: '/w/models/tiny/model.json', data: '/w/data/tiny.npz', out: ctx.out, samples: 32, seed: 4, losses });
    assert.ok(AnalysisSpecSchema.safeParse(r.spec).success);
    const series = toSpec({ name: 'g', analysis: 'grokking', checkpoints: 'run', data: 'd.npz' }, ctx, { compareLosses: losses });
    assert.ok(!series.ok && /needs a configuration with a "model"/.test(series.reason));
  });
});
