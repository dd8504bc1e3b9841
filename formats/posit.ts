// Posit(n, es) reference codec (2022 posit standard; docs/number-formats.md), exact on float64 inputs.
// Codes are n-bit unsigned integers; negative posits are the two's complement of their magnitude's code.

import type { PositFormat, Rounding } from './descriptor.ts';
import { type Decomposed, TWO52, ldexp, pow2, roundsUp, splitAt } from './dyadic.ts';

/** log2(maxpos) = (n - 2) * 2^es; log2(minpos) is its negative. */
export function positMaxScale(f: PositFormat): number {
  return (f.n - 2) * 2 ** f.es;
}

/** NaR, the pattern 10...0. */
export function positNaR(f: PositFormat): number {
  return pow2(f.n - 1);
}

/** Exact value of a code; NaR gives NaN (the standard's choice; the paper's code gave -inf). */
export function decodePosit(f: PositFormat, code: number): number {
  const { n, es } = f;
  if (code === 0) return 0;
  const nar = pow2(n - 1);
  if (code === nar) return NaN;
  const neg = code > nar;
  const u = neg ? pow2(n) - code : code; // magnitude pattern, below 2^31
  // Regime: the run of bits equal to bit n-2, ended by the opposite bit or by the word end.
  const first = (u >>> (n - 2)) & 1;
  let i = n - 2;
  while (i >= 0 && ((u >>> i) & 1) === first) i--;
  const run = n - 2 - i;
  const k = first === 1 ? run - 1 : -run;
  // i is the terminating bit (or -1); the i bits below it hold the exponent, then the fraction.
  const left = Math.max(i, 0);
  const eBits = Math.min(es, left);
  const fb = left - eBits;
  const rest = u & ((1 << left) - 1);
  const ex = (rest >>> fb) << (es - eBits); // exponent bits cut off by the word end count as 0
  const frac = rest & ((1 << fb) - 1);
  const v = ldexp(pow2(fb) + frac, k * 2 ** es + ex - fb);
  return neg ? -v : v;
}

/** Encodes x (bias already applied): NaN/inf give NaR, 0 gives 0, otherwise the rounded magnitude's
 *  code, two's-complemented for negative x. `r` is the element's u32 random number (stochastic only). */
export function encodePosit(f: PositFormat, x: Decomposed, rounding: Rounding, r: number): number {
  if (x.kind !== 'finite') return x.kind === 'zero' ? 0 : positNaR(f);
  const u = encodeMagnitude(f, x.m, x.e, rounding, r);
  return x.neg ? pow2(f.n) - u : u;
}

function encodeMagnitude(f: PositFormat, m: number, e: number, rounding: Rounding, r: number): number {
  const { n, es } = f;
  const maxScale = positMaxScale(f);
  const s = e + 52; // floor(log2 y), as m is in [2^52, 2^53)
  if (s >= maxScale) return pow2(n - 1) - 1; // y >= maxpos: maxpos
  if (s < -maxScale) return 1; // 0 < y < minpos: minpos (nothing nonzero becomes 0)
  // Here minpos <= y < maxpos, so the regime fits in the n - 1 bits after the sign.
  const useed = 2 ** es;
  const k = Math.floor(s / useed);
  const ex = s - k * useed;
  const regimeLen = k >= 0 ? k + 2 : 1 - k;
  const regime = k >= 0 ? pow2(k + 2) - 2 : 1; // k+1 ones and a zero, or -k zeros and a one
  const avail = n - 1 - regimeLen; // bits left for exponent and fraction
  const frac = m - TWO52;
  if (avail >= es) {
    // Every exponent bit fits; the fraction is cut to fb bits. Rounding on the bit string is rounding
    // the value on a uniform grid here, and a carry out of the fraction is the next code.
    const fb = avail - es;
    const d = 52 - fb;
    const [q, rem] = splitAt(frac, d);
    const code = regime * pow2(avail) + ex * pow2(fb) + q;
    return rem !== 0 && roundsUp(rem, d, rounding, r, code % 2 === 1) ? code + 1 : code;
  }
  // c exponent bits are cut off: the neighbours are L = 2^a and U = 2^(a + 2^c).
  const c = es - avail;
  const kept = ex >>> c;
  const cut = ex - kept * pow2(c);
  const code = regime * pow2(avail) + kept;
  if (cut === 0 && frac === 0) return code;
  if (rounding === 'stochastic') return code + +stochasticCutUp(m, e, k * useed + kept * pow2(c), pow2(c), r);
  // Nearest on the bit string: the discarded bits are `cut` (c bits) followed by the 52 fraction bits.
  const half = pow2(c - 1);
  return cut > half || (cut === half && (frac !== 0 || code % 2 === 1)) ? code + 1 : code;
}

/** The stochastic rule for y = m * 2^e between L = 2^a and U = 2^(a + span): U iff
 *  r * (U - L) < 2^32 * (y - L). The operands exceed 53 bits, so this one uses BigInt. */
function stochasticCutUp(m: number, e: number, a: number, span: number, r: number): boolean {
  const shift = BigInt(a - e); // a - e is in 37..52: y >= 2^a and y's ulp is 2^e
  const lo = 1n << shift;
  const hi = lo << BigInt(span);
  return BigInt(r) * (hi - lo) < (BigInt(m) - lo) << 32n;
}
