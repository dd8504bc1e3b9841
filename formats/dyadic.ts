// Exact building blocks for the reference codecs: every finite float64 or float32 input is split into
// sign * m * 2^e with an integer m in [2^52, 2^53), so that the exponent bias t becomes an integer add
// on e (never a float multiply that could overflow or underflow), and every rounding decision is an
// exact comparison of integers below 2^53 scaled by powers of two (exact in float64).

import type { Rounding } from './descriptor.ts';

export type Decomposed =
  | { readonly kind: 'zero' | 'inf' | 'nan'; readonly neg: boolean }
  | { readonly kind: 'finite'; readonly neg: boolean; readonly m: number; readonly e: number };

/** 2^52: the implicit bit of a normalised 53-bit significand. */
export const TWO52 = 2 ** 52;
const TWO32 = 2 ** 32;

// Exact powers of two for -1074..1023, built by doubling and halving (both exact) rather than trusting
// Math.pow on every engine.
const POW2 = new Float64Array(1074 + 1024);
{
  let p = 1;
  for (let k = 0; k <= 1023; k++, p *= 2) POW2[k + 1074] = p;
  p = 1;
  for (let k = -1; k >= -1074; k--) POW2[k + 1074] = p /= 2;
}

/** Exactly 2^k; 0 below 2^-1074 and Infinity above 2^1023. */
export function pow2(k: number): number {
  if (k < -1074) return 0;
  if (k > 1023) return Infinity;
  return POW2[k + 1074]!;
}

/** m * 2^k for an integer |m| < 2^53, with a single rounding (none when the result is representable). */
export function ldexp(m: number, k: number): number {
  if (k > 1023) return m * pow2(1023) * pow2(k - 1023);
  // Go through 2^-1022 first so that only the last multiply can enter the subnormal range and round.
  if (k < -1022) return m * pow2(-1022) * pow2(k + 1022);
  return m * pow2(k);
}

function finite(neg: boolean, m: number, e: number): Decomposed {
  // Subnormal inputs have fewer significant bits; normalise so that every caller sees m in [2^52, 2^53).
  while (m < TWO52) {
    m *= 2;
    e -= 1;
  }
  return { kind: 'finite', neg, m, e };
}

const view = new DataView(new ArrayBuffer(8));

/** Exact decomposition of a JS number. A JS NaN carries no observable sign, so it counts as positive. */
export function decomposeDouble(x: number): Decomposed {
  if (typeof x !== 'number') throw new TypeError(`expected a number, got ${typeof x}`);
  if (x !== x) return { kind: 'nan', neg: false };
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const neg = hi >>> 31 === 1;
  const field = (hi >>> 20) & 0x7ff;
  const frac = (hi & 0xfffff) * TWO32 + lo;
  if (field === 0x7ff) return { kind: 'inf', neg };
  if (field === 0) return frac === 0 ? { kind: 'zero', neg } : finite(neg, frac, -1074);
  return { kind: 'finite', neg, m: TWO52 + frac, e: field - 1075 };
}

/** Exact decomposition of an IEEE binary32 bit pattern (a u32); NaN keeps its sign bit. */
export function decomposeF32Bits(bits: number): Decomposed {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) {
    throw new RangeError(`float32 bit pattern ${bits} is not a u32 (0..0xffffffff)`);
  }
  const neg = bits >>> 31 === 1;
  const field = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (field === 0xff) return { kind: frac === 0 ? 'inf' : 'nan', neg };
  if (field === 0) return frac === 0 ? { kind: 'zero', neg } : finite(neg, frac, -149);
  return { kind: 'finite', neg, m: (0x800000 + frac) * 2 ** 29, e: field - 179 };
}

/** Splits an integer 0 <= m < 2^53 at bit d >= 1: m = q * 2^d + rem, 0 <= rem < 2^d. */
export function splitAt(m: number, d: number): [q: number, rem: number] {
  if (d >= 54) return [0, m];
  const q = Math.floor(m / pow2(d));
  return [q, m - q * pow2(d)];
}

/** Sign of r * 2^d - 2^32 * rem, exactly (both products are an integer < 2^53 times a power of two). */
export function stochasticCompare(r: number, rem: number, d: number): number {
  // Beyond d = 86 the left side (r >= 1) exceeds 2^86 > 2^32 * 2^53 > the right side anyway.
  const lhs = r * pow2(Math.min(d, 86));
  const rhs = rem * TWO32;
  return lhs < rhs ? -1 : lhs > rhs ? 1 : 0;
}

/**
 * For a value strictly between grid neighbours L and U = L + 2^d units, lying at L + rem units
 * (0 < rem < 2^d, rem an integer below 2^53), decides whether it rounds to U.
 * Nearest: above the midpoint, or at it when tieUp. Stochastic: U iff r * (U - L) < 2^32 * (y - L).
 */
export function roundsUp(rem: number, d: number, rounding: Rounding, r: number, tieUp: boolean): boolean {
  if (rounding === 'stochastic') return stochasticCompare(r, rem, d) < 0;
  if (d > 54) return false; // rem < 2^53 < 2^(d-1): below the midpoint
  const half = pow2(d - 1);
  return rem > half || (rem === half && tieUp);
}
