// The ops the image-to-image and super-resolution GANs add (CycleGAN, ESRGAN-style SR): instance
// normalisation, reflection padding, nearest-neighbour upsampling, pixel shuffle, residual scaling and
// the losses, forward against float64 references written from PyTorch's definitions (nn-ref.ts) and
// gradients against central differences of those references, on ragged shapes with batches above 1.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as ops from '../../engine/ops/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { checkOp, openTestRuntime, randomArray, size } from './harness.ts';
import * as ref from './nn-ref.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const inp = (shape: number[], seed: number, lo = -2, hi = 2, grad = true) => ({ shape, data: randomArray(size(shape), seed, lo, hi), grad });

describe('instanceNorm', () => {
  // Ragged planes, batch 1 and above, a plane of 2 values (the smallest that normalises), rank 3.
  const shapes: number[][] = [[3, 4, 5, 7], [1, 3, 6, 5], [2, 5, 1, 2], [4, 3, 9]];
  for (const shape of shapes) {
    it(`[${shape}] without affine (CycleGAN): forward and input gradient`, async () => {
      await checkOp({
        rt,
        what: `instanceNorm [${shape}]`,
        inputs: [inp(shape, 1)],
        gpu: (x) => ops.instanceNorm(x),
        cpu: (x) => ref.instanceNorm(x, shape, null, null, 1e-5),
        atol: 2e-5,
        rtol: 2e-4,
      });
    });
    it(`[${shape}] affine: gradients of x, weight and bias (summed over the batch)`, async () => {
      const c = shape[1]!;
      await checkOp({
        rt,
        what: `instanceNorm affine [${shape}]`,
        inputs: [inp(shape, 2), inp([c], 3, 0.5, 1.5), inp([c], 4)],
        gpu: (x, w, b) => ops.instanceNorm(x, { weight: w, bias: b }),
        cpu: (x, w, b) => ref.instanceNorm(x, shape, w, b, 1e-5),
        atol: 2e-5,
        rtol: 2e-4,
      });
    });
  }

  it('eps is used (a constant-ish plane with eps 0.5)', async () => {
    const shape = [2, 2, 3, 3];
    await checkOp({
      rt,
      what: 'instanceNorm eps',
      inputs: [inp(shape, 5, -0.1, 0.1)],
      gpu: (x) => ops.instanceNorm(x, { eps: 0.5 }),
      cpu: (x) => ref.instanceNorm(x, shape, null, null, 0.5),
    });
  });

  it('errors: rank, a one-value plane, a weight of the wrong size', () => {
    rt.scope(() => {
      expect(() => ops.instanceNorm(ops.full(rt, [4, 3], 1))).toThrow(/instanceNorm: input \[4, 3\] needs the layout \[N, C, spatial\.\.\.\]/);
      expect(() => ops.instanceNorm(ops.full(rt, [4, 3, 1, 1], 1))).toThrow(/one value per \(sample, channel\) plane/);
      expect(() => ops.instanceNorm(ops.full(rt, [2, 3, 2, 2], 1), { weight: ops.full(rt, [6], 1) })).toThrow(/weight has shape \[6\] but input \[2, 3, 2, 2\] has 3 channels/);
    });
  });
});
