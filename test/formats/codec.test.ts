// The family-independent codec API: decode to float32, packed storage layout, array helpers, bias
// handling and the errors for bad arguments.

import { describe, expect, it } from 'vitest';
import {
  decode,
  decodeArray,
  decodeToF32,
  decodeToF32Bits,
  encode,
  encodeArray,
  encodeF32Bits,
  formatValues,
  packCodes,
  quantize,
  unpackCodes,
} from '../../formats/codec.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import { lcg } from './cases.ts';
import { positDecode, toDouble } from './oracle.ts';

const fmt = parseFormat;

describe('decodeToF32', () => {
  it('rounds the exact value to the nearest float32, ties to even', () => {
    const p = fmt('p32e2'); // 27 fraction bits at 1.0: values between float32 neighbours exist
    expect(decodeToF32(p, encode(p, 1 + 2 ** -24))).toBe(1); // midpoint of 1 and 1 + 2^-23: even is 1
    expect(decodeToF32(p, encode(p, 1 + 3 * 2 ** -24))).toBe(1 + 2 ** -22); // midpoint, even is 1 + 2^-22
    expect(decodeToF32(p, encode(p, 1 + 2 ** -24 + 2 ** -26))).toBe(1 + 2 ** -23);
  });
  it('overflows to +-inf, underflows to float32 subnormals or 0, NaR gives the quiet NaN 0x7fc00000', () => {
    const p = fmt('p32e4'); // maxpos 2^480
    expect(decodeToF32(p, 0x7fffffff)).toBe(Infinity);
    expect(decodeToF32(p, 0x80000001)).toBe(-Infinity);
    expect(decodeToF32Bits(p, 1)).toBe(0);
    expect(decodeToF32Bits(p, 0x80000000)).toBe(0x7fc00000);
    expect(decodeToF32Bits(fmt('fp16'), 0x8000)).toBe(0x80000000); // -0 stays -0
    expect(decodeToF32Bits(fmt('p8e2'), 1, 130)).toBe(0); // 2^-24 * 2^-130 = 2^-154: below half of 2^-149
    expect(decodeToF32(fmt('p8e2'), 1, 120)).toBe(2 ** -144); // a float32 subnormal, exact
  });
  it('equals the rounded oracle value on sampled p32e2 codes and with a bias', () => {
    const p = fmt('p32e2');
    if (p.family !== 'posit') throw new Error('posit expected');
    const rand = lcg(11);
    for (let i = 0; i < 3000; i++) {
      const c = rand.next().value;
      const v = positDecode(32, 2, c);
      if (v === 'NaR') continue;
      expect(decodeToF32(p, c)).toBe(Math.fround(toDouble(v)));
      expect(decodeToF32(p, c, -7)).toBe(Math.fround(toDouble(v) * 128));
    }
  });
});

describe('packed storage', () => {
  it('puts 2-8 bit codes in bytes, 4 per word, element 0 in the low byte; padding is 0', () => {
    expect([...packCodes(fmt('p8e2'), [1, 2, 3, 4, 5])]).toEqual([0x04030201, 0x00000005]);
    expect([...packCodes(fmt('p6e1'), [0x3f, 0x20])]).toEqual([0x0000203f]);
  });
  it('puts 9-16 bit codes in halves, 2 per word, and 17-32 bit codes one per word', () => {
    expect([...packCodes(fmt('fp16'), [0x1234, 0xabcd, 0x5555])]).toEqual([0xabcd1234, 0x00005555]);
    expect([...packCodes(fmt('fixed(wl=12,fl=4)'), [0xfff, 1])]).toEqual([0x00010fff]);
    expect([...packCodes(fmt('p20e1'), [0xfffff, 7])]).toEqual([0xfffff, 7]);
    expect([...packCodes(fmt('fp32'), [0xffffffff])]).toEqual([0xffffffff]);
  });
  it.each(['p6e1', 'p8e2', 'e2m1', 'p16e1', 'fixed(wl=12,fl=4)', 'p20e1', 'fp32'])('%s: unpack(pack(codes)) round-trips', (spec) => {
    const f = fmt(spec);
    const rand = lcg(f.bits);
    for (const count of [0, 1, 2, 3, 4, 5, 7, 8, 1001]) {
      const codes = Uint32Array.from({ length: count }, () => rand.next().value % 2 ** f.bits);
      expect(unpackCodes(f, packCodes(f, codes), count)).toEqual(codes);
    }
  });
  it('rejects bits above the format width, too few words and codes out of range', () => {
    expect(() => unpackCodes(fmt('p6e1'), [0xff], 1)).toThrow(/wider than 6 bits/);
    expect(() => unpackCodes(fmt('p8e2'), [0], 5)).toThrow(/need 2 words, got 1/);
    expect(() => packCodes(fmt('p8e2'), [256])).toThrow(/not a 8-bit p8e2 code/);
    expect(() => packCodes(fmt('fp16'), [-1])).toThrow(RangeError);
  });
});

