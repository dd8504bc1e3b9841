// Metrics on one domain of a translation task (gan/data/translation.ts): FID and label accuracy use the
// classifier of the domain's data set (the MNIST LeNet for digits, the Fashion LeNet for clothes) and
// the domain's own test images as the reference, so FID on the Fashion side of digit2fashion is
// measured on Fashion-MNIST features against Fashion test images, and on the bold side of thin2bold
// against bold test digits.

import type { Runtime } from '../../engine/runtime.ts';
import type { Domain } from '../data/translation.ts';
import { LeNetClassifier } from './classifier.ts';
import type { ReferenceSet } from './evaluate.ts';

/** The domain's test images as an FID reference, named '<domain>-test' (e.g. 'mnist-bold-test'). */
export function domainReference(domain: Domain): ReferenceSet {
  return { name: `${domain.name}-test`, set: domain.test };
}

/** The committed classifier of the domain's data set (load it once and reuse it: it holds GPU buffers). */
export function domainClassifier(rt: Runtime, domain: Domain): LeNetClassifier {
  return LeNetClassifier.forDataset(rt, domain.dataset);
}
