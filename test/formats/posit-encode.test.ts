// Posit encode (nearest) against the exact oracle: for every posit with n <= 8 and es <= 3 and for
// p16e1 / p16e2, every value, every bit-string midpoint (the (n+1)-bit pattern 2u+1) and arithmetic
// midpoint, their float32 and float64 neighbours, both signs, every power of two and the specials.
// Plus decode against the oracle's bit-string decode, the exponent bias t, and wide posits sampled.

import { describe, expect, it } from 'vitest';
import { encode, encodeF32Bits, decode } from '../../formats/codec.ts';
import { parseFormat, type Format, type PositFormat } from '../../formats/descriptor.ts';
import { f32Bits, hex, isF32, lcg, mismatches, specialInputs, withNeighbours } from './cases.ts';
import { add, cmp, type Dy, fromDouble, positDecode, positEncode, scale, toDouble } from './oracle.ts';

type Posit = Format & PositFormat;

const SMALL: Posit[] = [];
for (let n = 2; n <= 8; n++) for (let es = 0; es <= 3; es++) SMALL.push(parseFormat(`p${n}e${es}`) as Posit);
const P16 = ['p16e1', 'p16e2'].map((s) => parseFormat(s) as Posit);

/** Values, bit-string midpoints and arithmetic midpoints of the positive posits, plus points beyond
 *  maxpos and between 0 and minpos (saturation), as exact doubles. */
function interestingPoints(f: Posit): number[] {
  const maxCode = 2 ** (f.n - 1) - 1;
  const value = (u: number): Dy => positDecode(f.n, f.es, u) as Dy;
  const pts: number[] = [];
  for (let u = 1; u <= maxCode; u++) {
    pts.push(toDouble(value(u)));
    if (u < maxCode) {
      pts.push(toDouble(positDecode(f.n + 1, f.es, 2 * u + 1) as Dy));
      pts.push(toDouble(scale(add(value(u), value(u + 1)), -1)));
    }
  }
  const maxpos = toDouble(value(maxCode));
  pts.push(maxpos * 1.5, maxpos * 2, maxpos * 3, 1 / maxpos / 2, 1 / maxpos / 1.5, 1 / maxpos / 4);
  return pts;
}

function inputsFor(f: Posit): number[] {
  const xs = new Set<number>(specialInputs());
  for (const p of interestingPoints(f)) for (const x of withNeighbours(p)) xs.add(x).add(-x);
  return [...xs];
}

function checkEncode(f: Posit, xs: Iterable<number>): string[] {
  return mismatches(xs, (x) => {
    const got = encode(f, x);
    const want = positEncode(f, x);
    if (got !== want) return `${f.name} encode(${x}) = ${hex(got)}, oracle ${hex(want)}`;
    if (isF32(x) && encodeF32Bits(f, f32Bits(x)) !== got) return `${f.name} encodeF32Bits(${hex(f32Bits(x))}) != encode(${x})`;
    return undefined;
  });
}

function checkDecode(f: Posit): string[] {
  const codes = f.n <= 16 ? Array.from({ length: 2 ** f.n }, (_, i) => i) : [...sampleCodes(f, 4000)];
  return mismatches(codes, (c) => {
    const want = positDecode(f.n, f.es, c);
    const got = decode(f, c);
    if (want === 'NaR' ? Number.isNaN(got) : Object.is(got, toDouble(want))) return undefined;
    return `${f.name} decode(${hex(c)}) = ${got}, oracle ${want === 'NaR' ? 'NaR' : toDouble(want)}`;
  });
}

function* sampleCodes(f: Posit, count: number): Generator<number> {
  const rand = lcg(f.n * 8 + f.es);
  for (let i = 0; i < count; i++) yield rand.next().value % 2 ** f.n;
  yield* [0, 1, 2, 2 ** (f.n - 1) - 1, 2 ** (f.n - 1), 2 ** (f.n - 1) + 1, 2 ** f.n - 1];
}

describe('posit decode equals the bit-string definition', () => {
  it.each([...SMALL, ...P16].map((f) => [f.name, f] as const))('%s, every code', (_, f) => {
    expect(checkDecode(f)).toEqual([]);
  });
});

describe('posit encode (nearest) equals the oracle', () => {
  it('every posit with n <= 8, es <= 3: values, midpoints, neighbours, powers of two, specials', () => {
    for (const f of SMALL) expect(checkEncode(f, inputsFor(f))).toEqual([]);
  });
  it.each(P16.map((f) => [f.name, f] as const))('%s: every value, midpoint and neighbour', (_, f) => {
    expect(checkEncode(f, inputsFor(f))).toEqual([]);
  });
});

describe('wide posits (sampled)', () => {
  const WIDE = ['p20e0', 'p24e3', 'p32e2', 'p32e4', 'p31e1'].map((s) => parseFormat(s) as Posit);
  it.each(WIDE.map((f) => [f.name, f] as const))('%s: decode and encode of sampled codes and midpoints', (_, f) => {
    expect(checkDecode(f)).toEqual([]);
    const xs: number[] = [];
    for (const c of sampleCodes(f, 250)) {
      const u = c % 2 ** (f.n - 1);
      if (u === 0 || u === 2 ** (f.n - 1) - 1) continue;
      const v = positDecode(f.n, f.es, u) as Dy;
      const next = positDecode(f.n, f.es, u + 1) as Dy;
      for (const p of [v, positDecode(f.n + 1, f.es, 2 * u + 1) as Dy, scale(add(v, next), -1)]) {
        xs.push(...withNeighbours(toDouble(p)).flatMap((x) => [x, -x]));
      }
    }
    const rand = lcg(f.n);
    for (let i = 0; i < 1000; i++) {
      const hi = rand.next().value;
      xs.push(new Float64Array(new Uint32Array([rand.next().value, hi]).buffer)[0]!);
    }
    expect(checkEncode(f, xs)).toEqual([]);
  });
});

describe('exponent bias t', () => {
  const fmts = ['p8e2', 'p16e1', 'p6e1', 'p3e3'].map((s) => parseFormat(s) as Posit);
  const ts = [-256, -37, -1, 3, 5, 256];
  it('encode(x, t) equals the oracle on x * 2^t, including products beyond the float64 range', () => {
    for (const f of fmts) {
      const pts = interestingPoints(f);
      const base = pts.filter((_, i) => i % Math.ceil(pts.length / 150) === 0).flatMap(withNeighbours);
      for (const t of ts) {
        const xs = [...base, ...base.map((x) => -x)].map((x) => x * 2 ** -t);
        xs.push(2 ** 1023, 2 ** -1074, -(2 ** -1074), 1.5 * 2 ** 1000, Infinity, NaN, 0);
        const bad = mismatches(xs, (x) => {
          const want = positEncode(f, Number.isFinite(x) ? scale(fromDouble(x), t) : x);
          const got = encode(f, x, { bias: t });
          return got === want ? undefined : `${f.name} t=${t} encode(${x}) = ${hex(got)}, oracle ${hex(want)}`;
        });
        expect(bad).toEqual([]);
      }
    }
  });
  it('decode(c, t) is the exact value times 2^-t', () => {
    for (const f of fmts) {
      for (const t of ts) {
        for (let c = 0; c < 2 ** f.n; c += f.n > 8 ? 97 : 1) {
          const want = positDecode(f.n, f.es, c);
          const got = decode(f, c, t);
          if (want === 'NaR') expect(got).toBeNaN();
          else expect(cmp(fromDouble(got), scale(want, -t))).toBe(0);
        }
      }
    }
  });
});
