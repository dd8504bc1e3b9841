// The properties `posit-gan formats` prints: range, precision and special values of a format, with
// every value shown exactly (as a power of two or m * 2^k) and in decimal.
//
// Definitions:
//   dynamic range      log10(largest finite / smallest positive value), in decades
//   digits at 1.0      -log10(gap), gap = (the next value above 1.0) - 1.0: the relative spacing at 1.0
//                      as decimal digits, i.e. log10(2^p) for p fraction bits at 1.0 (null when 1.0 is
//                      not a value or is the largest one)

import { decode, encode } from './codec.ts';
import { codesPerWord, containerBits, type Format } from './descriptor.ts';
import { decomposeDouble } from './dyadic.ts';
import { floatLayout } from './minifloat.ts';
import { positNaR } from './posit.ts';

export interface ValueInfo {
  readonly value: number;
  /** Exact dyadic form: '2^24', '1.9990234375 * 2^15', '-2^3'. */
  readonly dyadic: string;
  /** Decimal: exact when it has at most 21 significant digits, else the shortest round-trip double. */
  readonly decimal: string;
  readonly decimalExact: boolean;
  /** One line: '2^24 = 16777216', '65504 = 1.9990234375 * 2^15', '2^-149 ≈ 1.401298464324817e-45'. */
  readonly text: string;
}

export interface FormatDescription {
  readonly name: string;
  readonly family: Format['family'];
  readonly summary: string;
  readonly bits: number;
  readonly containerBits: number;
  readonly codesPerWord: number;
  /** Labelled extreme values: maxpos/minpos, max/min normal/min subnormal, max/min/resolution. */
  readonly values: readonly { readonly label: string; readonly value: ValueInfo }[];
  readonly dynamicRangeDecades: number;
  readonly digitsAt1: number | null;
  readonly gapAbove1: ValueInfo | null;
  /** Special patterns and behaviours, as label -> text. */
  readonly specials: readonly { readonly label: string; readonly text: string }[];
}

/** Exact decimal digits of a finite double, or null beyond maxDigits significant digits. */
function exactDecimal(x: number, maxDigits = 21): string | null {
  if (x === 0) return '0';
  const d = decomposeDouble(Math.abs(x));
  if (d.kind !== 'finite') return null;
  // |x| = m * 2^e = digits * 10^-k with digits = m * 5^-e and k = -e when e < 0.
  let digits = d.e >= 0 ? (BigInt(d.m) << BigInt(d.e)).toString() : (BigInt(d.m) * 5n ** BigInt(-d.e)).toString();
  let k = Math.max(-d.e, 0);
  while (digits.length > 1 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    k -= 1;
  }
  if (digits.length > maxDigits) return null;
  const sciExp = digits.length - 1 - k;
  const sign = x < 0 ? '-' : '';
  if (sciExp >= -6 && sciExp < 21) {
    if (k <= 0) return sign + digits + '0'.repeat(-k);
    const padded = digits.padStart(k + 1, '0');
    return `${sign}${padded.slice(0, -k)}.${padded.slice(-k)}`;
  }
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mant}e${sciExp < 0 ? '-' : '+'}${Math.abs(sciExp)}`;
}

export function valueInfo(x: number): ValueInfo {
  const sign = x < 0 ? '-' : '';
  const d = decomposeDouble(Math.abs(x));
  const exact = exactDecimal(x);
  const decimal = exact ?? String(x);
  if (d.kind !== 'finite') return { value: x, dyadic: String(x), decimal, decimalExact: exact !== null, text: String(x) };
  const k = d.e + 52;
  const mant = d.m / 2 ** 52; // exact: a 53-bit integer over a power of two
  const power = mant === 1;
  const dyadic = power ? `${sign}2^${k}` : `${sign}${exactDecimal(mant, Infinity)} * 2^${k}`;
  const text = power || exact === null ? `${dyadic} ${exact === null ? '≈' : '='} ${decimal}` : `${decimal} = ${dyadic}`;
  return { value: x, dyadic, decimal, decimalExact: exact !== null, text };
}

const hexCode = (f: Format, c: number): string => '0x' + c.toString(16).padStart(Math.ceil(f.bits / 4), '0');

function summary(f: Format): string {
  switch (f.family) {
    case 'posit':
      return `posit, n=${f.n}, es=${f.es} (2022 standard)`;
    case 'float': {
      const flags = [
        `bias=${f.bias}`,
        f.subnormals ? 'subnormals' : 'no subnormals',
        f.inf ? 'inf' : 'no inf',
        f.inf ? 'NaN' : f.nan ? 'one NaN per sign' : 'no NaN',
        f.saturate ? 'saturating' : 'not saturating',
        `ties ${f.ties}`,
      ];
      if (f.underflow === 'qtorch') flags.push("QPyTorch's underflow");
      return `float, 1 sign + ${f.e} exponent + ${f.m} mantissa bits (${flags.join(', ')})`;
    }
    case 'fixed':
      return `fixed point, ${f.wl}-bit two's complement, ${f.fl} fraction bits (${f.saturate ? 'saturating' : 'wrapping'}, ties ${f.ties})`;
  }
}

