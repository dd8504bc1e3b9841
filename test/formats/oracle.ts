// Exact oracles for the number formats, written from the definitions in docs/number-formats.md with
// BigInt dyadic rationals. Shares no code with formats/ (only the descriptor types): posits are
// decoded from their bit strings as text, encoders search the sorted list of representable values and
// compare against exact boundaries, and every comparison is exact.

import type { FixedFormat, FloatFormat, PositFormat, Rounding } from '../../formats/descriptor.ts';

// ---------------------------------------------------------------------------------------------------
// Dyadic rationals n * 2^e (n a BigInt), normalised so that n is odd or zero.

export interface Dy {
  readonly n: bigint;
  readonly e: number;
}

export function dy(n: bigint, e = 0): Dy {
  if (n === 0n) return { n, e: 0 };
  while ((n & 1n) === 0n) {
    n >>= 1n;
    e += 1;
  }
  return { n, e };
}

export const ZERO = dy(0n);
export const pow2 = (k: number): Dy => dy(1n, k);

export function add(a: Dy, b: Dy): Dy {
  const e = Math.min(a.e, b.e);
  return dy((a.n << BigInt(a.e - e)) + (b.n << BigInt(b.e - e)), e);
}
export const neg = (a: Dy): Dy => ({ n: -a.n, e: a.e });
export const sub = (a: Dy, b: Dy): Dy => add(a, neg(b));
export const mul = (a: Dy, b: Dy): Dy => dy(a.n * b.n, a.e + b.e);
export const abs = (a: Dy): Dy => (a.n < 0n ? neg(a) : a);
export const scale = (a: Dy, k: number): Dy => (a.n === 0n ? a : { n: a.n, e: a.e + k });
export const isNeg = (a: Dy): boolean => a.n < 0n;

