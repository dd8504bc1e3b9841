// WGSL codec generator for floats float(e, m, bias, subnormals, inf, nan, sat, ties, underflow):
// fp16, bf16, OCP FP8/FP6/FP4, the paper's QPyTorch-style e4m3q/e5m2q, and any other combination the
// descriptor allows. Semantics: docs/number-formats.md.
//
// Encode works on magnitude codes: for a value in binade E >= emin the code is ((E - emin) << m) plus
// the significand rounded to m bits *with* its hidden bit, so a carry out of the significand moves to
// the next binade by itself, and codes are monotone in the value, so overflow is one compare with the
// largest finite code. Below emin the grid is the subnormal one (spacing 2^(emin - m)), or {0,
// minNormal} without subnormals, which is the same computation with 0 mantissa bits.

import type { FloatFormat, Rounding } from '../../formats/descriptor.ts';
import { i32, u32, wgsl } from '../wgsl.ts';
import { roundHelper } from './common.ts';
import { decoderBitsName, decoderName, encoderName, type NamedFormat } from './names.ts';

type Float = FloatFormat & NamedFormat;

/** Code constants of a float format (magnitudes, i.e. without the sign bit). */
function constants(f: Float) {
  const top = 2 ** f.e - 1;
  const magMask = 2 ** (f.e + f.m) - 1;
  // Largest finite magnitude code: below the inf field (IEEE), below the one NaN pattern, or all ones.
  const maxCode = f.inf ? top * 2 ** f.m - 1 : f.nan ? magMask - 1 : magMask;
  // Canonical NaN: IEEE quiet NaN (top field, top mantissa bit) or the single all-ones pattern.
  const nanCode = f.inf ? top * 2 ** f.m + 2 ** (f.m - 1) : magMask;
  return { top, magMask, maxCode, nanCode, infCode: top * 2 ** f.m, emin: 1 - f.bias };
}

export function floatEncoder(f: Float, rounding: Rounding): string {
  const c = constants(f);
  const round = roundHelper(rounding, f.ties);
  const signShift = f.e + f.m;
  // Results for special inputs and for overflow, as magnitude codes (no NaN -> the largest finite).
  const onNaN = f.nan ? c.nanCode : c.maxCode;
  const onInf = f.inf ? c.infCode : f.saturate ? c.maxCode : c.nanCode;
  const onOverflow = f.saturate ? c.maxCode : f.inf ? c.infCode : c.nanCode;
  const msub = f.subnormals ? f.m : 0; // mantissa bits of the grid below minNormal
  const qtorch = f.underflow === 'qtorch';
  const emaxField = c.top - f.bias; // binade of the top exponent field
  return wgsl`
fn ${encoderName(f, rounding)}(x: u32, t: i32, r: u32) -> u32 {
  let s = (x >> 31u) << ${u32(signShift)};
  let a = x & 0x7fffffffu;
  if (a > 0x7f800000u) { return s | ${u32(onNaN)}; }
  if (a == 0x7f800000u) { return s | ${u32(onInf)}; }
  if (a == 0u) { return s; }
  let v = pg_unpack_f32(a, t);
  var mag: u32;
#if ${qtorch}
  // QPyTorch: round at the input's own binade, then clip below minNormal (overflow follows sat). The
  // rounding sees the (possibly virtual, below-normal) code as base so that ties-to-even looks at
  // the code's last bit also when m = 0; wrapping u32 arithmetic keeps that parity.
  let base = u32(v.exp - ${i32(c.emin)}) << ${u32(f.m)};
  let q = ${round}(base, v.sig, ${u32(23 - f.m)}, r) - base; // in [2^m, 2^(m+1)]
  if (v.exp > ${i32(emaxField)}) {
    return s | ${u32(onOverflow)};
  } else if (v.exp >= ${i32(c.emin)}) {
    mag = base + q;
    if (mag > ${u32(c.maxCode)}) { return s | ${u32(onOverflow)}; }
  } else if (v.exp == ${i32(c.emin - 1)} && q > ${u32(2 ** f.m)}) {
    mag = ${u32(2 ** f.m)}; // above minNormal / 2 -> minNormal
  } else {
    mag = 0u;
  }
#else
  if (v.exp > ${i32(emaxField)}) { return s | ${u32(onOverflow)}; }
  if (v.exp >= ${i32(c.emin)}) {
    mag = ${round}(u32(v.exp - ${i32(c.emin)}) << ${u32(f.m)}, v.sig, ${u32(23 - f.m)}, r);
  } else {
    let sh = u32(${i32(23 - msub + c.emin)} - v.exp);
    mag = ${round}(0u, v.sig, sh, r) << ${u32(f.m - msub)};
  }
  if (mag > ${u32(c.maxCode)}) { return s | ${u32(onOverflow)}; }
#endif
  return s | mag;
}`;
}

export function floatDecoder(f: Float): string {
  const c = constants(f);
  return wgsl`
fn ${decoderBitsName(f)}(code: u32, t: i32) -> u32 {
  let neg = (code >> ${u32(f.e + f.m)}) == 1u;
  let s = select(0u, 0x80000000u, neg);
  let field = (code >> ${u32(f.m)}) & ${u32(c.top)};
  let man = code & ${u32(2 ** f.m - 1)};
#if ${f.inf}
  if (field == ${u32(c.top)}) { return select(0x7fc00000u, s | 0x7f800000u, man == 0u); }
#elif ${f.nan}
  if ((code & ${u32(c.magMask)}) == ${u32(c.magMask)}) { return 0x7fc00000u; }
#endif
  if (field == 0u) {
#if ${f.subnormals}
    if (man == 0u) { return s; }
    let lead = 31u - countLeadingZeros(man);
    return pg_f32_bits(neg, ${i32(c.emin - f.m)} + i32(lead) - t, man << (31u - lead));
#else
    return s; // zero (patterns with a mantissa are non-canonical zeros)
#endif
  }
  return pg_f32_bits(neg, i32(field) - ${i32(f.bias)} - t, 0x80000000u | (man << ${u32(31 - f.m)}));
}

fn ${decoderName(f)}(code: u32, t: i32) -> f32 {
  return bitcast<f32>(${decoderBitsName(f)}(code, t));
}`;
}
