// Running an image-to-image network for inference (a CycleGAN generator's translate, an SR
// generator's upscale): eval mode, no autograd, in batches, read back to the CPU.

import type { Module } from '../../engine/nn/module.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';

type Shape = readonly [number, number, number];

/** `apply` over images [n, ...inShape] giving [n, ...outShape], `batch` images at a time. */
export async function mapImages(rt: Runtime, net: Module, apply: (x: Tensor) => Tensor, images: Float32Array, inShape: Shape, outShape: Shape, batch = 100): Promise<Float32Array> {
  const inSize = inShape[0] * inShape[1] * inShape[2];
  const outSize = outShape[0] * outShape[1] * outShape[2];
  const n = images.length / inSize;
  if (!Number.isInteger(n)) throw new Error(`${images.length} values are not a whole number of [${inShape.join(', ')}] images`);
  const out = new Float32Array(n * outSize);
  const wasTraining = net.training;
  net.eval();
  try {
    for (let i = 0; i < n; i += batch) {
      const m = Math.min(batch, n - i);
      const part = await rt.scope(async () => rt.noGrad(() => apply(Tensor.fromArray(rt, images.subarray(i * inSize, (i + m) * inSize), [m, ...inShape], 'input'))).read());
      out.set(part, i * outSize);
    }
  } finally {
    net.train(wasTraining);
  }
  return out;
}

/** A translation generator's outputs for images [n, ...shape] (same shape out). */
export function translateImages(rt: Runtime, G: Module & { translate(x: Tensor): Tensor }, images: Float32Array, shape: Shape, batch = 100): Promise<Float32Array> {
  return mapImages(rt, G, (x) => G.translate(x), images, shape, shape, batch);
}
