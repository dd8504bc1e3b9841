// The family-independent reference codec: exact encode/decode for every format, the exponent bias t,
// nearest and stochastic rounding, and packed storage (docs/number-formats.md). Runs in Node and in the
// browser (no Node imports). This is the oracle the WGSL codecs are tested against.

import { codesPerWord, containerBits, type Format, type Rounding } from './descriptor.ts';
import { type Decomposed, decomposeDouble, decomposeF32Bits, pow2 } from './dyadic.ts';
import { decodeFixed, encodeFixed } from './fixed.ts';
import { decodeFloat, encodeFloat } from './minifloat.ts';
import { decodePosit, encodePosit } from './posit.ts';
import { random } from './rng.ts';

export interface EncodeOptions {
  /** 'nearest' (default) or 'stochastic' (needs `random`). */
  rounding?: Rounding;
  /** Exponent bias t: encode(x * 2^t). An integer, |t| <= 256. Default 0. */
  bias?: number;
  /** The element's u32 random number, for stochastic rounding (see rng.ts and encodeSeeded). */
  random?: number;
}

/** Options for whole arrays: stochastic rounding draws random(seed, counterOffset + i) for element i. */
export interface ArrayEncodeOptions {
  rounding?: Rounding;
  bias?: number;
  seed?: number;
  counterOffset?: number;
}

export const MAX_BIAS = 256;

function checkBias(t: number): number {
  if (!Number.isInteger(t) || Math.abs(t) > MAX_BIAS) {
    throw new RangeError(`exponent bias t=${t} must be an integer in -${MAX_BIAS}..${MAX_BIAS}`);
  }
  return t;
}

