// The ESRGAN networks (gan/models/srgan.ts): shapes for scale 2 and 4, the input-size check, the
// reference's parameter names, the 0.1-scaled kaiming initialisation, seeding, gradients reaching every
// parameter, and a p8+ forward under the precision policy.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { Layer, LAYER_KINDS, type Module } from '../../engine/nn/index.ts';
import { backward, sum } from '../../engine/ops/index.ts';
import { PrecisionPolicy } from '../../engine/quant/policy.ts';
import { recipeByName } from '../../engine/quant/recipe.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { buildSrgan, describeSrgan, type SrganOptions } from '../../gan/models/srgan.ts';
import { openTestRuntime, randomTensor } from '../engine/harness.ts';

let gpu: Gpu;
let rt: Runtime;
const small: SrganOptions = { seed: 5, nf: 4, gc: 2, blocks: 1, scale: 2, ndf: 4 };
let x2: ReturnType<typeof buildSrgan>;
let x4: ReturnType<typeof buildSrgan>;

beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
  x2 = buildSrgan(rt, small);
  x4 = buildSrgan(rt, { ...small, scale: 4 });
});
afterAll(() => {
  for (const n of [x2, x4]) {
    n?.G.dispose();
    n?.D.dispose();
  }
  gpu?.destroy();
});

const allFinite = (v: Float32Array) => v.every((u) => Number.isFinite(u));
const stateOf = async (n: ReturnType<typeof buildSrgan>) => ({ ...(await n.G.state()), ...(await n.D.state()) });

