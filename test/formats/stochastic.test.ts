// Stochastic rounding: the exact rule (U iff r * (U - L) < 2^32 * (y - L)) against the oracle at the
// threshold r for every format family, including the posit case where exponent bits are cut off and
// QPyTorch's underflow; frequencies within a stated statistical bound; determinism by (seed, counter).

import { describe, expect, it } from 'vitest';
import { decode, decodeArray, encode, encodeArray, encodeSeeded, quantize } from '../../formats/codec.ts';
import { parseFormat, type Format } from '../../formats/descriptor.ts';
import { random } from '../../formats/rng.ts';
import { hex, lcg, mismatches } from './cases.ts';
import {
  abs,
  type Dy,
  dy,
  fixedEncode,
  floatEncode,
  floatMagnitudes,
  floatNeighbours,
  cmp,
  pow2,
  floorInt,
  fromDouble,
  positEncode,
  positNeighbours,
  type Rounder,
  scale,
  sub,
} from './oracle.ts';

/** The oracle's code for x with the stochastic rule and random number r. */
function oracle(f: Format, x: number, r: number): number {
  const o: Rounder = { rounding: 'stochastic', r };
  return f.family === 'posit' ? positEncode(f, x, o) : f.family === 'float' ? floatEncode(f, x, o) : fixedEncode(f, x, o);
}

/** The neighbours L <= v < U the rule chooses between, on the scale the rule applies to: |x| for
 *  posits and floats, x * 2^fl (signed) for fixed point. Undefined outside the range where L and U
 *  are distinct codes (saturation, overflow, QPyTorch's underflow clipping). */
function neighbours(f: Format, x: number): [Dy, Dy, Dy] | undefined {
  if (f.family === 'fixed') {
    const z = scale(fromDouble(x), f.fl);
    const lo = floorInt(z);
    const inRange = lo >= -(2n ** BigInt(f.wl - 1)) && lo + 1n < 2n ** BigInt(f.wl - 1);
    return inRange ? [z, dy(lo), dy(lo + 1n)] : undefined;
  }
  const y = abs(fromDouble(x));
  if (f.family === 'posit') {
    const max = (f.n - 2) * 2 ** f.es;
    if (cmp(y, pow2(max)) >= 0 || cmp(y, pow2(-max)) <= 0) return undefined;
    return [y, ...positNeighbours(f, y)];
  }
  const mags = floatMagnitudes(f);
  if (cmp(y, mags[mags.length - 1]!) >= 0) return undefined;
  if (f.underflow === 'qtorch' && cmp(y, pow2(1 - f.bias)) < 0) return undefined;
  return [y, ...floatNeighbours(f, y)];
}

/** The smallest r that picks L: U iff r < T = ceil(2^32 (v - L) / (U - L)). */
function threshold([v, lo, hi]: [Dy, Dy, Dy]): number {
  const a = scale(sub(v, lo), 32);
  const b = sub(hi, lo);
  const e = Math.min(a.e, b.e);
  const [A, B] = [a.n << BigInt(a.e - e), b.n << BigInt(b.e - e)];
  return Number((A + B - 1n) / B);
}

const FORMATS = [
  'p8e2',
  'p3e3',
  'p6e1',
  'p16e1',
  'p32e4',
  'e4m3',
  'e5m2',
  'fp16',
  'e4m3q',
  'e5m2q',
  'e2m1',
  'float(e=4,m=3,subnormals=0,inf=0,nan=0,sat=1)',
  'fixed(wl=8,fl=4)',
  'fixed(wl=8,fl=4,sat=0)',
  'fixed(wl=16,fl=-2,ties=away)',
];

describe('stochastic rounding follows the exact rule', () => {
  it.each(FORMATS)('%s: random inputs, r at and beside the threshold, r = 0 and 2^32 - 1', (spec) => {
    const f = parseFormat(spec);
    const rand = lcg(spec.length * 7919);
    const xs: number[] = [];
    for (let i = 0; i < 400; i++) {
      // Magnitudes spread over the format's range (and beyond), random mantissas, both signs.
      const span = f.family === 'posit' ? (f.n - 2) * 2 ** f.es + 2 : f.family === 'float' ? 2 ** f.e + 4 : f.bits + 3;
      const k = (rand.next().value % (2 * span)) - span - (f.family === 'fixed' ? f.fl : 0);
      const x = (1 + rand.next().value / 2 ** 32) * 2 ** k * (i % 2 ? -1 : 1);
      xs.push(x);
    }
    const bad = mismatches(xs, (x) => {
      const rs = [0, 1, 2 ** 31, 2 ** 32 - 1, rand.next().value];
      const nb = neighbours(f, x);
      const t = nb && threshold(nb);
      if (t !== undefined && t > 0 && t < 2 ** 32) rs.push(t - 1, t);
      for (const r of rs) {
        const got = encode(f, x, { rounding: 'stochastic', random: r });
        const want = oracle(f, x, r);
        if (got !== want) return `${f.name} x=${x} r=${r}: ${hex(got)}, oracle ${hex(want)}`;
      }
      if (t !== undefined && t > 0 && t < 2 ** 32) {
        const [up, down] = [t - 1, t].map((r) => encode(f, x, { rounding: 'stochastic', random: r }));
        if (up === down) return `${f.name} x=${x}: r = T-1 and r = T (T=${t}) give the same code ${hex(up!)}`;
      }
      return undefined;
    });
    expect(bad).toEqual([]);
  });

  it('values on the grid never move, whatever r', () => {
    for (const spec of ['p8e2', 'p6e1', 'e4m3', 'e5m2q', 'fixed(wl=8,fl=4)']) {
      const f = parseFormat(spec);
      for (let c = 0; c < 2 ** f.bits; c++) {
        const v = decode(f, c);
        if (!Number.isFinite(v)) continue;
        for (const r of [0, 2 ** 32 - 1]) expect(quantize(f, v, { rounding: 'stochastic', random: r })).toBe(v);
      }
    }
  });
});

