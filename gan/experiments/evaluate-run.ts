// Evaluating a trained run, by model family:
//   latent-vector GANs   N generated samples (balanced labels for the conditional models), FID against
//                        the test set of the run's data set on that set's LeNet features (and, for
//                        MNIST, on the autoencoder's code) and, when conditional, the classifier's
//                        accuracy against the conditioning labels
//   cyclegan             the source domain's test images translated by G_AB, FID against the target
//                        domain's test images on the target data set's LeNet features (and the
//                        autoencoder's code when the target is MNIST); for thin2bold / bold2thin the
//                        MNIST classifier's accuracy of the translated digits against their source
//                        labels (does the translation keep the digit?)
//   srgan                the test images downsampled and upscaled: PSNR and SSIM against the originals
//                        (the paper's ESRGAN row), and FID of the upscaled images against the test set

import type { Gpu } from '../../engine/device/gpu.ts';
import { loadDataset } from '../data/datasets.ts';
import { loadTranslationTask } from '../data/translation.ts';
import { FeatureAutoencoder } from '../metrics/autoencoder.ts';
import { LeNetClassifier } from '../metrics/classifier.ts';
import { domainReference } from '../metrics/domain.ts';
import { evaluate, type Evaluation, type EvaluateOptions, type SampleSource } from '../metrics/evaluate.ts';
import { compareImages } from '../metrics/quality.ts';
import { generateImages } from '../models/generate.ts';
import { translateImages } from '../models/translate.ts';
import { evaluationInputs, restoreRun, type RestoredRun } from '../train/restore.ts';
import { superResolve } from '../train/sr-objective.ts';

export interface SuperResolutionQuality {
  /** Mean PSNR (dB) of the upscaled test images against the originals, as 8-bit pixels (null: all identical). */
  psnr: number | null;
  /** Mean SSIM (11x11 Gaussian window, as Wang et al. 2004). */
  ssim: number;
  /** Images upscaled to exactly their original pixels (left out of the PSNR mean). */
  identical: number;
  n: number;
  scale: number;
}

export interface RunEvaluation extends Evaluation {
  run: string;
  model: string;
  recipe: string;
  step: number;
  precision: 'trained' | 'fp32';
  seed: number;
  /** cyclegan: the task and the domains the FID compares (translated source vs target test images). */
  translation?: { task: string; source: string; target: string };
  /** srgan: PSNR and SSIM of the upscaled test images. */
  superResolution?: SuperResolutionQuality;
}

export interface RunEvaluationOptions {
  n?: number;
  seed?: number;
  precision?: 'trained' | 'fp32';
  /** Files caching the test set's feature statistics (evaluate.ts), for the LeNet and the autoencoder
   *  (the latent-vector GANs on MNIST only: other references are computed each time). */
  cacheFiles?: { lenet: string; autoencoder: string };
  /** Use the newest good checkpoint when the newest is damaged (with a warning) instead of refusing. */
  allowOlder?: boolean;
}

export async function evaluateRun(gpu: Gpu, dir: string, o: RunEvaluationOptions = {}): Promise<RunEvaluation> {
  const n = o.n ?? 10_000;
  const seed = o.seed ?? 0;
  const precision = o.precision ?? 'trained';
  const run = restoreRun(gpu, dir, { asTrained: precision === 'trained', allowOlder: o.allowOlder === true });
  const common = { run: dir, model: run.config.model, recipe: run.recipe.name, step: run.step, precision, seed };
  switch (run.model.family) {
    case 'noise':
      return { ...(await evaluateGenerator(run, n, seed, o)), ...common };
    case 'translation':
      return { ...(await evaluateTranslation(run, n)), ...common };
    case 'sr':
      return { ...(await evaluateSuperResolution(run, n)), ...common };
  }
}

/** Runs `evaluate` with the data set's classifier and, for MNIST, the autoencoder as second network. */
async function withNetworks(run: RestoredRun, dataset: 'mnist' | 'fashion', fn: (classifier: LeNetClassifier, extra: EvaluateOptions) => Promise<Evaluation>, cacheFiles?: RunEvaluationOptions['cacheFiles']): Promise<Evaluation> {
  const classifier = LeNetClassifier.forDataset(run.runtime, dataset);
  const autoencoder = dataset === 'mnist' ? FeatureAutoencoder.load(run.runtime) : null;
  try {
    return await fn(classifier, {
      ...(autoencoder ? { second: autoencoder } : {}),
      ...(cacheFiles && dataset === 'mnist' ? { cacheFile: cacheFiles.lenet, secondCacheFile: cacheFiles.autoencoder } : {}),
    });
  } finally {
    classifier.dispose();
    autoencoder?.dispose();
  }
}

async function evaluateGenerator(run: RestoredRun, n: number, seed: number, o: RunEvaluationOptions): Promise<Evaluation> {
  const { z, labels } = evaluationInputs(run.gan, n, seed);
  const [, h, w] = run.gan.imageShape;
  const samples: SampleSource = {
    n,
    async batch(start, count) {
      const images = await generateImages(run.runtime, run.gan, z.subarray(start * run.gan.latent, (start + count) * run.gan.latent), labels?.subarray(start, start + count));
      return { n: count, height: h, width: w, images, ...(labels ? { labels: labels.subarray(start, start + count) } : {}) };
    },
  };
  return withNetworks(run, run.config.dataset, (classifier, extra) => evaluate(classifier, samples, extra), o.cacheFiles);
}

async function evaluateTranslation(run: RestoredRun, n: number): Promise<Evaluation & Pick<RunEvaluation, 'translation'>> {
  if (run.model.family !== 'translation' || !run.config.task) throw new Error(`${run.dir} is not a cyclegan run`);
  // The domains' test images are what is evaluated; a few training images suffice to define the split.
  const data = loadTranslationTask(run.config.task, { pad32: run.config.size === 32, trainLimit: 30 });
  const { a, b } = data;
  const count = Math.min(n, a.test.n);
  const shape = [1, a.test.height, a.test.width] as const;
  const source = a.test.images.subarray(0, count * a.test.height * a.test.width);
  const translated = await translateImages(run.runtime, run.model.cyclegan.G_AB, source, shape);
  // Label accuracy only where both sides are digits: a translated digit should stay that digit.
  const keepsLabels = a.dataset === b.dataset;
  const samples = { n: count, height: a.test.height, width: a.test.width, images: translated, ...(keepsLabels ? { labels: a.test.labels.subarray(0, count) } : {}) };
  const e = await withNetworks(run, b.dataset, (classifier, extra) => evaluate(classifier, samples, { ...extra, reference: domainReference(b) }));
  return { ...e, translation: { task: data.task, source: a.name, target: b.name } };
}

async function evaluateSuperResolution(run: RestoredRun, n: number): Promise<Evaluation & Pick<RunEvaluation, 'superResolution'>> {
  if (run.model.family !== 'sr') throw new Error(`${run.dir} is not an srgan run`);
  const test = loadDataset(run.config.dataset, 'test', { limit: n });
  const { sr } = await superResolve(run.runtime, run.model.G, test.images, test.n);
  const q = compareImages(test.images, sr, test.n, { channels: 1, height: test.height, width: test.width });
  const samples = { n: test.n, height: test.height, width: test.width, images: sr };
  const e = await withNetworks(run, run.config.dataset, (classifier, extra) => evaluate(classifier, samples, extra));
  return { ...e, superResolution: { psnr: q.meanPsnr, ssim: q.meanSsim, identical: q.identical, n: q.n, scale: run.model.G.scale } };
}
