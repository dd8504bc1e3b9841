// Number-format descriptors and the one string syntax that names them everywhere (CLI flags, configs,
// recipes, result files). A descriptor is plain data: it can be serialised as JSON and compared.
//
// Syntax (case-insensitive, spaces ignored):
//   fp32 fp16 bf16                 IEEE binary32 / binary16 / bfloat16
//   e4m3 e5m2                      OCP FP8 (e4m3: no infinities, one NaN pattern per sign, max 448;
//                                  e5m2: IEEE-like). Both saturate on finite overflow by default:
//                                  e4m3(sat=0) gives NaN, e5m2(sat=0) gives infinity instead.
//   e3m2 e2m3 e2m1                 OCP FP6 / FP4 (no infinities, no NaN, subnormals, saturating)
//   e4m3q e5m2q                    the paper's QPyTorch-style FP8 halves (docs/method.md section 6): no
//                                  subnormals, no inf/NaN, exponents -b..+b, ties away from zero,
//                                  saturating, QPyTorch's underflow rule
//   e<E>m<M>                       any other IEEE-like minifloat (subnormals, inf, NaN, ties to even)
//   p<n>e<es>, posit(n=8,es=2)     posit, n in 2..32, es in 0..4
//   float(e=..,m=..[,bias=..][,subnormals=0|1][,inf=0|1][,nan=0|1][,sat=0|1][,ties=even|away]
//         [,underflow=nearest|qtorch])
//   fixed(wl=..,fl=..[,sat=0|1][,ties=even|away])   two's complement fixed point
//   NAME(key=value,...)            a named format with some fields overridden, e.g. e4m3(sat=0)

export type Ties = 'even' | 'away';
export type Rounding = 'nearest' | 'stochastic';

export interface PositFormat {
  readonly family: 'posit';
  readonly n: number;
  readonly es: number;
}

export interface FloatFormat {
  readonly family: 'float';
  /** Exponent field bits (1..8). */
  readonly e: number;
  /** Mantissa (trailing significand) bits (0..23). */
  readonly m: number;
  /** Exponent bias: a normal number with exponent field E has exponent E - bias. */
  readonly bias: number;
  /** Exponent field 0 holds subnormals (true) or only zero (false). */
  readonly subnormals: boolean;
  /** The top exponent field with mantissa 0 is +-infinity (IEEE style). */
  readonly inf: boolean;
  /** NaN exists: with inf, every top-field pattern with a nonzero mantissa (IEEE); without inf, only
   *  the all-ones pattern of each sign (OCP e4m3). Without NaN and inf every pattern is a number. */
  readonly nan: boolean;
  /** Finite values beyond the largest magnitude become +-max (true) or +-inf / NaN (false). */
  readonly saturate: boolean;
  /** Round-to-nearest tie rule. */
  readonly ties: Ties;
  /** 'nearest': values below the smallest normal round to the nearest representable value.
   *  'qtorch': QPyTorch's rule: round the significand to m bits at the input's own binade, then a
   *  result below the smallest normal becomes +-min normal if its magnitude exceeds half of it, else 0. */
  readonly underflow: 'nearest' | 'qtorch';
}

export interface FixedFormat {
  readonly family: 'fixed';
  /** Word length in bits (2..32), two's complement. */
  readonly wl: number;
  /** Fraction length: value = code * 2^-fl. */
  readonly fl: number;
  /** Out-of-range values become the nearest end of the range (true) or wrap modulo 2^wl (false). */
  readonly saturate: boolean;
  readonly ties: Ties;
}

export type FormatFields = PositFormat | FloatFormat | FixedFormat;

/** A parsed format: its fields, its canonical name and its width in bits. */
export type Format = FormatFields & {
  /** Canonical spelling: parseFormat(f.name) gives the same format back. */
  readonly name: string;
  /** Bits of one code. */
  readonly bits: number;
};

/** Bad format spec. The CLI turns it into exit code 2. */
export class FormatSpecError extends Error {
  override name = 'FormatSpecError';
  constructor(spec: string, problem: string) {
    super(`invalid number format '${spec}': ${problem}\n${FORMAT_SYNTAX_HELP}`);
  }
}

