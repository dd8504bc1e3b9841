// MNIST as tensors, from parsed IDX arrays. Browser-safe; gan/data/mnist.ts finds and reads the files
// in Node. The scaling (imagesFromBytes) is shared by every 28 x 28 data set: Fashion-MNIST
// (fashion-mnist-core.ts) and packed data (packed.ts) become the same MnistSet.
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
  /** [n], classes 0..9 (MNIST: the digit; Fashion-MNIST: the clothing class). */
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

/** Labelled 8-bit images as they are stored: the common form of MNIST, Fashion-MNIST and packed data
 *  before scaling. Pixels [n, height, width] row-major, 0 = background; labels [n], classes 0..9. */
export interface RawImages {
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

/** Checks parsed MNIST image and label IDX arrays and returns them as RawImages (no copy). */
export function mnistRawFromIdx(images: IdxArray, labels: IdxArray, options: Omit<MnistDecodeOptions, 'pad32' | 'limit'> = {}): RawImages {
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
  return { n: count, height: rows, width: cols, pixels: images.data, labels: labels.data };
}

/** Turns parsed MNIST image and label IDX arrays into a validated MnistSet. */
export function decodeMnist(images: IdxArray, labels: IdxArray, options: MnistDecodeOptions = {}): MnistSet {
  const raw = mnistRawFromIdx(images, labels, options);
  return imagesFromBytes(raw, { pad32: options.pad32, limit: options.limit, imagesSource: options.imagesSource, labelsSource: options.labelsSource });
}

export interface ScaleOptions {
  /** Pad 28 x 28 images to 32 x 32 with background (-1). */
  pad32?: boolean;
  /** Keep only the first `limit` examples. */
  limit?: number;
  /** Names used in error messages. */
  imagesSource?: string;
  labelsSource?: string;
}

/** Scales RawImages to an MnistSet in [-1, 1] (optionally padded to 32 x 32), checking the labels. */
export function imagesFromBytes(raw: RawImages, options: ScaleOptions = {}): MnistSet {
  const imgSrc = options.imagesSource ?? 'images';
  const lblSrc = options.labelsSource ?? 'labels';
  const fail = (problem: string): never => {
    throw new DatasetContentError(problem);
  };
  const { n: count, height: rows, width: cols } = raw;
  if (raw.pixels.length !== count * rows * cols) fail(`${imgSrc}: ${raw.pixels.length} pixels is not ${count} images of ${rows} x ${cols}`);
  if (raw.labels.length !== count) fail(`${imgSrc} has ${count} images but ${lblSrc} has ${raw.labels.length} labels`);
  const limit = options.limit ?? count;
  if (!Number.isInteger(limit) || limit < 1 || limit > count) fail(`limit ${limit} must be an integer in 1..${count}`);
  const n = limit;

  const lbl = raw.labels.slice(0, n);
  for (let i = 0; i < n; i++) if (lbl[i]! > 9) fail(`${lblSrc}: label ${lbl[i]} at index ${i} is not a class 0..9`);

  const pad = options.pad32 ? 2 : 0;
  if (pad && (rows !== 28 || cols !== 28)) fail(`${imgSrc}: padding to 32 x 32 needs 28 x 28 images, found ${rows} x ${cols}`);
  const h = rows + 2 * pad;
  const w = cols + 2 * pad;
  const out = new Float32Array(n * h * w).fill(-1);
  // 256-entry table: the scaling is done once per byte value, in float64, then rounded to f32.
  const table = new Float32Array(256);
  for (let p = 0; p < 256; p++) table[p] = p / 127.5 - 1;
  const src = raw.pixels;
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
