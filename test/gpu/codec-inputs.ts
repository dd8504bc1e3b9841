// Encode inputs for the WGSL-vs-reference codec tests: every value of a format, the midpoints between
// neighbours (arithmetic, and for posits the bit-string ones: the (n+1)-bit posit 2u+1), each with its
// float32 neighbours and both signs; float32 specials, powers of two, subnormals and random patterns.

import { decode } from '../../formats/codec.ts';
import { parseFormat, type Format } from '../../formats/descriptor.ts';
import { floatLayout } from '../../formats/minifloat.ts';

const f32 = new Float32Array(1);
const u32v = new Uint32Array(f32.buffer);

/** float32 bits of Math.fround(x). */
export function f32Bits(x: number): number {
  f32[0] = x;
  return u32v[0]!;
}

/** Deterministic pseudo-random u32s (xorshift32). */
export function randomU32(count: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s;
  }
  return out;
}

/** ±0, ±inf, NaN patterns, every power of two 2^-149..2^127 with both signs, float32 subnormals,
 *  the largest finite float32 and the normal/subnormal boundary. */
export function specialInputs(): number[] {
  const out = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0xffffffff];
  for (let k = -149; k <= 127; k++) {
    const b = f32Bits(2 ** k);
    out.push(b, (b | 0x80000000) >>> 0, b + 1, (b - 1) >>> 0);
  }
  for (const b of [1, 2, 3, 0x7fffff, 0x7ffffe, 0x400000, 0x400001, 0x3fffff, 0x123456, 0x800000, 0x800001, 0x7f7fffff, 0x7f7ffffe]) {
    out.push(b, (b | 0x80000000) >>> 0);
  }
  return out;
}

/** x, its float32 neighbours and their negatives (x: a positive float32 bit pattern). */
function around(out: Set<number>, bits: number): void {
  for (const b of [bits - 1, bits, bits + 1]) {
    if (b < 0 || b >= 0x7f800000) continue;
    out.add(b);
    out.add((b | 0x80000000) >>> 0);
  }
}

/** A positive finite value as a float32 pattern (rounded if inexact); undefined outside the range. */
function asF32(v: number): number | undefined {
  if (!(v > 0)) return undefined;
  const b = f32Bits(v);
  return b >= 0x7f800000 ? undefined : b;
}

/** Codes to walk: all positive finite ones when few, else a deterministic sample (with neighbours). */
function positiveCodes(maxCode: number, sample: number, seed: number): number[] {
  if (maxCode <= 2 * sample) return Array.from({ length: maxCode + 1 }, (_, i) => i);
  const r = randomU32(sample, seed);
  return Array.from(r, (x) => x % (maxCode + 1));
}

/** Values and midpoints of a format's positive grid, with float32 neighbours and both signs. */
export function gridInputs(f: Format, sample = 20000): number[] {
  const out = new Set<number>();
  const add = (v: number) => {
    const b = asF32(v);
    if (b !== undefined) around(out, b);
  };
  if (f.family === 'posit') {
    const maxCode = 2 ** (f.n - 1) - 1;
    // The bit-string boundary of codes u, u+1 is the (n+1)-bit posit 2u+1 (n + 1 <= 32 only).
    const wider = f.n < 32 ? parseFormat(`p${f.n + 1}e${f.es}`) : undefined;
    for (const u of positiveCodes(maxCode, sample, 11)) {
      const lo = decode(f, u);
      add(lo);
      if (u === maxCode) continue;
      add((lo + decode(f, u + 1)) / 2);
      if (wider) add(decode(wider, 2 * u + 1));
    }
  } else if (f.family === 'float') {
    const { maxCode } = floatLayout(f);
    for (const u of positiveCodes(maxCode, sample, 12)) {
      const lo = decode(f, u);
      add(lo);
      // The top code's upper neighbour is the next point of the grid extended upward (overflow ties).
      const hi = u < maxCode ? decode(f, u + 1) : f.m > 0 ? 2 * lo - decode(f, u - 1) : 2 * lo;
      add((lo + hi) / 2);
    }
  } else {
    const maxCode = 2 ** (f.wl - 1) - 1;
    for (const u of positiveCodes(maxCode, sample, 13)) {
      add(decode(f, u));
      add(decode(f, u) + 2 ** -(f.fl + 1)); // midpoint to the next integer step
    }
    add(2 ** (f.wl - 1 - f.fl)); // just past the top, and the most negative value's magnitude
    add(2 ** (f.wl - 1 - f.fl) + 2 ** -(f.fl + 1));
  }
  return [...out];
}

/** Everything for one format: grid inputs, specials, `randoms` random patterns. */
export function encodeInputs(f: Format, randoms: number, seed = 7): Uint32Array {
  const all = new Set<number>([...gridInputs(f), ...specialInputs()]);
  for (const b of randomU32(randoms, seed)) all.add(b);
  return Uint32Array.from(all);
}
