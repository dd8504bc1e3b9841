// The score `train` prints for its final sample grid: real MNIST digits laid out as the grid is (row i
// holds ten images of digit i) read as their row's digit almost always; the same images asked for the
// next digit almost never. One 100-image classifier pass per case.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { loadMnist } from '../../gan/data/mnist.ts';
import { MnistClassifier } from '../../gan/metrics/classifier.ts';
import { gridAccuracyLine, gridLabelAccuracy } from '../../gan/metrics/grid-accuracy.ts';
import { openTestRuntime } from '../engine/harness.ts';

let gpu: Gpu;
let classifier: MnistClassifier;
const images = new Float32Array(100 * 28 * 28);
const rows = Uint32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10));

beforeAll(async () => {
  const { gpu: g, rt } = await openTestRuntime();
  gpu = g;
  classifier = MnistClassifier.load(rt);
  // The first ten test images of each digit, digit i in row i.
  const test = loadMnist('test');
  const px = 28 * 28;
  const filled = new Array<number>(10).fill(0);
  for (let k = 0; k < test.n && filled.some((f) => f < 10); k++) {
    const d = test.labels[k]!;
    if (filled[d]! >= 10) continue;
    images.set(test.images.subarray(k * px, (k + 1) * px), (d * 10 + filled[d]!) * px);
    filled[d]!++;
  }
});
afterAll(() => {
  classifier?.dispose();
  gpu?.destroy();
});

describe('sample grid accuracy', () => {
  it('real digits in their rows read as asked; asked for the next digit, they do not', async () => {
    const right = await gridLabelAccuracy(classifier, images, rows, { height: 28, width: 28 });
    expect(right.n).toBe(100);
    expect(right.accuracy).toBeGreaterThanOrEqual(0.95);
    const wrong = await gridLabelAccuracy(classifier, images, rows.map((d) => (d + 1) % 10), { height: 28, width: 28 });
    expect(wrong.accuracy).toBeLessThanOrEqual(0.05);
    expect(gridAccuracyLine('samples/latest.png', { ...right, accuracy: 0.874, correct: 87 })).toBe(
      'samples/latest.png: 87% of the 100 digits read as the requested digit (LeNet)',
    );
  });
});
