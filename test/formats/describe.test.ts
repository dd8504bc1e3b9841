// describeFormat: extremes equal those found by scanning every code's value, and values print exactly.

import { describe, expect, it } from 'vitest';
import { formatValues } from '../../formats/codec.ts';
import { describeFormat, valueInfo } from '../../formats/describe.ts';
import { parseFormat } from '../../formats/descriptor.ts';

describe('valueInfo', () => {
  it.each([
    [2 ** 24, '2^24 = 16777216'],
    [2 ** -24, '2^-24 = 5.9604644775390625e-8'],
    [2 ** -14, '2^-14 = 0.00006103515625'],
    [65504, '65504 = 1.9990234375 * 2^15'],
    [1.5, '1.5 = 1.5 * 2^0'],
    [-8, '-2^3 = -8'],
    [2 ** 70, '2^70 ≈ 1.1805916207174113e+21'], // 22 significant digits: shown rounded
    [2 ** 69, '2^69 = 590295810358705651712'], // 21 digits: exact
    [(2 - 2 ** -23) * 2 ** 127, '1.99999988079071044921875 * 2^127 ≈ 3.4028234663852886e+38'],
  ])('%d -> %s', (x, text) => {
    expect(valueInfo(x).text).toBe(text);
  });
});

describe('describeFormat', () => {
  it.each(['p8e2', 'p6e1', 'p2e0', 'fp16', 'bf16', 'e4m3', 'e5m2', 'e4m3q', 'e2m1', 'e3m2', 'fixed(wl=8,fl=4)', 'fixed(wl=10,fl=-2,sat=0)', 'float(e=3,m=0,inf=0,nan=0,sat=1)'])(
    '%s: extremes, dynamic range and digits at 1.0 agree with a scan of every code',
    (spec) => {
      const f = parseFormat(spec);
      const vs = [...formatValues(f)].filter(Number.isFinite);
      const max = Math.max(...vs);
      const minPos = Math.min(...vs.filter((v) => v > 0));
      const d = describeFormat(f);
      expect(d.values[0]!.value.value).toBe(max);
      expect(d.values[d.values.length - 1]!.value.value).toBe(minPos);
      expect(d.dynamicRangeDecades).toBeCloseTo(Math.log10(max / minPos), 12);
      const above1 = vs.filter((v) => v > 1);
      const expected = vs.includes(1) && above1.length ? -Math.log10(Math.min(...above1) - 1) : null;
      if (expected === null) expect(d.digitsAt1).toBeNull();
      else expect(d.digitsAt1).toBeCloseTo(expected, 12);
    },
  );
  it('describes wide formats without enumerating them', () => {
    const d = describeFormat(parseFormat('p32e4'));
    expect(d.values.map((v) => v.value.dyadic)).toEqual(['2^480', '2^-480']);
    expect(d.gapAbove1?.dyadic).toBe('2^-25'); // 32 - 1 sign - 2 regime - 4 exponent = 25 fraction bits
  });
});