function extremes(f: Format): { label: string; value: number }[] {
  switch (f.family) {
    case 'posit':
      return [
        { label: 'maxpos', value: decode(f, positNaR(f) - 1) },
        { label: 'minpos', value: decode(f, 1) },
      ];
    case 'float': {
      const lay = floatLayout(f);
      const out = [
        { label: 'max', value: decode(f, lay.maxCode) },
        { label: 'min normal', value: 2 ** lay.emin },
      ];
      if (f.subnormals && f.m > 0) out.push({ label: 'min subnormal', value: decode(f, 1) });
      return out;
    }
    case 'fixed':
      return [
        { label: 'max', value: decode(f, 2 ** (f.wl - 1) - 1) },
        { label: 'min', value: decode(f, 2 ** (f.wl - 1)) },
        { label: 'resolution', value: decode(f, 1) },
      ];
  }
}

function specials(f: Format): { label: string; text: string }[] {
  const h = (c: number): string => hexCode(f, c);
  switch (f.family) {
    case 'posit':
      return [
        { label: 'zero', text: `${h(0)} (one zero: -0 encodes to it)` },
        { label: 'NaR', text: `${h(positNaR(f))} (decodes to NaN; NaN and +-inf encode to it)` },
        { label: 'rounding', text: 'nearest, ties to the even code on the bit string; never to 0 or NaR' },
      ];
    case 'float': {
      const lay = floatLayout(f);
      const s = lay.signBit;
      const out = [{ label: 'zeros', text: `+0 ${h(0)}, -0 ${h(s)}` }];
      if (!f.subnormals && f.m > 0) out.push({ label: 'other zeros', text: `${h(1)}..${h(2 ** f.m - 1)} and negatives (non-canonical, never produced)` });
      if (lay.infCode !== undefined) out.push({ label: 'infinities', text: `+inf ${h(lay.infCode)}, -inf ${h(s + lay.infCode)}` });
      if (f.inf) out.push({ label: 'NaN', text: `${h(lay.infCode! + 1)}..${h(s - 1)} and ${h(s + lay.infCode! + 1)}..${h(2 * s - 1)} (canonical ${h(lay.nanCode!)})` });
      else if (f.nan) out.push({ label: 'NaN', text: `${h(s - 1)}, ${h(2 * s - 1)}` });
      const over = f.saturate ? '+-max' : f.inf ? '+-inf' : 'NaN';
      out.push({ label: 'overflow', text: `values that round above max give ${over}${f.inf ? '' : `; +-inf give ${f.saturate ? '+-max' : 'NaN'}`}${f.nan ? '' : '; NaN gives +-max'}` });
      if (f.underflow === 'qtorch') {
        out.push({ label: 'underflow', text: 'round in the own binade; below min normal: min normal if above half of it, else 0' });
      }
      return out;
    }
    case 'fixed':
      return [
        { label: 'zero', text: `${h(0)} (-0 and NaN encode to it; no inf or NaN)` },
        { label: 'overflow', text: f.saturate ? 'clamps to max / min' : `wraps modulo 2^${f.wl} (+-inf give max / min)` },
      ];
  }
}

/** The gap between 1.0 and the next larger value, if 1.0 is a value and not the largest one. */
function gapAbove1(f: Format): number | null {
  const one = encode(f, 1);
  if (decode(f, one) !== 1 || one + 1 >= 2 ** f.bits) return null;
  const next = decode(f, one + 1);
  return Number.isFinite(next) && next > 1 ? next - 1 : null;
}

export function describeFormat(f: Format): FormatDescription {
  const ex = extremes(f);
  const max = ex[0]!.value;
  const minPos = ex[ex.length - 1]!.value;
  const gap = gapAbove1(f);
  return {
    name: f.name,
    family: f.family,
    summary: summary(f),
    bits: f.bits,
    containerBits: containerBits(f),
    codesPerWord: codesPerWord(f),
    values: ex.map(({ label, value }) => ({ label, value: valueInfo(value) })),
    dynamicRangeDecades: Math.log10(max) - Math.log10(minPos),
    digitsAt1: gap === null ? null : -Math.log10(gap),
    gapAbove1: gap === null ? null : valueInfo(gap),
    specials: specials(f),
  };
}

/** The description as aligned `label  text` lines under a heading. */
export function describeText(d: FormatDescription): string {
  const rows: [string, string][] = [
    ['format', d.summary],
    ['bits', `${d.bits} (${d.containerBits}-bit container, ${d.codesPerWord} per u32 word)`],
    ...d.values.map((v): [string, string] => [v.label, v.value.text]),
    ['dynamic range', `${d.dynamicRangeDecades.toFixed(2)} decades`],
    ['digits at 1.0', d.digitsAt1 === null || d.gapAbove1 === null ? '- (1.0 is not a value below max)' : `${d.digitsAt1.toFixed(2)} (next value above 1.0 is 1 + ${d.gapAbove1.dyadic})`],
    ...d.specials.map((s): [string, string] => [s.label, s.text]),
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return [d.name, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n');
}
