import assert from 'node:assert/strict';
import { zipSync } from 'fflate';
import { encodeNpy } from '../../src/engine/loaders/npy';
import { encodeNpz, parseNpz } from '../../src/engine/loaders/npz';

// np.savez(f, x=np.array([[0.5,1],[2,3],[4,5]]), y=np.array([0,1,1])) and the same with
// np.savez_compressed, from numpy 2.4: members carry Zip64 local headers (numpy forces them).
const NUMPY_SAVEZ =
  'UEsDBC0AAAAAAAAAIQAaAkzw//////////8FABQAeC5ucHkBABAAsAAAAAAAAACwAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJzxmOCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgzLCAyKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAAAAAAA4D8AAAAAAADwPwAAAAAAAABAAAAAAAAACEAAAAAAAAAQQAAAAAAAABRAUEsDBC0AAAAAAAAAIQAUR51k//////////8FABQAeS5ucHkBABAAmAAAAAAAAACYAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJzxpOCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgzLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAAAAAAAAAABAAAAAAAAAAEAAAAAAAAAUEsBAi0DLQAAAAAAAAAhABoCTPCwAAAAsAAAAAUAAAAAAAAAAAAAAIABAAAAAHgubnB5UEsBAi0DLQAAAAAAAAAhABRHnWSYAAAAmAAAAAUAAAAAAAAAAAAAAIAB5wAAAHkubnB5UEsFBgAAAAACAAIAZgAAALYBAAAAAA==';
const NUMPY_SAVEZ_COMPRESSED =
  'UEsDBC0AAAAIAAAAIQAaAkzw//////////8FABQAeC5ucHkBABAAsAAAAAAAAABaAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TZqGuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GsY6CkaaOgq1CmQDLgYweGAPoT9AaQYHCMUBpQWgtIgDAFBLAwQtAAAACAAAACEAFEedZP//////////BQAUAHkubnB5AQAQAJgAAAAAAAAASQAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2mhrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RrGOpo6CrUKFAAuBihgRKMBUEsBAi0DLQAAAAgAAAAhABoCTPBaAAAAsAAAAAUAAAAAAAAAAAAAAIABAAAAAHgubnB5UEsBAi0DLQAAAAgAAAAhABRHnWRJAAAAmAAAAAUAAAAAAAAAAAAAAIABkQAAAHkubnB5UEsFBgAAAAACAAIAZgAAABEBAAAAAA==';

const bytesOf = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));
/** Compression method of the first local file header (0 stored, 8 deflate). */
const firstMethod = (zip: Uint8Array): number => zip[8] | (zip[9] << 8);

describe('npz', () => {
  for (const [name, b64] of [['np.savez (stored)', NUMPY_SAVEZ], ['np.savez_compressed (deflated)', NUMPY_SAVEZ_COMPRESSED]]) {
    it(`reads ${name} from numpy, keys without .npy`, () => {
      const zip = bytesOf(b64);
      assert.equal(firstMethod(zip), name.includes('compressed') ? 8 : 0);
      const arrays = parseNpz(zip, 'd.npz');
      assert.deepEqual(Object.keys(arrays).sort(), ['x', 'y']);
      assert.equal(arrays.x.dtype, 'float64');
      assert.deepEqual(arrays.x.shape, [3, 2]);
      assert.deepEqual(Array.from(arrays.x.data as ArrayLike<number>), [0.5, 1, 2, 3, 4, 5]);
      assert.equal(arrays.y.dtype, 'int64');
      assert.deepEqual(Array.from(arrays.y.data as BigInt64Array), [0n, 1n, 1n]);
    });
  }

  for (const compress of [false, true]) {
    it(`round trips through encodeNpz (${compress ? 'deflated' : 'stored'})`, () => {
      const zip = encodeNpz(
        {
          x: { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
          labels: { dtype: 'int32', shape: [2], data: new Int32Array([5, -6]) },
        },
        compress,
      );
      assert.equal(firstMethod(zip), compress ? 8 : 0);
      const back = parseNpz(zip, 'rt.npz');
      assert.deepEqual(Object.keys(back).sort(), ['labels', 'x']);
      assert.deepEqual(Array.from(back.x.data as ArrayLike<number>), [1, 2, 3, 4]);
      assert.deepEqual(back.labels.shape, [2]);
      assert.deepEqual(Array.from(back.labels.data as ArrayLike<number>), [5, -6]);
    });
  }

  it('skips members that are not .npy', () => {
    const zip = zipSync({ 'x.npy': encodeNpy({ dtype: 'uint8', shape: [1], data: new Uint8Array([9]) }), 'README.txt': new Uint8Array([65]) });
    assert.deepEqual(Object.keys(parseNpz(zip, 'd.npz')), ['x']);
  });

  it('refuses a file that is not a zip', () => {
    assert.throws(() => parseNpz(new TextEncoder().encode('x,y\n1,2\n'), 'data.npz'), /^InputError: data\.npz: is not an \.npz archive \(not a zip file\)/);
  });

  it('refuses a damaged zip', () => {
    const zip = bytesOf(NUMPY_SAVEZ);
    assert.throws(() => parseNpz(zip.subarray(0, zip.length - 30), 'cut.npz'), /^InputError: cut\.npz: is a damaged \.npz archive/);
  });

  it('names the member when one array inside is unreadable', () => {
    const bad = encodeNpy({ dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) });
    const zip = zipSync({ 'x.npy': bad.subarray(0, bad.length - 4) });
    assert.throws(() => parseNpz(zip, 'd.npz'), /d\.npz\[x\]: is truncated/);
  });
});
