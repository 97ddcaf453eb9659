import assert from 'node:assert/strict';
import { encodeNpy, parseNpy, toFloat32, type NdArray } from '../../src/engine/loaders/npy';
import { InputError } from '../../src/shared/errors';

// Bytes written by numpy 2.4 (np.save / numpy.lib.format.write_array), so the parser is checked
// against the real format and not only against our own encoder.
const NUMPY = {
  // np.array([[1.5,-2,3],[4,5,6.25]], dtype=float32)
  f32: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAQEAAAIBAAACgQAAAyEA=',
  // np.array([1,-2,3,2**40], dtype=int64), format version 2.0
  i64v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoNCwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAP7/////////AwAAAAAAAAAAAAAAAAEAAA==',
  // np.array([7,8], dtype=uint16), format version 3.0
  u16v3: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8dTInLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoHAAgA',
  // np.array([True, False, True])
  bool: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=',
  // np.float64(3.5): shape ()
  scalar: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAMQA==',
  // np.asfortranarray(np.arange(6, dtype=float32).reshape(2,3))
  fortran: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAABAQAAAgD8AAIBAAAAAQAAAoEA=',
  // np.array([1,2], dtype='>f4')
  bigEndian: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/gAAAQAAAAA==',
  // np.array([1+2j], dtype=complex64)
  complex: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGM4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIA/AAAAQA==',
  // np.array([1], dtype=float16)
  half: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPA==',
};
const bytesOf = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));

/** A v1.0 .npy with a hand-written header dict, for dtypes numpy needs pickle to write. */
function withHeader(dict: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = dict + ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(data, 10 + header.length);
  return out;
}

