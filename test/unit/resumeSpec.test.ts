import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resumeSpecOf } from '../../src/extension/results/resumeSpec';
import { parseResult } from '../../src/shared/result';

/** "Resume Landscape" in VS Code: the spec it sends for a partial result file. */
describe('Resume Landscape: the spec of a partial result', () => {
  const sample = path.resolve(__dirname, '../fixtures/results/landscape-2d.losscape.json');
  const load = (edit: (r: Record<string, any>) => void) => {
    const r = JSON.parse(readFileSync(sample, 'utf8'));
    edit(r);
    return parseResult(r, sample);
  };
  const file = '/ws/results/r.losscape.json';

  it('resumes in place with the recorded options, the model and data from provenance, relative paths against the file', () => {
    const r = load((j) => {
      j.complete = false;
      j.result.loss[3] = j.result.loss[3].map(() => null);
      j.options.lossModule = 'losses/focal.py';
    });
    const o = resumeSpecOf(r, file);
    assert.ok(o.ok);
    assert.equal(o.missing, r.kind === 'landscape' && r.result.dims === 2 ? r.result.x.length : -1);
    assert.equal(o.torch, false);
    const spec = o.spec as Record<string, unknown>;
    assert.ok(r.kind === 'landscape');
    assert.equal(spec.kind, 'landscape');
    assert.equal(spec.resume, file);
    assert.equal(spec.out, file);
    assert.equal(spec.model, r.provenance.model.path);
    assert.equal(spec.data, r.provenance.data.path);
    assert.equal(spec.lossModule, '/ws/results/losses/focal.py');
    assert.equal(spec.points, r.options.points);
  });

  it('a trajectory result resumes as a trajectory; a torch result says so', () => {
    const r = load((j) => {
      j.complete = false;
      j.result.loss[0][0] = null;
      j.result.trajectory = { mode: 'pca', steps: [0, 1, 2], checkpoints: ['a', 'b', 'c'], explainedVariance: [0.9, 0.1], offPlane: [0, 0, 0], distance: [1, 1, 0], anchors: [2] };
      j.options = { ...j.options, kind: 'trajectory', checkpoints: 'run/*.pt', model: 'net.py:Net', engine: 'torch' };
      j.provenance.backend = { name: 'torch', version: 'torch 2.13' };
    });
    const o = resumeSpecOf(r, file);
    assert.ok(o.ok);
    assert.equal(o.torch, true);
    const spec = o.spec as Record<string, unknown>;
    assert.equal(spec.kind, 'trajectory');
    assert.equal(spec.checkpoints, '/ws/results/run/*.pt');
    assert.equal(spec.model, '/ws/results/net.py:Net');
  });

  it('a complete result, or another kind, is not resumed (a reason, no spec)', () => {
    const done = resumeSpecOf(load(() => undefined), file);
    assert.deepEqual(done, { ok: false, reason: 'r.losscape.json is complete; there is nothing to resume.' });
    const nanPoint = resumeSpecOf(load((j) => {
      j.complete = false;
      j.result.loss[0][0] = null;
      j.result.nonFinite = [0];
    }), file);
    assert.equal(nanPoint.ok, false, 'a NaN point listed in nonFinite is computed');
  });
});
