// The layers the image-to-image and super-resolution GANs are built from (engine/nn): instance norm,
// reflection padding, nearest upsampling, pixel shuffle, and the residual and dense containers, with
// PyTorch's defaults, layouts and parameter names, against float64 references (nn-ref.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { Conv2d, DenseBlock, InitRng, InstanceNorm2d, LeakyReLU, PixelShuffle, ReflectionPad2d, Residual, Sequential, Upsample } from '../../engine/nn/index.ts';
import * as ops from '../../engine/ops/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { checkOp, expectClose, openTestRuntime, randomArray, size } from './harness.ts';
import * as ref from './nn-ref.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const f32 = (v: Float64Array) => Float64Array.from(Float32Array.from(v));

/** Channel concatenation of two [N, C, S...] float64 arrays. */
function catChannels(a: Float64Array, ca: number, b: Float64Array, cb: number, n: number): Float64Array {
  const s = a.length / (n * ca);
  const out = new Float64Array(a.length + b.length);
  for (let k = 0; k < n; k++) {
    out.set(a.subarray(k * ca * s, (k + 1) * ca * s), k * (ca + cb) * s);
    out.set(b.subarray(k * cb * s, (k + 1) * cb * s), (k * (ca + cb) + ca) * s);
  }
  return out;
}

const lrelu = (v: Float64Array, slope: number) => v.map((u) => (u > 0 ? u : slope * u));

describe('InstanceNorm2d', () => {
  it('defaults to no parameters (affine=False, the CycleGAN setting); affine gives weight 1 and bias 0', async () => {
    const plain = new InstanceNorm2d(rt, 3);
    expect(plain.namedParameters()).toEqual([]);
    expect(plain.namedBuffers()).toEqual([]);
    const affine = new InstanceNorm2d(rt, 3, { affine: true });
    expect(await affine.state()).toEqual({ weight: Float32Array.of(1, 1, 1), bias: Float32Array.of(0, 0, 0) });
    affine.dispose();
  });

  it('normalises each sample and channel in training and evaluation alike; checks its input', async () => {
    const shape = [3, 4, 5, 6];
    const x = randomArray(size(shape), 1, -3, 3);
    const norm = new InstanceNorm2d(rt, 4);
    const want = ref.instanceNorm(f32(x), shape, null, null, 1e-5);
    await rt.scope(async () => {
      const t = Tensor.fromArray(rt, x, shape);
      expectClose(await norm.forward(t).read(), want, 2e-5, 2e-4, 'InstanceNorm2d training');
      norm.eval();
      expectClose(await norm.forward(t).read(), want, 2e-5, 2e-4, 'InstanceNorm2d evaluation');
      expect(() => norm.forward(ops.full(rt, [2, 3, 4, 4], 0))).toThrow(/input \[2, 3, 4, 4\] does not match \[N, C, H, W\] with C = 4/);
    });
  });
});

describe('ReflectionPad2d, Upsample, PixelShuffle', () => {
  it('match their references; Upsample only offers nearest', async () => {
    const shape = [2, 4, 3, 5];
    const x = randomArray(size(shape), 2);
    const xf = f32(x);
    await rt.scope(async () => {
      const t = Tensor.fromArray(rt, x, shape);
      const pad = new ReflectionPad2d(rt, [2, 1, 0, 2]).forward(t);
      expect(pad.shape).toEqual([2, 4, 5, 8]);
      expectClose(await pad.read(), ref.reflectionPad2d(xf, shape, [2, 1, 0, 2]).y, 1e-7, 1e-7, 'ReflectionPad2d');
      const up = new Upsample(rt, { scaleFactor: [2, 3], mode: 'nearest' }).forward(t);
      expect(up.shape).toEqual([2, 4, 6, 15]);
      expectClose(await up.read(), ref.upsampleNearest(xf, shape, 2, 3).y, 1e-7, 1e-7, 'Upsample');
      const shuffled = new PixelShuffle(rt, 2).forward(t);
      expect(shuffled.shape).toEqual([2, 1, 6, 10]);
      expectClose(await shuffled.read(), ref.pixelShuffle(xf, shape, 2).y, 1e-7, 1e-7, 'PixelShuffle');
    });
    expect(() => new Upsample(rt, { scaleFactor: 2, mode: 'bilinear' as 'nearest' })).toThrow(/mode 'bilinear' is not available; this engine upsamples with mode 'nearest'/);
  });
});

