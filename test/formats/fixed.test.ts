// Fixed point against the oracle: decode of every code, encode (nearest) of every value, every
// midpoint, their float32/float64 neighbours, out-of-range values (saturate and wrap), specials, bias.

import { describe, expect, it } from 'vitest';
import { decode, encode, encodeF32Bits } from '../../formats/codec.ts';
import { parseFormat, type FixedFormat, type Format } from '../../formats/descriptor.ts';
import { f32Bits, hex, isF32, mismatches, specialInputs, withNeighbours } from './cases.ts';
import { fixedDecode, fixedEncode, fromDouble, scale, toDouble } from './oracle.ts';

type Fixed = Format & FixedFormat;

const SPECS = ['fixed(wl=8,fl=4)', 'fixed(wl=8,fl=4,sat=0)', 'fixed(wl=6,fl=0,ties=away)', 'fixed(wl=12,fl=-3,sat=0,ties=away)', 'fixed(wl=16,fl=20)', 'fixed(wl=32,fl=16)', 'fixed(wl=32,fl=-40,sat=0)'];
const FIXED = SPECS.map((s) => parseFormat(s) as Fixed);

function inputsFor(f: Fixed): number[] {
  const xs = new Set<number>(specialInputs());
  const step = f.wl > 12 ? 2 ** (f.wl - 12) + 1 : 1; // wide formats: a strided sample of the codes
  const ulp = 2 ** -f.fl;
  const points: number[] = [];
  for (let q = -(2 ** (f.wl - 1)) - 3 * step; q <= 2 ** (f.wl - 1) + 3 * step; q += step) points.push(q * ulp, (q + 0.5) * ulp);
  for (const k of [1, 2, 3, 5, 40]) points.push(2 ** (f.wl + k) * ulp, -(2 ** (f.wl + k)) * ulp, 2 ** (f.wl + k) * ulp * 1.5);
  for (const p of points) for (const x of withNeighbours(p)) xs.add(x).add(-x);
  return [...xs];
}

describe('fixed point equals the oracle', () => {
  it.each(SPECS.map((s, i) => [s, FIXED[i]!] as const))('%s', (_, f) => {
    const codes = f.wl <= 16 ? Array.from({ length: 2 ** f.wl }, (_, c) => c) : [0, 1, 2 ** 31, 2 ** 32 - 1, 12345, 2 ** 31 - 1];
    expect(mismatches(codes, (c) => (Object.is(decode(f, c), toDouble(fixedDecode(f, c))) ? undefined : `decode(${hex(c)}) = ${decode(f, c)}`))).toEqual([]);
    const bad = mismatches(inputsFor(f), (x) => {
      const got = encode(f, x);
      const want = fixedEncode(f, x);
      if (got !== want) return `${f.name} encode(${x}) = ${hex(got)}, oracle ${hex(want)}`;
      if (isF32(x) && encodeF32Bits(f, f32Bits(x)) !== got) return `${f.name} encodeF32Bits(${hex(f32Bits(x))}) != encode(${x})`;
      return undefined;
    });
    expect(bad).toEqual([]);
  });

  it('exponent bias t', () => {
    for (const f of FIXED.slice(0, 4)) {
      for (const t of [-256, -3, 2, 256]) {
        const xs = inputsFor(f).filter((_, i) => i % 5 === 0).map((x) => x * 2 ** -t);
        const bad = mismatches(xs, (x) => {
          const want = fixedEncode(f, Number.isFinite(x) && x !== 0 ? scale(fromDouble(x), t) : x);
          const got = encode(f, x, { bias: t });
          return got === want ? undefined : `${f.name} t=${t} encode(${x}) = ${hex(got)}, oracle ${hex(want)}`;
        });
        expect(bad).toEqual([]);
        expect(decode(f, 1, t)).toBe(2 ** (-f.fl - t));
      }
    }
  });

  it('-0 and NaN give 0; infinities give the range ends, also when wrapping', () => {
    const f = parseFormat('fixed(wl=8,fl=4,sat=0)');
    expect([encode(f, -0), encode(f, NaN), encode(f, Infinity), encode(f, -Infinity)]).toEqual([0, 0, 0x7f, 0x80]);
  });
});
