import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJsonc } from '../../src/extension/config/jsonc';
import { z } from 'zod';
import { describeSeries, findCheckpointSeries, stepOfName } from '../../src/extension/config/checkpointSeries';
import {
  ANALYSES,
  CHECKPOINT_ANALYSES,
  COMMON_FIELDS,
  FIELDS,
  parseRunConfigurations,
  RunConfigurationObject,
  toSpec,
  withConfiguration,
  type RunConfiguration,
} from '../../src/extension/config/runConfig';
import { AnalysisSpecSchema } from '../../src/shared/protocol';
import { GrokkingSpecSchema } from '../../src/shared/specs/grokking';
import { HessianSpecSchema } from '../../src/shared/specs/hessian';
import { LandscapeSpecSchema } from '../../src/shared/specs/landscape';
import { SaliencySpecSchema } from '../../src/shared/specs/saliency';
import { SharpnessSpecSchema } from '../../src/shared/specs/sharpness';
import { TrajectorySpecSchema } from '../../src/shared/specs/trajectory';

const root = path.join(__dirname, '..', '..');
interface ConditionalPart {
  if: { properties: { analysis: { const: string } } };
  then: { required: string[]; propertyNames: { enum: string[] }; properties?: Record<string, { type: string }> };
}
const schema = JSON.parse(readFileSync(path.join(root, 'schemas', 'losscape.schema.json'), 'utf8')) as {
  definitions: { configuration: { properties: Record<string, { enum?: unknown[] }>; required: string[]; allOf: ConditionalPart[] } };
};
const ENGINE_SPECS = {
  landscape: LandscapeSpecSchema,
  sharpness: SharpnessSpecSchema,
  hessian: HessianSpecSchema,
  grokking: GrokkingSpecSchema,
  trajectory: TrajectorySpecSchema,
  saliency: SaliencySpecSchema,
} as const;