export const FORMAT_SYNTAX_HELP = [
  'Allowed formats:',
  '  fp32, fp16, bf16; OCP FP8 e4m3, e5m2; OCP FP6 e3m2, e2m3; FP4 e2m1; the paper\'s FP8 e4m3q, e5m2q;',
  '  e<E>m<M> (IEEE-like minifloat with subnormals, inf and NaN: E in 2..8, M in 1..23);',
  '  posits p<n>e<es> (n in 2..32, es in 0..4), e.g. p8e2, p16e1, p6e1;',
  '  float(e=4,m=3,bias=7,subnormals=1,inf=0,nan=1,sat=1,ties=even|away,underflow=nearest|qtorch);',
  '  fixed(wl=8,fl=4,sat=1,ties=even|away);',
  '  a named format with overrides, e.g. e4m3(sat=0).',
].join('\n');

const ieee = (e: number, m: number): FloatFields => ({
  family: 'float',
  e,
  m,
  bias: (1 << (e - 1)) - 1,
  subnormals: true,
  inf: true,
  nan: true,
  saturate: false,
  ties: 'even',
  underflow: 'nearest',
});
type FloatFields = Omit<FloatFormat, never>;

/** QPyTorch-style float as the paper's fork emulates it (docs/method.md section 6). Exponents -b..+b with
 *  b = 2^(e-1) - 1 live in fields 1..2^e - 1 (bias b + 1); field 0 is zero. */
const qtorch = (e: number, m: number): FloatFields => ({
  family: 'float',
  e,
  m,
  bias: 1 << (e - 1),
  subnormals: false,
  inf: false,
  nan: false,
  saturate: true,
  ties: 'away',
  underflow: 'qtorch',
});

const ocpSmall = (e: number, m: number): FloatFields => ({ ...ieee(e, m), inf: false, nan: false, saturate: true });

/** Named formats. Order matters only for canonical naming (first match wins). */
export const NAMED_FORMATS: Readonly<Record<string, FormatFields>> = {
  fp32: ieee(8, 23),
  fp16: ieee(5, 10),
  bf16: ieee(8, 7),
  e4m3: { ...ieee(4, 3), inf: false, nan: true, saturate: true },
  e5m2: { ...ieee(5, 2), saturate: true },
  e3m2: ocpSmall(3, 2),
  e2m3: ocpSmall(2, 3),
  e2m1: ocpSmall(2, 1),
  e4m3q: qtorch(4, 3),
  e5m2q: qtorch(5, 2),
};

const ALIASES: Readonly<Record<string, string>> = {
  float32: 'fp32',
  f32: 'fp32',
  float16: 'fp16',
  half: 'fp16',
  f16: 'fp16',
  bfloat16: 'bf16',
};

export function formatBits(f: FormatFields): number {
  switch (f.family) {
    case 'posit':
      return f.n;
    case 'float':
      return 1 + f.e + f.m;
    case 'fixed':
      return f.wl;
  }
}

/** Storage container width: 2-8 bit codes in bytes (4 per u32), 9-16 in halves (2 per u32), else u32. */
export function containerBits(f: Format | FormatFields): 8 | 16 | 32 {
  const b = formatBits(f);
  return b <= 8 ? 8 : b <= 16 ? 16 : 32;
}

/** Codes per u32 word in packed storage. */
export function codesPerWord(f: Format | FormatFields): 1 | 2 | 4 {
  return (32 / containerBits(f)) as 1 | 2 | 4;
}

function sameFields(a: FormatFields, b: FormatFields): boolean {
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  const ka = Object.keys(ra);
  return ka.length === Object.keys(rb).length && ka.every((k) => ra[k] === rb[k]);
}

export function canonicalName(f: FormatFields): string {
  for (const [name, g] of Object.entries(NAMED_FORMATS)) if (sameFields(f, g)) return name;
  switch (f.family) {
    case 'posit':
      return `p${f.n}e${f.es}`;
    case 'float': {
      // e<E>m<M> means the IEEE-like default only where that name is not taken by a named format
      // (e4m3 is OCP's, not IEEE-like e4m3).
      const short = `e${f.e}m${f.m}`;
      if (!(short in NAMED_FORMATS) && sameFields(f, ieee(f.e, f.m))) return short;
      return (
        `float(e=${f.e},m=${f.m},bias=${f.bias},subnormals=${+f.subnormals},inf=${+f.inf},nan=${+f.nan},` +
        `sat=${+f.saturate},ties=${f.ties},underflow=${f.underflow})`
      );
    }
    case 'fixed':
      return `fixed(wl=${f.wl},fl=${f.fl}${f.saturate ? '' : ',sat=0'}${f.ties === 'even' ? '' : ',ties=away'})`;
  }
}

