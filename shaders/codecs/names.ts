// WGSL names of the generated codec functions, derived from a format's canonical name:
//   enc_<tag>_<rounding>(x_bits: u32, t: i32, r: u32) -> u32     float32 bits -> code
//   dec_<tag>(code: u32, t: i32) -> f32                          code -> value * 2^-t
//   dec_bits_<tag>(code: u32, t: i32) -> u32                     the same as float32 bits (kernels
//                                                                store these, so subnormals survive)
// <tag> is the canonical name with every non-alphanumeric run replaced by '_' and '-' spelled 'n'
// (so bias=-3 and bias=3 stay apart): p8e2, fp16, e4m3q, fixed_wl_8_fl_4, float_e_4_m_3_bias_n2_...

import type { Rounding } from '../../formats/descriptor.ts';

export interface NamedFormat {
  readonly name: string;
}

export function codecTag(f: NamedFormat): string {
  return f.name
    .toLowerCase()
    .replace(/-/g, 'n')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export function encoderName(f: NamedFormat, rounding: Rounding): string {
  return `enc_${codecTag(f)}_${rounding}`;
}

export function decoderName(f: NamedFormat): string {
  return `dec_${codecTag(f)}`;
}

export function decoderBitsName(f: NamedFormat): string {
  return `dec_bits_${codecTag(f)}`;
}
