// The exact accumulator ("quire") of the GEMM generator: a two's complement fixed-point number of
// `limbs` u32 words whose lowest bit is worth 2^lsb, wide enough (shaders/matmul-plan.ts
// sizes it from the operand formats and the reduction length) that a whole dot product is exact.
//
// Operands reach the accumulator as float32 bit patterns of lattice values (decoded codes, or float32
// tensors whose values lie on a format's lattice). The tile-load stage turns each into a packed word
// `prep` (done once per element, not once per multiply):
//   bits 0..15   an integer s < 2^16 (the significand with its hidden bit, without trailing bits that
//                the operand's lattice never sets) such that the value is s * 2^e with e >= lsb_x, the
//                operand's lowest set bit (needs frac <= 15 fraction bits)
//   bits 16..29  e - lsb_x
//   bit 30       "not exact": NaN/NaR, infinity, or a value off the declared lattice (a float32
//                subnormal, bits below lsb_x, or above the declared range); the result becomes NaN,
//                so a wrong lattice claim fails loudly instead of rounding silently
//   bit 31       sign
// A product is then one 16x16-bit integer multiply, placed at bit (e_a - lsb_a) + (e_b - lsb_b) of the
// quire (lsb = lsb_a + lsb_b) and added or subtracted across all limbs with carries, branch-free.
// The limb array has one extra word at index `limbs` for the sticky "not exact" flag.
//
// quire_round gives the float32 bits of quire * 2^(lsb + P.scale_exp): rounded to nearest even (the
// final rounding when there is no output format), or rounded to odd, which a following round-to-nearest
// into any format of at most 22 significand bits turns into the correctly rounded result (Boldo and
// Melquiond's double rounding theorem): so quire -> round-to-odd f32 -> encode is ONE rounding.
// Both build the float32 from the top 32 bits of the magnitude plus a sticky bit through the codec
// helper pg_f32_bits (shaders/codecs/common.ts).

import { i32, u32, wgsl } from './wgsl.ts';

/** Most fraction bits an operand may have (its significand fits 16 bits of the prep word). */
export const QUIRE_MAX_FRAC = 15;
/** Largest e - lsb_x that fits the 14-bit field. */
export const QUIRE_MAX_POS = (1 << 14) - 1;

export interface QuireOperand {
  /** Fraction bits: every value is s * 2^e with s < 2^(frac+1) an integer. */
  frac: number;
  /** Exponent of the lowest bit any value sets (values are multiples of 2^lsb). */
  lsb: number;
  /** Largest e - lsb. */
  maxPos: number;
}

/** `fn <p>_qprep(bits: u32) -> u32` (and its vec4 form) for one operand. */
export function quirePrepWgsl(p: 'a' | 'b', o: QuireOperand): string {
  const cut = 23 - o.frac;
  return wgsl`
fn ${p}_qprep(bits: u32) -> u32 {
  let mag = bits & 0x7fffffffu;
  if (mag == 0u) { return 0u; }
  let field = mag >> 23u;
  if (field == 0u || field == 255u || (mag & ${u32(2 ** cut - 1)}) != 0u) { return 0x40000000u; }
  var s = ((mag & 0x7fffffu) | 0x800000u) >> ${u32(cut)};
  // s * 2^(pos + lsb); near the bottom of the range the value has fewer fraction bits than frac, and
  // its trailing zero bits are dropped to reach pos = 0.
  var pos = i32(field) - ${i32(127 + o.frac + o.lsb)};
  if (pos < 0) {
    let drop = u32(-pos);
    if (drop > ${u32(o.frac)} || (s & ((1u << drop) - 1u)) != 0u) { return 0x40000000u; }
    s = s >> drop;
    pos = 0;
  }
  if (pos > ${i32(o.maxPos)}) { return 0x40000000u; }
  return (bits & 0x80000000u) | (u32(pos) << 16u) | s;
}
fn ${p}_qprep4(v: vec4<u32>) -> vec4<u32> {
  return vec4<u32>(${p}_qprep(v.x), ${p}_qprep(v.y), ${p}_qprep(v.z), ${p}_qprep(v.w));
}`;
}

/** quire_mac (add a prepared product) and quire_round for a quire of `limbs` words. */
export function quireWgsl(limbs: number, lsb: number): string {
  const L = limbs;
  const limbSteps = Array.from(
    { length: L },
    (_, l) => `  {
    let d = (select(0u, lo, li == ${l}u) | select(0u, hi, li + 1u == ${l}u)) ^ inv;
    let x = (*q)[${l}];
    let t = x + d;
    let s = t + c;
    c = select(0u, 1u, t < x) | select(0u, 1u, s < t);
    (*q)[${l}] = s;
  }`,
  ).join('\n');
  return wgsl`
alias Quire = array<u32, ${L + 1}>;

fn quire_mac(q: ptr<function, Quire>, pa: u32, pb: u32) {
  (*q)[${L}] = (*q)[${L}] | ((pa | pb) & 0x40000000u);
  let prod = (pa & 0xffffu) * (pb & 0xffffu);
  if (prod == 0u) { return; }
  let sh = ((pa >> 16u) & 0x3fffu) + ((pb >> 16u) & 0x3fffu);
  let li = sh >> 5u;
  let bo = sh & 31u;
  let lo = prod << bo;
  let hi = select(0u, prod >> (32u - bo), bo != 0u);
  // A negative product is added as its two's complement: every limb inverted, plus one.
  let neg = (pa ^ pb) >> 31u;
  let inv = 0u - neg;
  var c = neg;
${limbSteps}
}

// float32 bits of the quire times 2^(${lsb} + P.scale_exp); odd: round to odd, else to nearest even.
fn quire_round(qin: Quire, odd: bool) -> u32 {
  if ((qin[${L}] & 0x40000000u) != 0u) { return 0x7fc00000u; }
  var q = qin;
  let neg = (q[${L - 1}] >> 31u) == 1u;
  if (neg) {
    var c = 1u;
    for (var l = 0u; l < ${L}u; l++) {
      let x = ~q[l];
      let s = x + c;
      c = select(0u, 1u, s < x);
      q[l] = s;
    }
  }
  var h = -1;
  for (var l = 0; l < ${L}; l++) {
    if (q[l] != 0u) { h = l; }
  }
  if (h < 0) { return 0u; }
  let top = q[h];
  let lz = countLeadingZeros(top);
  var below = 0u;
  if (h > 0) { below = q[h - 1]; }
  let w = (top << lz) | select(0u, below >> (32u - lz), lz > 0u);
  var sticky = (below << lz) != 0u;
  for (var l = 0; l + 1 < h; l++) {
    sticky = sticky || q[l] != 0u;
  }
  let scale = h * 32 + 31 - i32(lz) + ${i32(lsb)} + P.scale_exp;
  var sig = w | select(0u, 1u, sticky);
  if (odd) {
    sig = ((w >> 8u) | select(0u, 1u, (w & 0xffu) != 0u || sticky)) << 8u;
  }
  return pg_f32_bits(neg, scale, sig);
}`;
}
