// The CycleGAN networks (gan/models/cyclegan.ts): shapes for 32x32 and 28x28 images, the Tanh range,
// the reference's parameter names under the two pair containers, seeded initialisation, and that the
// precision policy knows every layer kind they use.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { Layer, LAYER_KINDS, type Module } from '../../engine/nn/index.ts';
import { PrecisionPolicy } from '../../engine/quant/policy.ts';
import { recipeByName } from '../../engine/quant/recipe.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { buildCyclegan, describeCyclegan, type CycleganNets } from '../../gan/models/cyclegan.ts';
import { openTestRuntime, randomTensor } from '../engine/harness.ts';

let gpu: Gpu;
let rt: Runtime;
let nets: CycleganNets;
const small = { seed: 7, ngf: 4, ndf: 4, blocks: 1 };

beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
  nets = buildCyclegan(rt, small);
});
afterAll(() => {
  nets?.G.dispose();
  nets?.D.dispose();
  gpu?.destroy();
});

const allFinite = (v: Float32Array) => v.every((u) => Number.isFinite(u));

describe('CycleGAN networks', () => {
  it('translate keeps [B, 1, H, W] for 32x32 and 28x28, with finite values in [-1, 1]', async () => {
    for (const [s, g] of [
      [32, nets.G_AB],
      [28, nets.G_BA],
    ] as const) {
      await rt.scope(async () => {
        const y = g.translate(randomTensor(rt, [2, 1, s, s], s, false));
        expect(y.shape).toEqual([2, 1, s, s]);
        const v = await y.read();
        expect(allFinite(v)).toBe(true);
        expect(v.every((u) => u >= -1 && u <= 1)).toBe(true);
      });
    }
    expect(() => rt.scope(() => nets.G_AB.translate(randomTensor(rt, [1, 1, 30, 30], 1, false)))).toThrow(/multiples of 4/);
  });

  it('score gives raw patch scores [B, 1, 6, 6] for 32x32 and [B, 1, 5, 5] for 28x28', async () => {
    for (const [s, h, d] of [
      [32, 6, nets.D_A],
      [28, 5, nets.D_B],
    ] as const) {
      await rt.scope(async () => {
        const y = d.score(randomTensor(rt, [2, 1, s, s], s + 1, false));
        expect(y.shape).toEqual([2, 1, h, h]);
        expect(allFinite(await y.read())).toBe(true);
      });
    }
  });

  it('names parameters as the reference under G_AB / G_BA and D_A / D_B, initialised N(0, 0.02) with zero biases', async () => {
    const gNames = nets.G.namedParameters().map(([n]) => n);
    const dNames = nets.D.namedParameters().map(([n]) => n);
    expect(gNames.every((n) => n.startsWith('G_AB.') || n.startsWith('G_BA.'))).toBe(true);
    expect(dNames.every((n) => n.startsWith('D_A.') || n.startsWith('D_B.'))).toBe(true);
    // Stem conv at 1, downsampling convs at 4 and 7, the first ResnetBlock at 10 with its convs at 1 and 5.
    expect(gNames).toEqual(expect.arrayContaining(['G_AB.model.1.weight', 'G_AB.model.1.bias', 'G_BA.model.7.weight', 'G_AB.model.10.conv_block.1.weight', 'G_AB.model.10.conv_block.5.bias']));
    expect(dNames.filter((n) => n.startsWith('D_A.'))).toEqual(['D_A.model.0.weight', 'D_A.model.0.bias', 'D_A.model.2.weight', 'D_A.model.2.bias', 'D_A.model.5.weight', 'D_A.model.5.bias', 'D_A.model.8.weight', 'D_A.model.8.bias']);
    expect(nets.G.namedBuffers()).toEqual([]);
    const state = { ...(await nets.G.state()), ...(await nets.D.state()) };
    const weights = Object.entries(state).filter(([n]) => n.endsWith('.weight'));
    for (const [n, v] of Object.entries(state)) if (n.endsWith('.bias')) expect(v.every((u) => u === 0), n).toBe(true);
    const all = weights.flatMap(([, v]) => [...v]);
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    expect(describeCyclegan(nets)).toMatch(/G_AB\.model\.10\.conv_block\.1\.weight \[16, 16, 3, 3\]/);
  });

  it('the same seed builds the same weights, another seed other weights', async () => {
    const stateOf = async (seed: number) => {
      const n = buildCyclegan(rt, { ...small, seed });
      const s = { ...(await n.G.state()), ...(await n.D.state()) };
      n.G.dispose();
      n.D.dispose();
      return s;
    };
    const a = await stateOf(7);
    expect(await stateOf(7)).toEqual(a);
    expect({ ...(await nets.G.state()), ...(await nets.D.state()) }).toEqual(a);
    const b = await stateOf(8);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect(b['G_AB.model.1.weight']).not.toEqual(a['G_AB.model.1.weight']);
    expect(b['D_B.model.8.weight']).not.toEqual(a['D_B.model.8.weight']);
  });

  it('every layer kind is one the precision policy classifies, and a p8+ forward runs finite', async () => {
    const layers = (m: Module) => m.modules().filter((x): x is Layer => x instanceof Layer);
    const containers = [nets.G, nets.D].flatMap((m) => m.modules().filter((x) => !(x instanceof Layer)).map((x) => x.kind));
    expect(containers).toEqual(['CycleganGenerators', 'ResnetGenerator', 'ResnetGenerator', 'CycleganDiscriminators', 'PatchDiscriminator', 'PatchDiscriminator']);
    const kinds = new Set([nets.G, nets.D].flatMap((m) => layers(m).map((l) => l.kind)));
    for (const k of kinds) expect(LAYER_KINDS as readonly string[], k).toContain(k);
    const policy = new PrecisionPolicy(recipeByName('p8+'));
    nets.G.setHook(policy);
    nets.D.setHook(policy);
    try {
      await rt.scope(async () => {
        const y = nets.G_AB.translate(randomTensor(rt, [2, 1, 32, 32], 3, false));
        const s = nets.D_B.score(y);
        expect(s.shape).toEqual([2, 1, 6, 6]);
        const v = await y.read();
        expect(allFinite(v) && v.every((u) => u >= -1 && u <= 1)).toBe(true);
        expect(allFinite(await s.read())).toBe(true);
      });
    } finally {
      nets.G.setHook(null);
      nets.D.setHook(null);
    }
  });
});
