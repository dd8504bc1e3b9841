// Evaluating a trained run: N generated samples (balanced labels for the cgan) from the run's
// generator, scored by FID against the MNIST test set on posit-gan's LeNet features and on the
// autoencoder's code (the second, independent feature network) and, for the cgan, by the
// classifier's accuracy against the conditioning labels.

import type { Gpu } from '../../engine/device/gpu.ts';
import { FeatureAutoencoder } from '../metrics/autoencoder.ts';
import { MnistClassifier } from '../metrics/classifier.ts';
import { evaluate, type Evaluation } from '../metrics/evaluate.ts';
import { generateImages } from '../models/generate.ts';
import { evaluationInputs, restoreRun } from '../train/restore.ts';

export interface RunEvaluation extends Evaluation {
  run: string;
  model: string;
  recipe: string;
  step: number;
  precision: 'trained' | 'fp32';
  seed: number;
}

export interface RunEvaluationOptions {
  n?: number;
  seed?: number;
  precision?: 'trained' | 'fp32';
  /** Files caching the test set's feature statistics (evaluate.ts), for the LeNet and the autoencoder. */
  cacheFiles?: { lenet: string; autoencoder: string };
  /** Use the newest good checkpoint when the newest is damaged (with a warning) instead of refusing. */
  allowOlder?: boolean;
}

export async function evaluateRun(gpu: Gpu, dir: string, o: RunEvaluationOptions = {}): Promise<RunEvaluation> {
  const n = o.n ?? 10_000;
  const seed = o.seed ?? 0;
  const precision = o.precision ?? 'trained';
  const run = restoreRun(gpu, dir, { asTrained: precision === 'trained', allowOlder: o.allowOlder === true });
  const classifier = MnistClassifier.load(run.runtime);
  const autoencoder = FeatureAutoencoder.load(run.runtime);
  try {
    const { z, labels } = evaluationInputs(run.gan, n, seed);
    const [, h, w] = run.gan.imageShape;
    const e = await evaluate(
      classifier,
      {
        n,
        async batch(start, count) {
          const images = await generateImages(run.runtime, run.gan, z.subarray(start * run.gan.latent, (start + count) * run.gan.latent), labels?.subarray(start, start + count));
          return { n: count, height: h, width: w, images, ...(labels ? { labels: labels.subarray(start, start + count) } : {}) };
        },
      },
      { second: autoencoder, ...(o.cacheFiles ? { cacheFile: o.cacheFiles.lenet, secondCacheFile: o.cacheFiles.autoencoder } : {}) },
    );
    return { ...e, run: dir, model: run.config.model, recipe: run.recipe.name, step: run.step, precision, seed };
  } finally {
    classifier.dispose();
    autoencoder.dispose();
  }
}
