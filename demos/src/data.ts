// The packaged MNIST subset (demos/build/mnist-asset.ts): fetched from the page's own origin, inflated,
// parsed as IDX and scaled to [-1, 1] by the same code the Node training uses.

import subset from 'virtual:mnist-subset';
import { parseIdx } from '../../gan/data/idx.ts';
import { decodeMnist, type MnistSet } from '../../gan/data/mnist-core.ts';

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

export async function loadMnistSubset(): Promise<MnistSet> {
  const [images, labels] = await Promise.all([fetchIdx(subset.images.path), fetchIdx(subset.labels.path)]);
  return decodeMnist(parseIdx(images, subset.images.path), parseIdx(labels, subset.labels.path), {
    expectedCount: subset.count,
    imagesSource: subset.images.path,
    labelsSource: subset.labels.path,
  });
}
