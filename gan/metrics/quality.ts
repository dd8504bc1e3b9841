// PSNR and SSIM over a set of generated images against reference images (deployment evaluation:
// each recipe's generator outputs against the fp32 generator's, docs/method.md section 7.2). Both sets are
// generator outputs in [-1, 1], NCHW, mapped to the 8-bit pixels they would be saved as first.
// Browser-safe.

import { toPixels8 } from './pixels.ts';
import { psnr8 } from './psnr.ts';
import { ssim8 } from './ssim.ts';

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

export interface QualitySummary {
  /** Number of image pairs. */
  n: number;
  /** Mean PSNR (dB) over the pairs that differ; null when every pair is identical. */
  meanPsnr: number | null;
  /** Pairs with identical 8-bit pixels (infinite PSNR), counted apart from the mean. */
  identical: number;
  /** Mean SSIM over all pairs (identical pairs count as 1). */
  meanSsim: number;
  /** Per-image values (PSNR Infinity for identical pairs). */
  psnr: number[];
  ssim: number[];
}

/** Compares n test images with n reference images, both [n, C, H, W] in [-1, 1]. */
export function compareImages(reference: ArrayLike<number>, test: ArrayLike<number>, n: number, shape: ImageShape): QualitySummary {
  const size = shape.channels * shape.height * shape.width;
  if (reference.length !== n * size || test.length !== n * size) {
    throw new Error(
      `compareImages: ${reference.length} reference and ${test.length} test values for ${n} images of ` +
        `${shape.channels} x ${shape.height} x ${shape.width}`,
    );
  }
  if (n < 1) throw new Error('compareImages: no images');
  const ref8 = toPixels8(reference);
  const test8 = toPixels8(test);
  const psnr: number[] = [];
  const ssim: number[] = [];
  let psnrSum = 0;
  let identical = 0;
  for (let i = 0; i < n; i++) {
    const a = ref8.subarray(i * size, (i + 1) * size);
    const b = test8.subarray(i * size, (i + 1) * size);
    const p = psnr8(a, b);
    psnr.push(p);
    if (p === Infinity) identical++;
    else psnrSum += p;
    ssim.push(ssim8(a, b, shape.channels, shape.height, shape.width));
  }
  return {
    n,
    meanPsnr: identical === n ? null : psnrSum / (n - identical),
    identical,
    meanSsim: ssim.reduce((s, v) => s + v, 0) / n,
    psnr,
    ssim,
  };
}