describe('arrays, values table, quantize', () => {
  it('encodeArray / decodeArray equal element-wise encode / decode, with a bias', () => {
    const f = fmt('p8e1');
    const xs = [0.3, -7, 1e9, NaN, 2 ** -13, 0];
    expect([...encodeArray(f, xs, { bias: 2 })]).toEqual(xs.map((x) => encode(f, x, { bias: 2 })));
    expect([...decodeArray(f, [1, 0x40, 0x80], -1)]).toEqual([decode(f, 1, -1), 2, NaN]);
  });
  it('formatValues lists every code of formats up to 16 bits', () => {
    const v = formatValues(fmt('e4m3'));
    expect(v.length).toBe(256);
    expect([v[0x7e], v[0x7f], v[0x01], v[0x80]]).toEqual([448, NaN, 2 ** -9, -0]);
    expect(() => formatValues(fmt('p20e1'))).toThrow(/at most 16-bit/);
  });
  it('quantize is decode(encode(x)) with the same bias', () => {
    const f = fmt('p8e2');
    for (const x of [0.1, 3, -1000, 2 ** 30]) {
      for (const t of [0, 3, -4]) expect(quantize(f, x, { bias: t })).toBe(decode(f, encode(f, x * 2 ** t)) * 2 ** -t);
    }
  });
});

describe('argument errors', () => {
  const f = fmt('p8e2');
  it('bias must be an integer with |t| <= 256', () => {
    expect(() => encode(f, 1, { bias: 257 })).toThrow(/bias t=257 must be an integer in -256..256/);
    expect(() => encode(f, 1, { bias: 1.5 })).toThrow(RangeError);
    expect(() => decode(f, 1, -300)).toThrow(/-256..256/);
    expect(encode(f, 1, { bias: -256 })).toBe(1); // 2^-256 < minpos
  });
  it('codes must be integers in 0..2^bits - 1', () => {
    expect(() => decode(f, 256)).toThrow(/code 256 is not a 8-bit p8e2 code \(0..255\)/);
    expect(() => decode(f, 1.5)).toThrow(RangeError);
    expect(() => decode(fmt('fp32'), 2 ** 32)).toThrow(RangeError);
  });
  it('stochastic rounding needs a u32 random number (or a seed for arrays)', () => {
    expect(() => encode(f, 1.1, { rounding: 'stochastic' })).toThrow(/random/);
    expect(() => encode(f, 1.1, { rounding: 'stochastic', random: 2 ** 32 })).toThrow(/u32/);
    expect(() => encodeArray(f, [1.1], { rounding: 'stochastic' })).toThrow(/seed/);
    expect(() => encode(f, 1, { rounding: 'up' as never })).toThrow(/nearest' or 'stochastic/);
  });
  it('inputs must be numbers / u32 float32 patterns', () => {
    expect(() => encode(f, '1' as never)).toThrow(TypeError);
    expect(() => encodeF32Bits(f, -1)).toThrow(/u32/);
  });
});
