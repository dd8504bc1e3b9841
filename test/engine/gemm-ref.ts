// Float64 and exact (BigInt) references for the GEMM-based ops (matmul, conv), and the tolerance
// arithmetic the tests share.
//
// f32 accumulation bound. The kernel forms each product a*b of float32 values in float32 (one
// rounding, relative error <= u = 2^-24) and adds them one by one (or in split-K slices whose partial
// sums are then added): whatever the order, the computed sum s' of K products satisfies
//   |s' - s| <= gamma_K * sum |a_k b_k|,    gamma_K = K u / (1 - K u)
// (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5 and section 4.2; an FMA
// only removes roundings). The exponent-bias scale 2^-t is exact. A bias add adds one rounding of the
// result: u |y|. The references below return the exact value (float64 products of float32 values are
// exact; the float64 sum's own error, K 2^-53 sum|ab|, is added to the bound) and sum |a_k b_k|.

import { decode, quantize } from '../../formats/codec.ts';
import type { Format } from '../../formats/descriptor.ts';

export const U32 = 2 ** -24;

/** The f32 accumulation bound for K products with sum |a b| = mag (plus float64's own error). */
export function accBound(K: number, mag: number): number {
  const gamma = (K * U32) / (1 - K * U32);
  return (gamma + K * 2 ** -53) * mag;
}

export interface Ref {
  y: Float64Array;
  /** sum |a_k b_k| per output. */
  mag: Float64Array;
}

/** C[z] = op(A[z]) op(B[z]) for row-major A [batch, M, K] (or [batch, K, M] when ta) and B
 *  [batchB, K, N] (or [batchB, N, K]); batchB 1 means B is shared. */
export function refMatmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  d: { batch: number; m: number; n: number; k: number; ta?: boolean; tb?: boolean; sharedB?: boolean },
): Ref {
  const { batch, m: M, n: N, k: K } = d;
  const y = new Float64Array(batch * M * N);
  const mag = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ao = z * M * K;
    const bo = d.sharedB ? 0 : z * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        let g = 0;
        for (let k = 0; k < K; k++) {
          const p = a[ao + (d.ta ? k * M + i : i * K + k)]! * b[bo + (d.tb ? j * K + k : k * N + j)]!;
          s += p;
          g += Math.abs(p);
        }
        y[(z * M + i) * N + j] = s;
        mag[(z * M + i) * N + j] = g;
      }
    }
  }
  return { y, mag };
}

/** Conv geometry of a reference convolution (the same meaning as the op's options). */
export interface ConvDims {
  n: number;
  ci: number;
  hi: number;
  wi: number;
  co: number;
  kh: number;
  kw: number;
  stride: [number, number];
  pad: [number, number, number, number];
  dil: [number, number];
}

export function convOutSize(d: ConvDims): [number, number] {
  return [
    Math.floor((d.hi + d.pad[0] + d.pad[1] - d.dil[0] * (d.kh - 1) - 1) / d.stride[0]) + 1,
    Math.floor((d.wi + d.pad[2] + d.pad[3] - d.dil[1] * (d.kw - 1) - 1) / d.stride[1]) + 1,
  ];
}

/** y[n, o, oh, ow] = sum x[n, c, oh*s - p + kh*d, ...] * w[o, c, kh, kw] (padding reads zeros). */
export function refConv2d(x: ArrayLike<number>, w: ArrayLike<number>, d: ConvDims): Ref {
  const [Ho, Wo] = convOutSize(d);
  const y = new Float64Array(d.n * d.co * Ho * Wo);
  const mag = new Float64Array(y.length);
  for (let n = 0; n < d.n; n++)
    for (let o = 0; o < d.co; o++)
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++) {
          let s = 0;
          let g = 0;
          for (let c = 0; c < d.ci; c++)
            for (let kh = 0; kh < d.kh; kh++)
              for (let kw = 0; kw < d.kw; kw++) {
                const h = oh * d.stride[0] - d.pad[0] + kh * d.dil[0];
                const v = ow * d.stride[1] - d.pad[2] + kw * d.dil[1];
                if (h < 0 || v < 0 || h >= d.hi || v >= d.wi) continue;
                const p = x[((n * d.ci + c) * d.hi + h) * d.wi + v]! * w[((o * d.ci + c) * d.kh + kh) * d.kw + kw]!;
                s += p;
                g += Math.abs(p);
              }
          const i = ((n * d.co + o) * Ho + oh) * Wo + ow;
          y[i] = s;
          mag[i] = g;
        }
  return { y, mag };
}

/** The transposed convolution as a scatter: x [n, ci, hi, wi], w [ci, co, kh, kw], output
 *  [n, co, OH, OW] with OH = (hi - 1) s - pt - pb + d (kh - 1) + op + 1. */
