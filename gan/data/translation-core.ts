// The browser-safe part of the translation tasks (translation.ts reads the data sets from disk):
// domains built from images already in memory, and the thin / bold split by measured stroke thickness
// (stroke.ts). The browser demo builds thin2bold from its packaged MNIST subset with these.

import { DATASET_TITLES, type DatasetName, type Split } from './dataset-names.ts';
import { imagesFromBytes, type MnistSet, type RawImages } from './mnist-core.ts';
import { strokeThicknesses } from './stroke.ts';
import { TASK_DESCRIPTIONS, type TranslationTask } from './translation-tasks.ts';

/** One side of a translation task. */
export interface Domain {
  /** 'mnist-thin', 'mnist-bold', 'mnist' or 'fashion'. */
  readonly name: string;
  /** The data set the images come from: its classifier gives the FID features and label accuracy. */
  readonly dataset: DatasetName;
  /** Images in [-1, 1] with their labels (digits or clothing classes). */
  readonly train: MnistSet;
  readonly test: MnistSet;
  /** Where each example sits in its source split (ascending). */
  readonly trainIndices: Uint32Array;
  readonly testIndices: Uint32Array;
}

export interface TranslationData {
  readonly task: TranslationTask;
  readonly description: string;
  /** The source domain. */
  readonly a: Domain;
  /** The target domain. */
  readonly b: Domain;
}

export function range(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

/** The thinnest and boldest thirds (floor(n / 3) examples each) of examples with these thicknesses,
 *  each as ascending example indices. Ties go to the earlier example. */
export function thicknessThirds(thickness: Float64Array): { thin: Uint32Array; bold: Uint32Array } {
  for (let i = 0; i < thickness.length; i++) if (!Number.isFinite(thickness[i]!)) throw new Error(`thicknessThirds: thickness ${thickness[i]} at ${i}`);
  const order = Uint32Array.from(thickness.keys()).sort((p, q) => thickness[p]! - thickness[q]! || p - q);
  const third = Math.floor(thickness.length / 3);
  if (third < 1) throw new Error(`thicknessThirds: ${thickness.length} examples cannot be split into thirds`);
  return { thin: order.slice(0, third).sort(), bold: order.slice(order.length - third).sort() };
}

/** The examples at `indices` of a raw set, in that order. */
export function selectRaw(raw: RawImages, indices: ArrayLike<number>): RawImages {
  const px = raw.height * raw.width;
  const pixels = new Uint8Array(indices.length * px);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!(Number.isInteger(i) && i >= 0 && i < raw.n)) throw new Error(`selectRaw: index ${i} is outside 0..${raw.n - 1}`);
    pixels.set(raw.pixels.subarray(i * px, (i + 1) * px), k * px);
    labels[k] = raw.labels[i]!;
  }
  return { n: indices.length, height: raw.height, width: raw.width, pixels, labels };
}

/** A domain of `dataset` made of the examples at the given indices of its (limited) splits. */
export function domain(name: string, dataset: DatasetName, train: RawImages, trainIndices: Uint32Array, test: RawImages, testIndices: Uint32Array, pad32?: boolean): Domain {
  const scale = (raw: RawImages, split: Split) =>
    imagesFromBytes(raw, { pad32, imagesSource: `${name} ${split} images (${DATASET_TITLES[dataset]})`, labelsSource: `${name} ${split} labels` });
  return {
    name,
    dataset,
    train: scale(selectRaw(train, trainIndices), 'train'),
    test: scale(selectRaw(test, testIndices), 'test'),
    trainIndices,
    testIndices,
  };
}

/** The thin and bold domains of MNIST images in memory: the thirds of `train` and of `test` by stroke
 *  thickness, each by its own measure. */
export function strokeDomainsFrom(train: RawImages, test: RawImages, pad32?: boolean): { thin: Domain; bold: Domain } {
  const tr = thicknessThirds(strokeThicknesses(train.pixels, train.n, train.height, train.width));
  const te = thicknessThirds(strokeThicknesses(test.pixels, test.n, test.height, test.width));
  return {
    thin: domain('mnist-thin', 'mnist', train, tr.thin, test, te.thin, pad32),
    bold: domain('mnist-bold', 'mnist', train, tr.bold, test, te.bold, pad32),
  };
}

/** thin2bold or bold2thin from MNIST images in memory. */
export function strokeTask(task: 'thin2bold' | 'bold2thin', train: RawImages, test: RawImages, pad32?: boolean): TranslationData {
  const { thin, bold } = strokeDomainsFrom(train, test, pad32);
  return task === 'thin2bold' ? { task, description: TASK_DESCRIPTIONS[task], a: thin, b: bold } : { task, description: TASK_DESCRIPTIONS[task], a: bold, b: thin };
}
