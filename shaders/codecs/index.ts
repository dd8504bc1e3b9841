// The generated WGSL codecs: one generator per format family, dispatched on the descriptor, and
// codecLibrary, which assembles the helpers (once) and the codecs a kernel needs into one WGSL text.
// Function names and signatures: see names.ts.

import type { Format, Rounding } from '../../formats/descriptor.ts';
import { RNG_WGSL } from '../rng.ts';
import { COMMON_WGSL } from './common.ts';
import { fixedDecoder, fixedEncoder } from './fixed.ts';
import { floatDecoder, floatEncoder } from './float.ts';
import { POSIT_HELPERS_WGSL, positDecoder, positEncoder } from './posit.ts';

export { codecTag, decoderBitsName, decoderName, encoderName } from './names.ts';

/** WGSL of `enc_<tag>_<rounding>` for a format (needs the helpers from codecLibrary). */
export function encoderWgsl(f: Format, rounding: Rounding): string {
  switch (f.family) {
    case 'posit':
      return positEncoder(f, rounding);
    case 'float':
      return floatEncoder(f, rounding);
    case 'fixed':
      return fixedEncoder(f, rounding);
  }
}

/** WGSL of `dec_bits_<tag>` and `dec_<tag>` for a format (needs the helpers from codecLibrary). */
export function decoderWgsl(f: Format): string {
  switch (f.family) {
    case 'posit':
      return positDecoder(f);
    case 'float':
      return floatDecoder(f);
    case 'fixed':
      return fixedDecoder(f);
  }
}

export interface CodecNeeds {
  format: Format;
  /** Encoders to emit, one per rounding mode (none: decoder only). */
  encoders?: readonly Rounding[];
  /** Emit the decoder (default true). */
  decoder?: boolean;
}

/**
 * One WGSL text with everything the listed codecs need: the shared helpers, the random number
 * generator, family helpers, and each requested encoder / decoder once (duplicates are merged, so
 * a kernel may list the same format for several operands).
 */
export function codecLibrary(needs: readonly CodecNeeds[]): string {
  const parts = new Map<string, string>();
  const add = (key: string, text: () => string) => {
    if (!parts.has(key)) parts.set(key, text());
  };
  add('common', () => COMMON_WGSL);
  add('rng', () => RNG_WGSL);
  for (const need of needs) {
    if (need.format.family === 'posit') add('posit', () => POSIT_HELPERS_WGSL);
  }
  for (const need of needs) {
    for (const rounding of need.encoders ?? []) {
      add(`enc:${need.format.name}:${rounding}`, () => encoderWgsl(need.format, rounding));
    }
    if (need.decoder ?? true) add(`dec:${need.format.name}`, () => decoderWgsl(need.format));
  }
  return [...parts.values()].join('\n');
}