export function cmp(a: Dy, b: Dy): number {
  const e = Math.min(a.e, b.e);
  const x = a.n << BigInt(a.e - e);
  const y = b.n << BigInt(b.e - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** floor(log2 a) for a > 0. */
export function floorLog2(a: Dy): number {
  return a.n.toString(2).length - 1 + a.e;
}

/** floor(a) as a BigInt (toward -infinity). */
export function floorInt(a: Dy): bigint {
  return a.e >= 0 ? a.n << BigInt(a.e) : a.n >> BigInt(-a.e);
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** Exact value of a finite double. */
export function fromDouble(x: number): Dy {
  if (!Number.isFinite(x)) throw new Error(`oracle: ${x} is not finite`);
  f64[0] = x;
  const bits = u64[0]!;
  const field = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mag = field === 0 ? dy(frac, -1074) : dy(frac | (1n << 52n), field - 1075);
  return bits >> 63n ? neg(mag) : mag;
}

/** The double equal to a, or an exception: the oracle never rounds silently. */
export function toDouble(a: Dy): number {
  const x = Number(a.n) * 2 ** a.e;
  if (!Number.isFinite(x) || cmp(fromDouble(x), a) !== 0) throw new Error(`oracle: ${a.n}*2^${a.e} is not a double`);
  return x;
}

/** The stochastic rounding rule, exactly: U iff r * (U - L) < 2^32 * (y - L). */
export function stochasticPicksUpper(r: number, y: Dy, lo: Dy, hi: Dy): boolean {
  return cmp(mul(dy(BigInt(r)), sub(hi, lo)), scale(sub(y, lo), 32)) < 0;
}

export type Input = number | Dy;

type Special = 'nan' | '+inf' | '-inf';
function classify(x: Input): Special | Dy {
  if (typeof x !== 'number') return x;
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return '+inf';
  if (x === -Infinity) return '-inf';
  return fromDouble(x);
}

/** Whether a value strictly between neighbours lo and hi goes to hi; tieToHi decides an exact tie
 *  under nearest rounding (the format's tie rule). */
type Chooser = (y: Dy, lo: Dy, hi: Dy, tieToHi: boolean) => boolean;
export interface Rounder {
  readonly rounding: Rounding;
  readonly r: number;
}
export const NEAREST: Rounder = { rounding: 'nearest', r: 0 };

function chooser(o: Rounder): Chooser {
  if (o.rounding === 'stochastic') return (y, lo, hi) => stochasticPicksUpper(o.r, y, lo, hi);
  return (y, lo, hi, tieToHi) => {
    const c = cmp(scale(y, 1), add(lo, hi)); // 2y vs lo + hi
    return c > 0 || (c === 0 && tieToHi);
  };
}

/** Finds the largest index i with at(i) <= y over a monotone list (at(lo) <= y assumed). */
function search(lo: number, hi: number, leq: (i: number) => boolean): number {
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (leq(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------
// Posits, from docs/method.md section 1: sign, regime run, es exponent bits (cut bits are 0), fraction.

export function positDecode(n: number, es: number, code: number): Dy | 'NaR' {
  let bits = code.toString(2).padStart(n, '0');
  if (!bits.includes('1')) return ZERO;
  if (bits === '1' + '0'.repeat(n - 1)) return 'NaR';
  const negative = bits[0] === '1';
  if (negative) bits = (2 ** n - code).toString(2).padStart(n, '0');
  const body = bits.slice(1);
  let run = 1;
  while (run < body.length && body[run] === body[0]) run++;
  const k = body[0] === '1' ? run - 1 : -run;
  const rest = body.slice(run + 1); // skip the terminating bit (if there is one)
  const ex = parseInt(rest.slice(0, es).padEnd(es, '0') || '0', 2);
  const fracBits = rest.slice(es);
  const frac = fracBits === '' ? 0n : BigInt('0b' + fracBits);
  const v = dy((1n << BigInt(fracBits.length)) + frac, k * 2 ** es + ex - fracBits.length);
  return negative ? neg(v) : v;
}

interface PositValues {
  value(u: number): Dy;
  /** The boundary between codes u and u + 1: the (n+1)-bit posit 2u + 1. */
  bound(u: number): Dy;
  /** The largest positive code whose value is <= y (minpos <= y < maxpos). */
  floor(y: Dy): number;
}

function positValues(n: number, es: number): PositValues {
  const maxCode = 2 ** (n - 1) - 1;
  const value = (u: number): Dy => positDecode(n, es, u) as Dy;
  return {
    value,
    bound: (u) => positDecode(n + 1, es, 2 * u + 1) as Dy,
    floor: (y) => search(1, maxCode, (i) => cmp(value(i), y) <= 0),
  };
}

/** For n <= 16: the positive values and the boundaries, as doubles (each checked exact). */
const positTables = new Map<string, { values: Float64Array; bounds: Float64Array }>();
function positTable(n: number, es: number): { values: Float64Array; bounds: Float64Array } {
  const key = `${n},${es}`;
  let t = positTables.get(key);
  if (!t) {
    const pv = positValues(n, es);
    const maxCode = 2 ** (n - 1) - 1;
    const values = new Float64Array(maxCode + 1);
    const bounds = new Float64Array(maxCode + 1);
    for (let u = 1; u <= maxCode; u++) {
      values[u] = toDouble(pv.value(u));
      if (u < maxCode) bounds[u] = toDouble(pv.bound(u));
    }
    t = { values, bounds };
    positTables.set(key, t);
  }
  return t;
}

/** The posit code for x: saturation, nearest with ties to the even code on the exact boundaries, or
 *  the stochastic rule between the two neighbouring posits. */
export function positEncode(f: PositFormat, x: Input, o: Rounder = NEAREST): number {
  const { n, es } = f;
  if (typeof x === 'number' && Number.isFinite(x) && x !== 0 && n <= 16 && o.rounding === 'nearest') {
    const u = positNearestDouble(positTable(n, es), Math.abs(x));
    return x < 0 ? 2 ** n - u : u;
  }
  const v = classify(x);
  if (typeof v === 'string') return 2 ** (n - 1);
  if (v.n === 0n) return 0;
  const u = positMagnitude(f, abs(v), o);
  return isNeg(v) ? 2 ** n - u : u;
}

/** The definition on exact BigInt values. */
function positMagnitude(f: PositFormat, y: Dy, o: Rounder): number {
  const maxScale = (f.n - 2) * 2 ** f.es;
  if (cmp(y, pow2(maxScale)) >= 0) return 2 ** (f.n - 1) - 1;
  if (cmp(y, pow2(-maxScale)) <= 0) return 1;
  const pv = positValues(f.n, f.es);
  const lo = pv.floor(y);
  const L = pv.value(lo);
  if (cmp(L, y) === 0) return lo;
  if (o.rounding === 'stochastic') return stochasticPicksUpper(o.r, y, L, pv.value(lo + 1)) ? lo + 1 : lo;
  const c = cmp(y, pv.bound(lo));
  return c < 0 ? lo : c > 0 ? lo + 1 : lo % 2 === 0 ? lo : lo + 1;
}

/** The same definition where y and every value and boundary are exact doubles (so comparing doubles
 *  is exact): fast enough to run every midpoint of p16 through it. */
function positNearestDouble(t: { values: Float64Array; bounds: Float64Array }, y: number): number {
  const maxCode = t.values.length - 1;
  if (y >= t.values[maxCode]!) return maxCode;
  if (y <= t.values[1]!) return 1;
  const lo = search(1, maxCode, (i) => t.values[i]! <= y);
  if (t.values[lo] === y) return lo;
  const b = t.bounds[lo]!;
  return y < b ? lo : y > b ? lo + 1 : lo % 2 === 0 ? lo : lo + 1;
}

/** Values of the neighbouring posits L <= y < U (minpos <= y < maxpos). */
export function positNeighbours(f: PositFormat, y: Dy): [Dy, Dy] {
  const pv = positValues(f.n, f.es);
  const lo = pv.floor(y);
  return [pv.value(lo), pv.value(lo + 1)];
}

// ---------------------------------------------------------------------------------------------------
// Floats: sign, E (e bits), M (m bits), by the value definition; encode by nearest on the list of
// representable magnitudes (plus the grid point above max), or QPyTorch's own-binade rounding.

export type FloatValue = { kind: 'nan' } | { kind: 'inf'; neg: boolean } | { kind: 'finite'; neg: boolean; v: Dy };

export function floatDecode(f: FloatFormat, code: number): FloatValue {
  const { e, m, bias } = f;
  const negative = code >= 2 ** (e + m);
  const mag = code % 2 ** (e + m);
  const E = Math.floor(mag / 2 ** m);
  const M = mag % 2 ** m;
  const top = 2 ** e - 1;
  if (E === 0) return { kind: 'finite', neg: negative, v: f.subnormals ? dy(BigInt(M), 1 - bias - m) : ZERO };
  if (f.inf && E === top) return M === 0 ? { kind: 'inf', neg: negative } : { kind: 'nan' };
  if (!f.inf && f.nan && E === top && M === 2 ** m - 1) return { kind: 'nan' };
  return { kind: 'finite', neg: negative, v: dy(BigInt(2 ** m + M), E - bias - m) };
}

interface FloatTable {
  /** Finite magnitudes ascending with their codes; the last entry is the grid point above max. */
  readonly values: Dy[];
  readonly codes: number[];
  /** The same values, and the midpoints between neighbours, as doubles (each checked exact). */
  readonly doubles: Float64Array;
  readonly mids: Float64Array;
  readonly maxCode: number;
  readonly infCode: number | undefined;
  readonly nanCode: number | undefined;
}

const floatTables = new WeakMap<FloatFormat, FloatTable>();

function floatTable(f: FloatFormat): FloatTable {
  let t = floatTables.get(f);
  if (t) return t;
  if (f.e + f.m > 15) throw new Error('oracle: float tables only for formats of at most 16 bits');
  const values: Dy[] = [];
  const codes: number[] = [];
  let infCode: number | undefined;
  let hasNaN = false;
  for (let c = 0; c < 2 ** (f.e + f.m); c++) {
    const d = floatDecode(f, c);
    if (d.kind === 'inf') infCode = c;
    else if (d.kind === 'nan') hasNaN = true;
    else if (c === 0 || d.v.n !== 0n) {
      // (non-canonical zeros, E = 0 and M != 0 without subnormals, are not a separate value)
      if (values.length && cmp(values[values.length - 1]!, d.v) >= 0) throw new Error('oracle: values not ascending');
      values.push(d.v);
      codes.push(c);
    }
  }
  const max = values[values.length - 1]!;
  const maxCode = codes[codes.length - 1]!;
  values.push(add(max, pow2(floorLog2(max) - f.m))); // the grid point above max in the top binade
  codes.push(maxCode + 1);
  // Canonical NaN: IEEE quiet NaN (E = top, M = top mantissa bit); single-NaN formats: all ones.
  const nanCode = !hasNaN ? undefined : f.inf ? (2 ** f.e - 1) * 2 ** f.m + 2 ** (f.m - 1) : 2 ** (f.e + f.m) - 1;
  const mids = Float64Array.from(values.slice(1), (v, i) => toDouble(scale(add(values[i]!, v), -1)));
  t = { values, codes, doubles: Float64Array.from(values, toDouble), mids, maxCode, infCode, nanCode };
  floatTables.set(f, t);
  return t;
}

/** The float code for x under the format's definition, for formats of at most 16 bits. */
export function floatEncode(f: FloatFormat, x: Input, o: Rounder = NEAREST): number {
  const t = floatTable(f);
  const signBit = 2 ** (f.e + f.m);
  const overflow = f.saturate ? t.maxCode : (t.infCode ?? t.nanCode!);
  const v = classify(x);
  if (v === 'nan') return t.nanCode ?? t.maxCode; // the sign of a JS NaN is not observable: +
  if (v === '+inf' || v === '-inf') return (v === '-inf' ? signBit : 0) + (t.infCode ?? overflow);
  const sign = isNeg(v) || Object.is(x, -0) ? signBit : 0;
  if (v.n === 0n) return sign;
  let mag: number;
  if (f.underflow === 'qtorch') mag = qtorchMagnitude(f, t, abs(v), o);
  else if (typeof x === 'number' && o.rounding === 'nearest') mag = gridNearestDouble(f, t, Math.abs(x));
  else mag = gridMagnitude(f, t, abs(v), o);
  return sign + (mag > t.maxCode ? overflow : mag);
}

/** The nearest tie rule between neighbouring codes: away -> the larger; even -> the even code, and
 *  0 against minNormal (both even without subnormals) -> 0. */
function tieToHi(f: FloatFormat, cl: number, ch: number): boolean {
  return f.ties === 'away' || (ch % 2 === 0 && cl % 2 === 1);
}

/** Nearest (or stochastic) on the list of magnitudes extended by the grid point above max; a result
 *  above maxCode means overflow. */
function gridMagnitude(f: FloatFormat, t: FloatTable, y: Dy, o: Rounder): number {
  const last = t.values.length - 1;
  if (cmp(y, t.values[last]!) >= 0) return t.codes[last]!;
  const i = search(0, last, (j) => cmp(t.values[j]!, y) <= 0);
  if (cmp(t.values[i]!, y) === 0) return t.codes[i]!;
  const [cl, ch] = [t.codes[i]!, t.codes[i + 1]!];
  return chooser(o)(y, t.values[i]!, t.values[i + 1]!, tieToHi(f, cl, ch)) ? ch : cl;
}

/** gridMagnitude's nearest case where y, the values and the midpoints are exact doubles (so comparing
 *  doubles is exact): fast enough for every midpoint of a 16-bit format. */
function gridNearestDouble(f: FloatFormat, t: FloatTable, y: number): number {
  const last = t.values.length - 1;
  if (y >= t.doubles[last]!) return t.codes[last]!;
  const i = search(0, last, (j) => t.doubles[j]! <= y);
  if (t.doubles[i] === y) return t.codes[i]!;
  const [cl, ch, mid] = [t.codes[i]!, t.codes[i + 1]!, t.mids[i]!];
  return y < mid ? cl : y > mid ? ch : tieToHi(f, cl, ch) ? ch : cl;
}

/** QPyTorch (docs/method.md section 6): round to m mantissa bits in y's own binade, then clip. */
function qtorchMagnitude(f: FloatFormat, t: FloatTable, y: Dy, o: Rounder): number {
  const [lo, hi] = ownBinade(f, y);
  // Code parity of 2^E'(1 + k/2^m) is that of (E' + bias) * 2^m + k, with the exponent virtual if needed.
  const codeOf = (v: Dy): number => {
    const E = floorLog2(v);
    return (E + f.bias) * 2 ** f.m + Number(floorInt(scale(v, f.m - E))) - 2 ** f.m;
  };
  let yq = lo;
  if (cmp(lo, y) !== 0) {
    const even = f.ties === 'away' || Math.abs(codeOf(hi) % 2) === 0;
    if (chooser(o)(y, lo, hi, even)) yq = hi;
  }
  const minNormal = pow2(1 - f.bias);
  if (cmp(yq, minNormal) < 0) return cmp(yq, scale(minNormal, -1)) > 0 ? 2 ** f.m : 0;
  const last = t.values.length - 1;
  if (cmp(yq, t.values[last - 1]!) > 0) return t.maxCode + 1; // above max: overflow
  const j = search(0, last, (i) => cmp(t.values[i]!, yq) <= 0);
  if (cmp(t.values[j]!, yq) !== 0) throw new Error('oracle: qtorch result not on the grid');
  return t.codes[j]!;
}

/** The neighbours on the grid of y's own binade: 2^s (1 + k/2^m) <= y < 2^s (1 + (k+1)/2^m). */
function ownBinade(f: FloatFormat, y: Dy): [Dy, Dy] {
  const s = floorLog2(y);
  const lo = mul(dy(floorInt(scale(y, f.m - s))), pow2(s - f.m));
  return [lo, add(lo, pow2(s - f.m))];
}

/** The neighbours L <= y < U that the stochastic rule chooses between (y below the first overflowing
 *  grid point). */
export function floatNeighbours(f: FloatFormat, y: Dy): [Dy, Dy] {
  if (f.underflow === 'qtorch') return ownBinade(f, y);
  const t = floatTable(f);
  const i = search(0, t.values.length - 1, (j) => cmp(t.values[j]!, y) <= 0);
  return [t.values[i]!, t.values[i + 1]!];
}

/** Every finite representable magnitude (ascending), for building test inputs. */
export function floatMagnitudes(f: FloatFormat): Dy[] {
  return floatTable(f).values.slice(0, -1);
}

/** The grid point just above max (the first overflowing grid value). */
export function floatAboveMax(f: FloatFormat): Dy {
  const v = floatTable(f).values;
  return v[v.length - 1]!;
}

// ---------------------------------------------------------------------------------------------------
// Fixed point: wl-bit two's complement q, value q * 2^-fl.

export function fixedDecode(f: FixedFormat, code: number): Dy {
  return dy(BigInt.asIntN(f.wl, BigInt(code)), -f.fl);
}

export function fixedEncode(f: FixedFormat, x: Input, o: Rounder = NEAREST): number {
  const lo = -(1n << BigInt(f.wl - 1));
  const hi = (1n << BigInt(f.wl - 1)) - 1n;
  const code = (q: bigint): number => Number(BigInt.asUintN(f.wl, q));
  const v = classify(x);
  if (v === 'nan') return 0;
  if (v === '+inf') return code(hi);
  if (v === '-inf') return code(lo);
  const z = scale(v, f.fl); // y * 2^fl, signed
  const fl = floorInt(z);
  let q = fl;
  if (cmp(dy(fl), z) !== 0) {
    // Ties: even -> the even integer; away -> away from zero (up for positive, down for negative).
    const tieToHi = f.ties === 'away' ? !isNeg(z) : (fl & 1n) === 1n;
    if (chooser(o)(z, dy(fl), dy(fl + 1n), tieToHi)) q = fl + 1n;
  }
  if (q >= lo && q <= hi) return code(q);
  return f.saturate ? code(q < lo ? lo : hi) : code(q);
}
