// Output rounding fused into the kernel that produces a value: the value a kernel computed, rounded
// to a number format exactly as the separate quantize kernel (shaders/quantize.ts, exponent bias 0)
// would round it after reading it back, but without the extra pass. Kernel families that can fuse a
// quantizer (elementwise, batch norm, dropout, embedding, concat) take a `RoundSpec` in their spec;
// their parameter tables carry `round_seed` and `round_counter` (ROUND_PARAM_FIELDS) for stochastic
// rounding, where element i draws random(round_seed, round_counter + i) as the quantize kernel does.
//
// The rounded value is computed on the f32 bit pattern (bitcast, no float load in between) and stored
// as the decoder's bit pattern, the same bits the quantize kernel would write.

import type { Format, Rounding } from '../formats/descriptor.ts';
import { codecLibrary, decoderBitsName, encoderName } from './codecs/index.ts';

export interface RoundSpec {
  format: Format;
  rounding: Rounding;
}

/** Parameter fields of a family that fuses rounding (0 when unused). */
export const ROUND_PARAM_FIELDS = [
  ['round_seed', 'u32'],
  ['round_counter', 'u32'],
] as const;

/** The part of a family's cache key a rounding adds ('' without one). */
export function roundKey(r: RoundSpec | null | undefined): string {
  return r ? `${r.format.name}:${r.rounding}` : '';
}

/** The codec library a rounding needs ('' without one). */
export function roundLibrary(r: RoundSpec | null | undefined): string {
  return r ? codecLibrary([{ format: r.format, encoders: [r.rounding] }]) : '';
}

/** WGSL: the u32 bit pattern of f32 expression `v` rounded to the format; `index` is the element's
 *  index in the output (the stochastic stream's offset). Without a rounding, the plain bits of `v`. */
export function roundedBits(r: RoundSpec | null | undefined, v: string, index: string): string {
  if (!r) return `bitcast<u32>(${v})`;
  const random = r.rounding === 'stochastic' ? `pg_random(P.round_seed, P.round_counter + ${index})` : '0u';
  return `${decoderBitsName(r.format)}(${encoderName(r.format, r.rounding)}(bitcast<u32>(${v}), 0, ${random}), 0)`;
}
