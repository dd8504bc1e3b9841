// Loading what a configuration trains on (Node: reads the data sets and, for srgan, the committed
// LeNet of the data set as the perceptual loss's feature network, on the run's runtime).

import type { Runtime } from '../../engine/runtime.ts';
import { loadDataset } from '../data/datasets.ts';
import { loadTranslationTask } from '../data/translation.ts';
import { LeNetClassifier } from '../metrics/classifier.ts';
import type { TrainConfig } from './config.ts';
import type { TrainingData } from './objectives.ts';

/** Test images an srgan run keeps for its sample grid (and a translation run per domain). */
const SAMPLE_TEST_IMAGES = 100;

export function loadTrainingData(c: TrainConfig, rt: Runtime): TrainingData {
  const limit = c.dataLimit ? { limit: c.dataLimit } : {};
  switch (c.model) {
    case 'cyclegan': {
      if (!c.task) throw new Error('the cyclegan model needs a translation task (--task)');
      return loadTranslationTask(c.task, { pad32: c.size === 32, ...(c.dataLimit ? { trainLimit: c.dataLimit } : {}), testLimit: 3 * SAMPLE_TEST_IMAGES });
    }
    case 'srgan': {
      const classifier = LeNetClassifier.forDataset(rt, c.dataset);
      const model = classifier.model;
      return {
        train: loadDataset(c.dataset, 'train', limit),
        test: loadDataset(c.dataset, 'test', { limit: SAMPLE_TEST_IMAGES }),
        perceptual: { module: model, features: (x) => model.body.forward(x) },
      };
    }
    default:
      return loadDataset(c.dataset, 'train', { pad32: c.model === 'dcgan' && c.size === 32, ...limit });
  }
}
