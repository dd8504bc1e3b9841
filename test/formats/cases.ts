// Test inputs shared by the format tests: float32/float64 neighbours, powers of two, special values,
// and a comparison loop that reports the first mismatches readably.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0]!;
}

export function f32FromBits(b: number): number {
  u32[0] = b;
  return f32[0]!;
}

export const isF32 = (x: number): boolean => Number.isNaN(x) || Object.is(Math.fround(x), x);

/** The next float32 strictly above (dir = 1) or below (dir = -1) x (x any double). */
export function f32Step(x: number, dir: 1 | -1): number {
  const f = Math.fround(x);
  if (dir > 0 ? f > x : f < x) return f;
  if (f === Infinity || f === -Infinity) return f32FromBits(f > 0 ? 0x7f7fffff : 0xff7fffff); // x beyond max
  if (f === 0) return dir * 2 ** -149;
  // Moving away from zero increments the magnitude bits, towards zero decrements them.
  return f32FromBits(f32Bits(f) + ((f > 0) === (dir > 0) ? 1 : -1));
}

/** The next double strictly above or below x. */
export function f64Step(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * 2 ** -1074;
  f64[0] = x;
  u64[0] = u64[0]! + ((x > 0) === (dir > 0) ? 1n : -1n);
  return f64[0]!;
}

/** x, its float32 neighbours and its float64 neighbours. */
export function withNeighbours(x: number): number[] {
  return [x, f32Step(x, 1), f32Step(x, -1), f64Step(x, 1), f64Step(x, -1)];
}

/** Powers of two 2^lo..2^hi. */
export function powersOfTwo(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = lo; k <= hi; k++) out.push(2 ** k);
  return out;
}

const F32_MAX = f32FromBits(0x7f7fffff);

/** Specials of the issue: +-0, +-inf, NaN, float32 subnormals, float32 and float64 extremes, every
 *  power of two of float32 (2^-149..2^127) and of float64 (2^-1074..2^1023), both signs. */
export function specialInputs(): number[] {
  const xs = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    F32_MAX,
    f32FromBits(0x00000001),
    f32FromBits(0x00000002),
    f32FromBits(0x00000003),
    f32FromBits(0x00400000),
    f32FromBits(0x007fffff),
    f32FromBits(0x00800000),
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    ...powersOfTwo(-1074, 1023),
  ];
  return [...xs, ...xs.map((x) => -x)];
}

/** Deterministic pseudo-random u32s (a 32-bit LCG; independent of the codec's generator). */
export function* lcg(seed: number): Generator<number> {
  let s = seed >>> 0;
  for (;;) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    yield s;
  }
}

/** Runs check(x) over the inputs and returns the first `limit` failures as strings (empty: all passed),
 *  so that a million-input loop costs one expect(). */
export function mismatches<T>(inputs: Iterable<T>, check: (x: T) => string | undefined, limit = 10): string[] {
  const out: string[] = [];
  for (const x of inputs) {
    const m = check(x);
    if (m !== undefined && out.push(m) >= limit) break;
  }
  return out;
}

export const hex = (c: number): string => '0x' + c.toString(16);
