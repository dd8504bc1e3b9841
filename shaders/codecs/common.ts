// Integer helpers shared by the generated codecs of every family (emitted once per WGSL module by
// codecLibrary in index.ts). Everything works on u32/i32 bit patterns: WGSL may flush f32 subnormals
// and may assume that float math never sees NaN or infinity, so no codec does float arithmetic on its
// input or builds its output with float operations.
//
// The one rounding step all families share: a magnitude x * 2^-sh (sh >= 0, possibly >= 32) rounded to
// an integer q, added to `base` (the bits above the rounded field, so that a carry propagates into
// them and ties-to-even sees the parity of the final code). The rounding predicates:
//   even / away   round to nearest, ties to the even result / away from zero
//   sr            stochastic: up iff r * 2^sh < 2^32 * low          (low = x mod 2^sh, the distance
//                 above the lower neighbour in units of 2^-sh; the doc's r*(U-L) < 2^32*(y-L))
//   srn           the same rule for a negative value on a signed grid (fixed point): there the lower
//                 neighbour is the larger magnitude, and "up" (in magnitude) iff ~r < floor(2^32 * low / 2^sh)

import type { Rounding, Ties } from '../../formats/descriptor.ts';
import { wgsl } from '../wgsl.ts';

/** Names of the generated rounding helpers. */
export type RoundHelper = 'pg_round_even' | 'pg_round_away' | 'pg_round_sr' | 'pg_round_srn';

/** The rounding helper for a rounding mode and tie rule (`negative` picks srn for signed grids). */
export function roundHelper(rounding: Rounding, ties: Ties, negative = false): RoundHelper {
  if (rounding === 'stochastic') return negative ? 'pg_round_srn' : 'pg_round_sr';
  return ties === 'even' ? 'pg_round_even' : 'pg_round_away';
}

/** One rounding helper: identical bodies except for the predicate that decides rounding up. */
function roundFn(name: RoundHelper, up: string): string {
  return wgsl`
fn ${name}(base: u32, x: u32, sh: u32, r: u32) -> u32 {
  if (sh == 0u) { return base + x; }
  // Shifts by >= 32 are taken mod 32 in WGSL: the selects discard those lanes.
  let q = base + select(x >> sh, 0u, sh >= 32u);
  let low = select(x & ((1u << sh) - 1u), x, sh >= 32u);
  return q + select(0u, 1u, ${up});
}`;
}

export const COMMON_WGSL = wgsl`
// ---- codec helpers (shaders/codecs/common.ts) ----
// A finite nonzero float32 magnitude as sig * 2^(exp - 23) with sig in [2^23, 2^24), times 2^t.
struct PgUnpacked { sig: u32, exp: i32 }

fn pg_unpack_f32(a: u32, t: i32) -> PgUnpacked {
  let field = a >> 23u;
  if (field == 0u) {
    // float32 subnormal: normalise its fraction (countLeadingZeros >= 9 here).
    let lz = countLeadingZeros(a);
    return PgUnpacked(a << (lz - 8u), -118 - i32(lz) + t);
  }
  return PgUnpacked((a & 0x7fffffu) | 0x800000u, i32(field) - 127 + t);
}

// Round-to-nearest predicate: low / 2^sh above the lower neighbour, tie_up decides exact halves.
fn pg_up_half(low: u32, sh: u32, tie_up: bool) -> bool {
  if (sh > 32u) { return false; }
  let half = 1u << (sh - 1u);
  return low > half || (low == half && tie_up);
}

// Stochastic predicate r * 2^sh < 2^32 * low, for 0 <= low < 2^min(sh, 32), sh >= 1.
fn pg_up_sr(low: u32, sh: u32, r: u32) -> bool {
  if (low == 0u) { return false; }
  if (sh <= 32u) { return r < (low << (32u - sh)); }
  // r * 2^a < low  <=>  r <= (low - 1) >> a
  let a = sh - 32u;
  return r <= select((low - 1u) >> a, 0u, a >= 32u);
}

// Its mirror for a negative value on a signed grid: magnitude up iff ~r < floor(low * 2^(32 - sh)).
fn pg_up_srn(low: u32, sh: u32, r: u32) -> bool {
  if (low == 0u) { return false; }
  if (sh <= 32u) { return ~r < (low << (32u - sh)); }
  let a = sh - 32u;
  return ~r < select(low >> a, 0u, a >= 32u);
}
${roundFn('pg_round_even', 'pg_up_half(low, sh, (q & 1u) == 1u)')}
${roundFn('pg_round_away', 'pg_up_half(low, sh, true)')}
${roundFn('pg_round_sr', 'pg_up_sr(low, sh, r)')}
${roundFn('pg_round_srn', 'pg_up_srn(low, sh, r)')}

// The float32 bit pattern nearest (ties to even) to sig * 2^(scale - 31), sig in [2^31, 2^32):
// subnormal below 2^-126, +-inf from 2^128 up. The result is built as bits, never by float math.
fn pg_f32_bits(neg: bool, scale: i32, sig: u32) -> u32 {
  let s = select(0u, 0x80000000u, neg);
  if (scale > 127) { return s | 0x7f800000u; }
  let sh = u32(8 + max(-126 - scale, 0));
  // The rounded significand carries its hidden bit into the exponent field (and a carry out of the
  // top binade lands exactly on the infinity pattern).
  let bits = (u32(max(scale, -126) + 126) << 23u) + pg_round_even(0u, sig, sh, 0u);
  return s | min(bits, 0x7f800000u);
}
`;