export function refConvTranspose2d(x: ArrayLike<number>, w: ArrayLike<number>, d: ConvDims, outPad: [number, number]): Ref & { oh: number; ow: number } {
  const OH = (d.hi - 1) * d.stride[0] - d.pad[0] - d.pad[1] + d.dil[0] * (d.kh - 1) + outPad[0] + 1;
  const OW = (d.wi - 1) * d.stride[1] - d.pad[2] - d.pad[3] + d.dil[1] * (d.kw - 1) + outPad[1] + 1;
  const y = new Float64Array(d.n * d.co * OH * OW);
  const mag = new Float64Array(y.length);
  for (let n = 0; n < d.n; n++)
    for (let c = 0; c < d.ci; c++)
      for (let h = 0; h < d.hi; h++)
        for (let v = 0; v < d.wi; v++)
          for (let o = 0; o < d.co; o++)
            for (let kh = 0; kh < d.kh; kh++)
              for (let kw = 0; kw < d.kw; kw++) {
                const oh = h * d.stride[0] - d.pad[0] + kh * d.dil[0];
                const ow = v * d.stride[1] - d.pad[2] + kw * d.dil[1];
                if (oh < 0 || ow < 0 || oh >= OH || ow >= OW) continue;
                const p = x[((n * d.ci + c) * d.hi + h) * d.wi + v]! * w[((c * d.co + o) * d.kh + kh) * d.kw + kw]!;
                const i = ((n * d.co + o) * OH + oh) * OW + ow;
                y[i]! += p;
                mag[i]! += Math.abs(p);
              }
  return { y, mag, oh: OH, ow: OW };
}

/** Checks every element against `want` within bound[i] (a per-element absolute bound). */
export function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number, what: string): void {
  for (let i = 0; i < want.length; i++) {
    const e = bound(i);
    if (!(Math.abs(got[i]! - want[i]!) <= e)) {
      throw new Error(`${what}: element ${i} is ${got[i]} but the reference is ${want[i]} (bound ${e})`);
    }
  }
}

/**
 * A quantized output computed from an f32 pipeline whose pre-quantization value lies within
 * [ref - e, ref + e]: rounding is monotone, so the GPU's value must lie in [Q(ref - e), Q(ref + e)]
 * and be on the format's lattice. Where no rounding boundary falls inside the interval this pins the
 * result exactly. Returns how many elements equal Q(ref) (the rest sit next to a boundary).
 */
export function expectQuantizedWithin(got: ArrayLike<number>, ref: ArrayLike<number>, e: (i: number) => number, f: Format, what: string): number {
  let exact = 0;
  for (let i = 0; i < ref.length; i++) {
    const g = got[i]!;
    const lo = quantize(f, ref[i]! - e(i));
    const hi = quantize(f, ref[i]! + e(i));
    if (!(g >= lo && g <= hi) || quantize(f, g) !== g) {
      throw new Error(`${what}: element ${i} is ${g}; the reference ${ref[i]} +- ${e(i)} quantizes to [${lo}, ${hi}] in ${f.name}`);
    }
    if (g === quantize(f, ref[i]!)) exact++;
  }
  return exact;
}

// ---- exact arithmetic --------------------------------------------------------------------------

/** v = m * 2^e with integer m (BigInt) for a finite double. */
export function toDyadic(v: number): { m: bigint; e: number } {
  if (v === 0) return { m: 0n, e: 0 };
  let e = 0;
  let x = v;
  while (!Number.isInteger(x)) {
    x *= 2;
    e--;
  }
  return { m: BigInt(x), e };
}

/** The double nearest to m * 2^e rounded to odd (53 bits): a following round-to-nearest to any
 *  precision of at most 51 bits is then the correct rounding of the exact value. */
export function roundOddToDouble(m: bigint, e: number): number {
  if (m === 0n) return 0;
  const neg = m < 0n;
  let a = neg ? -m : m;
  const bits = a.toString(2).length;
  if (bits > 53) {
    const sh = BigInt(bits - 53);
    const q = a >> sh;
    a = (q << sh) === a ? q : q | 1n;
    e += bits - 53;
  }
  const v = Number(a) * 2 ** e;
  return neg ? -v : v;
}

/** Exact sum of products of doubles: each product is m_a m_b 2^(e_a + e_b), all brought to the lowest exponent. */
export function exactDot(pairs: [number, number][]): { m: bigint; e: number } {
  const terms = pairs.map(([x, y]) => {
    const a = toDyadic(x);
    const b = toDyadic(y);
    return { m: a.m * b.m, e: a.e + b.e };
  });
  const e = Math.min(0, ...terms.map((t) => t.e));
  let m = 0n;
  for (const t of terms) m += t.m << BigInt(t.e - e);
  return { m, e };
}

/** Random codes of a format, skipping NaN/NaR and (optionally) values outside [-max, max]. */
export function randomCodes(f: Format, count: number, rand: () => number, maxAbs = Infinity): number[] {
  const out: number[] = [];
  while (out.length < count) {
    const c = Math.floor(rand() * 2 ** f.bits);
    const v = decode(f, c);
    if (Number.isFinite(v) && Math.abs(v) <= maxAbs) out.push(c);
  }
  return out;
}
