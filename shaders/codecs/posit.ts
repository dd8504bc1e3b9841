// WGSL codec generator for posits p<n>e<es> (n 2..32, es 0..4). Semantics: docs/number-formats.md.
//
// Encode: a float32 magnitude sig * 2^(E-23) (E including the bias t) has regime k = floor(E / 2^es),
// exponent E mod 2^es and 23 fraction bits. Inside [minpos, maxpos) the regime needs at most n-1
// bits, so the body (regime, then the es+23 "tail" bits) is `regime << keep` plus the tail shifted
// right by the cut sh = es + 23 - keep: everything fits in u32 and rounding the tail with the regime
// as base is rounding on the bit string (a carry runs into the regime, ties look at the code's last
// bit). Stochastic rounding is linear in the tail while only fraction bits are cut; when exponent
// bits are cut (j = sh - 23 of them) the neighbours are L = 2^s and U = 2^(s + 2^j) and the rule is
// applied to the values with a 48-bit compare (pg_posit_sr_cut, below).
//
// Decode: two's complement for negatives, regime run length by countLeadingZeros, then the exact
// value sig * 2^(scale - 31) handed to pg_f32_bits.

import type { PositFormat, Rounding } from '../../formats/descriptor.ts';
import { i32, u32, wgsl } from '../wgsl.ts';
import { roundHelper } from './common.ts';
import { decoderBitsName, decoderName, encoderName, type NamedFormat } from './names.ts';

type Posit = PositFormat & NamedFormat;

/** Emitted once per module when any posit codec is present. */
export const POSIT_HELPERS_WGSL = wgsl`
// ---- posit helpers (shaders/codecs/posit.ts) ----
// Stochastic rounding where j >= 1 exponent bits are cut. base + (tail >> (23 + j)) is the lower
// neighbour L; with d the cut exponent bits and f the fraction, y / L = 2^d * (1 + f / 2^23) and
// U / L = 2^(2^j). The doc's rule r * (U - L) < 2^32 * (y - L), divided by L and scaled by 2^23:
//   r * (2^(2^j) - 1)  <  (2^23 + f) * 2^(d + 9) - 2^32        (both sides < 2^48)
fn pg_posit_sr_cut(base: u32, tail: u32, j: u32, r: u32) -> u32 {
  let lower = base + (tail >> (23u + j));
  let d = (tail >> 23u) & ((1u << j) - 1u);
  let f = tail & 0x7fffffu;
  if (d == 0u && f == 0u) { return lower; }
  // Left side as (hi, lo): r * c with c = 2^(2^j) - 1 < 2^16, from two 16x16-bit products.
  let c = (1u << (1u << j)) - 1u;
  let p0 = (r & 0xffffu) * c;
  let p1 = (r >> 16u) * c;
  let lo = p0 + (p1 << 16u);
  let hi = (p1 >> 16u) + select(0u, 1u, lo < p0);
  // Right side: m << s with s = d + 9 in 9..24, minus 2^32 (m >= 2^23, so m << 9 >= 2^32).
  let m = 0x800000u | f;
  let s = d + 9u;
  let rlo = m << s;
  let rhi = (m >> (32u - s)) - 1u;
  let up = hi < rhi || (hi == rhi && lo < rlo);
  return lower + select(0u, 1u, up);
}
`;

export function positEncoder(f: Posit, rounding: Rounding): string {
  const { n, es } = f;
  const maxE = (n - 2) * 2 ** es; // maxpos = 2^maxE, minpos = 2^-maxE
  const mask = 2 ** n - 1;
  const w = es + 23; // tail bits: exponent then fraction
  const round = roundHelper(rounding, 'even');
  const cutExponent = rounding === 'stochastic' && es > 0;
  // A tail can fit whole (keep > w) only in wide posits; the shift is then to the left.
  const roomLeft = n - 3 > w;
  return wgsl`
fn ${encoderName(f, rounding)}(x: u32, t: i32, r: u32) -> u32 {
  let a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) { return ${u32(2 ** (n - 1))}; } // NaN, +-inf -> NaR
  if (a == 0u) { return 0u; }
  let v = pg_unpack_f32(a, t);
  var mag: u32;
  if (v.exp >= ${i32(maxE)}) {
    mag = ${u32(2 ** (n - 1) - 1)}; // maxpos
  } else if (v.exp < ${i32(-maxE)}) {
    mag = 1u; // minpos: nothing nonzero becomes 0
  } else {
    let k = v.exp >> ${es}u; // floor(E / 2^es)
    let pos = k >= 0;
    // Regime: k+1 ones and a zero, or -k zeros and a one (|k| <= n - 2 here, so rl <= n - 1).
    let rl = select(u32(1 - k), u32(k + 2), pos);
    let regime = select(1u, (1u << u32(k + 2)) - 2u, pos);
    let tail = ((u32(v.exp) & ${u32(2 ** es - 1)}) << 23u) | (v.sig & 0x7fffffu);
    let keep = ${u32(n - 1)} - rl;
#if ${roomLeft}
    let sh = select(0u, ${u32(w)} - keep, keep < ${u32(w)});
    let bits = select(tail, tail << (keep - ${u32(w)}), keep > ${u32(w)});
#else
    let sh = ${u32(w)} - keep;
    let bits = tail;
#endif
#if ${cutExponent}
    if (sh > 23u) {
      mag = pg_posit_sr_cut(regime << keep, tail, sh - 23u, r);
    } else {
      mag = ${round}(regime << keep, bits, sh, r);
    }
#else
    mag = ${round}(regime << keep, bits, sh, r);
#endif
  }
  return select(mag, (~mag + 1u) & ${u32(mask)}, (x >> 31u) == 1u);
}`;
}

export function positDecoder(f: Posit): string {
  const { n, es } = f;
  const mask = 2 ** n - 1;
  return wgsl`
fn ${decoderBitsName(f)}(code: u32, t: i32) -> u32 {
  if (code == 0u) { return 0u; }
  if (code == ${u32(2 ** (n - 1))}) { return 0x7fc00000u; } // NaR
  let neg = (code >> ${u32(n - 1)}) == 1u;
  let c = select(code, (~code + 1u) & ${u32(mask)}, neg);
  let body = c << ${u32(33 - n)}; // the n-1 bits after the sign, left-aligned
  let ones = (body >> 31u) == 1u;
  let run = select(countLeadingZeros(body), countLeadingZeros(~body), ones);
  let k = select(-i32(run), i32(run) - 1, ones);
  let rest = (body << run) << 1u; // exponent and fraction, left-aligned (cut bits read as 0)
#if ${es > 0}
  let scale = k * ${i32(2 ** es)} + i32(rest >> ${u32(32 - es)}) - t;
  let frac = rest << ${u32(es)};
#else
  let scale = k - t;
  let frac = rest;
#endif
  // At most n - 3 - es <= 29 fraction bits: the shift below drops nothing.
  return pg_f32_bits(neg, scale, 0x80000000u | (frac >> 1u));
}

fn ${decoderName(f)}(code: u32, t: i32) -> f32 {
  return bitcast<f32>(${decoderBitsName(f)}(code, t));
}`;
}
