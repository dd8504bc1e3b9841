// Float formats against the oracle's definition: decode of every code, and encode (nearest) of every
// value, every midpoint between neighbours (including max and the grid point above it), their float32
// and float64 neighbours, powers of two and specials; fp32 against Math.fround; the exponent bias t.

import { describe, expect, it } from 'vitest';
import { decode, encode, encodeF32Bits } from '../../formats/codec.ts';
import { parseFormat, type FloatFormat, type Format } from '../../formats/descriptor.ts';
import { f32Bits, f32FromBits, hex, isF32, lcg, mismatches, specialInputs, withNeighbours } from './cases.ts';
import { add, floatAboveMax, floatDecode, floatEncode, floatMagnitudes, fromDouble, scale, toDouble } from './oracle.ts';

type Float = Format & FloatFormat;

const SPECS = [
  'fp16',
  'bf16',
  'e4m3',
  'e5m2',
  'e4m3q',
  'e5m2q',
  'e3m2',
  'e2m3',
  'e2m1',
  'e4m3(sat=0)', // overflow -> NaN
  'e5m2(sat=0)', // overflow -> inf
  'e3m4', // IEEE-like minifloat
  'float(e=4,m=3,subnormals=0,inf=0,nan=0,sat=1)', // no subnormals, nearest underflow, ties even
  'float(e=4,m=3,subnormals=0,inf=0,nan=0,sat=1,ties=away)',
  'float(e=5,m=2,subnormals=0)', // IEEE without subnormals
  'float(e=3,m=0,inf=0,nan=0,sat=1)', // no mantissa bits: ties=even picks the even exponent field
  'float(e=4,m=0,inf=0,nan=1,sat=1,subnormals=0)',
  'float(e=4,m=3,bias=3)',
  'float(e=3,m=2,bias=-2,inf=0,nan=0,sat=1)',
  'float(e=5,m=2,bias=16,subnormals=0,inf=0,nan=0,sat=1,ties=even,underflow=qtorch)',
  'float(e=4,m=3,subnormals=0,inf=1,nan=1,sat=0,underflow=qtorch)',
];
const FLOATS = SPECS.map((s) => parseFormat(s) as Float);

function interestingPoints(f: Float): number[] {
  const mags = floatMagnitudes(f);
  const above = floatAboveMax(f);
  const pts = [...mags, above, scale(above, 1)].map(toDouble);
  for (let i = 0; i < mags.length; i++) pts.push(toDouble(scale(add(mags[i]!, i + 1 < mags.length ? mags[i + 1]! : above), -1)));
  // Half the smallest positive and a quarter of it: underflow to 0 / min.
  pts.push(pts[1]! / 2, pts[1]! / 4, (pts[1]! * 3) / 4);
  return pts;
}

function inputsFor(f: Float): number[] {
  const xs = new Set<number>(specialInputs());
  for (const p of interestingPoints(f)) for (const x of withNeighbours(p)) xs.add(x).add(-x);
  return [...xs];
}

function checkEncode(f: Float, xs: Iterable<number>): string[] {
  return mismatches(xs, (x) => {
    const got = encode(f, x);
    const want = floatEncode(f, x);
    if (got !== want) return `${f.name} encode(${Object.is(x, -0) ? '-0' : x}) = ${hex(got)}, oracle ${hex(want)}`;
    if (isF32(x) && encodeF32Bits(f, f32Bits(x)) !== got) return `${f.name} encodeF32Bits(${hex(f32Bits(x))}) != encode(${x})`;
    return undefined;
  });
}

describe('float decode equals the value definition', () => {
  it.each(SPECS.map((s, i) => [s, FLOATS[i]!] as const))('%s, every code', (_, f) => {
    const bad = mismatches(
      Array.from({ length: 2 ** f.bits }, (_, c) => c),
      (c) => {
        const want = floatDecode(f, c);
        const got = decode(f, c);
        const ok =
          want.kind === 'nan'
            ? Number.isNaN(got)
            : want.kind === 'inf'
              ? got === (want.neg ? -Infinity : Infinity)
              : Object.is(got, want.neg ? -toDouble(want.v) : toDouble(want.v));
        return ok ? undefined : `${f.name} decode(${hex(c)}) = ${got}`;
      },
    );
    expect(bad).toEqual([]);
  });
});

