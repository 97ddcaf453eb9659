import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { provenanceOf, Stopwatch } from '../../src/engine/provenance';
import { recordedSpecOf } from '../../src/extension/results/recordedSpec';
import { parseResult } from '../../src/shared/result';

/** "Recompute" in a result's panel: the spec it reruns, from what the file records. */
describe('Recompute: the spec a result file records', () => {
  const fixture = (name: string, edit: (r: Record<string, any>) => void = () => undefined) => {
    const file = path.resolve(__dirname, `../fixtures/results/${name}.losscape.json`);
    const r = JSON.parse(readFileSync(file, 'utf8'));
    edit(r);
    const result = parseResult(r, file);
    if (result.kind === 'scaling') throw new Error('not a fixture of one model');
    return result;
  };
  const file = '/ws/results/r.losscape.json';
  /** The spec of a file that records enough (the test fails with the reason otherwise). */
  const specOf = (r: ReturnType<typeof fixture>): Record<string, unknown> => {
    const o = recordedSpecOf(r, file);
    assert.ok(o.ok, !o.ok ? o.missing : '');
    return o.spec as Record<string, unknown>;
  };

  it('a trajectory result (kind landscape with a trajectory block) reruns as a trajectory, its checkpoints resolved, no model from the series', () => {
    const r = fixture('landscape-trajectory');
    const spec = specOf(r);
    assert.equal(spec.kind, 'trajectory');
    assert.equal(spec.mode, 'pca');
    assert.equal(spec.points, 21);
    assert.equal(spec.checkpoints, '/ws/results/runs/mnist/step_*/model.json');
    assert.equal(spec.model, undefined, 'the provenance model of a series is a checkpoint, not a model option');
    assert.equal(spec.out, file);
  });

  it('a torch trajectory keeps its model option (net.py:NAME), resolved like the other files', () => {
    const r = fixture('landscape-trajectory', (j) => {
      j.options = { ...j.options, model: 'net.py:Net', engine: 'torch', checkpoints: ['run/a.pt', 'run/b.pt', 'run/c.pt'] };
    });
    const spec = specOf(r);
    assert.equal(spec.model, '/ws/results/net.py:Net');
    assert.deepEqual(spec.checkpoints, ['/ws/results/run/a.pt', '/ws/results/run/b.pt', '/ws/results/run/c.pt']);
  });

  it('relative options are resolved against the directory the run started in (provenance.cwd) when the file records it', () => {
    const r = fixture('grokking-seed', (j) => {
      j.provenance.cwd = '/home/me/project';
      j.options.python = '.venv/bin/python';
    });
    const spec = specOf(r);
    assert.equal(spec.kind, 'grokking');
    assert.equal(spec.checkpoints, '/home/me/project/examples/grokking/runs/alpha-1/ckpt-*/model.json');
    assert.equal(spec.python, '/home/me/project/.venv/bin/python');
    assert.equal(spec.model, undefined);
    assert.equal(spec.data, r.provenance.data.path);
  });

  it('a one-model analysis reruns on the model and data files it opened (provenance), its options kept; a bare interpreter name stays', () => {
    const r = fixture('hessian', (j) => {
      j.options.python = 'python3';
      j.options.weights = 'w/ckpt.pt';
    });
    const spec = specOf(r);
    assert.equal(spec.kind, 'hessian');
    assert.equal(spec.model, r.provenance.model.path);
    assert.equal(spec.data, r.provenance.data.path);
    assert.equal(spec.top, 8);
    assert.equal(spec.python, 'python3');
    assert.equal(spec.weights, '/ws/results/w/ckpt.pt');
  });

  it('a file whose options the current schema refuses says which option', () => {
    const r = fixture('hessian', (j) => {
      j.options.top = -3;
    });
    const o = recordedSpecOf(r, file);
    assert.equal(o.ok, false);
    assert.match(!o.ok ? o.missing : '', /^top: /);
  });

  it('new results record the directory they were started in', () => {
    const p = provenanceOf(
      {
        model: { path: '/m', sha256: 'x', parameterCount: 1 },
        dataPath: 'd.npz',
        dataset: { sha256: 'y', train: { xShape: [3, 1] } } as never,
        samplesUsed: 3,
        loss: { name: 'mse', origin: 'option' },
        seed: 0,
        backend: { name: 'wasm', version: '4' } as never,
      },
      new Stopwatch(),
      true,
    );
    assert.equal(p.cwd, process.cwd());
  });
});
