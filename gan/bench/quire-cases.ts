// Operand codes for checking an exact-quire GEMM against another (the sliced quire against the
// per-product one): random data and the adversarial cases an exact accumulator must survive. Shared
// by the lavapipe test (test/engine/quire-sliced.test.ts, small sizes) and `posit-gan bench quire
// --check` on a GPU (larger sizes, every method the device has).

import { decode, encode } from '../../formats/codec.ts';
import type { Format } from '../../formats/descriptor.ts';

export const QUIRE_CASES = [
  // Finite codes drawn uniformly: rows span the whole format (minpos .. maxpos), the widest case.
  'random',
  // Codes with |value| <= 1, as `bench quire` times (rows span minpos .. 1).
  'unit',
  // Normal(0, 1) values rounded to the format: typical activations and weights.
  'gaussian',
  // Values in [0.5, 4): a narrow exponent range (few moduli).
  'narrow',
  // Huge terms that cancel exactly, leaving tiny ones: f32 accumulation loses them.
  'cancellation',
  // Every element +-maxpos: sums of maxpos x maxpos products (the top of the quire).
  'maxpos',
  // Every element +-minpos: products at the quire's lowest bit.
  'minpos',
  // maxpos and minpos in every row and column: the widest integers, the most moduli.
  'extremes',
  // +maxpos everywhere but one minpos per row of A and column of B: the widest integers and sums
  // as large as they get (K maxpos^2), close to the bound that sizes the moduli.
  'saturated',
  // Random codes with NaR sprinkled in (the row's and the column's outputs become NaN).
  'nar',
  // Random codes with all-zero rows and columns and many zeros.
  'zeros',
] as const;
export type QuireCase = (typeof QUIRE_CASES)[number];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Codes of A [m, k] and B [k, n] (row-major) for a case. */
export function quireCaseCodes(f: Format, c: QuireCase, m: number, n: number, k: number, seed: number): { a: Uint32Array; b: Uint32Array } {
  const r = rng(seed * 7919 + QUIRE_CASES.indexOf(c) + 1);
  const nar = 2 ** (f.bits - 1);
  const neg = (code: number) => (2 ** f.bits - code) % 2 ** f.bits;
  const sign = (code: number) => (r() < 0.5 ? code : neg(code));
  const finite: number[] = [];
  for (let code = 1; code < 2 ** f.bits; code++) if (code !== nar) finite.push(code);
  const maxpos = encode(f, 1e300);
  const minpos = encode(f, 1e-300);
  const unit = finite.filter((code) => Math.abs(decode(f, code)) <= 1);
  const pick = (list: number[]) => list[Math.floor(r() * list.length)]!;
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const gen = (rows: number, cols: number, rowMajorOfA: boolean): Uint32Array => {
    const out = new Uint32Array(rows * cols);
    // For 'zeros', whole rows of A / columns of B are zero.
    const zeroLine = new Set<number>();
    if (c === 'zeros') for (let i = 0; i < (rowMajorOfA ? rows : cols); i++) if (r() < 0.25) zeroLine.add(i);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        const line = rowMajorOfA ? i : j;
        let code: number;
        switch (c) {
          case 'random':
            code = pick(finite);
            break;
          case 'unit':
            code = sign(pick(unit));
            break;
          case 'gaussian':
            code = encode(f, normal());
            break;
          case 'narrow':
            code = sign(encode(f, 0.5 + 3.5 * r()));
            break;
          case 'cancellation': {
            // Along k, A: pairs (x, -x) of large values, and small values at k = 6, 7 mod 8; B:
            // pairs of equal values, so each pair of products cancels exactly (filled in below).
            const kIdx = rowMajorOfA ? j : i;
            if (kIdx % 8 >= 6) code = sign(encode(f, 2 ** -(10 + Math.floor(r() * 12))));
            else if (rowMajorOfA) code = sign(encode(f, 2 ** (10 + Math.floor(r() * 12))));
            else code = sign(encode(f, 0.5 + 3.5 * r()));
            break;
          }
          case 'maxpos':
            code = sign(maxpos);
            break;
          case 'minpos':
            code = sign(minpos);
            break;
          case 'extremes':
            code = sign(r() < 0.5 ? maxpos : minpos);
            break;
          case 'saturated':
            code = (rowMajorOfA ? j : i) === line % (rowMajorOfA ? cols : rows) ? minpos : maxpos;
            break;
          case 'nar':
            code = r() < 0.01 ? nar : pick(finite);
            break;
          case 'zeros':
            code = zeroLine.has(line) || r() < 0.5 ? 0 : pick(finite);
            break;
        }
        out[i * cols + j] = code;
      }
    if (c === 'cancellation') {
      // The second element of each pair: A's negates the first, B's repeats it.
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) {
          const kIdx = rowMajorOfA ? j : i;
          if (kIdx % 8 < 6 && kIdx % 2 === 1) {
            const prev = rowMajorOfA ? out[i * cols + j - 1]! : out[(i - 1) * cols + j]!;
            out[i * cols + j] = rowMajorOfA ? neg(prev) : prev;
          }
        }
    }
    return out;
  };
  return { a: gen(m, k, true), b: gen(k, n, false) };
}