function finish(spec: string, f: FormatFields): Format {
  validate(spec, f);
  return Object.freeze({ ...f, name: canonicalName(f), bits: formatBits(f) }) as Format;
}

function isInt(x: number): boolean {
  return Number.isInteger(x);
}

function validate(spec: string, f: FormatFields): void {
  const fail = (p: string): never => {
    throw new FormatSpecError(spec, p);
  };
  switch (f.family) {
    case 'posit':
      if (!isInt(f.n) || f.n < 2 || f.n > 32) fail(`posit width n=${f.n} is outside 2..32`);
      if (!isInt(f.es) || f.es < 0 || f.es > 4) fail(`posit exponent size es=${f.es} is outside 0..4`);
      return;
    case 'float':
      if (!isInt(f.e) || f.e < 1 || f.e > 8) fail(`exponent bits e=${f.e} are outside 1..8`);
      if (!isInt(f.m) || f.m < 0 || f.m > 23) fail(`mantissa bits m=${f.m} are outside 0..23`);
      if (!isInt(f.bias) || Math.abs(f.bias) > 512) fail(`bias=${f.bias} must be an integer in -512..512`);
      if (f.inf && !f.nan) fail('inf=1 needs nan=1 (IEEE reserves the top exponent field for both)');
      if (f.inf && f.e < 2) fail('inf=1 needs e >= 2 (with e=1 the only nonzero exponent field would be inf/NaN); use inf=0,nan=0,sat=1');
      if (f.inf && f.m === 0) fail('IEEE-style inf/NaN needs at least one mantissa bit (m >= 1) to encode NaN');
      if (!f.inf && f.nan && f.e + f.m < 2) fail('a single NaN pattern needs e + m >= 2');
      if (!f.saturate && !f.inf && !f.nan) fail('a format without inf and NaN must saturate (sat=1)');
      if (f.underflow === 'qtorch' && f.subnormals) fail('underflow=qtorch applies to formats without subnormals');
      return;
    case 'fixed':
      if (!isInt(f.wl) || f.wl < 2 || f.wl > 32) fail(`word length wl=${f.wl} is outside 2..32`);
      if (!isInt(f.fl) || f.fl < -64 || f.fl > 64) fail(`fraction length fl=${f.fl} is outside -64..64`);
      return;
  }
}

type Args = Map<string, string>;

function parseArgs(spec: string, body: string): Args {
  const args: Args = new Map();
  if (body.trim() === '') return args;
  for (const part of body.split(',')) {
    const m = /^([a-z_]+)=([a-z0-9+-]+)$/.exec(part);
    if (!m) throw new FormatSpecError(spec, `cannot read '${part}' (expected key=value)`);
    if (args.has(m[1]!)) throw new FormatSpecError(spec, `'${m[1]}' is given twice`);
    args.set(m[1]!, m[2]!);
  }
  return args;
}

function takeInt(spec: string, args: Args, key: string): number | undefined {
  const v = args.get(key);
  if (v === undefined) return undefined;
  args.delete(key);
  if (!/^[+-]?\d+$/.test(v)) throw new FormatSpecError(spec, `${key}=${v} is not an integer`);
  return Number(v);
}

function takeBool(spec: string, args: Args, key: string): boolean | undefined {
  const v = args.get(key);
  if (v === undefined) return undefined;
  args.delete(key);
  if (v === '1' || v === 'true' || v === 'on') return true;
  if (v === '0' || v === 'false' || v === 'off') return false;
  throw new FormatSpecError(spec, `${key}=${v} must be 0 or 1`);
}

function takeEnum<T extends string>(spec: string, args: Args, key: string, allowed: readonly T[]): T | undefined {
  const v = args.get(key);
  if (v === undefined) return undefined;
  args.delete(key);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new FormatSpecError(spec, `${key}=${v} must be one of ${allowed.join(', ')}`);
  }
  return v as T;
}

function noLeftovers(spec: string, args: Args, family: string): void {
  if (args.size > 0) {
    throw new FormatSpecError(spec, `unknown key(s) for ${family}: ${[...args.keys()].join(', ')}`);
  }
}