describe('float encode (nearest) equals the oracle', () => {
  it.each(SPECS.map((s, i) => [s, FLOATS[i]!] as const))('%s: values, midpoints, neighbours, powers of two, specials', (_, f) => {
    expect(checkEncode(f, inputsFor(f))).toEqual([]);
  });

  it('a NaN float32 keeps its sign where the format has NaN; formats without NaN give +-max', () => {
    for (const f of FLOATS) {
      const pos = encodeF32Bits(f, 0x7fc00001);
      const negative = encodeF32Bits(f, 0xffc00001);
      expect(negative).toBe(pos + 2 ** (f.bits - 1));
      expect(pos).toBe(floatEncode(f, NaN));
    }
  });
});

describe('fp32 equals Math.fround (IEEE binary32, nearest even)', () => {
  const fp32 = parseFormat('fp32');
  it('encode of doubles around every float32 binade, midpoints and random doubles', () => {
    const xs: number[] = specialInputs().filter((x) => !Number.isNaN(x));
    for (let k = -150; k <= 128; k++) {
      for (const m of [1, 1 + 2 ** -24, 1 + 2 ** -23, 1 + 3 * 2 ** -24, 2 - 2 ** -24, 1.5, 1 + 2 ** -25]) xs.push(...withNeighbours(m * 2 ** k));
    }
    const rand = lcg(32);
    for (let i = 0; i < 20000; i++) {
      const hi = rand.next().value;
      xs.push(new Float64Array(new Uint32Array([rand.next().value, hi]).buffer)[0]!);
    }
    const bad = mismatches(xs, (x) => {
      const want = Number.isNaN(x) ? 0x7fc00000 : f32Bits(Math.fround(x));
      const got = encode(fp32, x);
      return got === want ? undefined : `fp32 encode(${x}) = ${hex(got)}, Math.fround gives ${hex(want)}`;
    });
    expect(bad).toEqual([]);
  });
  it('decode and encodeF32Bits round-trip every sampled float32 pattern', () => {
    const rand = lcg(7);
    const codes = [0, 0x80000000, 1, 0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0x807fffff];
    for (let i = 0; i < 20000; i++) codes.push(rand.next().value);
    const bad = mismatches(codes, (c) => {
      const v = decode(fp32, c);
      const want = f32FromBits(c);
      if (Number.isNaN(want)) return Number.isNaN(v) ? undefined : `decode(${hex(c)}) = ${v}`;
      if (!Object.is(v, want)) return `decode(${hex(c)}) = ${v}, expected ${want}`;
      return encodeF32Bits(fp32, c) === c ? undefined : `encodeF32Bits(${hex(c)}) = ${hex(encodeF32Bits(fp32, c))}`;
    });
    expect(bad).toEqual([]);
  });
});

describe('exponent bias t', () => {
  const fmts = ['e4m3', 'e5m2q', 'fp16', 'float(e=4,m=3,subnormals=0,inf=0,nan=0,sat=1)'].map((s) => parseFormat(s) as Float);
  it('encode(x, t) equals the oracle on x * 2^t', () => {
    for (const f of fmts) {
      const pts = interestingPoints(f);
      const base = pts.filter((_, i) => i % Math.ceil(pts.length / 120) === 0).flatMap(withNeighbours);
      for (const t of [-256, -20, -3, 1, 4, 256]) {
        const xs = [...base, ...base.map((x) => -x)].map((x) => x * 2 ** -t);
        xs.push(2 ** 1023, 2 ** -1074, -(2 ** -1074), Infinity, -Infinity, NaN, 0, -0);
        const bad = mismatches(xs, (x) => {
          const want = floatEncode(f, Number.isFinite(x) && x !== 0 ? scale(fromDouble(x), t) : x);
          const got = encode(f, x, { bias: t });
          return got === want ? undefined : `${f.name} t=${t} encode(${x}) = ${hex(got)}, oracle ${hex(want)}`;
        });
        expect(bad).toEqual([]);
      }
    }
  });
  it('decode(c, t) is the exact value times 2^-t', () => {
    for (const f of fmts) {
      for (const t of [-256, -3, 5, 256]) {
        for (let c = 0; c < 2 ** f.bits; c += f.bits > 8 ? 61 : 1) {
          const want = floatDecode(f, c);
          const got = decode(f, c, t);
          if (want.kind !== 'finite') expect(Object.is(got, want.kind === 'nan' ? NaN : want.neg ? -Infinity : Infinity)).toBe(true);
          else expect(Object.is(got, (want.neg ? -1 : 1) * toDouble(scale(want.v, -t)))).toBe(true);
        }
      }
    }
  });
});