/** A zod field without its optional/default wrappers. */
function bare(t: z.ZodTypeAny): z.ZodTypeAny {
  for (;;) {
    if (t instanceof z.ZodOptional) t = t.unwrap();
    else if (t instanceof z.ZodDefault) t = t.removeDefault();
    else return t;
  }
}
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

  it('passes "episode" to an episode loss (count 1 unless given), not to a lens\'s other loss', () => {
    const cfg: RunConfiguration = { ...base, loss: { name: 'icnn', params: { k: 3 } }, episode: { way: 5, shot: 1, query: 3 } };
    const r = toSpec(cfg, ctx('/o.losscape.json'), { dims: 1 });
    assert.ok(r.ok && r.spec.kind === 'landscape');
    assert.deepEqual(r.spec.episode, { way: 5, shot: 1, query: 3, count: 1 });
    assert.deepEqual(r.spec.lossParams, { k: 3 });
    assert.ok(AnalysisSpecSchema.safeParse(r.spec).success);
    const lens = toSpec(cfg, ctx('/o.losscape.json'), { dims: 1, loss: 'ce' });
    assert.ok(lens.ok && lens.spec.kind === 'landscape');
    assert.equal(lens.spec.episode, undefined);
    const bad = parseRunConfigurations(JSON.stringify({ version: 1, configurations: [{ ...cfg, episode: { way: 1, shot: 1, query: 1 } }] }), 'l.json');
    assert.equal(bad.configurations.length, 0);
    assert.match(bad.problems[0], /"tiny": episode\.way:/);
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

  it('passes torch.distributed options (workers, nnodes, nodeRank, rendezvous, distTimeout) as the CLI flags do, on torch models only', () => {
    const torch: RunConfiguration = { ...base, model: 'net.py:Net', weights: 'w.pt', loss: 'mse', workers: 2, nnodes: 2, nodeRank: 1, rendezvous: '10.0.0.1:29500', distTimeout: 30 };
    const r = toSpec(torch, ctx('/o'));
    assert.ok(r.ok && r.spec.kind === 'landscape');
    assert.deepEqual([r.spec.workers, r.spec.nnodes, r.spec.nodeRank, r.spec.rendezvous, r.spec.distTimeout], [2, 2, 1, '10.0.0.1:29500', 30]);
    assert.equal(r.spec.model, '/w/net.py:Net');
    assert.ok(AnalysisSpecSchema.safeParse(r.spec).success);
    const tfjs = toSpec({ ...base, workers: 2 }, ctx('/o'));
    assert.ok(!tfjs.ok && /torch\.distributed ranks of the torch engine/.test(tfjs.reason));
    const bad = parseRunConfigurations(JSON.stringify({ version: 1, configurations: [{ ...torch, rendezvous: 'nohost' }] }), 'x');
    assert.match(bad.problems[0], /rendezvous: HOST:PORT/);
  });

  it('refuses a landscape line in 2D', () => {
    const bad = toSpec({ ...base, to: 'b.json', dims: 2 }, ctx('/o'));
    assert.ok(!bad.ok);
  });

  it('makes sharpness, Hessian and saliency specs from their options (Hessian: top 5 and the trace unless told)', () => {
    const sharp = toSpec({ ...base, analysis: 'sharpness', model: 'm.keras', samples: 32, rho: [0.01, 0.05], asam: false, averageSamples: 5 }, ctx('/o'));
    assert.ok(sharp.ok);
    assert.deepEqual(sharp.spec, { kind: 'sharpness', model: '/w/m.keras', data: '/w/data/tiny.npz', out: '/o', samples: 32, rho: [0.01, 0.05], asam: false, averageSamples: 5 });
    const hess = toSpec({ ...base, analysis: 'hessian' }, ctx('/o'));
    assert.ok(hess.ok);
    assert.deepEqual(hess.spec, { kind: 'hessian', model: '/w/models/tiny/model.json', data: '/w/data/tiny.npz', out: '/o', operator: 'hessian', top: 5, trace: true });
    const small = toSpec({ ...base, analysis: 'hessian', top: 2, probes: 10, trace: false, operator: 'ggn', density: true }, ctx('/o'));
    assert.ok(small.ok && small.spec.kind === 'hessian');
    assert.deepEqual([small.spec.top, small.spec.probes, small.spec.trace, small.spec.operator, small.spec.density], [2, 10, false, 'ggn', true]);
    const sal = toSpec({ ...base, analysis: 'saliency', gradients: 16, top: 3, sparsities: [0.5] }, ctx('/o'));
    assert.ok(sal.ok && sal.spec.kind === 'saliency');
    assert.deepEqual([sal.spec.gradients, sal.spec.top, sal.spec.sparsities], [16, 3, [0.5]]);
    for (const r of [sharp, hess, small, sal]) assert.ok(r.ok && AnalysisSpecSchema.safeParse(r.spec).success, JSON.stringify(r));
  });

  it('makes grokking and trajectory specs from a checkpoint folder, glob or list', () => {
    const series = { name: 's', data: 'data/tiny.npz' } as const;
    const grok = toSpec({ ...series, analysis: 'grokking', checkpoints: 'checkpoints', probe: 16, lag: 2, sharpness: 'ggn' }, ctx('/o'));
    assert.ok(grok.ok);
    assert.deepEqual(grok.spec, { kind: 'grokking', checkpoints: '/w/checkpoints', data: '/w/data/tiny.npz', out: '/o', probe: 16, lag: 2, sharpness: 'ggn' });
    // An α sweep: the {alpha} placeholder survives path resolution; sweepAlpha/mainAlpha pass through.
    const sweep = toSpec({ ...series, analysis: 'grokking', checkpoints: 'runs/alpha-{alpha}', sweepAlpha: [0.5, 1, 2], mainAlpha: 1 }, ctx('/o'));
    assert.ok(sweep.ok);
    assert.deepEqual(sweep.spec, { kind: 'grokking', checkpoints: '/w/runs/alpha-{alpha}', data: '/w/data/tiny.npz', out: '/o', sweepAlpha: [0.5, 1, 2], mainAlpha: 1 });
    const glob = toSpec({ ...series, analysis: 'trajectory', checkpoints: '${workspaceFolder}/run/step-*/model.json', mode: 'line', from: 0, to: 30, points: 11 }, ctx('/o'));
    assert.ok(glob.ok);
    assert.deepEqual(glob.spec, { kind: 'trajectory', checkpoints: '/w/run/step-*/model.json', data: '/w/data/tiny.npz', out: '/o', mode: 'line', from: 0, to: 30, points: 11 });
    const list = toSpec({ ...series, analysis: 'trajectory', checkpoints: ['a/model.json', '/abs/b/model.json'], through: [0, 10, 20] }, ctx('/o'));
    assert.ok(list.ok && list.spec.kind === 'trajectory');
    assert.deepEqual(list.spec.checkpoints, ['/w/a/model.json', '/abs/b/model.json']);
    const lens = toSpec({ ...series, analysis: 'grokking', checkpoints: 'c', loss: 'mse' }, ctx('/o'), { loss: 'CrossEntropyLoss', fromLogits: true });
    assert.ok(lens.ok && lens.spec.kind === 'grokking');
    assert.deepEqual([lens.spec.loss, lens.spec.fromLogits], ['CrossEntropyLoss', true]);
    for (const r of [grok, glob, list, lens]) assert.ok(r.ok && AnalysisSpecSchema.safeParse(r.spec).success, JSON.stringify(r));
  });

  it("names options of another analysis, and model/checkpoints mix-ups, as errors", () => {
    const text = JSON.stringify({
      version: 1,
      configurations: [
        { ...base, name: 'stray', analysis: 'sharpness', top: 3 },
        { name: 'grok with model', analysis: 'grokking', model: 'm.json', data: 'd.npz' },
        { name: 'hessian without model', analysis: 'hessian', data: 'd.npz' },
        { name: 'traj to file', analysis: 'trajectory', checkpoints: 'c', data: 'd.npz', to: 'b.json' },
        { ...base, name: 'landscape to step', to: 3 },
        { ...base, name: 'fine', analysis: 'hessian', top: 3 },
      ],
    });
    const { configurations, problems } = parseRunConfigurations(text, 'x.json');
    assert.deepEqual(configurations.map((c) => c.name), ['fine']);
    assert.match(problems[0], /"stray": top: not an option of sharpness configurations \(it is one of hessian, saliency\)/);
    assert.match(problems[1], /"grok with model": .*checkpoints/);
    assert.match(problems[2], /"hessian without model": model: a hessian configuration needs "model"/);
    assert.match(problems[3], /"traj to file": to: .*step/);
    assert.match(problems[4], /"landscape to step": to: .*model file/);
    const inline = toSpec({ ...base, analysis: 'sharpness', probes: 3 }, ctx('/o'));
    assert.ok(!inline.ok);
    assert.match(inline.reason, /probes: not an option of sharpness/);
  });

  it('finds checkpoint series among model.json paths for the pickers', () => {
    const found = findCheckpointSeries([
      'models/tiny/model.json',
      'models/tiny-step0/model.json',
      'checkpoints/step-000010/model.json',
      'checkpoints/step-000000/model.json',
      'checkpoints/step-000020/model.json',
      'runs/a/ckpt_5/model.json',
      'runs/a/ckpt_7/model.json',
      'runs/b/epoch1/model.json',
      'model.json',
      'dup/s1/model.json',
      'dup/x-1/model.json',
      'single/step-1/model.json',
    ]);
    assert.deepEqual(found.map((f) => f.folder), ['checkpoints', 'runs/a'], 'models/ has a folder without a step; dup/ repeats a step; single/ has one');
    assert.deepEqual(found[0].checkpoints, ['step-000000', 'step-000010', 'step-000020']);
    assert.deepEqual(found[0].steps, [0, 10, 20]);
    assert.equal(describeSeries(found[0]), '3 checkpoints, steps 0 … 20 (step-000000 … step-000020)');
    assert.deepEqual(findCheckpointSeries(['step-1/model.json', 'step-2/model.json']).map((f) => f.folder), ['.']);
    assert.equal(stepOfName('epoch3-step200'), 200);
    assert.equal(stepOfName('final'), null);
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
    const shape = RunConfigurationObject.shape;
    const props = schema.definitions.configuration.properties;

    it('has exactly the fields the parser accepts, with the same enums and required fields', () => {
      assert.deepEqual(Object.keys(props).sort(), Object.keys(shape).sort());
      assert.deepEqual(props.analysis.enum, [...ANALYSES]);
      for (const [k, field] of Object.entries(shape)) {
        const t = bare(field as z.ZodTypeAny);
        if (t instanceof z.ZodEnum) assert.deepEqual(props[k].enum, t.options, `enum of "${k}"`);
      }
      const required = Object.entries(shape)
        .filter(([, s]) => !s.isOptional())
        .map(([k]) => k)
        .sort();
      assert.deepEqual([...schema.definitions.configuration.required].sort(), required);
    });

    it('allows per analysis exactly the fields the parser allows, and requires model or checkpoints', () => {
      const parts = schema.definitions.configuration.allOf;
      assert.deepEqual(parts.map((p) => p.if.properties.analysis.const).sort(), [...ANALYSES].sort());
      for (const part of parts) {
        const analysis = part.if.properties.analysis.const as (typeof ANALYSES)[number];
        assert.deepEqual([...part.then.propertyNames.enum].sort(), [...COMMON_FIELDS, ...FIELDS[analysis]].sort(), analysis);
        assert.deepEqual(part.then.required, [CHECKPOINT_ANALYSES.has(analysis) ? 'checkpoints' : 'model'], analysis);
      }
      const to = (a: string): string | undefined => parts.find((p) => p.if.properties.analysis.const === a)?.then.properties?.to?.type;
      assert.deepEqual([to('landscape'), to('trajectory')], ['string', 'integer']);
    });

    it("covers every option of every engine spec, under the engine's names", () => {
      const ours = new Set(Object.keys(shape));
      for (const analysis of ANALYSES) {
        const allowed = new Set<string>([...COMMON_FIELDS, ...FIELDS[analysis]]);
        for (const k of Object.keys(ENGINE_SPECS[analysis].shape)) {
          // lossParams travels inside "loss": { "name", "params" }; lossFrom is set by a CodeLens run, and
          // resume (a partial result to complete) by the Resume Landscape action, not a configuration.
          if (k === 'kind' || k === 'lossParams' || k === 'lossFrom' || k === 'resume') continue;
          assert.ok(ours.has(k), `engine option "${k}" missing from run configurations`);
          assert.ok(allowed.has(k), `engine option "${k}" of ${analysis} not allowed in ${analysis} configurations`);
        }
        for (const k of FIELDS[analysis]) assert.ok(k in ENGINE_SPECS[analysis].shape, `"${k}" is not an option of the engine's ${analysis}`);
      }
    });
  });
});
