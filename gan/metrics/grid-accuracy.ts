// How many digits of a conditional sample grid read as the digit they were generated for: what a user
// sees in samples/latest.png (row i asked for digit i), scored by posit-gan's LeNet (classifier.ts).

import type { MnistClassifier } from './classifier.ts';
import { labelAccuracy, type LabelAccuracy } from './evaluate.ts';

/** Images [n, 1, H, W] in [-1, 1] (28 x 28, or 32 x 32 cropped) against the labels they were asked for. */
export async function gridLabelAccuracy(
  classifier: MnistClassifier,
  images: Float32Array,
  labels: ArrayLike<number>,
  size: { height: number; width: number },
): Promise<LabelAccuracy> {
  const predicted = await classifier.predict({ n: labels.length, height: size.height, width: size.width, images });
  return labelAccuracy(predicted, labels);
}

/** The line `train` prints for the final grid. */
export function gridAccuracyLine(file: string, a: LabelAccuracy): string {
  return `${file}: ${Math.round(100 * a.accuracy)}% of the ${a.n} digits read as the requested digit (LeNet)`;
}
