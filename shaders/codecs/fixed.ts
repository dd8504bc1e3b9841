// WGSL codec generator for two's complement fixed point fixed(wl, fl, sat, ties) (wl 2..32).
// Semantics: docs/number-formats.md. The input magnitude is sig * 2^p with p = E - 23 + fl; p >= 0 is
// an integer (exact, possibly past 2^32: then only its value mod 2^32 matters, for wrapping), p < 0
// is rounded on the integer grid. Rounding is on the signed value: nearest is symmetric in the
// magnitude; stochastic on a negative value uses the mirrored predicate (pg_round_srn).

import type { FixedFormat, Rounding } from '../../formats/descriptor.ts';
import { i32, u32, wgsl } from '../wgsl.ts';
import { roundHelper } from './common.ts';
import { decoderBitsName, decoderName, encoderName, type NamedFormat } from './names.ts';

type Fixed = FixedFormat & NamedFormat;

export function fixedEncoder(f: Fixed, rounding: Rounding): string {
  const mask = 2 ** f.wl - 1;
  const maxCode = 2 ** (f.wl - 1) - 1; // largest positive integer
  const minCode = 2 ** (f.wl - 1); // the most negative integer's code
  const stochastic = rounding === 'stochastic';
  return wgsl`
fn ${encoderName(f, rounding)}(x: u32, t: i32, r: u32) -> u32 {
  let neg = (x >> 31u) == 1u;
  let a = x & 0x7fffffffu;
  if (a > 0x7f800000u || a == 0u) { return 0u; } // NaN and +-0
  if (a == 0x7f800000u) { return select(${u32(maxCode)}, ${u32(minCode)}, neg); } // +-inf: range ends
  let v = pg_unpack_f32(a, t);
  let p = v.exp - ${i32(23 - f.fl)};
  var mag: u32;
  if (p >= 0) {
    // An integer; from p >= 9 it is 2^32 or more and mag keeps it mod 2^32 (for wrapping).
    mag = select(v.sig << u32(p), 0u, p >= 32);
  } else {
#if ${stochastic}
    if (neg) {
      mag = ${roundHelper(rounding, f.ties, true)}(0u, v.sig, u32(-p), r);
    } else {
      mag = ${roundHelper(rounding, f.ties)}(0u, v.sig, u32(-p), r);
    }
#else
    mag = ${roundHelper(rounding, f.ties)}(0u, v.sig, u32(-p), r);
#endif
  }
#if ${f.saturate}
  if (p >= 9 || mag > select(${u32(maxCode)}, ${u32(minCode)}, neg)) {
    return select(${u32(maxCode)}, ${u32(minCode)}, neg);
  }
#endif
  // Without saturation an out-of-range value wraps modulo 2^wl.
  return select(mag, ~mag + 1u, neg) & ${u32(mask)};
}`;
}

export function fixedDecoder(f: Fixed): string {
  const mask = 2 ** f.wl - 1;
  return wgsl`
fn ${decoderBitsName(f)}(code: u32, t: i32) -> u32 {
  if (code == 0u) { return 0u; }
  let neg = (code >> ${u32(f.wl - 1)}) == 1u;
  let mag = select(code, (~code + 1u) & ${u32(mask)}, neg); // 2^(wl-1) for the most negative code
  let lead = 31u - countLeadingZeros(mag);
  return pg_f32_bits(neg, i32(lead) - ${i32(f.fl)} - t, mag << (31u - lead));
}

fn ${decoderName(f)}(code: u32, t: i32) -> f32 {
  return bitcast<f32>(${decoderBitsName(f)}(code, t));
}`;
}
