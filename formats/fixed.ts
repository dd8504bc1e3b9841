// Reference codec for fixed point, fixed(wl, fl, sat, ties) (docs/number-formats.md): the code is a
// wl-bit two's complement integer q with value q * 2^-fl.

import type { FixedFormat, Rounding } from './descriptor.ts';
import { type Decomposed, ldexp, pow2, roundsUp, splitAt, stochasticCompare } from './dyadic.ts';

const TWO32 = 2 ** 32;

export function decodeFixed(f: FixedFormat, code: number): number {
  const q = code >= pow2(f.wl - 1) ? code - pow2(f.wl) : code;
  return ldexp(q, -f.fl);
}

/** Encodes x (bias already applied). `r` is the element's u32 random number (stochastic only). */
export function encodeFixed(f: FixedFormat, x: Decomposed, rounding: Rounding, r: number): number {
  const lo = -pow2(f.wl - 1);
  const hi = pow2(f.wl - 1) - 1;
  switch (x.kind) {
    case 'zero':
    case 'nan':
      return 0;
    case 'inf':
      return toCode(f, x.neg ? lo : hi); // the range ends, also when wrapping
  }
  // |y| * 2^fl = m * 2^k; round it to an integer magnitude, then apply the sign.
  const k = x.e + f.fl;
  let mag: number;
  if (k >= 0) {
    mag = x.m * pow2(k); // an integer already (Infinity when astronomically large: out of range anyway)
  } else {
    const [q, rem] = splitAt(x.m, -k);
    mag = q + +(rem !== 0 && magnitudeUp(f, x.neg, q, rem, -k, rounding, r));
  }
  const z = x.neg && mag !== 0 ? -mag : mag; // no -0 code
  if (z >= lo && z <= hi) return toCode(f, z);
  if (f.saturate) return toCode(f, z < lo ? lo : hi);
  // Wrap modulo 2^wl. For k >= wl the integer is a multiple of 2^wl; else only m's low wl - k bits count.
  const low = k >= f.wl ? 0 : k >= 0 ? (x.m % pow2(f.wl - k)) * pow2(k) : mag % pow2(f.wl);
  return x.neg && low !== 0 ? pow2(f.wl) - low : low;
}

/** The wl-bit two's complement code of an in-range integer. */
function toCode(f: FixedFormat, q: number): number {
  return q < 0 ? q + pow2(f.wl) : q;
}

/** Whether the magnitude q + rem / 2^d (0 < rem < 2^d) rounds up to q + 1. Nearest is symmetric in the
 *  sign. The stochastic rule works on the signed value: L = floor(y), U = L + 1, U iff
 *  r * (U - L) < 2^32 * (y - L); for negative y, U is the smaller magnitude and y - L = (2^d - rem) units,
 *  so the magnitude goes up iff (2^32 - r) * 2^d <= 2^32 * rem. */
function magnitudeUp(f: FixedFormat, neg: boolean, q: number, rem: number, d: number, rounding: Rounding, r: number): boolean {
  if (rounding === 'stochastic' && neg) return stochasticCompare(TWO32 - r, rem, d) <= 0;
  return roundsUp(rem, d, rounding, r, f.ties === 'away' || q % 2 === 1);
}
