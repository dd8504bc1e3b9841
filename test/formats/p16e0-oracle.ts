// Test helpers for the fast posit tanh: an independent p16e0 decoder, a brute-force nearest-even
// encoder built on it, and the inputs that sit on every rounding boundary of the tanh's encoder.

import { P16E0_NAR } from '../../formats/fast-tanh.ts';

/** Independent p16e0 decoder, written from the posit layout (bit string parsing). */
export function decodeP16e0(code: number): number {
  if (code === 0) return 0;
  if (code === 0x8000) return NaN;
  const neg = (code & 0x8000) !== 0;
  const body = neg ? (0x10000 - code) & 0xffff : code;
  const bits = body.toString(2).padStart(16, '0').slice(1); // the 15 bits after the sign
  const first = bits[0]!;
  let k = 0;
  while (k < bits.length && bits[k] === first) k++;
  const r = first === '1' ? k - 1 : -k;
  const frac = bits.slice(k + 1);
  const f = frac.length === 0 ? 0 : parseInt(frac, 2) / 2 ** frac.length;
  const v = 2 ** r * (1 + f);
  return neg ? -v : v;
}

/** Positive p16e0 values by code 1..0x7fff (increasing). */
export const POSITIVE = Array.from({ length: 0x7fff }, (_, i) => decodeP16e0(i + 1));

/** Oracle: nearest p16e0 code of y (a double), ties to the even code, saturating (inf included),
 *  NaN -> NaR. */
export function oracleEncode(y: number): number {
  if (Number.isNaN(y)) return P16E0_NAR;
  if (y === 0) return 0;
  const a = Math.abs(y);
  let code: number;
  if (a >= POSITIVE[0x7ffe]!) code = 0x7fff;
  else if (a <= POSITIVE[0]!) code = 1;
  else {
    let lo = 0; // binary search: POSITIVE[lo] <= a < POSITIVE[lo + 1]
    let hi = 0x7ffe;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (POSITIVE[mid]! <= a) lo = mid;
      else hi = mid;
    }
    const dLo = a - POSITIVE[lo]!;
    const dHi = POSITIVE[hi]! - a;
    // For es = 0 the bit-string midpoint is the arithmetic mean (no exponent bits get cut off).
    code = dLo < dHi ? lo + 1 : dHi < dLo ? hi + 1 : (lo + 1) % 2 === 0 ? lo + 1 : hi + 1;
  }
  return y < 0 ? (0x10000 - code) & 0xffff : code;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The f32 next to x (x an f32) in direction dir. */
export function nextF32(x: number, dir: 1 | -1): number {
  f32[0] = x;
  if (x === 0) u32[0] = dir > 0 ? 1 : 0x80000001;
  else u32[0] = u32[0]! + ((x > 0) === (dir > 0) ? 1 : -1);
  return f32[0]!;
}

/** The f32 whose bit pattern is `bits`. */
export function f32FromBits(bits: number): number {
  u32[0] = bits;
  return f32[0]!;
}

/** Inputs x whose 2x sits on every p16e0 rounding boundary, their f32 neighbours, both signs. */
export function boundaryInputs(): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < POSITIVE.length; i++) {
    const x = (POSITIVE[i]! + POSITIVE[i + 1]!) / 4; // exact in f32: at most 15 significant bits
    for (const v of [x, nextF32(x, 1), nextF32(x, -1)]) out.push(v, -v);
  }
  return out;
}

/** A small deterministic generator of 32-bit words (LCG), for random f32 bit patterns. */
export function lcgWords(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s;
  }
  return out;
}
