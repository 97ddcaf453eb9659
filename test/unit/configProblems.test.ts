import { strict as assert } from 'node:assert';
import path from 'node:path';
import { configurationProblems, describeProblem, engineErrorInConfiguration, locateConfiguration } from '../../src/extension/config/configProblems';

const folder = '/ws';
const present = new Set(['/ws/models/tiny/model.json', '/ws/data/tiny.npz', '/ws/checkpoints/a/model.json']);
const exists = (p: string): boolean => present.has(path.resolve(p));

const text = `{
  "version": 1,
  // a comment, and trailing commas
  "configurations": [
    { "name": "ok", "analysis": "landscape", "model": "models/tiny/model.json", "data": "data/tiny.npz", "loss": "sparse_categorical_crossentropy" },
    {
      "name": "focal",
      "analysis": "landscape",
      "model": "models/tiny/model.json",
      "data": "data/tiny.npz",
      "loss": "focal",
    },
    {
      "name": "gone",
      "analysis": "sharpness",
      "model": "models/missing/model.json",
      "data": "data/tiny.npz",
    },
    { "name": "series", "analysis": "grokking", "checkpoints": ["checkpoints/a/model.json", "checkpoints/b/model.json"], "data": "data/tiny.npz" },
    { "name": "glob", "analysis": "trajectory", "checkpoints": "checkpoints/*/model.json", "data": "data/tiny.npz", "top": 3 },
    { "name": "ok", "analysis": "hessian", "model": "models/tiny/model.json", "data": "data/tiny.npz" },
    { "name": "param", "analysis": "landscape", "model": "models/tiny/model.json", "data": "data/tiny.npz", "loss": { "name": "gce", "params": { "q": 0.7 } } },
    { "name": "param bad", "analysis": "landscape", "model": "models/tiny/model.json", "data": "data/tiny.npz", "loss": { "name": "focal" } },
  ],
}
`;
const lineOf = (offset: number): number => text.slice(0, offset).split('\n').length;

describe('losscape.json problems (Problems panel and refused runs)', () => {
  const problems = configurationProblems(text, folder, exists);

  it('finds an unknown loss, a missing model, a missing checkpoint, a field of another analysis, and a name used twice — on their lines', () => {
    const got = problems.map((p) => [p.name, p.field, lineOf(p.offset), p.severity]);
    assert.deepEqual(got, [
      ['focal', 'loss', 11, 'error'],
      ['gone', 'model', 16, 'error'],
      ['series', 'checkpoints[1]', 19, 'error'],
      ['glob', 'top', 20, 'error'],
      ['ok', 'name', 21, 'warning'],
      ['param bad', 'loss.name', 23, 'error'],
    ]);
    const focal = problems[0];
    assert.match(focal.message, /unknown loss "focal"; supported: categorical_crossentropy, sparse_categorical_crossentropy/);
    assert.equal(text.slice(focal.offset, focal.offset + focal.length), '"loss": "focal"');
    assert.match(problems[1].message, /models\/missing\/model\.json does not exist/);
  });

  it('says nothing of a good file, and nothing of one that is not JSON (the JSON service reports that)', () => {
    assert.deepEqual(configurationProblems('{ "version": 1, "configurations": [] }', folder, exists), []);
    assert.deepEqual(configurationProblems('{ "version": 1, "configurations": [', folder, exists), []);
  });

  it('a PyTorch configuration: net.py:NAME names the file net.py; weights and a Python loss module are checked too', () => {
    const torchExists = (p: string): boolean => exists(p) || ['/ws/net.py', '/ws/w.pt', '/ws/loss.py'].includes(path.resolve(p));
    const cfg = (extra: string) => `{ "version": 1, "configurations": [ { "name": "t", "analysis": "landscape", "model": "net.py:TinyNet", "data": "data/tiny.npz", "loss": "mse"${extra} } ] }`;
    assert.deepEqual(configurationProblems(cfg(', "weights": "w.pt", "lossModule": "loss.py", "lossExport": "focal"'), folder, torchExists), []);
    const bad = configurationProblems(cfg(', "weights": "gone.pt", "lossModule": "nope.py:focal"'), folder, torchExists).map((p) => p.message);
    assert.deepEqual(new Set(bad), new Set(['the weights file gone.pt does not exist (paths are relative to the workspace folder)', 'the loss module nope.py does not exist (paths are relative to the workspace folder)']));
    const noModel = configurationProblems(cfg(''), folder, exists).map((p) => p.message);
    assert.deepEqual(noModel, ['the model net.py does not exist (paths are relative to the workspace folder)']);
  });

  it('locates an entry and its field for "Open losscape.json"', () => {
    const at = locateConfiguration(text, 'gone', 'model');
    assert.ok(at);
    assert.equal(text.slice(at.offset, at.offset + at.length), '"model": "models/missing/model.json"');
    const entry = locateConfiguration(text, 'gone');
    assert.ok(entry && text.slice(entry.offset, entry.offset + entry.length) === '"name": "gone"');
    assert.equal(locateConfiguration(text, 'nope'), undefined);
  });

  it('speaks losscape.json, not CLI flags, about engine input errors', () => {
    const cfg = { model: 'models/tiny/model.json', data: 'data/tiny.npz' };
    const loss = engineErrorInConfiguration("--loss: unknown loss 'focal'; supported: mse", cfg, folder);
    assert.deepEqual(loss, { field: 'loss', message: "unknown loss 'focal'; supported: mse" });
    assert.equal(describeProblem({ name: 'demo', index: 0, ...loss }), 'configuration "demo": "loss": unknown loss \'focal\'; supported: mse');
    const model = engineErrorInConfiguration('/ws/models/tiny/model.json: has no training config naming a loss; pass --loss (e.g. --loss mse)', cfg, folder);
    assert.equal(model.field, 'model');
    assert.equal(model.message, 'models/tiny/model.json: has no training config naming a loss; set "loss" (e.g. "loss": "mse")');
    const data = engineErrorInConfiguration('tiny.npz: labels range over 0..4 but the model has 3 outputs', cfg, folder);
    assert.equal(data.field, 'data');
  });
});
