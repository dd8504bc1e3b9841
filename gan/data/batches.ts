// Deterministic, resumable data order. Epoch e visits the examples in a permutation that depends only
// on (seed, e), so a run resumed at (epoch, position) sees exactly the batches an uninterrupted run
// would have seen, without storing any RNG state. Browser-safe.
//
// The permutation is a Fisher-Yates shuffle driven by a counter-based generator: the j-th draw of
// epoch e is a hash of (seed, e, j) (MurmurHash3's 32-bit finaliser, applied in a chain), two 32-bit
// words giving a 53-bit uniform number. There is no hidden state to save or restore.

/** MurmurHash3's fmix32 finaliser: a bijective 32-bit mixer with good avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of (seed, epoch, counter, lane). */
function hash4(seed: number, epoch: number, counter: number, lane: number): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ (epoch >>> 0));
  h = fmix32(h ^ (counter >>> 0));
  return fmix32(h ^ lane);
}

/** Uniform in [0, 1) with 53 random bits, from (seed, epoch, counter). */
function uniform53(seed: number, epoch: number, counter: number): number {
  const hi = hash4(seed, epoch, counter, 0x1) >>> 5; // 27 bits
  const lo = hash4(seed, epoch, counter, 0x2) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

/** The order in which epoch `epoch` visits examples 0..n-1. */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`epochPermutation: n=${n} is not a valid count`);
  if (!Number.isInteger(seed) || !Number.isInteger(epoch) || epoch < 0) {
    throw new Error(`epochPermutation: seed (${seed}) and epoch (${epoch}) must be integers, epoch >= 0`);
  }
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform53(seed, epoch, i) * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

export interface BatchOrderOptions {
  /** Number of examples. */
  n: number;
  batchSize: number;
  seed: number;
  /** Drop the last incomplete batch of each epoch (default true: every batch has batchSize examples). */
  dropLast?: boolean;
}

/** Where a run is in the data: batch `position` (0-based) of epoch `epoch`. */
export interface BatchCursor {
  epoch: number;
  position: number;
}

export interface Batch extends BatchCursor {
  /** Example indices of this batch. */
  indices: Uint32Array;
}

/** Seeded shuffled batches, epoch after epoch, resumable from any (epoch, position). */
export class BatchOrder {
  readonly n: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Batches in one epoch. */
  readonly batchesPerEpoch: number;
  private cached: { epoch: number; perm: Uint32Array } | undefined;

  constructor(options: BatchOrderOptions) {
    const { n, batchSize, seed } = options;
    this.dropLast = options.dropLast ?? true;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(n) || n < 1) throw new Error(`dataset size must be a positive integer, got ${n}`);
    if (this.dropLast && batchSize > n) {
      throw new Error(`batch size ${batchSize} is larger than the dataset (${n} examples): no full batch exists`);
    }
    this.n = n;
    this.batchSize = batchSize;
    this.seed = seed;
    this.batchesPerEpoch = this.dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }

  /** The cursor of global step `step` (0-based count of batches since the start). */
  cursorAt(step: number): BatchCursor {
    if (!Number.isInteger(step) || step < 0) throw new Error(`step must be a non-negative integer, got ${step}`);
    return { epoch: Math.floor(step / this.batchesPerEpoch), position: step % this.batchesPerEpoch };
  }

  /** The global step of a cursor (inverse of cursorAt). */
  stepOf(cursor: BatchCursor): number {
    return cursor.epoch * this.batchesPerEpoch + cursor.position;
  }

  /** The batch at a cursor. */
  batchAt(cursor: BatchCursor): Batch {
    const { epoch, position } = cursor;
    if (!Number.isInteger(position) || position < 0 || position >= this.batchesPerEpoch) {
      throw new Error(`batch position ${position} is outside 0..${this.batchesPerEpoch - 1}`);
    }
    if (this.cached?.epoch !== epoch) this.cached = { epoch, perm: epochPermutation(this.n, this.seed, epoch) };
    const start = position * this.batchSize;
    const end = Math.min(start + this.batchSize, this.n);
    return { epoch, position, indices: this.cached.perm.slice(start, end) };
  }

  /** Batches from `from` onwards, without end (the caller stops). */
  *batches(from: BatchCursor = { epoch: 0, position: 0 }): Generator<Batch> {
    for (let step = this.stepOf(from); ; step++) yield this.batchAt(this.cursorAt(step));
  }
}