describe('npy', () => {
  it('aligned data are a view of the bytes (no copy of a large file); misaligned ones a copy with the same values', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => i / 7 - 3);
    const bytes = encodeNpy({ dtype: 'float32', shape: [10, 100], data: values });
    const aligned = new Uint8Array(new ArrayBuffer(bytes.length + 4), 4);
    aligned.set(bytes);
    const a = parseNpy(aligned, 'aligned.npy');
    assert.equal(a.data.buffer, aligned.buffer);
    assert.deepEqual(a.data, values);
    const odd = new Uint8Array(new ArrayBuffer(bytes.length + 1), 1);
    odd.set(bytes);
    const b = parseNpy(odd, 'odd.npy');
    assert.notEqual(b.data.buffer, odd.buffer);
    assert.equal(b.data.byteOffset, 0);
    assert.deepEqual(b.data, values);
    // The view covers exactly the array, not the bytes after it.
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes);
    assert.equal(parseNpy(padded, 'padded.npy').data.length, 1000);
  });


  describe('parseNpy on files numpy wrote', () => {
    it('reads float32 (v1.0) with its shape and values', () => {
      const a = parseNpy(bytesOf(NUMPY.f32), 'a.npy');
      assert.equal(a.dtype, 'float32');
      assert.deepEqual(a.shape, [2, 3]);
      assert.ok(a.data instanceof Float32Array);
      assert.deepEqual(Array.from(a.data as ArrayLike<number>), [1.5, -2, 3, 4, 5, 6.25]);
    });
    it('reads int64 from a v2.0 header', () => {
      const a = parseNpy(bytesOf(NUMPY.i64v2), 'a.npy');
      assert.equal(a.dtype, 'int64');
      assert.deepEqual(a.shape, [4]);
      assert.deepEqual(Array.from(a.data as BigInt64Array), [1n, -2n, 3n, 2n ** 40n]);
    });
    it('reads uint16 from a v3.0 header', () => {
      const a = parseNpy(bytesOf(NUMPY.u16v3), 'a.npy');
      assert.equal(a.dtype, 'uint16');
      assert.deepEqual(Array.from(a.data as ArrayLike<number>), [7, 8]);
    });
    it("reads bool ('|b1') as bytes 0/1", () => {
      const a = parseNpy(bytesOf(NUMPY.bool), 'a.npy');
      assert.equal(a.dtype, 'bool');
      assert.deepEqual(Array.from(a.data as ArrayLike<number>), [1, 0, 1]);
    });
    it('reads a 0-d scalar as shape []', () => {
      const a = parseNpy(bytesOf(NUMPY.scalar), 'a.npy');
      assert.deepEqual(a.shape, []);
      assert.deepEqual(Array.from(a.data as ArrayLike<number>), [3.5]);
    });
    it('copies data found at an unaligned offset', () => {
      const raw = bytesOf(NUMPY.f32);
      const host = new Uint8Array(raw.length + 1);
      host.set(raw, 1);
      const a = parseNpy(host.subarray(1), 'a.npy'); // data starts at an odd byte offset
      assert.deepEqual(Array.from(a.data as ArrayLike<number>), [1.5, -2, 3, 4, 5, 6.25]);
    });
    it('reads from a Node Buffer that sits inside a larger pool', () => {
      // fs.readFile hands out such Buffers; Buffer#slice is a view there, not a copy.
      const raw = bytesOf(NUMPY.f32);
      const pool = Buffer.alloc(raw.length + 16, 0x7f);
      pool.set(raw, 8);
      const a = parseNpy(pool.subarray(8, 8 + raw.length), 'a.npy');
      assert.equal(a.data.length, 6);
      assert.deepEqual(Array.from(a.data as ArrayLike<number>), [1.5, -2, 3, 4, 5, 6.25]);
    });
  });

  describe('encodeNpy round trips', () => {
    const cases: NdArray[] = [
      { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, -2.5, 3, 1e-8]) },
      { dtype: 'float64', shape: [3], data: new Float64Array([Math.PI, -0, 1e300]) },
      { dtype: 'int32', shape: [1, 3], data: new Int32Array([-7, 0, 2147483647]) },
      { dtype: 'int64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 5n]) },
      { dtype: 'uint8', shape: [4], data: new Uint8Array([0, 1, 128, 255]) },
      { dtype: 'bool', shape: [2, 1], data: new Uint8Array([1, 0]) },
      { dtype: 'int8', shape: [2], data: new Int8Array([-128, 127]) },
      { dtype: 'uint32', shape: [], data: new Uint32Array([4294967295]) },
      { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
    ];
    for (const c of cases) {
      it(`${c.dtype} shape (${c.shape.join(', ')})`, () => {
        const bytes = encodeNpy(c);
        const headerEnd = 10 + new DataView(bytes.buffer).getUint16(8, true);
        assert.equal(headerEnd % 64, 0, 'data must start on a 64-byte boundary');
        assert.equal(bytes[headerEnd - 1], 0x0a, 'header ends with a newline');
        const back = parseNpy(bytes, 'rt.npy');
        assert.equal(back.dtype, c.dtype);
        assert.deepEqual(back.shape, c.shape);
        assert.equal(back.data.constructor, c.data.constructor);
        assert.deepEqual(Array.from(back.data as ArrayLike<unknown>), Array.from(c.data as ArrayLike<unknown>));
      });
    }
    it('writes the same header numpy writes for float32 (2, 3)', () => {
      const ours = encodeNpy({ dtype: 'float32', shape: [2, 3], data: new Float32Array([1.5, -2, 3, 4, 5, 6.25]) });
      assert.deepEqual(Buffer.from(ours), Buffer.from(bytesOf(NUMPY.f32)));
    });
    it('refuses data whose length does not match the shape', () => {
      assert.throws(() => encodeNpy({ dtype: 'float32', shape: [3], data: new Float32Array(2) }), RangeError);
    });
  });

  describe('bad input', () => {
    it('refuses Fortran order and says how to fix it', () => {
      assert.throws(() => parseNpy(bytesOf(NUMPY.fortran), 'w.npy'), (e: Error) => {
        assert.ok(e instanceof InputError);
        assert.match(e.message, /^w\.npy: is stored in Fortran order; .*np\.ascontiguousarray/);
        return true;
      });
    });
    it('refuses big-endian data', () => {
      assert.throws(() => parseNpy(bytesOf(NUMPY.bigEndian), 'be.npy'), /^InputError: be\.npy: is big-endian \(dtype '>f4'\).*astype\('<f4'\)/);
    });
    it('refuses complex, float16, object and string dtypes', () => {
      assert.throws(() => parseNpy(bytesOf(NUMPY.complex), 'c.npy'), /c\.npy: has dtype '<c8' \(complex\), which Losscape cannot read; use float32, float64 or an integer type/);
      assert.throws(() => parseNpy(bytesOf(NUMPY.half), 'h.npy'), /h\.npy: has dtype '<f2' \(float16\).*astype\('float32'\)/);
      assert.throws(() => parseNpy(withHeader("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"), 'o.npy'), /o\.npy: holds Python objects/);
      assert.throws(() => parseNpy(withHeader("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }"), 's.npy'), /s\.npy: holds strings/);
      assert.throws(() => parseNpy(withHeader("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }"), 'u.npy'), /u\.npy: has dtype '<u8', which Losscape cannot read/);
      assert.throws(() => parseNpy(withHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"), 'r.npy'), /r\.npy: holds a structured/);
    });
    it('refuses truncated data, naming the sizes', () => {
      const full = bytesOf(NUMPY.f32);
      assert.throws(() => parseNpy(full.subarray(0, full.length - 3), 't.npy'), /t\.npy: is truncated: shape \(2, 3\) of float32 needs 24 data bytes but the file holds 21/);
    });
    it('refuses a truncated header and a non-npy file', () => {
      assert.throws(() => parseNpy(bytesOf(NUMPY.f32).subarray(0, 40), 't.npy'), /t\.npy: is truncated inside its \.npy header/);
      assert.throws(() => parseNpy(new TextEncoder().encode('a,b\n1,2\n'), 'x.npy'), /x\.npy: is not a NumPy \.npy file/);
    });
  });

  describe('toFloat32', () => {
    it('converts each integer and float dtype', () => {
      assert.deepEqual(Array.from(toFloat32({ dtype: 'float64', shape: [2], data: new Float64Array([0.5, -1]) })), [0.5, -1]);
      assert.deepEqual(Array.from(toFloat32({ dtype: 'int64', shape: [2], data: new BigInt64Array([3n, -4n]) })), [3, -4]);
      assert.deepEqual(Array.from(toFloat32({ dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) })), [1, 0]);
    });
    it('refuses int64 values beyond 2^53', () => {
      const a: NdArray = { dtype: 'int64', shape: [1], data: new BigInt64Array([2n ** 60n]) };
      assert.throws(() => toFloat32(a, 'y.npy'), /y\.npy: holds int64 value 1152921504606846976 outside ±2\^53/);
    });
  });
});
