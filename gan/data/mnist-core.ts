// MNIST as tensors, from parsed IDX arrays. Browser-safe; gan/data/mnist.ts finds and reads the files
// in Node.
//
// Pixels: the IDX bytes p in 0..255 become x = p / 127.5 - 1 in [-1, 1] (0 -> -1 black background,
// 255 -> 1), the range of the generators' tanh output. Padding to 32 x 32 (for the conv models)
// adds 2 pixels of background (-1) on every side. Layout: Float32Array NCHW [n, 1, H, W].

import type { IdxArray } from './idx.ts';

export interface MnistSet {
  readonly n: number;
  /** 28, or 32 when padded. */
  readonly height: number;
  readonly width: number;
  /** [n, 1, height, width], values in [-1, 1]. */
  readonly images: Float32Array;
  /** [n], digits 0..9. */
  readonly labels: Uint8Array;
}

export interface MnistDecodeOptions {
  /** Pad 28 x 28 images to 32 x 32 with background (-1). */
  pad32?: boolean;
  /** Keep only the first `limit` examples. */
  limit?: number;
  /** The number of examples the split must have (60000 train, 10000 test); checked when given. */
  expectedCount?: number;
  /** Names used in error messages (the file paths). */
  imagesSource?: string;
  labelsSource?: string;
}

/** A dataset whose contents are wrong (shape, count, labels, values). */
export class DatasetContentError extends Error {
  override name = 'DatasetContentError';
}

/** Turns parsed MNIST image and label IDX arrays into a validated MnistSet. */
export function decodeMnist(images: IdxArray, labels: IdxArray, options: MnistDecodeOptions = {}): MnistSet {
  const imgSrc = options.imagesSource ?? 'MNIST images';
  const lblSrc = options.labelsSource ?? 'MNIST labels';
  const fail = (problem: string): never => {
    throw new DatasetContentError(problem);
  };
  if (images.dims.length !== 3) fail(`${imgSrc}: expected 3 dimensions [count, 28, 28], found [${images.dims.join(', ')}]`);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (rows !== 28 || cols !== 28) fail(`${imgSrc}: expected 28 x 28 images, found ${rows} x ${cols}`);
  if (labels.dims.length !== 1) fail(`${lblSrc}: expected 1 dimension [count], found [${labels.dims.join(', ')}]`);
  if (labels.dims[0] !== count) fail(`${imgSrc} has ${count} images but ${lblSrc} has ${labels.dims[0]} labels`);
  if (options.expectedCount !== undefined && count !== options.expectedCount) {
    fail(`${imgSrc}: expected ${options.expectedCount} images, found ${count} (wrong or damaged file?)`);
  }
  const limit = options.limit ?? count;
  if (!Number.isInteger(limit) || limit < 1 || limit > count) fail(`limit ${limit} must be an integer in 1..${count}`);
  const n = limit;

  const lbl = labels.data.slice(0, n);
  for (let i = 0; i < n; i++) if (lbl[i]! > 9) fail(`${lblSrc}: label ${lbl[i]} at index ${i} is not a digit 0..9`);

  const pad = options.pad32 ? 2 : 0;
  const h = rows + 2 * pad;
  const w = cols + 2 * pad;
  const out = new Float32Array(n * h * w).fill(-1);
  // 256-entry table: the scaling is done once per byte value, in float64, then rounded to f32.
  const table = new Float32Array(256);
  for (let p = 0; p < 256; p++) table[p] = p / 127.5 - 1;
  const src = images.data;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < rows; r++) {
      const s = (i * rows + r) * cols;
      const d = (i * h + r + pad) * w + pad;
      for (let c = 0; c < cols; c++) out[d + c] = table[src[s + c]!]!;
    }
  }
  // The table makes NaN impossible; this guards the invariant that training data is finite.
  for (let i = 0; i < out.length; i++) {
    if (!(out[i]! >= -1 && out[i]! <= 1)) fail(`${imgSrc}: pixel ${i} scaled to ${out[i]}, outside [-1, 1]`);
  }
  return { n, height: h, width: w, images: out, labels: lbl };
}

/** Copies the examples at `indices` into batch arrays [B, 1, H, W] and [B] (allocated if not given). */
export function gatherBatch(
  set: MnistSet,
  indices: ArrayLike<number>,
  images = new Float32Array(indices.length * set.height * set.width),
  labels = new Uint8Array(indices.length),
): { images: Float32Array; labels: Uint8Array } {
  const size = set.height * set.width;
  if (images.length < indices.length * size || labels.length < indices.length) {
    throw new Error(`gatherBatch: output arrays hold fewer than ${indices.length} examples`);
  }
  for (let b = 0; b < indices.length; b++) {
    const i = indices[b]!;
    if (!(i >= 0 && i < set.n)) throw new Error(`gatherBatch: index ${i} is outside 0..${set.n - 1}`);
    images.set(set.images.subarray(i * size, (i + 1) * size), b * size);
    labels[b] = set.labels[i]!;
  }
  return { images, labels };
}
