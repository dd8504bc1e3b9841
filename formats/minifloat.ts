// Reference codec for the float family, float(e, m, bias, subnormals, inf, nan, sat, ties, underflow)
// (docs/number-formats.md), exact on float64 inputs. A code is sign | E (e bits) | M (m bits).

import type { FloatFormat, Rounding } from './descriptor.ts';
import { type Decomposed, ldexp, pow2, roundsUp, splitAt } from './dyadic.ts';

/** Where a format's special and extreme patterns are (magnitude codes, i.e. without the sign bit). */
export interface FloatLayout {
  /** The sign bit, 2^(e + m). */
  readonly signBit: number;
  /** The all-ones exponent field, 2^e - 1. */
  readonly top: number;
  /** log2 of the smallest normal magnitude, 1 - bias. */
  readonly emin: number;
  /** The largest finite magnitude's code. */
  readonly maxCode: number;
  /** The code of +inf, if the format has infinities. */
  readonly infCode: number | undefined;
  /** The canonical NaN (IEEE: quiet NaN, E = top and M = the top mantissa bit; single-NaN formats:
   *  the all-ones pattern), if the format has NaN. */
  readonly nanCode: number | undefined;
}

const layouts = new WeakMap<FloatFormat, FloatLayout>();

export function floatLayout(f: FloatFormat): FloatLayout {
  let lay = layouts.get(f);
  if (!lay) layouts.set(f, (lay = computeLayout(f)));
  return lay;
}

function computeLayout(f: FloatFormat): FloatLayout {
  const signBit = pow2(f.e + f.m);
  const top = 2 ** f.e - 1;
  const mantTop = f.m > 0 ? pow2(f.m - 1) : 0;
  return {
    signBit,
    top,
    emin: 1 - f.bias,
    // IEEE: the top field is inf/NaN. One NaN per sign: every pattern below all-ones. Else all finite.
    maxCode: f.inf ? top * pow2(f.m) - 1 : f.nan ? signBit - 2 : signBit - 1,
    infCode: f.inf ? top * pow2(f.m) : undefined,
    nanCode: f.inf ? top * pow2(f.m) + mantTop : f.nan ? signBit - 1 : undefined,
  };
}

export function decodeFloat(f: FloatFormat, code: number): number {
  const { signBit, top, emin } = floatLayout(f);
  const neg = code >= signBit;
  const mag = neg ? code - signBit : code;
  const E = Math.floor(mag / pow2(f.m));
  const M = mag - E * pow2(f.m);
  let v: number;
  if (E === 0) v = f.subnormals ? ldexp(M, emin - f.m) : 0; // without subnormals, M != 0 is a non-canonical 0
  else if (f.inf && E === top) v = M === 0 ? Infinity : NaN;
  else if (!f.inf && f.nan && mag === signBit - 1) v = NaN;
  else v = ldexp(pow2(f.m) + M, E - f.bias - f.m);
  return neg ? -v : v;
}

/** Encodes x (bias already applied). `r` is the element's u32 random number (stochastic only). */
export function encodeFloat(f: FloatFormat, x: Decomposed, rounding: Rounding, r: number): number {
  const lay = floatLayout(f);
  const sign = x.neg ? lay.signBit : 0;
  switch (x.kind) {
    case 'zero':
      return sign;
    case 'nan':
      return sign + (lay.nanCode ?? lay.maxCode); // no NaN: +-max, as QPyTorch's clamp does
    case 'inf':
      return sign + (lay.infCode ?? overflowCode(f, lay));
  }
  const mag = roundMagnitude(f, lay, x.m, x.e, rounding, r);
  return sign + (mag > lay.maxCode ? overflowCode(f, lay) : mag);
}

/** What a magnitude above max becomes: max when saturating, else inf, else NaN. */
function overflowCode(f: FloatFormat, lay: FloatLayout): number {
  return f.saturate ? lay.maxCode : (lay.infCode ?? lay.nanCode!);
}

/** Rounds y = m * 2^e to the format's grid and returns the magnitude code. The grid is extended upward
 *  without bound, so a result above maxCode means overflow. */
function roundMagnitude(f: FloatFormat, lay: FloatLayout, m: number, e: number, rounding: Rounding, r: number): number {
  const s = e + 52; // floor(log2 y)
  const away = f.ties === 'away';
  if (s >= lay.emin || f.underflow === 'qtorch') {
    // The grid of y's own binade, spacing 2^(s - m): q in [2^m, 2^(m+1)). With the (possibly virtual)
    // exponent field s + bias, the magnitude code is (s + bias - 1) * 2^m + q, and U is that code + 1.
    // ties=even picks the even code: the even mantissa, or for m = 0 the even exponent field.
    const d = 52 - f.m;
    const [q, rem] = splitAt(m, d);
    const codeL = (s + f.bias - 1) * pow2(f.m) + q;
    const up = rem !== 0 && roundsUp(rem, d, rounding, r, away || Math.abs(codeL % 2) === 1);
    if (s >= lay.emin) return codeL + +up;
    // QPyTorch's underflow: y' below the smallest normal becomes it if y' > minNormal / 2, else 0.
    // y' < 2^(s+1) <= minNormal, and y' > minNormal / 2 = 2^(emin-1) needs s = emin - 1 and y' > 2^s.
    return s === lay.emin - 1 && q + +up > pow2(f.m) ? pow2(f.m) : 0;
  }
  if (f.subnormals) {
    // Below the smallest normal: the subnormal grid, spacing 2^(emin - m); the code is q itself.
    const d = lay.emin - f.m - e;
    const [q, rem] = splitAt(m, d);
    return q + +(rem !== 0 && roundsUp(rem, d, rounding, r, away || q % 2 === 1));
  }
  // No subnormals: the only grid points below minNormal are 0 and minNormal (code 2^m). At the exact
  // tie minNormal / 2, ties=even keeps 0 (the doc's rule: both codes are even when m >= 1).
  return roundsUp(m, lay.emin - e, rounding, r, away) ? pow2(f.m) : 0;
}
