// The IDX parser: well-formed files, and every way a file can be wrong with the message it gets.

import { describe, expect, it } from 'vitest';
import { IdxFormatError, parseIdx } from '../../gan/data/idx.ts';
import { idxBytes } from './idx-fixture.ts';

describe('parseIdx', () => {
  it('reads dimensions and data of a well-formed file', () => {
    const data = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 7) % 256);
    const idx = parseIdx(idxBytes([2, 3, 4], data));
    expect(idx.dims).toEqual([2, 3, 4]);
    expect(Array.from(idx.data)).toEqual(data);
    expect(parseIdx(idxBytes([300], new Uint8Array(300))).dims).toEqual([300]); // a size above 255
  });

  const bad: [string, () => Uint8Array, RegExp][] = [
    ['empty', () => new Uint8Array(0), /shorter than the 4-byte magic/],
    ['wrong magic', () => Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), /must start with 00 00, found 0x01 0x00/],
    ['gzip', () => Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), /gzip-compressed/],
    ['float type', () => idxBytes([1], [0], 0x0d), /0x0d \(float\) is not supported/],
    ['unknown type', () => idxBytes([1], [0], 0x42), /unknown element type 0x42/],
    ['zero rank', () => Uint8Array.from([0, 0, 8, 0]), /zero dimensions/],
    ['truncated header', () => idxBytes([5, 5], new Uint8Array(25)).slice(0, 9), /header needs 12 bytes .* \(truncated\)/],
    ['truncated data', () => idxBytes([4, 5], new Uint8Array(20)).slice(0, 30), /need 32 bytes, the file has only 30 \(truncated\)/],
    ['extra bytes', () => Uint8Array.from([...idxBytes([2], [1, 2]), 9, 9]), /2 extra bytes/],
  ];
  for (const [name, make, message] of bad) {
    it(`rejects a file that is ${name}`, () => {
      expect(() => parseIdx(make(), 'some/file')).toThrow(IdxFormatError);
      expect(() => parseIdx(make(), 'some/file')).toThrow(message);
      expect(() => parseIdx(make(), 'some/file')).toThrow(/^some\/file: not a valid IDX file/);
    });
  }
});