function applyFloatArgs(spec: string, base: FloatFormat | undefined, args: Args): FloatFormat {
  const e = takeInt(spec, args, 'e') ?? base?.e;
  const m = takeInt(spec, args, 'm') ?? base?.m;
  if (e === undefined || m === undefined) throw new FormatSpecError(spec, 'float(...) needs e= and m=');
  if (e < 1 || e > 8) throw new FormatSpecError(spec, `exponent bits e=${e} are outside 1..8`);
  const d: FloatFormat = base && base.e === e && base.m === m ? base : ieee(e, m);
  const f: FloatFormat = {
    family: 'float',
    e,
    m,
    bias: takeInt(spec, args, 'bias') ?? d.bias,
    subnormals: takeBool(spec, args, 'subnormals') ?? d.subnormals,
    inf: takeBool(spec, args, 'inf') ?? d.inf,
    nan: takeBool(spec, args, 'nan') ?? d.nan,
    saturate: takeBool(spec, args, 'sat') ?? d.saturate,
    ties: takeEnum(spec, args, 'ties', ['even', 'away'] as const) ?? d.ties,
    underflow: takeEnum(spec, args, 'underflow', ['nearest', 'qtorch'] as const) ?? d.underflow,
  };
  noLeftovers(spec, args, 'float');
  return f;
}

/** Parses a format spec. Throws FormatSpecError naming the problem and listing what is allowed. */
export function parseFormat(spec: string): Format {
  if (typeof spec !== 'string') throw new FormatSpecError(String(spec), 'a format must be given as a string');
  const s = spec.toLowerCase().replace(/\s+/g, '');
  if (s === '') throw new FormatSpecError(spec, 'empty format name');
  const call = /^([a-z0-9_]+)(?:\((.*)\))?$/.exec(s);
  if (!call) throw new FormatSpecError(spec, 'expected NAME or NAME(key=value,...)');
  const head = ALIASES[call[1]!] ?? call[1]!;
  const args = parseArgs(spec, call[2] ?? '');

  const posit = /^p(\d+)e(\d+)$/.exec(head);
  if (posit) {
    noLeftovers(spec, args, 'posit');
    return finish(spec, { family: 'posit', n: Number(posit[1]), es: Number(posit[2]) });
  }
  if (head === 'posit') {
    const n = takeInt(spec, args, 'n');
    const es = takeInt(spec, args, 'es');
    if (n === undefined || es === undefined) throw new FormatSpecError(spec, 'posit(...) needs n= and es=');
    noLeftovers(spec, args, 'posit');
    return finish(spec, { family: 'posit', n, es });
  }
  if (head === 'fixed') {
    const wl = takeInt(spec, args, 'wl');
    const fl = takeInt(spec, args, 'fl');
    if (wl === undefined || fl === undefined) throw new FormatSpecError(spec, 'fixed(...) needs wl= and fl=');
    const f: FixedFormat = {
      family: 'fixed',
      wl,
      fl,
      saturate: takeBool(spec, args, 'sat') ?? true,
      ties: takeEnum(spec, args, 'ties', ['even', 'away'] as const) ?? 'even',
    };
    noLeftovers(spec, args, 'fixed');
    return finish(spec, f);
  }
  if (head === 'float') return finish(spec, applyFloatArgs(spec, undefined, args));
  const named = NAMED_FORMATS[head];
  if (named) {
    if (args.size === 0) return finish(spec, named);
    if (named.family !== 'float') throw new FormatSpecError(spec, `${head} takes no arguments`);
    return finish(spec, applyFloatArgs(spec, named, args));
  }
  const em = /^e(\d+)m(\d+)$/.exec(head);
  if (em) {
    const e = Number(em[1]);
    const m = Number(em[2]);
    if (e < 1 || e > 8) throw new FormatSpecError(spec, `exponent bits e=${e} are outside 1..8`);
    return finish(spec, applyFloatArgs(spec, ieee(e, m), args));
  }
  if (/^p\d+$/.test(head) || head === 'fp8' || head === 'posit8' || head === 'posit16') {
    throw new FormatSpecError(
      spec,
      head === 'fp8'
        ? "'fp8' is ambiguous: say e4m3 / e5m2 (OCP) or e4m3q / e5m2q (the paper's QPyTorch FP8)"
        : 'a posit needs its exponent size too, e.g. p8e2 or p16e1',
    );
  }
  throw new FormatSpecError(spec, 'unknown format name');
}

/** Parses and checks the format family, for APIs that only make sense for one family. */
export function isPosit(f: Format): f is Format & PositFormat {
  return f.family === 'posit';
}
export function isFloat(f: Format): f is Format & FloatFormat {
  return f.family === 'float';
}
export function isFixed(f: Format): f is Format & FixedFormat {
  return f.family === 'fixed';
}
