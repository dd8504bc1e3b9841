// The objective of each model (objective.ts), built from the run's configuration and training data.

import type { Runtime } from '../../engine/runtime.ts';
import type { MnistSet } from '../data/mnist-core.ts';
import type { TranslationData } from '../data/translation-core.ts';
import type { TrainConfig } from './config.ts';
import { buildGan, NoiseObjective } from './noise-objective.ts';
import type { Objective } from './objective.ts';
import { SuperResolutionObjective, type SuperResolutionData } from './sr-objective.ts';
import { TranslationObjective } from './translation-objective.ts';

/** One image set (the latent-vector GANs), the two domains of a translation task (cyclegan), or the
 *  images and feature network of super-resolution (srgan). training-data.ts loads the right one. */
export type TrainingData = MnistSet | TranslationData | SuperResolutionData;

function isTranslationData(d: TrainingData): d is TranslationData {
  return 'task' in d && 'a' in d && 'b' in d;
}

function isSuperResolutionData(d: TrainingData): d is SuperResolutionData {
  return 'perceptual' in d;
}

function wrongData(model: string, wanted: string): Error {
  return new Error(`the ${model} model trains on ${wanted}; load its data with loadTrainingData (gan/train/training-data.ts)`);
}

export function buildObjective(rt: Runtime, c: TrainConfig, data: TrainingData): Objective {
  switch (c.model) {
    case 'cgan':
    case 'dcgan':
    case 'acgan':
      if (isTranslationData(data) || isSuperResolutionData(data)) throw wrongData(c.model, 'one image set');
      return new NoiseObjective(rt, buildGan(rt, c), c, data);
    case 'cyclegan':
      if (!isTranslationData(data)) throw wrongData(c.model, 'the two domains of a translation task');
      return new TranslationObjective(rt, c, data);
    case 'srgan':
      if (!isSuperResolutionData(data)) throw wrongData(c.model, 'high-resolution images and a feature network');
      return new SuperResolutionObjective(rt, c, data);
  }
}
