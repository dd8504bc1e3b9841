// What FID needs from a network: features of a set of images, their dimension, and a checksum of its
// weights (the key of the cached reference statistics). Two networks implement it, built differently
// so that an ordering of recipes that holds under both does not rest on one network's quirks:
//   the LeNet-5 classifier (classifier.ts): 84 penultimate activations, trained on the digit labels;
//   the MLP autoencoder (autoencoder.ts): a 32-value code, trained without labels to reconstruct.

import type { DatasetName } from '../data/dataset-names.ts';
import type { ImageSet } from './classifier.ts';

export interface FeatureNetwork {
  /** A short name for reports ('LeNet-5', 'autoencoder'). */
  readonly label: string;
  /** SHA-256 of its weights. */
  readonly sha256: string;
  readonly featureDim: number;
  /** The data set it was trained on: its test images are the default FID reference. */
  readonly dataset: DatasetName;
  /** Shipped feature statistics of its data set's test images for these weights (evaluate.ts reads them when
   *  their key matches; null for a network trained in this process). */
  readonly statsFile: string | null;
  /** [n, featureDim] row-major. */
  features(set: ImageSet, batch?: number): Promise<Float32Array>;
  dispose(): void;
}
