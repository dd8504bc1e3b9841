// Unpaired image-to-image translation tasks built from real images (issue 12), for CycleGAN-style
// models: two domains A and B, each with a training and a test set, and no pairing between them. A task
// `x2y` translates domain A (x) to domain B (y); its reverse `y2x` has the same domains swapped.
//
//   thin2bold / bold2thin       MNIST digits split by measured stroke thickness (stroke.ts: ink area
//                               over skeleton length): A = the thinnest third, B = the boldest third of
//                               the training digits, and by the same rule of the test digits (the
//                               middle third is in neither). Digit labels are kept, so whether a
//                               translation keeps the digit is measurable with the MNIST classifier.
//   digit2fashion / fashion2digit   MNIST digits against Fashion-MNIST clothes (labels kept: digits,
//                               and clothing classes 0..9).
//
// Limits: `trainLimit` / `testLimit` take the first N examples of each source split (what a packed data
// directory for the GPU machine holds, packed.ts); the thirds are then the thirds of those N. Ties in
// thickness go to the earlier example, so the split depends only on the images. Each domain keeps its
// examples in source order (not thickness order), so a prefix of a domain is a fair sample of it.

import { SPLIT_SIZES, type DatasetName, type Split } from './dataset-names.ts';
import { readDatasetRaw } from './datasets.ts';
import type { RawImages } from './mnist-core.ts';
import { domain, range, selectRaw, strokeDomainsFrom, type Domain, type TranslationData } from './translation-core.ts';

export { selectRaw, strokeTask, thicknessThirds, type Domain, type TranslationData } from './translation-core.ts';

import { TASK_DESCRIPTIONS, TRANSLATION_TASKS, type TranslationTask } from './translation-tasks.ts';

export { TASK_DESCRIPTIONS, TRANSLATION_TASKS, type TranslationTask } from './translation-tasks.ts';

export interface TranslationOptions {
  /** Pad to 32 x 32 with background (-1), for the conv models. */
  pad32?: boolean;
  /** Use the first `trainLimit` examples of each source training split (default all 60,000). */
  trainLimit?: number;
  /** Use the first `testLimit` examples of each source test split (default all 10,000). */
  testLimit?: number;
  /** A packed data directory (null: the npm packages even if POSIT_GAN_DATA_DIR is set). */
  packedDir?: string | null;
}

function checkLimit(name: string, value: number | undefined, split: Split): number {
  const max = SPLIT_SIZES[split];
  if (value === undefined) return max;
  if (!(Number.isInteger(value) && value >= 3 && value <= max)) throw new Error(`${name} ${value} must be an integer in 3..${max}`);
  return value;
}

/** Loads the first `n` examples of a data set's split (a packed directory must hold at least these). */
function sourceSplit(dataset: DatasetName, split: Split, n: number, options: TranslationOptions): RawImages {
  const raw = readDatasetRaw(dataset, split, { packedDir: options.packedDir, need: n });
  return raw.n === n ? raw : selectRaw(raw, range(n));
}

/** The thin and bold domains of MNIST (thirds of the limited splits by stroke thickness). */
function strokeDomains(options: TranslationOptions): { thin: Domain; bold: Domain } {
  const train = sourceSplit('mnist', 'train', checkLimit('trainLimit', options.trainLimit, 'train'), options);
  const test = sourceSplit('mnist', 'test', checkLimit('testLimit', options.testLimit, 'test'), options);
  return strokeDomainsFrom(train, test, options.pad32);
}

/** A whole data set (its limited splits) as a domain. */
function datasetDomain(dataset: DatasetName, options: TranslationOptions): Domain {
  const trainN = checkLimit('trainLimit', options.trainLimit, 'train');
  const testN = checkLimit('testLimit', options.testLimit, 'test');
  const train = sourceSplit(dataset, 'train', trainN, options);
  const test = sourceSplit(dataset, 'test', testN, options);
  return domain(dataset, dataset, train, range(trainN), test, range(testN), options.pad32);
}

/** Loads a translation task's two domains. */
export function loadTranslationTask(task: TranslationTask, options: TranslationOptions = {}): TranslationData {
  const description = TASK_DESCRIPTIONS[task];
  switch (task) {
    case 'thin2bold': {
      const { thin, bold } = strokeDomains(options);
      return { task, description, a: thin, b: bold };
    }
    case 'bold2thin': {
      const { thin, bold } = strokeDomains(options);
      return { task, description, a: bold, b: thin };
    }
    case 'digit2fashion':
      return { task, description, a: datasetDomain('mnist', options), b: datasetDomain('fashion', options) };
    case 'fashion2digit':
      return { task, description, a: datasetDomain('fashion', options), b: datasetDomain('mnist', options) };
    default:
      throw new Error(`unknown translation task '${String(task)}': expected one of ${TRANSLATION_TASKS.join(', ')}`);
  }
}
