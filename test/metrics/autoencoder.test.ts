// The second FID feature network (gan/metrics/autoencoder.ts) on its committed weights (nothing is
// trained here): the weights verify through the same loader as the LeNet's and damaged ones are
// refused with the regeneration hint, it reconstructs test digits as well as its sidecar says, and FID
// on its code behaves as FID must: ~0 for a set against itself, large for noise, small for digits.
// Its features are unlike the LeNet's by construction (no labels, no convolutions, a linear code).
//
// Time: like test/metrics/classifier.test.ts, fixed 1,000-image sets (every 10th test image as the
// reference, the last 1,000 training images, 1,000 uniform-noise images); the autoencoder is a small
// MLP, so its passes are cheap.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { loadMnist, type MnistSet } from '../../gan/data/mnist.ts';
import {
  AE_ARCHITECTURE,
  AutoencoderWeightsError,
  autoencoderParameters,
  CODE_DIM,
  DEFAULT_AE_WEIGHTS,
  FeatureAutoencoder,
  readAutoencoderWeights,
  reconstructionQuality,
} from '../../gan/metrics/autoencoder.ts';
import { MnistClassifier, type ImageSet } from '../../gan/metrics/classifier.ts';
import { clearReferenceCache, referenceStats, type ReferenceSet } from '../../gan/metrics/evaluate.ts';
import { fidFromStats, gaussianStats } from '../../gan/metrics/fid.ts';
import { sidecarPath } from '../../gan/metrics/weights-file.ts';
import { openTestRuntime, seededRandom } from '../engine/harness.ts';

let gpu: Gpu;
let rt: Runtime;
let ae: FeatureAutoencoder;
let tmp: string;

function pick(set: MnistSet, start: number, stride: number, count: number): ImageSet {
  const px = set.height * set.width;
  const images = new Float32Array(count * px);
  for (let i = 0; i < count; i++) images.set(set.images.subarray((start + i * stride) * px, (start + i * stride + 1) * px), i * px);
  return { n: count, height: set.height, width: set.width, images };
}

let testSubset: ImageSet;
let reference: ReferenceSet;

beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
  ae = FeatureAutoencoder.load(rt);
  testSubset = pick(loadMnist('test'), 0, 10, 1000);
  reference = { name: 'mnist-test-every-10th', set: testSubset };
  tmp = mkdtempSync(join(tmpdir(), 'posit-gan-autoencoder-'));
});
afterAll(() => {
  ae?.dispose();
  gpu?.destroy();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// FID thresholds, from the committed weights (1,000 images against the 1,000-image test subset):
// uniform noise measured 970, the last 1,000 training images 15.4. Each bound leaves a factor of about
// 3 on its side and an order of magnitude between them.
const NOISE_MIN = 300;
const TRAIN_MAX = 50;

describe('autoencoder weights', () => {
  it('the committed weights verify, match the architecture and record how they were made', () => {
    const { sidecar, state } = readAutoencoderWeights(DEFAULT_AE_WEIGHTS);
    expect(Object.keys(state)).toEqual(autoencoderParameters().map((p) => p.name));
    expect(sidecar.architecture).toEqual(AE_ARCHITECTURE);
    expect(sidecar.bytes).toBe(4 * autoencoderParameters().reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0));
    expect(sidecar.provenance.command).toMatch(/^bin\/posit-gan classifier train --network autoencoder /);
    expect(sidecar.provenance.test.n).toBe(10000);
    expect(sidecar.provenance.test.explainedVariance).toBeGreaterThanOrEqual(0.8);
    expect(ae.sha256).toBe(sidecar.sha256);
    // A different network from the LeNet: other weights, other features.
    expect(ae.sha256).not.toBe(MnistClassifier.load(rt).sha256);
    expect(ae.featureDim).toBe(CODE_DIM);
  });

  it('damaged files are refused by the shared loader, with the autoencoder regeneration hint', () => {
    const path = join(tmp, 'flipped.weights');
    const bin = readFileSync(DEFAULT_AE_WEIGHTS);
    bin[5000] = bin[5000]! ^ 0x01;
    writeFileSync(path, bin);
    writeFileSync(sidecarPath(path), readFileSync(sidecarPath(DEFAULT_AE_WEIGHTS)));
    const load = () => FeatureAutoencoder.load(rt, path);
    expect(load).toThrow(AutoencoderWeightsError);
    expect(load).toThrow(/MNIST autoencoder weights .*SHA-256 is [0-9a-f]{64} but the sidecar records.*classifier train --network autoencoder/s);
    // The LeNet's file is not an autoencoder: the architecture check says so.
    const lenet = new URL('../../gan/metrics/lenet-mnist.weights', import.meta.url).pathname;
    expect(() => FeatureAutoencoder.load(rt, lenet)).toThrow(/describes architecture 'lenet5-relu-maxpool' with other layers than this code's 'mlp-autoencoder/);
  });
});

describe('the shipped MNIST test-set statistics (FID reference)', () => {
  it("are used for the committed weights of both networks, and match the autoencoder's features computed here", async () => {
    clearReferenceCache();
    const shipped = await referenceStats(ae);
    expect(shipped.from).toBe('shipped');
    const lenet = MnistClassifier.load(rt);
    try {
      expect((await referenceStats(lenet)).from).toBe('shipped');
    } finally {
      lenet.dispose();
    }
    // Recomputed on this adapter (10,000 images through the small MLP): equal up to float32 rounding.
    const test = loadMnist('test');
    const here = gaussianStats(await ae.features(test), test.n, CODE_DIM);
    const scale = Math.max(...here.cov.map(Math.abs));
    for (let i = 0; i < CODE_DIM; i++) expect(Math.abs(shipped.stats.mean[i]! - here.mean[i]!)).toBeLessThan(1e-4 * Math.sqrt(scale));
    for (let i = 0; i < here.cov.length; i++) expect(Math.abs(shipped.stats.cov[i]! - here.cov[i]!)).toBeLessThan(1e-4 * scale);
  });
});

describe('autoencoder features', () => {
  it('reconstructs a fixed 1,000-image subset of the test set as well as its sidecar says', async () => {
    const q = await reconstructionQuality(ae, testSubset);
    const full = ae.sidecar!.provenance.test;
    console.log(`reconstruction on every 10th test image: MSE ${q.mse}, explained variance ${q.explainedVariance} (full test set: ${full.explainedVariance})`);
    expect(q.n).toBe(1000);
    // A tenth of the test set spreads around the full set's value by much less than 0.02.
    expect(q.explainedVariance).toBeGreaterThan(full.explainedVariance - 0.02);
    expect(q.mse).toBeLessThan(full.mse * 1.15);
  });

  it('FID on its code: ~0 for the subset against itself, large for noise, small for other digits', async () => {
    // The autoencoder alone (evaluate() runs it beside the LeNet; the table1 and FID-curve tests cover that).
    const { stats: ref } = await referenceStats(ae, { reference });
    expect(ref.d).toBe(CODE_DIM);
    const fid = async (set: ImageSet) => fidFromStats(ref, gaussianStats(await ae.features(set), set.n, CODE_DIM));
    const self = await fid(testSubset);
    expect(Math.abs(self.fid)).toBeLessThan(1e-6 * self.traceTerm);
    const rand = seededRandom(11);
    const noise: ImageSet = { n: 1000, height: 28, width: 28, images: Float32Array.from({ length: 1000 * 784 }, () => 2 * rand() - 1) };
    const train = pick(loadMnist('train'), 59000, 1, 1000);
    const [fNoise, fTrain] = [(await fid(noise)).fid, (await fid(train)).fid];
    console.log(`autoencoder FID vs test subset: uniform noise ${fNoise}, last 1,000 training images ${fTrain}`);
    expect(fNoise).toBeGreaterThan(NOISE_MIN);
    expect(fTrain).toBeLessThan(TRAIN_MAX);
  });
});
