import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset, subsetSplit } from '../../src/engine/loaders/dataset';
import { encodeNpy, type NdArray } from '../../src/engine/loaders/npy';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { InputError } from '../../src/shared/errors';

const f32 = (shape: number[], values: number[]): NdArray => ({ dtype: 'float32', shape, data: new Float32Array(values) });
const i64 = (values: number[]): NdArray => ({ dtype: 'int64', shape: [values.length], data: new BigInt64Array(values.map(BigInt)) });
const sha = (...parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

describe('dataset', () => {
  let dir: string;
  const file = (name: string): string => path.join(dir, name);
  const write = (name: string, bytes: Uint8Array | string): string => {
    fs.mkdirSync(path.dirname(file(name)), { recursive: true });
    fs.writeFileSync(file(name), bytes);
    return file(name);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'losscape-dataset-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const x = f32([3, 2], [1, 2, 3, 4, 5, 6]);
  const y = i64([0, 2, 1]);

  describe('.npz', () => {
    it('reads x, y and a test split; int labels are indices; hash is of the file', async () => {
      const bytes = encodeNpz({ x, y, x_test: f32([1, 2], [7, 8]), y_test: i64([1]) }, true);
      const p = write('d.npz', bytes);
      const ds = await loadDataset(p);
      assert.deepEqual(ds.train.xShape, [3, 2]);
      assert.deepEqual(Array.from(ds.train.x), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(ds.train.yShape, [3]);
      assert.deepEqual(Array.from(ds.train.y), [0, 2, 1]);
      assert.ok(ds.test);
      assert.deepEqual(ds.test.xShape, [1, 2]);
      assert.deepEqual(Array.from(ds.test.y), [1]);
      assert.equal(ds.labelsAreIndices, true);
      assert.equal(ds.source, p);
      assert.equal(ds.sha256, sha(bytes));
    });

    it('float or one-hot labels are not indices', async () => {
      const oneHot = f32([3, 2], [1, 0, 0, 1, 1, 0]);
      const ds = await loadDataset(write('d.npz', encodeNpz({ x, y: oneHot })));
      assert.equal(ds.labelsAreIndices, false);
      assert.deepEqual(ds.train.yShape, [3, 2]);
      assert.equal(ds.test, undefined);
      const ds2 = await loadDataset(write('e.npz', encodeNpz({ x, y: f32([3], [0, 1, 1]) })));
      assert.equal(ds2.labelsAreIndices, false);
    });

    it('refuses an archive without y, listing the keys present', async () => {
      const p = write('d.npz', encodeNpz({ x, labels: y }));
      await assert.rejects(loadDataset(p), (e: Error) => {
        assert.ok(e instanceof InputError);
        assert.match(e.message, /d\.npz: has no array 'y' \(it holds: x, labels\); save with np\.savez\(path, x=\.\.\., y=\.\.\./);
        return true;
      });
    });

    it('refuses an archive without x', async () => {
      await assert.rejects(loadDataset(write('d.npz', encodeNpz({ y }))), /d\.npz: has no array 'x' \(it holds: y\)/);
    });

    it('refuses x and y of different lengths', async () => {
      const p = write('d.npz', encodeNpz({ x, y: i64([0, 1]) }));
      await assert.rejects(loadDataset(p), /d\.npz: d\.npz\[x\] has 3 samples but d\.npz\[y\] has 2; their first dimensions must match/);
    });

    it('refuses a half test split and a test split of another shape', async () => {
      await assert.rejects(loadDataset(write('a.npz', encodeNpz({ x, y, x_test: x }))), /a\.npz: has a test split without 'y_test'/);
      const bad = encodeNpz({ x, y, x_test: f32([1, 3], [1, 2, 3]), y_test: i64([0]) });
      await assert.rejects(loadDataset(write('b.npz', bad)), /b\.npz: test split shapes x \(1, 3\), y \(1\) do not match the training split's x \(3, 2\)/);
    });
  });

  describe('.npy pairs', () => {
    it('finds data_y.npy beside data_x.npy and hashes both', async () => {
      const xb = encodeNpy(x);
      const yb = encodeNpy(y);
      const p = write('data_x.npy', xb);
      write('data_y.npy', yb);
      const ds = await loadDataset(p);
      assert.deepEqual(Array.from(ds.train.y), [0, 2, 1]);
      assert.equal(ds.labelsAreIndices, true);
      assert.equal(ds.sha256, sha(xb, yb));
    });

    it('takes labelsPath when given', async () => {
      const p = write('features.npy', encodeNpy(x));
      const l = write('sub/targets.npy', encodeNpy(f32([3], [0.5, 1.5, 2.5])));
      const ds = await loadDataset(p, { labelsPath: l });
      assert.deepEqual(Array.from(ds.train.y), [0.5, 1.5, 2.5]);
      assert.equal(ds.labelsAreIndices, false);
    });

    it('keeps the case (X_train → Y_train) and picks up the test pair', async () => {
      const p = write('X_train.npy', encodeNpy(x));
      write('Y_train.npy', encodeNpy(y));
      write('X_test.npy', encodeNpy(f32([1, 2], [9, 9])));
      write('Y_test.npy', encodeNpy(i64([2])));
      const ds = await loadDataset(p);
      assert.ok(ds.test);
      assert.deepEqual(Array.from(ds.test.x), [9, 9]);
    });

    it('refuses a features file without labels, naming the expected sibling', async () => {
      const p = write('data_x.npy', encodeNpy(x));
      await assert.rejects(loadDataset(p), /data_x\.npy: has no labels: set labelsPath to the labels \.npy, or put them in data_y\.npy beside it/);
      const q = write('features.npy', encodeNpy(x));
      await assert.rejects(loadDataset(q), /features\.npy: has no labels: .*name the features file like data_x\.npy/);
    });

    it('refuses a labelsPath that does not exist', async () => {
      const p = write('x.npy', encodeNpy(x));
      await assert.rejects(loadDataset(p, { labelsPath: file('nope.npy') }), /nope\.npy: labels file not found/);
    });

    it('refuses x and y of different lengths', async () => {
      const p = write('x.npy', encodeNpy(x));
      write('y.npy', encodeNpy(i64([0, 1, 2, 3])));
      await assert.rejects(loadDataset(p), /x\.npy: x\.npy has 3 samples but y\.npy has 4/);
    });

    it('passes npy errors through, naming the file', async () => {
      const p = write('x.npy', encodeNpy(x));
      write('y.npy', encodeNpy(y).subarray(0, 70));
      await assert.rejects(loadDataset(p), /y\.npy: is truncated/);
    });
  });

  describe('folders', () => {
    it('reads x.npy, y.npy and the test pair from a folder', async () => {
      write('set/x.npy', encodeNpy(x));
      write('set/y.npy', encodeNpy(y));
      write('set/x_test.npy', encodeNpy(f32([2, 2], [0, 0, 1, 1])));
      write('set/y_test.npy', encodeNpy(i64([0, 1])));
      const ds = await loadDataset(file('set') + path.sep);
      assert.deepEqual(ds.train.xShape, [3, 2]);
      assert.deepEqual(ds.test?.xShape, [2, 2]);
    });

    it('refuses a folder without the pair, listing what it holds', async () => {
      write('set/x.npy', encodeNpy(x));
      await assert.rejects(loadDataset(file('set')), /set: is a folder without x\.npy and y\.npy \(it holds: x\.npy\)/);
    });
  });

  describe('.csv', () => {
    it('reads a CSV with the default label column', async () => {
      const text = 'a,b,label\n1,2,0\n3,4,1\n';
      const ds = await loadDataset(write('d.csv', text));
      assert.deepEqual(ds.train.xShape, [2, 2]);
      assert.equal(ds.labelsAreIndices, true);
      assert.equal(ds.sha256, sha(Buffer.from(text)));
    });

    it('uses labelColumn and reports a missing one with the columns', async () => {
      const p = write('d.csv', 'a,b,target\n1,2,0.5\n');
      const ds = await loadDataset(p, { labelColumn: 'target' });
      assert.deepEqual(Array.from(ds.train.y), [0.5]);
      await assert.rejects(loadDataset(p), /d\.csv: has no label column 'label'; columns are: a, b, target/);
    });

    it('refuses a non-numeric cell', async () => {
      await assert.rejects(loadDataset(write('d.csv', 'a,label\nx,1\n')), /d\.csv: line 2, column 'a': 'x' is not a number/);
    });
  });

  it('refuses an unknown extension, listing the supported formats', async () => {
    await assert.rejects(loadDataset(write('d.parquet', 'PAR1')), (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /d\.parquet: has an unsupported extension '\.parquet'; Losscape reads \.npz .*\.npy.*\.csv/);
      return true;
    });
  });

  it('refuses a missing file with "not found"', async () => {
    await assert.rejects(loadDataset(file('missing.npz')), /missing\.npz: data file not found/);
  });

  describe('subsetSplit', () => {
    const split = { x: new Float32Array([0, 1, 10, 11, 20, 21]), xShape: [3, 2], y: new Float32Array([0, 1, 2]), yShape: [3] };
    it('gathers rows in the given order', () => {
      const s = subsetSplit(split, new Int32Array([2, 0, 2]));
      assert.deepEqual(s.xShape, [3, 2]);
      assert.deepEqual(Array.from(s.x), [20, 21, 0, 1, 20, 21]);
      assert.deepEqual(Array.from(s.y), [2, 0, 2]);
    });
    it('gathers multi-dimensional labels', () => {
      const s = subsetSplit({ ...split, y: new Float32Array([1, 0, 0, 1, 1, 1]), yShape: [3, 2] }, new Int32Array([1]));
      assert.deepEqual(s.yShape, [1, 2]);
      assert.deepEqual(Array.from(s.y), [0, 1]);
    });
    it('refuses out-of-range indices', () => {
      assert.throws(() => subsetSplit(split, new Int32Array([3])), RangeError);
    });
  });
});
