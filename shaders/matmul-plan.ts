// Shape-aware planning of a GEMM (matmul.ts): which tile configuration, whether to split K over
// workgroups, and, for exact accumulation, how wide the quire must be. Pure: the adapter enters as
// PlanOptions (software or not, the parallelism it wants).
//
// Tile configurations (BM x BN outputs per workgroup, TM x TN per thread, K slices of BK = 8 unless said):
//   large   128 x 128, 8 x 8 per thread, 256 threads: what a big GPU needs for peak throughput (64
//           FMAs per 16 shared-memory reads, 16 KiB of double-buffered tiles, vec4 loads)
//   large16 the large tile with K slices of 16: half the barriers and stores per multiply, 32 KiB of
//           tiles (only for operands without 8-bit code tables, whose 1 KiB each would not fit the
//           32 KiB WebGPU guarantees); a candidate for big products, not chosen automatically until
//           measured on a GPU (bench speed reports it beside the planned tile)
//   medium   64 x 64,  4 x 4 per thread, 256 threads
//   small    32 x 32,  4 x 4 per thread,  64 threads
//   rows      8 x 128, 2 x 4 per thread, 128 threads: few output rows (a linear layer at batch 1..8,
//           a convolution with few output channels)
//   cols    128 x 8,   4 x 2 per thread: the mirror image, for few output columns
//   quire    32 x 32,  4 x 4 quires per thread, 64 threads (integer work per output dwarfs the
//           loads, so few threads with many quires; fewer barriers per multiply on lavapipe)
//   direct, direct_quire
//            32 x 32,  4 x 4 per thread, 64 threads, no workgroup-memory staging: each thread reads
//           its own operands (shaders/matmul.ts, staging 'direct')
// BK stays at 8 in the planned tiles: deeper slices did not run faster on lavapipe and doubled compile
// time there, and 8 keeps the large tile's double-buffered tiles within 16 KiB. Every staged and
// direct tile accumulates each output's products in K order, so the tile never changes a bit (only
// a K split does).
//
// Choice: on a software adapter (lavapipe), quires use `direct_quire` and outputs below 64 x 64 use
// `direct`. There workgroup memory is ordinary memory and a staged kernel takes 3-5x longer to
// compile (1.3-2.7 s of CPU against 0.4-0.7 s), which only a bigger product repays: staged tiles ran
// 1.5x faster from 128 x 128 on (e.g. `large` 2.7 against `direct` 1.8 GFLOP/s at 256^3 on two
// cores, and packed operands, decoded once per tile instead of once per thread, about 2x), while a
// quire's integer work dwarfs its loads, and `direct_quire` was the faster one (0.4 against at most
// 0.3 GFLOP/s). Otherwise an output with at most 8 rows (columns) and more columns (rows) uses `rows`
// (`cols`). Otherwise the largest square tile whose padding waste (padded area / output area) is at
// most 1.25 and that still gives the device `parallelism` workgroups; when none does, the one with the
// least waste. If the output then has fewer workgroups than the device wants and K is long, K is split
// into slices of at least MIN_K_PER_SPLIT (split-K: the slices write partial sums that a second kernel
// adds before the epilogue). Quire accumulation never splits K (that would round partial sums).
// `tile` forces a configuration (benchmarks, and tests of the staged kernels on lavapipe).

import { formatValues } from '../formats/codec.ts';
import type { Format } from '../formats/descriptor.ts';
import { QUIRE_MAX_FRAC, QUIRE_MAX_POS, type QuireOperand } from './matmul-quire.ts';
import type { TileConfig } from './matmul.ts';

