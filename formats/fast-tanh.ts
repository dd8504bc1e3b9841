// The fast posit tanh of the paper (docs/method.md section 4), exactly as this project defines it. This
// is the TypeScript reference; shaders/fast-tanh.ts generates the WGSL that must match it bit for bit.
//
// The bit trick needs es = 0. In p16e0, every value in [0, 1] is a multiple of 2^-14 and its code,
// read as an unsigned integer, is exactly value * 2^14 (regime -k takes k+1 bits, leaving 14-k
// fraction bits of weight 2^-k each: the ulp is 2^-14 in every binade below 1). Negation is two's
// complement. So on [-1, 1] a p16e0 code read as a signed 16-bit integer T is the fixed-point number
// T / 2^14, and the whole tanh can stay in the P(16,0) container with integer arithmetic:
//
//   1. P = p16e0 code of 2x, x an f32: the shared codec's nearest-even encoder with exponent bias
//      t = 1 (encode(x * 2^1), an exponent add, exact, no float multiply; docs/number-formats.md).
//      So 2x is rounded to the nearest p16e0 on the bit string, ties to the even code, and saturates:
//      |2x| above maxpos (2^14) gives +-maxpos, 0 < |2x| < minpos gives +-minpos, +-0 gives 0, NaN
//      gives NaR. One rule of this function's own: +-inf gives +-maxpos (the codec gives NaR), so
//      tanh(+-inf) is +-1 like the limit, not NaN.
//   2. S = ((P XOR 0x8000) >>> 2) on 16 bits: the sigmoid of 2x, a code in [0, 0x3FFF], i.e. the
//      value S / 2^14 in [0, 1). The two zero bits shifted in are kept (the result is read as a full
//      16-bit p16e0 code); the two low bits shifted out are lost (a truncation, see "Symmetry").
//   3. T = 2S - 0x4000 (= code of 2s - 1): an exact p16e0 code in [-0x4000, 0x3FFE], value T / 2^14.
//   4. Correction (optional): R = T / 2^14; if R > THETA then min(R + DELTA, 1); if R < -THETA then
//      max(R - DELTA, -1). DELTA is rounded to the p16e0 grid (1113 / 2^14 = 0.0679321..., nearest to
//      the paper's 0.06795), so R +- DELTA lands on the grid exactly and no second rounding happens.
//      The comparison with THETA = 0.7583 is exact (T >= 12424 <=> T / 2^14 > 0.7583).
//   5. The result is the p16e0 code T (16-bit two's complement); its value T / 2^14 is exact in f32.
//   NaN input: NaR in, NaR out (the bit trick alone would turn NaR into sigmoid 0, i.e. tanh -1).
//
// Symmetry: tanh(-x) = -tanh(x) - 2^-13 whenever the low two bits of P are not 00 (step 2 floors
// toward -inf for both signs), so the function is odd only up to one p16e0 ulp of 2 s, except where
// the correction threshold falls between T(x) and -T(-x); test/formats/fast-tanh.test.ts measures it.

import { encode } from './codec.ts';
import { parseFormat } from './descriptor.ts';

/** The paper's correction constants (docs/method.md section 4, from the authors' code). */
export const FAST_TANH_DELTA = 0.06795;
export const FAST_TANH_THETA = 0.7583;

/** p16e0 codes: NaR, maxpos (2^14), and the code of 1.0 (= 2^14, see above). */
export const P16E0_NAR = 0x8000;
export const P16E0_MAXPOS = 0x7fff;
export const P16E0_ONE = 0x4000;

/** DELTA on the p16e0 grid below 1, in units of 2^-14: round(0.06795 * 2^14) = 1113. */
export const FAST_TANH_DELTA_UNITS = Math.round(FAST_TANH_DELTA * P16E0_ONE);
/** The smallest T with T / 2^14 > THETA: ceil-above(0.7583 * 2^14) = 12424. */
export const FAST_TANH_THETA_UNITS = Math.floor(FAST_TANH_THETA * P16E0_ONE) + 1;

const P16E0 = parseFormat('p16e0');

/** Step 1: the p16e0 code of 2x for the f32 value x (x is rounded to f32 first). */
export function fastTanhInputCode(x: number): number {
  if (x === Infinity) return P16E0_MAXPOS;
  if (x === -Infinity) return 0x10000 - P16E0_MAXPOS;
  return encode(P16E0, Math.fround(x), { bias: 1 });
}

/** The posit sigmoid bit trick on a p16e0 code (step 2): NaR is not special-cased here. */
export function positSigmoidP16e0(code: number): number {
  return ((code ^ 0x8000) & 0xffff) >>> 2;
}

/** Fast tanh of the f32 value x as a p16e0 code (steps 1-5). */
export function fastTanhCode(x: number, corrected: boolean): number {
  const p = fastTanhInputCode(x);
  if (p === P16E0_NAR) return P16E0_NAR;
  let t = 2 * positSigmoidP16e0(p) - P16E0_ONE;
  if (corrected) {
    if (t >= FAST_TANH_THETA_UNITS) t = Math.min(t + FAST_TANH_DELTA_UNITS, P16E0_ONE);
    else if (t <= -FAST_TANH_THETA_UNITS) t = Math.max(t - FAST_TANH_DELTA_UNITS, -P16E0_ONE);
  }
  return t & 0xffff;
}

/** The value of a p16e0 code in [-1, 1] (what fastTanhCode returns), or NaN for NaR. Uses the
 *  fixed-point reading of such codes (see the top of this file). */
export function fastTanhValue(code: number): number {
  if (code === P16E0_NAR) return NaN;
  const t = (code << 16) >> 16;
  if (t < -P16E0_ONE || t > P16E0_ONE) throw new Error(`p16e0 code 0x${code.toString(16)} is outside [-1, 1]`);
  return t / P16E0_ONE;
}

/** Fast tanh of x (rounded to f32 first), as a number; exact in f32. */
export function fastTanh(x: number, corrected = true): number {
  return fastTanhValue(fastTanhCode(x, corrected));
}
