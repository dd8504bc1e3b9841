// The safetensors codec against byte fixtures built here by hand from the format's description (the
// 8-byte little-endian header length, the compact JSON header padded with spaces to a multiple of 8,
// the tensors sorted by dtype alignment then name, the data without gaps), and its refusals of
// malformed files. The same tensors written by Python's `safetensors` (0.8.0) give the same bytes
// when the metadata has at most one key (Python orders several keys by its hash map; posit-gan sorts
// them); checked by hand, the tests do not need Python.

import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, f32Tensor, f32Values, SafetensorsError, type TensorBytes } from '../../gan/io/safetensors.ts';

/** u64 little-endian length, the header text padded with spaces to a multiple of 8, then the data. */
function fixture(header: string, data: number[]): Uint8Array {
  const n = Math.ceil(header.length / 8) * 8;
  const length = [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, 0, 0, 0, 0];
  return Uint8Array.from([...length, ...[...header.padEnd(n, ' ')].map((c) => c.charCodeAt(0)), ...data]);
}

const f32 = (...xs: number[]) => [...new Uint8Array(new Float32Array(xs).buffer)];
const u16 = (...xs: number[]) => xs.flatMap((x) => [x & 0xff, x >> 8]);

const bytesOf = (xs: number[]) => Uint8Array.from(xs);

describe('safetensors writer', () => {
  it('writes an empty file as the format lays it out', () => {
    expect([...encodeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]);
    expect(encodeSafetensors({}, { framework: 'pt' })).toEqual(fixture('{"__metadata__":{"framework":"pt"}}', []));
  });

  it('sorts tensors by dtype alignment, then name; metadata first, its keys sorted; pads the header to 8 bytes', () => {
    const tensors: Record<string, TensorBytes> = {
      b: { dtype: 'U8', shape: [3], data: bytesOf([1, 2, 3]) },
      a: { dtype: 'F32', shape: [2], data: bytesOf(f32(1, -2)) },
      z: { dtype: 'U16', shape: [2], data: bytesOf(u16(0x1234, 0xffff)) },
      s: { dtype: 'F32', shape: [], data: bytesOf(f32(0.5)) },
      e: { dtype: 'U8', shape: [0, 4], data: new Uint8Array(0) },
      '10': { dtype: 'U8', shape: [1], data: bytesOf([9]) },
    };
    const header =
      '{"__metadata__":{"a":"1","b":"two \\"quoted\\""},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"s":{"dtype":"F32","shape":[],"data_offsets":[8,12]},' +
      '"z":{"dtype":"U16","shape":[2],"data_offsets":[12,16]},' +
      '"10":{"dtype":"U8","shape":[1],"data_offsets":[16,17]},' +
      '"b":{"dtype":"U8","shape":[3],"data_offsets":[17,20]},' +
      '"e":{"dtype":"U8","shape":[0,4],"data_offsets":[20,20]}}';
    const want = fixture(header, [...f32(1, -2), ...f32(0.5), ...u16(0x1234, 0xffff), 9, 1, 2, 3]);
    const got = encodeSafetensors(tensors, { b: 'two "quoted"', a: '1' });
    expect(new TextDecoder().decode(got.subarray(8, 8 + header.length))).toBe(header);
    expect(got).toEqual(want);
    expect((8 + Number(new DataView(got.buffer).getBigUint64(0, true))) % 8).toBe(0);
  });

  it('refuses tensors whose bytes do not fit their shape, and the reserved name', () => {
    expect(() => encodeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Uint8Array(8) } })).toThrow(/tensor 'x': F32 \[3\] needs 12 bytes, got 8/);
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(SafetensorsError);
  });
});

describe('safetensors reader', () => {
  const header = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"},"c":{"dtype":"U8","shape":[2,1],"data_offsets":[8,10]}}';
  const file = fixture(header, [...f32(3, 0.25), 7, 8]);

  it('reads a file in any key order, with its metadata', () => {
    const st = decodeSafetensors(file, 'f.safetensors');
    expect(st.metadata).toEqual({ k: 'v' });
    expect([...st.tensors.keys()]).toEqual(['w', 'c']);
    expect(f32Values(st.tensors.get('w')!, 'w')).toEqual(new Float32Array([3, 0.25]));
    expect(st.tensors.get('c')).toMatchObject({ dtype: 'U8', shape: [2, 1] });
    expect([...st.tensors.get('c')!.data]).toEqual([7, 8]);
    expect(decodeSafetensors(fixture('{}', []), 'e').tensors.size).toBe(0);
  });

  it('round-trips what it writes', () => {
    const values = new Float32Array([1.5, -0, NaN, Infinity, 1e-45]);
    const st = decodeSafetensors(encodeSafetensors({ 'layer.0.weight': f32Tensor([5], values) }, { note: 'é ✓' }), 'r');
    expect(st.metadata).toEqual({ note: 'é ✓' });
    expect(new Uint32Array(f32Values(st.tensors.get('layer.0.weight')!, 'x').buffer)).toEqual(new Uint32Array(values.buffer));
  });

  it('refuses malformed files, naming the file and the problem', () => {
    const bad = (bytes: Uint8Array) => () => decodeSafetensors(bytes, 'f.safetensors');
    expect(bad(new Uint8Array(5))).toThrow(/^f\.safetensors: truncated \(5 bytes\)/);
    expect(bad(file.subarray(0, 40))).toThrow(/^f\.safetensors: header length \d+ runs past the end of the file/);
    expect(bad(file.subarray(0, file.length - 1))).toThrow(/tensor 'c' runs past the end of the file|the data section has/);
    expect(bad(Uint8Array.from([...file, 0]))).toThrow(/^f\.safetensors: the data section has 11 bytes, the tensors cover 10$/);
    const huge = file.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(bad(huge)).toThrow(/larger than safetensors allows/);
    expect(bad(fixture('[1,2]', []))).toThrow(/does not start with '\{'/);
    expect(bad(fixture('{"a":', []))).toThrow(/the header is not valid JSON/);
    expect(bad(fixture('{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}', [0]))).toThrow(/^f\.safetensors: header: a\.dtype must be one of BOOL, U8, .*, got "F4"$/);
    expect(bad(fixture('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', f32(1, 2)))).toThrow(/tensor 'a': F32 \[3\] needs 12 bytes, data_offsets give 8/);
    expect(bad(fixture('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', [0, 0]))).toThrow(/tensor 'a': data_offsets \[1, 2\] do not follow the previous tensor/);
    expect(bad(fixture('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', [0, 0]))).toThrow(/tensor 'b': data_offsets \[1, 2\] do not follow/);
    expect(bad(fixture('{"__metadata__":{"n":3}}', []))).toThrow(/__metadata__\.n must be a string \(safetensors metadata holds strings only\), got 3$/);
    expect(bad(fixture('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}', []))).toThrow(/a\.shape\[0\] must be an integer >= 0, got -1$/);
  });
});