describe('ESRGAN networks', () => {
  it('upscale maps [2, 1, 14, 14] (scale 2) and [2, 1, 7, 7] (scale 4) to finite [2, 1, 28, 28]; score gives [2, 1]', async () => {
    for (const [n, s] of [
      [x2, 14],
      [x4, 7],
    ] as const) {
      await rt.scope(async () => {
        const sr = n.G.upscale(randomTensor(rt, [2, 1, s, s], s, false));
        expect(sr.shape).toEqual([2, 1, 28, 28]);
        expect(allFinite(await sr.read())).toBe(true);
        const logit = n.D.score(sr);
        expect(logit.shape).toEqual([2, 1]);
        expect(allFinite(await logit.read())).toBe(true);
      });
    }
  });

  it('refuses a low-resolution input of the wrong size, naming the expected and the given shape', () => {
    rt.scope(() => {
      expect(() => x2.G.upscale(randomTensor(rt, [2, 1, 7, 7], 1, false))).toThrow(/RrdbGenerator: input \[2, 1, 7, 7\] must be \[B, 1, 14, 14\] \(28x28 \/ scale 2\)/);
      expect(() => x4.G.upscale(randomTensor(rt, [2, 1, 14, 14], 1, false))).toThrow(/input \[2, 1, 14, 14\] must be \[B, 1, 7, 7\] \(28x28 \/ scale 4\)/);
      expect(() => x2.D.score(randomTensor(rt, [2, 1, 14, 14], 1, false))).toThrow(/SrDiscriminator: input \[2, 1, 14, 14\] must be \[B, 1, 28, 28\]/);
    });
    expect(() => buildSrgan(rt, { ...small, scale: 3 as 2 })).toThrow(/scale must be 2 or 4, got 3/);
    expect(() => buildSrgan(rt, { ...small, gc: 0 })).toThrow(/gc must be a positive integer, got 0/);
  });

  it("names parameters as RRDBNet and BasicSR's discriminator; dense-block convs are kaiming x 0.1 with zero biases, the others PyTorch's default", async () => {
    const g2 = x2.G.namedParameters().map(([n]) => n);
    expect(g2).toEqual(
      expect.arrayContaining(['conv_first.weight', 'trunk.body.RRDB_trunk.0.body.RDB1.body.0.0.weight', 'trunk.body.RRDB_trunk.0.body.RDB3.body.4.bias', 'trunk.body.trunk_conv.weight', 'upconv1.weight', 'HRconv.weight', 'conv_last.bias']),
    );
    expect(g2.some((n) => n.startsWith('upconv2.'))).toBe(false);
    expect(x4.G.namedParameters().some(([n]) => n === 'upconv2.weight')).toBe(true);
    // Dense growth: stage k of a block sees nf + k gc channels; the last stage returns to nf.
    const shapes = Object.fromEntries(x2.G.namedParameters().map(([n, t]) => [n, t.shape]));
    expect(shapes['trunk.body.RRDB_trunk.0.body.RDB2.body.3.0.weight']).toEqual([2, 4 + 3 * 2, 3, 3]);
    expect(shapes['trunk.body.RRDB_trunk.0.body.RDB2.body.4.weight']).toEqual([4, 4 + 4 * 2, 3, 3]);
    expect(x2.D.namedParameters().map(([n]) => n)).toEqual([
      'conv0_0.weight',
      'conv0_0.bias',
      'conv0_1.weight',
      'bn0_1.weight',
      'bn0_1.bias',
      'conv1_0.weight',
      'bn1_0.weight',
      'bn1_0.bias',
      'conv1_1.weight',
      'bn1_1.weight',
      'bn1_1.bias',
      'linear1.weight',
      'linear1.bias',
      'linear2.weight',
      'linear2.bias',
    ]);
    expect(x2.D.namedParameters().find(([n]) => n === 'linear1.weight')![1].shape).toEqual([100, 8 * 7 * 7]);
    const state = await x2.G.state();
    for (const [n, t] of x2.G.namedParameters()) {
      const v = state[n]!;
      const dense = /\.RDB\d\./.test(n);
      if (n.endsWith('.bias')) {
        // Dense-block biases start at 0; the other convolutions' biases are PyTorch's default, uniform.
        expect(v.every((u) => u === 0), n).toBe(dense);
        continue;
      }
      // Dense blocks: RMS against 0.1 sqrt(2 / fan_in); elsewhere PyTorch's default, uniform with
      // bound 1 / sqrt(fan_in) (RMS bound / sqrt(3), about 4x larger).
      const fanIn = t.shape[1]! * 9;
      const want = dense ? 0.1 * Math.sqrt(2 / fanIn) : 1 / Math.sqrt(fanIn) / Math.sqrt(3);
      const rms = Math.sqrt(v.reduce((a, u) => a + u * u, 0) / v.length);
      expect(rms / want, n).toBeGreaterThan(0.6);
      expect(rms / want, n).toBeLessThan(1.4);
    }
    expect(describeSrgan(x2)).toMatch(/srgan x2[\s\S]*trunk\.body\.trunk_conv\.weight \[4, 4, 3, 3\][\s\S]*D:\n {2}conv0_0\.weight \[4, 1, 3, 3\]/);
  });

  it('the same seed builds the same weights, another seed other weights', async () => {
    const at = async (seed: number) => {
      const n = buildSrgan(rt, { ...small, seed });
      const s = await stateOf(n);
      n.G.dispose();
      n.D.dispose();
      return s;
    };
    const a = await at(5);
    expect(await at(5)).toEqual(a);
    const b = await at(6);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect(b['conv_first.weight']).not.toEqual(a['conv_first.weight']);
    expect(b['linear1.weight']).not.toEqual(a['linear1.weight']);
  });

  it('gradients of the score reach every parameter of both networks', async () => {
    await rt.scope(async () => {
      backward(sum(x4.D.score(x4.G.upscale(randomTensor(rt, [2, 1, 7, 7], 9, false)))));
      for (const [n, p] of [...x4.G.namedParameters(), ...x4.D.namedParameters()]) {
        expect(p.grad, n).not.toBeNull();
        expect(allFinite(await p.grad!.read()), n).toBe(true);
      }
    });
    for (const p of [...x4.G.parameters(), ...x4.D.parameters()]) {
      p.grad?.dispose();
      p.grad = null;
    }
  });

  it('every layer kind is one the precision policy classifies, and p8+ forwards run finite', async () => {
    const layers = (m: Module) => m.modules().filter((x): x is Layer => x instanceof Layer);
    for (const k of new Set([x4.G, x4.D].flatMap((m) => layers(m).map((l) => l.kind)))) expect(LAYER_KINDS as readonly string[], k).toContain(k);
    const policy = new PrecisionPolicy(recipeByName('p8+'));
    for (const [n, s] of [
      [x2, 14],
      [x4, 7],
    ] as const) {
      n.G.setHook(policy);
      n.D.setHook(policy);
      try {
        await rt.scope(async () => {
          const sr = n.G.upscale(randomTensor(rt, [2, 1, s, s], 3, false));
          const logit = n.D.score(sr);
          expect(sr.shape).toEqual([2, 1, 28, 28]);
          expect(logit.shape).toEqual([2, 1]);
          expect(allFinite(await sr.read())).toBe(true);
          expect(allFinite(await logit.read())).toBe(true);
        });
      } finally {
        n.G.setHook(null);
        n.D.setHook(null);
      }
    }
  });
});
