// The ops the image-to-image and super-resolution GANs add (CycleGAN, ESRGAN-style SR): instance
// normalisation, reflection padding, nearest-neighbour upsampling, pixel shuffle, residual scaling and
// the losses, forward against float64 references written from PyTorch's definitions (nn-ref.ts) and
// gradients against central differences of those references, on ragged shapes with batches above 1.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as ops from '../../engine/ops/index.ts';
import { quantizeRaw } from '../../engine/quant/quantizer.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { parseFormat } from '../../formats/descriptor.ts';
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

describe('reflectionPad2d', () => {
  const cases: [string, number[], [number, number, number, number]][] = [
    ['pad 2 on every side, ragged', [2, 3, 5, 7], [2, 2, 2, 2]],
    ['asymmetric [left 1, right 3, top 0, bottom 2]', [3, 2, 4, 6], [1, 3, 0, 2]],
    ['pads up to size - 1 (H 4, W 3)', [2, 2, 4, 3], [2, 2, 3, 3]],
    ['CycleGAN pad 3 on a 7x7 map, batch 1', [1, 2, 7, 7], [3, 3, 3, 3]],
    ['one-column input, zero column pads', [2, 1, 3, 1], [0, 0, 2, 1]],
  ];
  for (const [name, shape, pad] of cases) {
    it(name, async () => {
      await checkOp({
        rt,
        what: `reflectionPad2d ${name}`,
        inputs: [inp(shape, 20)],
        gpu: (x) => ops.reflectionPad2d(x, pad),
        cpu: (x) => ref.reflectionPad2d(x, shape, pad).y,
        // Copies forward, exact sums backward: far tighter than the harness's defaults.
        atol: 1e-7,
        rtol: 1e-7,
      });
    });
  }
  it('a single number pads every side; pad 0 is the identity', async () => {
    await rt.scope(async () => {
      const v = randomArray(2 * 3 * 4 * 5, 21);
      const x = Tensor.fromArray(rt, v, [2, 3, 4, 5]);
      const y = ops.reflectionPad2d(x, 2);
      expect(y.shape).toEqual([2, 3, 8, 9]);
      expect(Array.from(await y.read())).toEqual(Array.from(Float32Array.from(ref.reflectionPad2d(Float64Array.from(Float32Array.from(v)), [2, 3, 4, 5], [2, 2, 2, 2]).y)));
      expect(Array.from(await ops.reflectionPad2d(x, 0).read())).toEqual(Array.from(await x.read()));
    });
  });
  it('errors: a pad as large as the input dimension, a negative or fractional pad, a non-image input', () => {
    rt.scope(() => {
      const x = ops.full(rt, [1, 1, 4, 3], 0);
      expect(() => ops.reflectionPad2d(x, [3, 0, 0, 0])).toThrow(/padding \[left 3, right 0, top 0, bottom 0\] must be smaller than the input's width 3 and height 4/);
      expect(() => ops.reflectionPad2d(x, [0, 0, 0, 4])).toThrow(/smaller than the input's width 3 and height 4/);
      expect(() => ops.reflectionPad2d(x, -1)).toThrow(/non-negative integer/);
      expect(() => ops.reflectionPad2d(x, [1, 1, 1.5, 1])).toThrow(/non-negative integer or \[left, right, top, bottom\]/);
      expect(() => ops.reflectionPad2d(ops.full(rt, [4, 3], 0), 1)).toThrow(/input must be \[N, C, H, W\], got \[4, 3\]/);
    });
  });
});

describe('upsampleNearest2d', () => {
  const cases: [string, number[], number | [number, number], [number, number]][] = [
    ['factor 2, ragged', [2, 3, 3, 5], 2, [2, 2]],
    ['factors [3, 2], batch 3', [3, 2, 2, 3], [3, 2], [3, 2]],
    ['factor 4 (7 -> 28 super-resolution), batch 1', [1, 1, 7, 7], 4, [4, 4]],
    ['factor 1 is the identity', [2, 2, 3, 2], 1, [1, 1]],
  ];
  for (const [name, shape, scale, [fh, fw]] of cases) {
    it(name, async () => {
      await checkOp({
        rt,
        what: `upsampleNearest2d ${name}`,
        inputs: [inp(shape, 30)],
        gpu: (x) => ops.upsampleNearest2d(x, scale),
        cpu: (x) => ref.upsampleNearest(x, shape, fh, fw).y,
        // Copies forward, exact sums backward: far tighter than the harness's defaults.
        atol: 1e-7,
        rtol: 1e-7,
      });
    });
  }
  it('errors: fractional or zero factors', () => {
    rt.scope(() => {
      const x = ops.full(rt, [1, 1, 2, 2], 0);
      expect(() => ops.upsampleNearest2d(x, 1.5)).toThrow(/scale factors must be positive integers .* got 1.5/);
      expect(() => ops.upsampleNearest2d(x, [2, 0])).toThrow(/got \[2,0\]/);
    });
  });
});

describe('pixelShuffle', () => {
  const cases: [string, number[], number][] = [
    ['r 2, ragged, batch 2', [2, 12, 3, 5], 2],
    ['r 3, batch 1', [1, 9, 2, 3], 3],
    ['r 1 is the identity', [2, 3, 2, 2], 1],
  ];
  for (const [name, shape, r] of cases) {
    it(name, async () => {
      await checkOp({
        rt,
        what: `pixelShuffle ${name}`,
        inputs: [inp(shape, 40)],
        gpu: (x) => ops.pixelShuffle(x, r),
        cpu: (x) => ref.pixelShuffle(x, shape, r).y,
        // Copies forward, exact sums backward: far tighter than the harness's defaults.
        atol: 1e-7,
        rtol: 1e-7,
      });
    });
  }
  it('errors: channels not divisible by r^2, a bad factor', () => {
    rt.scope(() => {
      expect(() => ops.pixelShuffle(ops.full(rt, [1, 6, 2, 2], 0), 2)).toThrow(/has 6 channels, which upscale factor 2 cannot divide into groups of 4/);
      expect(() => ops.pixelShuffle(ops.full(rt, [1, 4, 2, 2], 0), 0)).toThrow(/positive integer, got 0/);
    });
  });
});

describe('value-moving ops keep their input lattice', () => {
  it('pad, upsample and pixel shuffle of p16e2 values: the output is tagged p16e2 and a quantizer to it is a no-op (nearest and stochastic)', async () => {
    const p16 = parseFormat('p16e2');
    await rt.scope(async () => {
      const x = quantizeRaw(Tensor.fromArray(rt, randomArray(2 * 4 * 3 * 3, 50, -3, 3), [2, 4, 3, 3]), { format: p16 });
      const outs = [ops.reflectionPad2d(x, [2, 1, 1, 2]), ops.upsampleNearest2d(x, [2, 3]), ops.pixelShuffle(x, 2)];
      for (const y of outs) {
        expect(y.lattice?.name).toBe('p16e2');
        const v = await y.read();
        for (const rounding of ['nearest', 'stochastic'] as const) {
          // The quantizer finds the tag and returns the same values without a kernel; the codec on
          // the untagged copy proves the values really are fixed points of both roundings.
          expect(await quantizeRaw(y, { format: p16, rounding }).read()).toEqual(v);
          const untagged = ops.unaryRaw(ops.affine(y, 1, 0), 'copy');
          untagged.lattice = null;
          expect(await quantizeRaw(untagged, { format: p16, rounding }).read()).toEqual(v);
        }
      }
    });
  });
});

describe('residual scaling and the losses', () => {
  const meanOf = (v: Float64Array) => Float64Array.of(v.reduce((s, x) => s + x, 0) / v.length);
  const bce = (x: number, y: number) => Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));

  it('addScaled: x + 0.2 f (ESRGAN) on a ragged image, and broadcasting a per-channel term', async () => {
    const shape = [2, 3, 4, 5];
    await checkOp({ rt, what: 'addScaled', inputs: [inp(shape, 60), inp(shape, 61)], gpu: (a, b) => ops.addScaled(a, b, 0.2), cpu: (a, b) => a.map((v, i) => v + 0.2 * b[i]!) });
    await checkOp({
      rt,
      what: 'addScaled broadcast',
      inputs: [inp(shape, 62), inp([3, 1, 1], 63)],
      gpu: (a, b) => ops.addScaled(a, b, -1.5),
      cpu: (a, b) => a.map((v, i) => v - 1.5 * b[Math.floor(i / 20) % 3]!),
    });
    rt.scope(() => expect(() => ops.addScaled(ops.full(rt, [2], 0), ops.full(rt, [2], 0), NaN)).toThrow(/finite number, got NaN/));
  });

  it('l1Loss (mean, sum, none): gradients of input and target', async () => {
    const shape = [3, 2, 5];
    const abs = (a: Float64Array, b: Float64Array) => a.map((v, i) => Math.abs(v - b[i]!));
    await checkOp({ rt, what: 'l1 mean', inputs: [inp(shape, 70), inp(shape, 71)], gpu: (a, b) => ops.l1Loss(a, b), cpu: (a, b) => meanOf(abs(a, b)) });
    await checkOp({ rt, what: 'l1 sum', inputs: [inp(shape, 72), inp(shape, 73)], gpu: (a, b) => ops.l1Loss(a, b, { reduction: 'sum' }), cpu: (a, b) => Float64Array.of(abs(a, b).reduce((s, v) => s + v, 0)) });
    await checkOp({ rt, what: 'l1 none', inputs: [inp([7], 74), inp([7], 75)], gpu: (a, b) => ops.l1Loss(a, b, { reduction: 'none' }), cpu: abs });
  });

  it('l1Loss: the gradient where input equals target is 0 (PyTorch), and shapes must match', async () => {
    await rt.scope(async () => {
      const x = Tensor.fromArray(rt, [1, 2, 3], [3]);
      x.requiresGrad = true;
      ops.backward(ops.l1Loss(x, Tensor.fromArray(rt, [1, 0, 5], [3]), { reduction: 'sum' }));
      expect(Array.from(await x.grad!.read())).toEqual([0, 1, -1]);
      expect(() => ops.l1Loss(x, ops.full(rt, [1, 3], 0))).toThrow(/l1Loss: input \[3\] and target \[1, 3\] must have the same shape/);
    });
  });

  for (const who of ['discriminator', 'generator'] as const) {
    for (const shape of [[5, 1], [3, 1, 2, 2]]) {
      it(`relativisticAverageBce for the ${who}, logits [${shape}]: both batches' gradients`, async () => {
        const t = who === 'discriminator' ? 1 : 0;
        await checkOp({
          rt,
          what: `ragan ${who} [${shape}]`,
          inputs: [inp(shape, 80, -3, 3), inp(shape, 81, -3, 3)],
          gpu: (r, f) => ops.relativisticAverageBce(r, f, who),
          cpu: (r, f) => {
            const [mr, mf] = [meanOf(r)[0]!, meanOf(f)[0]!];
            const lr = r.reduce((s, v) => s + bce(v - mf, t), 0) / r.length;
            const lf = f.reduce((s, v) => s + bce(v - mr, 1 - t), 0) / f.length;
            return Float64Array.of((lr + lf) / 2);
          },
        });
      });
    }
  }

  it('relativisticAverageBce: a real batch judged far more real than the fake one costs the discriminator little and the generator much', async () => {
    await rt.scope(async () => {
      const real = Tensor.fromArray(rt, [8, 9, 10], [3, 1]);
      const fake = Tensor.fromArray(rt, [-9, -8, -10], [3, 1]);
      expect(await ops.relativisticAverageBce(real, fake, 'discriminator').item()).toBeLessThan(1e-6);
      expect(await ops.relativisticAverageBce(real, fake, 'generator').item()).toBeGreaterThan(17);
      expect(() => ops.relativisticAverageBce(real, fake, 'critic' as 'generator')).toThrow(/'discriminator' or 'generator'/);
    });
  });
});
