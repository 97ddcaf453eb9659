import { strict as assert } from 'node:assert';
import { detectRunsColumns, headerCells, matchColumns } from '../../../src/extension/scaling/runsTableColumns';

describe('runs-table columns (Fit Scaling Law trigger)', () => {
  it('finds params, tokens and loss, and run, step and compute when present', () => {
    assert.deepEqual(detectRunsColumns('run,params,tokens,loss\nm0,1e8,1e9,3.2\n'), { run: 'run', params: 'params', tokens: 'tokens', loss: 'loss' });
    assert.deepEqual(detectRunsColumns('\uFEFF"Model Name";N_Params;Tokens Seen;Val Loss;Step;FLOPs\n'), {
      run: 'Model Name',
      params: 'N_Params',
      tokens: 'Tokens Seen',
      loss: 'Val Loss',
      step: 'Step',
      compute: 'FLOPs',
    });
    assert.deepEqual(detectRunsColumns('N\tD\tL\n'), { params: 'N', tokens: 'D', loss: 'L' });
  });

  it('is null without one of the three, and never gives one column two roles', () => {
    assert.equal(detectRunsColumns('x,y,label\n1,2,0\n'), null);
    assert.equal(detectRunsColumns('params,loss\n'), null);
    assert.equal(detectRunsColumns(''), null);
    assert.deepEqual(matchColumns(['n', 'tokens', 'loss', 'name']), { params: 'n', tokens: 'tokens', loss: 'loss', run: 'name' });
    assert.deepEqual(headerCells('a, "b" ,c'), ['a', 'b', 'c']);
  });
});