export const TILES = {
  large: { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
  large16: { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8 },
  medium: { bm: 64, bn: 64, bk: 8, tm: 4, tn: 4 },
  small: { bm: 32, bn: 32, bk: 8, tm: 4, tn: 4 },
  rows: { bm: 8, bn: 128, bk: 8, tm: 2, tn: 4 },
  cols: { bm: 128, bn: 8, bk: 8, tm: 4, tn: 2 },
  quire: { bm: 32, bn: 32, bk: 8, tm: 4, tn: 4 },
  direct: { bm: 32, bn: 32, bk: 8, tm: 4, tn: 4, staging: 'direct' },
  direct_quire: { bm: 32, bn: 32, bk: 8, tm: 4, tn: 4, staging: 'direct' },
} as const satisfies Record<string, TileConfig>;
export type TileName = keyof typeof TILES;

/** Shortest K range a split-K slice gets (shorter slices cost more in partial traffic than they gain). */
export const MIN_K_PER_SPLIT = 256;
/** Software adapters read operands directly (no staging) below this many outputs (see the header). */
export const SOFTWARE_DIRECT_BELOW = 64 * 64;
const QUIRE_TILES: readonly TileName[] = ['quire', 'direct_quire'];
const MAX_WASTE = 1.25;
const SQUARE: readonly TileName[] = ['large', 'medium', 'small'];

export interface GemmShape {
  m: number;
  n: number;
  k: number;
  batch: number;
}

export interface GemmPlan {
  tile: TileName;
  config: TileConfig;
  splits: number;
  kPerSplit: number;
}

function workgroups(s: GemmShape, t: TileConfig): number {
  return Math.ceil(s.m / t.bm) * Math.ceil(s.n / t.bn) * s.batch;
}

function waste(s: GemmShape, t: TileConfig): number {
  return (Math.ceil(s.m / t.bm) * t.bm * Math.ceil(s.n / t.bn) * t.bn) / Math.max(1, s.m * s.n);
}

export interface PlanOptions {
  quire: boolean;
  /** Workgroups that keep the device busy (engine/ops/gemm.ts estimates them per adapter). */
  parallelism: number;
  /** A software adapter (lavapipe): direct staging below SOFTWARE_DIRECT_BELOW outputs, and for quires. */
  software: boolean;
  tile?: TileName | undefined;
}

/** The tile and K split for a GEMM of this shape (the rules in the header). */
export function planGemm(s: GemmShape, o: PlanOptions): GemmPlan {
  if (o.tile && QUIRE_TILES.includes(o.tile) !== o.quire) {
    throw new Error(o.quire ? `tile '${o.tile}' cannot hold quires; use 'quire' or 'direct_quire'` : `tile '${o.tile}' is for accumulate: 'quire'`);
  }
  if (o.quire) {
    const tile = o.tile ?? (o.software ? 'direct_quire' : 'quire');
    return { tile, config: TILES[tile], splits: 1, kPerSplit: Math.max(1, s.k) };
  }
  let tile: TileName;
  if (o.tile) tile = o.tile;
  else if (o.software && s.m * s.n * s.batch < SOFTWARE_DIRECT_BELOW) tile = 'direct';
  else if (s.m <= 8 && s.n > 8) tile = 'rows';
  else if (s.n <= 8 && s.m > 8) tile = 'cols';
  else {
    // A software adapter runs a big tile per core more efficiently than several small ones (fewer
    // barriers per multiply), so there only the waste counts.
    const fits = SQUARE.filter((t) => waste(s, TILES[t]) <= MAX_WASTE && (o.software || workgroups(s, TILES[t]) >= o.parallelism));
    tile = fits[0] ?? [...SQUARE].sort((x, y) => waste(s, TILES[x]) - waste(s, TILES[y]))[0]!;
  }
  const config = TILES[tile];
  const wg = workgroups(s, config);
  let splits = 1;
  if (wg < o.parallelism) splits = Math.max(1, Math.min(Math.ceil(o.parallelism / wg), Math.floor(s.k / MIN_K_PER_SPLIT)));
  const kPerSplit = splits > 1 ? Math.ceil(s.k / splits / config.bk) * config.bk : Math.max(1, s.k);
  if (splits > 1) splits = Math.ceil(s.k / kPerSplit);
  return { tile, config, splits, kPerSplit };
}

/** A tile forced for an op, as its backward GEMMs (f32 accumulation) may use it: not a quire tile. */
export function backwardTile(tile: TileName | undefined): TileName | undefined {
  return tile && QUIRE_TILES.includes(tile) ? undefined : tile;
}

// ---- quire sizing -------------------------------------------------------------------------------

/** What the quire needs to know about one operand's values (its lattice, times 2^-shift). */
export function quireOperand(f: Format, shift: number, what: string): QuireOperand & { msb: number } {
  if (f.bits > 16) throw new Error(`${what}: quire accumulation needs a format of at most 16 bits, got ${f.name}`);
  let frac = 0;
  let lsb = Infinity;
  let msb = -Infinity;
  let minMsb = Infinity;
  for (const v of formatValues(f)) {
    if (!Number.isFinite(v) || v === 0) continue;
    const a = Math.abs(v);
    const hi = Math.floor(Math.log2(a));
    // Lowest set bit: a / 2^lo is an integer.
    let lo = hi;
    while (!Number.isInteger(a / 2 ** lo)) lo--;
    frac = Math.max(frac, hi - lo);
    lsb = Math.min(lsb, lo - shift);
    msb = Math.max(msb, hi - shift);
    minMsb = Math.min(minMsb, hi - shift);
  }
  if (msb === -Infinity) throw new Error(`${what}: ${f.name} has no nonzero finite values`);
  if (frac > QUIRE_MAX_FRAC) throw new Error(`${what}: ${f.name} values have ${frac} fraction bits; the quire takes at most ${QUIRE_MAX_FRAC}`);
  if (minMsb < -126 || msb > 127) {
    throw new Error(`${what}: ${f.name} values times 2^${-shift} leave float32's normal range (2^${minMsb} .. 2^${msb}); the quire reads them as float32`);
  }
  const maxPos = msb - frac - lsb;
  if (maxPos > QUIRE_MAX_POS) throw new Error(`${what}: ${f.name} spans too many binades for the quire`);
  return { frac, lsb, maxPos, msb };
}

/** Limbs of a quire that holds any sum of `k` products of the two operands exactly (two's complement). */
export function quireLimbs(a: { lsb: number; msb: number }, b: { lsb: number; msb: number }, k: number): { limbs: number; lsb: number } {
  // |product| < 2^(msbA + 1) * 2^(msbB + 1); a sum of k of them < 2^(msbA + msbB + 2 + ceil(log2 k)).
  const top = a.msb + b.msb + 2 + Math.ceil(Math.log2(Math.max(2, k)));
  const lsb = a.lsb + b.lsb;
  return { limbs: Math.ceil((top - lsb + 1) / 32), lsb };
}

/** Whether rounding a value to float32 with round-to-odd and then to `f` (nearest) equals one
 *  rounding to `f`: every rounding boundary of `f` has at most 23 significant bits. */
export function roundsThroughOdd(f: Format): boolean {
  switch (f.family) {
    case 'posit':
      return f.n - 1 - f.es <= 23; // boundaries are (n+1)-bit posits
    case 'float':
      return f.m + 2 <= 23; // midpoints of (m+1)-bit significands
    case 'fixed':
      return f.saturate && f.wl + 1 <= 23;
  }
}
