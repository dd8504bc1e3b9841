// The packaged MNIST subset (demos/build/mnist-asset.ts): fetched from the page's own origin, inflated,
// parsed as IDX and scaled to [-1, 1] by the same code the Node training uses.

import subset from 'virtual:mnist-subset';
import { parseIdx } from '../../gan/data/idx.ts';
import { imagesFromBytes, mnistRawFromIdx, type MnistSet, type RawImages } from '../../gan/data/mnist-core.ts';
import { range, selectRaw, strokeTask } from '../../gan/data/translation-core.ts';
import type { TrainConfig } from '../../gan/train/config.ts';
import type { TrainingData } from '../../gan/train/objectives.ts';

export const MNIST_SUBSET = subset;

async function fetchIdx(path: string): Promise<Uint8Array> {
  const url = new URL(path, document.baseURI);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url.pathname}: HTTP ${res.status} ${res.statusText}`);
  let bytes = new Uint8Array(await res.arrayBuffer());
  // A server that labels .gz files with Content-Encoding: gzip has the browser inflate them already:
  // inflate only what still starts with the gzip magic bytes.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(inflated).arrayBuffer());
  }
  return bytes;
}

/** The subset as the stored bytes (for the stroke measure) and scaled to [-1, 1]. */
export interface DemoData {
  raw: RawImages;
  set: MnistSet;
}

export async function loadMnistSubset(): Promise<DemoData> {
  const [images, labels] = await Promise.all([fetchIdx(subset.images.path), fetchIdx(subset.labels.path)]);
  const source = { imagesSource: subset.images.path, labelsSource: subset.labels.path };
  const raw = mnistRawFromIdx(parseIdx(images, subset.images.path), parseIdx(labels, subset.labels.path), { expectedCount: subset.count, ...source });
  return { raw, set: imagesFromBytes(raw, source) };
}

/** Of the subset, the last fifth is held out as test images for the image-to-image models' grids and
 *  deployment (the latent-vector GANs train on all of it, as before). */
const TEST_FRACTION = 0.2;

/** What a configuration trains on in the page. */
export function trainingData(c: TrainConfig, d: DemoData): TrainingData {
  if (c.model !== 'cyclegan' && c.model !== 'srgan') return d.set;
  const nTest = Math.floor(d.raw.n * TEST_FRACTION);
  const train = selectRaw(d.raw, range(d.raw.n - nTest));
  const test = selectRaw(d.raw, Uint32Array.from({ length: nTest }, (_, i) => d.raw.n - nTest + i));
  if (c.model === 'cyclegan') {
    if (c.task !== 'thin2bold' && c.task !== 'bold2thin') throw new Error(`the demo has MNIST only: its cyclegan task is thin2bold or bold2thin, not ${c.task}`);
    return strokeTask(c.task, train, test, c.size === 32);
  }
  return { train: imagesFromBytes(train), test: imagesFromBytes(test), perceptual: null };
}
