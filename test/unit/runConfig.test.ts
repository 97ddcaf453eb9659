import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJsonc } from '../../src/extension/config/jsonc';
import {
  ANALYSES,
  parseRunConfigurations,
  RunConfigurationSchema,
  toSpec,
  withConfiguration,
  type RunConfiguration,
} from '../../src/extension/config/runConfig';
import { AnalysisSpecSchema } from '../../src/shared/protocol';
import { LandscapeSpecSchema } from '../../src/shared/specs/landscape';

const root = path.join(__dirname, '..', '..');
const schema = JSON.parse(readFileSync(path.join(root, 'schemas', 'losscape.schema.json'), 'utf8')) as {
  definitions: { configuration: { properties: Record<string, { enum?: unknown[] }>; required: string[] } };
};
const ctx = (out: string, trusted = true) => ({ folder: '/w', out, trusted });
const base: RunConfiguration = { name: 'tiny', analysis: 'landscape', model: 'models/tiny/model.json', data: 'data/tiny.npz' };

describe('run configurations (.vscode/losscape.json)', () => {
  it('reads JSON with comments and trailing commas', () => {
    const text = `{
      // launch.json style
      "version": 1, /* block */
      "configurations": [ { "name": "a // not a comment", "analysis": "landscape", "model": "m.json", "data": "d.npz", }, ],
    }`;
    const { configurations, problems } = parseRunConfigurations(text, 'losscape.json');
    assert.deepEqual(problems, []);
    assert.equal(configurations[0].name, 'a // not a comment');
  });

  it('keeps good entries and names the bad ones with their field', () => {
    const text = JSON.stringify({
      version: 1,
      configurations: [base, { ...base, name: 'bad', points: 1 }, { ...base, name: 'typo', point: 3 }],
    });
    const { configurations, problems } = parseRunConfigurations(text, '/w/.vscode/losscape.json');
    assert.deepEqual(configurations.map((c) => c.name), ['tiny']);
    assert.equal(problems.length, 2);
    assert.match(problems[0], /configuration 2 "bad": points:/);
    assert.match(problems[1], /configuration 3 "typo": .*point/);
  });

  it('refuses a file of another version or shape, naming the file', () => {
    assert.throws(() => parseRunConfigurations('{"version": 2, "configurations": []}', 'x.json'), /x\.json: version/);
    assert.throws(() => parseRunConfigurations('{', 'x.json'), /x\.json: not valid JSON/);
    assert.throws(() => parseJsonc('[1,,]', 'y.json'), /y\.json/);
  });

  it('makes an engine spec with absolute paths and overrides', () => {
    const r = toSpec({ ...base, loss: 'mse', points: 11, seed: 3 }, ctx('/w/.losscape/r.losscape.json'), { dims: 1 });
    assert.ok(r.ok);
    assert.deepEqual(r.spec, {
      kind: 'landscape',
      model: '/w/models/tiny/model.json',
      data: '/w/data/tiny.npz',
      out: '/w/.losscape/r.losscape.json',
      dims: 1,
      loss: 'mse',
      points: 11,
      seed: 3,
    });
    assert.ok(AnalysisSpecSchema.safeParse(r.spec).success);
    const to = toSpec({ ...base, model: '${workspaceFolder}/a/model.json' }, ctx('/o.losscape.json'), { to: 'b/model.json' });
    assert.ok(to.ok && to.spec.kind === 'landscape');
    assert.equal(to.spec.model, '/w/a/model.json');
    assert.equal(to.spec.to, '/w/b/model.json');
    assert.equal(to.spec.dims, 1);
    const lens = toSpec({ ...base, loss: 'mse', fromLogits: false }, ctx('/o'), { loss: 'CrossEntropyLoss' });
    assert.ok(lens.ok && lens.spec.kind === 'landscape');
    assert.equal(lens.spec.loss, 'CrossEntropyLoss');
    assert.equal(lens.spec.fromLogits, undefined, "a lens's loss does not inherit the configuration's fromLogits");
  });

  it('passes a workspace loss module only in a trusted workspace', () => {
    const cfg: RunConfiguration = { ...base, loss: 'mse', lossModule: 'src/losses.ts', lossExport: 'focalLoss' };
    const trusted = toSpec(cfg, ctx('/o'));
    assert.ok(trusted.ok && trusted.spec.kind === 'landscape');
    assert.deepEqual([trusted.spec.lossModule, trusted.spec.lossExport], ['/w/src/losses.ts', 'focalLoss']);
    assert.ok(AnalysisSpecSchema.safeParse(trusted.spec).success);
    const untrusted = toSpec(cfg, ctx('/o', false));
    assert.ok(!untrusted.ok);
    assert.match(untrusted.reason, /not trusted/);
    const lens = toSpec(base, ctx('/o'), { lossModule: { path: '/w/l.js', export: 'hingeLoss' } });
    assert.ok(lens.ok && lens.spec.kind === 'landscape');
    assert.deepEqual([lens.spec.loss, lens.spec.lossModule, lens.spec.lossExport], [undefined, '/w/l.js', 'hingeLoss']);
    assert.ok(!toSpec(base, ctx('/o', false), { lossModule: { path: '/w/l.js' } }).ok);
    assert.ok(toSpec(base, ctx('/o', false), { loss: 'mse' }).ok, 'built-in losses run in untrusted workspaces');
  });

  it('says which analyses are not available yet', () => {
    const r = toSpec({ ...base, analysis: 'hessian' }, ctx('/o'));
    assert.ok(!r.ok);
    assert.match(r.reason, /hessian analysis is not available in this version/);
    const bad = toSpec({ ...base, to: 'b.json', dims: 2 }, ctx('/o'));
    assert.ok(!bad.ok);
  });

  it('adds or replaces a configuration by name', () => {
    const text = withConfiguration([base, { ...base, name: 'other' }], { ...base, loss: 'mse' });
    const { configurations } = parseRunConfigurations(text, 'x');
    assert.deepEqual(configurations.map((c) => [c.name, c.loss]), [
      ['other', undefined],
      ['tiny', 'mse'],
    ]);
  });

  it('appends a new configuration in place, keeping comments and layout', () => {
    const text = `{
  "version": 1,
  // my analyses
  "configurations": [
    { "name": "tiny", "analysis": "landscape", "model": "m.json", "data": "d.npz" }, // the first
  ],
}
`;
    const added = withConfiguration([base], { ...base, name: 'second', dims: 1 }, text);
    assert.ok(added.includes('// my analyses') && added.includes('// the first'));
    assert.deepEqual(parseRunConfigurations(added, 'x').configurations.map((c) => c.name), ['tiny', 'second']);
    const empty = withConfiguration([], base, '{ "version": 1, /* none yet */ "configurations": [] }');
    assert.ok(empty.includes('/* none yet */'));
    assert.deepEqual(parseRunConfigurations(empty, 'x').configurations, [base]);
    const noArray = withConfiguration([], base, '{ "version": 1, "other": ["configurations"] }');
    assert.deepEqual(parseRunConfigurations(noArray, 'x').configurations, [base], 'falls back to a rewrite');
    const nested = withConfiguration([], base, '{ "version": 1, "x": { "configurations": [1] }, "configurations": [] }');
    assert.deepEqual(parseRunConfigurations(nested, 'x').configurations, [base], 'only the top-level array');
  });

  describe('JSON schema contributed to VS Code (schemas/losscape.schema.json)', () => {
    it('has exactly the fields the parser accepts, with the same enums and required fields', () => {
      const props = schema.definitions.configuration.properties;
      assert.deepEqual(Object.keys(props).sort(), Object.keys(RunConfigurationSchema.shape).sort());
      assert.deepEqual(props.analysis.enum, [...ANALYSES]);
      assert.deepEqual(props.norm.enum, RunConfigurationSchema.shape.norm.unwrap().options);
      const required = Object.entries(RunConfigurationSchema.shape)
        .filter(([, s]) => !s.isOptional())
        .map(([k]) => k)
        .sort();
      assert.deepEqual([...schema.definitions.configuration.required].sort(), required);
    });

    it('covers every option of the engine landscape spec', () => {
      const engine = Object.keys(LandscapeSpecSchema.shape).filter((k) => k !== 'kind');
      const ours = new Set(Object.keys(RunConfigurationSchema.shape));
      for (const k of engine) assert.ok(ours.has(k), `engine option "${k}" missing from run configurations`);
    });
  });
});