describe('Residual and DenseBlock', () => {
  it('Residual: x + k body(x) under the body name given (CycleGAN conv_block); the body must keep the shape', async () => {
    const rng = new InitRng(3);
    const block = new Residual(rt, new Sequential(rt, new ReflectionPad2d(rt, 1), new Conv2d(rt, 3, 3, 3, { rng })), { name: 'conv_block', scale: 0.5 });
    expect(block.namedParameters().map(([k]) => k)).toEqual(['conv_block.1.weight', 'conv_block.1.bias']);
    const conv = block.body as Sequential;
    const w = await (conv.layers[1] as Conv2d).weight.read();
    const b = await (conv.layers[1] as Conv2d).bias!.read();
    const shape = [2, 3, 4, 5];
    await checkOp({
      rt,
      what: 'Residual',
      inputs: [{ shape, data: randomArray(size(shape), 4) }],
      gpu: (x) => block.forward(x),
      cpu: (x) => {
        const p = ref.reflectionPad2d(x, shape, [1, 1, 1, 1]);
        const c = ref.conv2d(p.y, p.shape, w, [3, 3, 3, 3], b, [1, 1], [0, 0, 0, 0]).y;
        return x.map((v, i) => v + 0.5 * c[i]!);
      },
    });
    const bad = new Residual(rt, new Conv2d(rt, 3, 2, 1, { rng }));
    rt.scope(() => expect(() => bad.forward(ops.full(rt, [1, 3, 2, 2], 0))).toThrow(/body maps \[1, 3, 2, 2\] to \[1, 2, 2, 2\]; a residual connection needs the same shape/));
    block.dispose();
    bad.dispose();
  });

  it("ESRGAN's residual dense block, Residual(DenseBlock(conv+lrelu, conv+lrelu, conv), 0.2): forward and input gradient", async () => {
    const rng = new InitRng(5);
    const [nf, gc] = [3, 2];
    const c1 = new Conv2d(rt, nf, gc, 3, { rng, padding: 1 });
    const c2 = new Conv2d(rt, nf + gc, gc, 3, { rng, padding: 1 });
    const c3 = new Conv2d(rt, nf + 2 * gc, nf, 3, { rng, padding: 1 });
    const rdb = new Residual(rt, new DenseBlock(rt, new Sequential(rt, c1, new LeakyReLU(rt, 0.2)), new Sequential(rt, c2, new LeakyReLU(rt, 0.2)), c3), { scale: 0.2 });
    expect(rdb.namedParameters().map(([k]) => k)).toEqual(['body.0.0.weight', 'body.0.0.bias', 'body.1.0.weight', 'body.1.0.bias', 'body.2.weight', 'body.2.bias']);
    const ws = await Promise.all([c1, c2, c3].map(async (c) => ({ w: await c.weight.read(), b: await c.bias!.read(), s: c.weight.shape })));
    const n = 2;
    const shape = [n, nf, 4, 3];
    const conv = (x: Float64Array, xs: number[], k: number) => ref.conv2d(x, xs, ws[k]!.w, ws[k]!.s, ws[k]!.b, [1, 1], [1, 1, 1, 1]).y;
    await checkOp({
      rt,
      what: 'residual dense block',
      inputs: [{ shape, data: randomArray(size(shape), 6) }],
      gpu: (x) => rdb.forward(x),
      cpu: (x) => {
        const x1 = lrelu(conv(x, shape, 0), 0.2);
        const cat1 = catChannels(x, nf, x1, gc, n);
        const x2 = lrelu(conv(cat1, [n, nf + gc, 4, 3], 1), 0.2);
        const cat2 = catChannels(cat1, nf + gc, x2, gc, n);
        const x3 = conv(cat2, [n, nf + 2 * gc, 4, 3], 2);
        return x.map((v, i) => v + 0.2 * x3[i]!);
      },
      atol: 2e-5,
      rtol: 2e-4,
    });
    expect(() => new DenseBlock(rt)).toThrow(/at least one stage/);
    rdb.dispose();
  });
});
