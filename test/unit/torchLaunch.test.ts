import assert from 'node:assert/strict';
import { engineOf } from '../../src/engine/engineChoice';
import { launchArgs, launchOf, parallelModeOf } from '../../src/engine/torch/launch';
import { InputError } from '../../src/shared/errors';

/** How the torch worker is launched for --workers / --nnodes / --node-rank / --rendezvous (docs/distributed.md). */
describe('torch.distributed launch options', () => {
  it('no ranks asked for: one worker, started exactly as without the options', () => {
    assert.equal(launchOf({}), null);
    assert.equal(launchOf({ workers: 1 }), null);
    assert.deepEqual(launchArgs(null), []);
  });

  it('ranks on this machine, and torchrun-style clusters', () => {
    assert.deepEqual(launchArgs(launchOf({ workers: 2 })), ['--workers', '2', '--nnodes', '1', '--node-rank', '0', '--dist-timeout', '60']);
    assert.deepEqual(launchArgs(launchOf({ workers: 4, nnodes: 3, nodeRank: 2, rendezvous: 'head:29500', distTimeout: 120 })), [
      '--workers', '4', '--nnodes', '3', '--node-rank', '2', '--dist-timeout', '120', '--rendezvous', 'head:29500',
    ]);
  });

  it('inconsistent layouts are one clear input error naming the flag', () => {
    const refused = (spec: Parameters<typeof launchOf>[0], flag: string, what: RegExp) =>
      assert.throws(() => launchOf(spec), (e: Error) => e instanceof InputError && e.message.startsWith(flag) && what.test(e.message) && !e.message.includes('\n'));
    refused({ nnodes: 2 }, '--nnodes', /need --rendezvous HOST:PORT/);
    refused({ nnodes: 2, nodeRank: 2, rendezvous: 'h:1' }, '--node-rank', /node ranks are 0\.\.1/);
    refused({ rendezvous: 'h:1' }, '--rendezvous', /needs several ranks/);
  });

  it('grids deal points to ranks; the other analyses shard the samples', () => {
    assert.equal(parallelModeOf('landscape'), 'points');
    assert.equal(parallelModeOf('trajectory'), 'points');
    for (const k of ['hessian', 'sharpness', 'grokking', undefined]) assert.equal(parallelModeOf(k), 'data');
  });

  it('the TF.js engine refuses ranks (but takes --workers 1)', () => {
    assert.equal(engineOf({ model: 'model.json', workers: 1 }), 'tfjs');
    assert.throws(() => engineOf({ model: 'model.json', workers: 2 }), /--workers: is a torch-engine option/);
    assert.throws(() => engineOf({ model: 'model.json', nnodes: 2 }), /--nnodes: is a torch-engine option/);
    assert.equal(engineOf({ model: 'net.py:Net', workers: 2 }), 'torch');
  });
});