/** Draws N stochastic roundings of x with random(seed, i) and checks that only the two neighbours
 *  appear and that the frequency of U is p = (y - L) / (U - L) within 5 standard deviations of the
 *  binomial, sqrt(p (1 - p) / N), plus the rule's 2^-32 resolution. */
function checkFrequency(spec: string, x: number, lo: number, hi: number, seed = 12345, N = 40000): void {
  const f = parseFormat(spec);
  const codes = encodeArray(f, new Float64Array(N).fill(x), { rounding: 'stochastic', seed });
  const values = decodeArray(f, codes);
  let ups = 0;
  for (const v of values) {
    if (v !== lo && v !== hi) throw new Error(`${spec}: stochastic rounding of ${x} gave ${v}, not ${lo} or ${hi}`);
    if (v === hi) ups++;
  }
  const p = (Math.abs(x) - Math.abs(lo)) / (Math.abs(hi) - Math.abs(lo));
  const bound = 5 * Math.sqrt((p * (1 - p)) / N) + 2 ** -32;
  expect(Math.abs(ups / N - p)).toBeLessThanOrEqual(bound);
}

describe('stochastic rounding is unbiased (5 sigma of the binomial)', () => {
  it('posit where exponent bits are cut off: p8e2 between 2^20 and 2^24 (p = 0.2, 0.5, 0.9)', () => {
    for (const x of [2 ** 22, 2 ** 20 + 0.5 * (2 ** 24 - 2 ** 20), 2 ** 20 + 0.9 * (2 ** 24 - 2 ** 20)]) checkFrequency('p8e2', x, 2 ** 20, 2 ** 24);
    checkFrequency('p8e2', -(2 ** 22), -(2 ** 20), -(2 ** 24));
  });
  it('posit with fraction bits: p16e1 at 1 + 0.3 ulp', () => {
    checkFrequency('p16e1', 1 + 0.3 * 2 ** -12, 1, 1 + 2 ** -12);
  });
  it('float: e4m3 between 1.125 and 1.25, and a subnormal', () => {
    checkFrequency('e4m3', 1.2, 1.125, 1.25);
    checkFrequency('e4m3', -0.7 * 2 ** -9, -0, -(2 ** -9));
  });
  it("QPyTorch's underflow: e4m3q in its lowest binade gives 0 or 2^-7 with the probability of y' > 2^-8", () => {
    // y = 2^-8 (1 + 0.3/8): y' is 2^-8 (-> 0) or 2^-8 * 9/8 (-> clipped up to min normal 2^-7), p = 0.3.
    const x = 2 ** -8 * (1 + 0.3 / 8);
    const f = parseFormat('e4m3q');
    const N = 40000;
    const values = decodeArray(f, encodeArray(f, new Float64Array(N).fill(x), { rounding: 'stochastic', seed: 9 }));
    const ups = values.filter((v) => v === 2 ** -7).length;
    expect(values.every((v) => v === 0 || v === 2 ** -7)).toBe(true);
    expect(Math.abs(ups / N - 0.3)).toBeLessThanOrEqual(5 * Math.sqrt((0.3 * 0.7) / N) + 2 ** -32);
  });
  it('fixed point: negative values use the signed floor and ceiling', () => {
    checkFrequency('fixed(wl=8,fl=4)', -0.3 / 16, -1 / 16, 0);
  });
});

describe('determinism: the result depends only on (seed, counter)', () => {
  const f = parseFormat('p8e2');
  const xs = Float64Array.from({ length: 2000 }, (_, i) => 1 + ((i % 7) + 0.5) / 32);
  it('same seed, same codes; another seed, other codes', () => {
    const a = encodeArray(f, xs, { rounding: 'stochastic', seed: 1 });
    expect(encodeArray(f, xs, { rounding: 'stochastic', seed: 1 })).toEqual(a);
    expect(encodeArray(f, xs, { rounding: 'stochastic', seed: 2 })).not.toEqual(a);
  });
  it('element i uses random(seed, counterOffset + i), as encodeSeeded does', () => {
    const a = encodeArray(f, xs, { rounding: 'stochastic', seed: 77, counterOffset: 2 ** 32 - 5 });
    const bad = mismatches(xs.keys(), (i) => {
      const counter = (2 ** 32 - 5 + i) % 2 ** 32;
      const want = encode(f, xs[i]!, { rounding: 'stochastic', random: random(77, counter) });
      return a[i] === want && encodeSeeded(f, xs[i]!, 77, counter) === want ? undefined : `element ${i}`;
    });
    expect(bad).toEqual([]);
  });
});