function checkU32(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what}=${v} must be a u32 (0..4294967295)`);
  return v;
}

function checkCode(f: Format, code: number): number {
  if (!Number.isInteger(code) || code < 0 || code >= pow2(f.bits)) {
    throw new RangeError(`code ${code} is not a ${f.bits}-bit ${f.name} code (0..${pow2(f.bits) - 1})`);
  }
  return code;
}

function encodeDecomposed(f: Format, x: Decomposed, o: EncodeOptions | undefined): number {
  const t = checkBias(o?.bias ?? 0);
  const rounding = o?.rounding ?? 'nearest';
  let r = 0;
  if (rounding === 'stochastic') {
    if (o?.random === undefined) throw new TypeError("rounding 'stochastic' needs the element's u32 random number (option random)");
    r = checkU32('random', o.random);
  } else if (rounding !== 'nearest') {
    throw new RangeError(`rounding '${String(rounding)}' must be 'nearest' or 'stochastic'`);
  }
  const y: Decomposed = x.kind === 'finite' && t !== 0 ? { ...x, e: x.e + t } : x;
  switch (f.family) {
    case 'posit':
      return encodePosit(f, y, rounding, r);
    case 'float':
      return encodeFloat(f, y, rounding, r);
    case 'fixed':
      return encodeFixed(f, y, rounding, r);
  }
}

/** The code of x * 2^t (unsigned, f.bits wide). A JS NaN has no observable sign and counts as +NaN. */
export function encode(f: Format, x: number, o?: EncodeOptions): number {
  return encodeDecomposed(f, decomposeDouble(x), o);
}

/** The code of the float32 with these bits (a u32) times 2^t. Equal to encode() of its exact value,
 *  except that a NaN keeps its sign bit (float formats with NaN keep the sign). */
export function encodeF32Bits(f: Format, bits: number, o?: EncodeOptions): number {
  return encodeDecomposed(f, decomposeF32Bits(bits), o);
}

/** Stochastic encode with the counter-based generator: random(seed, counter) is the element's number. */
export function encodeSeeded(f: Format, x: number, seed: number, counter: number, bias = 0): number {
  return encode(f, x, { rounding: 'stochastic', bias, random: random(checkU32('seed', seed), checkU32('counter', counter)) });
}

/** Exact value of a code times 2^-t (NaN for NaN/NaR). The power-of-two scale is exact: every
 *  format's values times 2^-t stay within float64's normal range for |t| <= 256. */
export function decode(f: Format, code: number, bias = 0): number {
  checkCode(f, code);
  const t = checkBias(bias);
  let v: number;
  switch (f.family) {
    case 'posit':
      v = decodePosit(f, code);
      break;
    case 'float':
      v = decodeFloat(f, code);
      break;
    case 'fixed':
      v = decodeFixed(f, code);
      break;
  }
  return t === 0 ? v : v * pow2(-t);
}

/** What the GPU kernels return: the exact value times 2^-t rounded to float32 (ties to even). */
export function decodeToF32(f: Format, code: number, bias = 0): number {
  return Math.fround(decode(f, code, bias));
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** decodeToF32 as a float32 bit pattern; NaN/NaR give the quiet NaN 0x7fc00000 as on the GPU. */
export function decodeToF32Bits(f: Format, code: number, bias = 0): number {
  const v = decode(f, code, bias);
  if (v !== v) return 0x7fc00000;
  f32[0] = v;
  return f32Bits[0]!;
}

/** decode(encode(x)) with the same bias: the value x becomes in the format (a float64, exact). */
export function quantize(f: Format, x: number, o?: EncodeOptions): number {
  return decode(f, encode(f, x, o), o?.bias ?? 0);
}

/** Encodes every element; stochastic rounding needs a seed and uses counters counterOffset + i. */
export function encodeArray(f: Format, xs: ArrayLike<number>, o?: ArrayEncodeOptions): Uint32Array {
  const out = new Uint32Array(xs.length);
  const bias = o?.bias ?? 0;
  if ((o?.rounding ?? 'nearest') === 'stochastic') {
    if (o?.seed === undefined) throw new TypeError("rounding 'stochastic' needs a seed (option seed)");
    const seed = checkU32('seed', o.seed);
    const offset = checkU32('counterOffset', o.counterOffset ?? 0);
    for (let i = 0; i < xs.length; i++) {
      out[i] = encode(f, xs[i]!, { rounding: 'stochastic', bias, random: random(seed, (offset + i) >>> 0) });
    }
    return out;
  }
  for (let i = 0; i < xs.length; i++) out[i] = encode(f, xs[i]!, { bias, rounding: o?.rounding });
  return out;
}

export function decodeArray(f: Format, codes: ArrayLike<number>, bias = 0): Float64Array {
  const out = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = decode(f, codes[i]!, bias);
  return out;
}

/** Packs codes into u32 words: 8-bit containers 4 per word, 16-bit 2 per word, little-endian; the
 *  padding at the end of the last word is 0. */
export function packCodes(f: Format, codes: ArrayLike<number>): Uint32Array {
  const cb = containerBits(f);
  const per = codesPerWord(f);
  const words = new Uint32Array(Math.ceil(codes.length / per));
  for (let i = 0; i < codes.length; i++) {
    const c = checkCode(f, codes[i]!);
    const w = Math.floor(i / per);
    words[w] = (words[w]! | (c << ((i % per) * cb))) >>> 0;
  }
  return words;
}

/** Unpacks `count` codes. A container with bits set above the format's width (garbage from a broken
 *  kernel, or the wrong format) is an error, not silently masked. */
export function unpackCodes(f: Format, words: ArrayLike<number>, count: number): Uint32Array {
  const cb = containerBits(f);
  const per = codesPerWord(f);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count=${count} must be a non-negative integer`);
  if (words.length * per < count) {
    throw new RangeError(`${count} ${f.name} codes need ${Math.ceil(count / per)} words, got ${words.length}`);
  }
  const mask = cb === 32 ? 0xffffffff : (1 << cb) - 1;
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const c = (words[Math.floor(i / per)]! >>> ((i % per) * cb)) & mask;
    if (c >= pow2(f.bits)) throw new RangeError(`packed ${f.name} element ${i} is 0x${c.toString(16)}, wider than ${f.bits} bits`);
    out[i] = c >>> 0;
  }
  return out;
}

/** Every code's value (index = code), for formats of at most 16 bits. */
export function formatValues(f: Format): Float64Array {
  if (f.bits > 16) throw new RangeError(`formatValues lists at most 16-bit formats; ${f.name} has ${f.bits} bits`);
  const out = new Float64Array(2 ** f.bits);
  for (let c = 0; c < out.length; c++) out[c] = decode(f, c);
  return out;
}
