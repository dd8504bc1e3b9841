// The precision policy treats every layer by its declared kind (engine/nn/kinds.ts): every layer class
// the engine exports declares a kind the policy classifies, and a kind the policy does not know is an
// error naming the kind, the layer and the fix, under every recipe (never float32 or elementwise by
// default). The deployment hook finds the weights it packs through the same classification.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as nn from '../../engine/nn/index.ts';
import { Layer, LAYER_KINDS, Linear, Sequential, Tanh, type LayerKind } from '../../engine/nn/index.ts';
import { record } from '../../engine/autograd/tape.ts';
import { backward, mseLoss, relu } from '../../engine/ops/index.ts';
import { PrecisionPolicy, treatmentOf, UnknownLayerKindError } from '../../engine/quant/policy.ts';
import { quantizer } from '../../engine/quant/quantizer.ts';
import { BUILTIN_RECIPES, recipeByName, resolveRecipe } from '../../engine/quant/recipe.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { quantize } from '../../formats/codec.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import { matmulWeights, prepareDeployment } from '../../gan/deploy/hook.ts';
import { deployRecipeByName } from '../../gan/deploy/recipes.ts';
import { openTestRuntime, randomArray } from '../engine/harness.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

/** One small instance of each layer class engine/nn exports, by export name. */
const FACTORIES: Record<string, (rt: Runtime) => Layer<never>> = {
  Linear: (r) => new nn.Linear(r, 2, 2, { rng: 1 }),
  Conv2d: (r) => new nn.Conv2d(r, 1, 1, 1, { rng: 1 }),
  ConvTranspose2d: (r) => new nn.ConvTranspose2d(r, 1, 1, 1, { rng: 1 }),
  Embedding: (r) => new nn.Embedding(r, 2, 2, { rng: 1 }),
  BatchNorm1d: (r) => new nn.BatchNorm1d(r, 2),
  BatchNorm2d: (r) => new nn.BatchNorm2d(r, 2),
  ReLU: (r) => new nn.ReLU(r),
  LeakyReLU: (r) => new nn.LeakyReLU(r),
  Tanh: (r) => new nn.Tanh(r),
  Sigmoid: (r) => new nn.Sigmoid(r),
  Dropout: (r) => new nn.Dropout(r),
  MaxPool2d: (r) => new nn.MaxPool2d(r, 2),
  AvgPool2d: (r) => new nn.AvgPool2d(r, 2),
  Flatten: (r) => new nn.Flatten(r),
  Sequential: (r) => new nn.Sequential(r),
  InstanceNorm2d: (r) => new nn.InstanceNorm2d(r, 2),
  ReflectionPad2d: (r) => new nn.ReflectionPad2d(r, 1),
  Upsample: (r) => new nn.Upsample(r, { scaleFactor: 2 }),
  PixelShuffle: (r) => new nn.PixelShuffle(r, 2),
  Residual: (r) => new nn.Residual(r, new nn.ReLU(r)),
  DenseBlock: (r) => new nn.DenseBlock(r, new nn.ReLU(r)),
};

/** The kinds the policy passes through: containers, reshapes and the layers that only move values. */
const PASS_KINDS = ['Sequential', 'Flatten', 'DenseBlock', 'ReflectionPad2d', 'Upsample', 'PixelShuffle'];

/** A layer whose kind was never added to LAYER_KINDS (the cast stands for code the type checker does
 *  not see, or a class written before its kind was registered). */
class Mystery extends Layer {
  override readonly kind = 'Mystery' as LayerKind;
  protected run(x: Tensor): Tensor {
    return relu(x);
  }
}

/** A layer that calls the matmul operand hook although its kind is not a matmul kind. */
class NotAMatmul extends Layer {
  override readonly kind = 'Tanh';
  protected run(x: Tensor): Tensor {
    const o = this.operands({ input: x, weight: x, bias: null, kernel: {} });
    return o.input;
  }
}

describe('layer kinds', () => {
  it('every layer class engine/nn exports declares its own kind, listed in LAYER_KINDS, which the policy classifies', () => {
    const layerClasses = Object.entries(nn).filter(([, v]) => typeof v === 'function' && v.prototype instanceof Layer);
    // A new layer class needs an entry in FACTORIES (and a kind): this names the ones missing.
    expect(layerClasses.map(([name]) => name).sort()).toEqual(Object.keys(FACTORIES).sort());
    const kinds = new Set<string>();
    for (const [name, cls] of layerClasses) {
      const layer = FACTORIES[name]!(rt);
      expect(layer).toBeInstanceOf(cls as abstract new (...a: never[]) => unknown);
      // The source is not minified here, so the declared kind can be checked against the class name.
      expect(layer.kind, `kind of ${name}`).toBe(name);
      expect(LAYER_KINDS).toContain(layer.kind);
      expect(() => treatmentOf(layer.site), `policy treatment of ${name}`).not.toThrow();
      kinds.add(layer.kind);
      layer.dispose();
    }
    // No kind is listed without a class that declares it.
    expect([...kinds].sort()).toEqual([...LAYER_KINDS].sort());
  });

  it('matmul layers get the matmul points, containers, reshapes, padding, upsampling and pixel shuffle pass through, the rest is elementwise', () => {
    const t = (kind: LayerKind) => treatmentOf({ path: 'x', kind });
    expect(['Linear', 'Conv2d', 'ConvTranspose2d'].map((k) => t(k as LayerKind))).toEqual(['matmul', 'matmul', 'matmul']);
    for (const k of PASS_KINDS) expect(t(k as LayerKind), k).toBe('pass');
    const elementwise = LAYER_KINDS.filter((k) => !['Linear', 'Conv2d', 'ConvTranspose2d', ...PASS_KINDS].includes(k));
    // Normalisation, activations and the residual sum among them.
    expect(elementwise).toEqual(expect.arrayContaining(['InstanceNorm2d', 'BatchNorm2d', 'ReLU', 'Residual']));
    for (const k of elementwise) expect(t(k), k).toBe('elementwise');
  });

  it('an unknown kind is refused under every recipe, naming the kind, the layer path and the fix', () => {
    for (const name of Object.keys(BUILTIN_RECIPES)) {
      const m = new Sequential(rt, new Linear(rt, 3, 2, { rng: 1 }), new Mystery(rt));
      m.setHook(new PrecisionPolicy(recipeByName(name)));
      rt.scope(() => {
        const x = Tensor.fromArray(rt, new Float32Array(6).fill(0.5), [2, 3]);
        let err: unknown;
        try {
          m.forward(x);
        } catch (e) {
          err = e;
        }
        expect(err, `recipe ${name}`).toBeInstanceOf(UnknownLayerKindError);
        const msg = (err as Error).message;
        expect(msg).toMatch(/layer '1' has kind 'Mystery', which the policy does not know/);
        expect(msg).toMatch(/Add 'Mystery' to LAYER_KINDS in engine\/nn\/kinds\.ts and classify it in TREATMENT in engine\/quant\/policy\.ts \(matmul, elementwise or pass\)/);
      });
      m.dispose();
    }
  });

  it('the matmul operand hook is refused for a kind the policy does not treat as matmul', () => {
    const m = new NotAMatmul(rt);
    m.setHook(new PrecisionPolicy(recipeByName('p8+')));
    rt.scope(() => {
      const x = Tensor.fromArray(rt, new Float32Array(4), [2, 2]);
      expect(() => m.forward(x)).toThrow(/layer '\(root\)' of kind 'Tanh' handed matmul operands, but the policy treats 'Tanh' as elementwise/);
    });
  });

  it('the deployment hook packs the weights of the matmul kinds, and refuses an unknown kind', () => {
    const g = new Sequential(rt, new Linear(rt, 3, 4, { rng: 1 }), new Tanh(rt), new Linear(rt, 4, 2, { rng: 2 }));
    expect([...matmulWeights(g).keys()]).toEqual(['0.weight', '2.weight']);
    g.dispose();
    const bad = new Sequential(rt, new Linear(rt, 3, 4, { rng: 1 }), new Mystery(rt));
    expect(() => matmulWeights(bad)).toThrow(UnknownLayerKindError);
    expect(() => matmulWeights(bad)).toThrow(/layer '1' has kind 'Mystery'/);
    bad.dispose();
  });
});

/** An image network with every new kind: reflection padding after an activation and inside a
 *  residual block, instance norm, nearest upsampling after a residual sum, a dense block, and pixel
 *  shuffle after a convolution (channels 2 -> 1 image, 5x5 -> 10x10 -> 20x20). */
function imageNet(seed: number): Sequential {
  const rng = new nn.InitRng(seed);
  const conv = (i: number, o: number, padding = 0) => new nn.Conv2d(rt, i, o, 3, { rng, padding });
  return new Sequential(
    rt,
    conv(2, 3, 1),
    new nn.InstanceNorm2d(rt, 3, { affine: true }),
    new nn.ReLU(rt),
    new nn.ReflectionPad2d(rt, 1),
    conv(3, 2),
    new nn.Residual(rt, new Sequential(rt, new nn.ReflectionPad2d(rt, [1, 1, 1, 1]), conv(2, 2), new nn.InstanceNorm2d(rt, 2)), { name: 'conv_block' }),
    new nn.Residual(rt, new nn.DenseBlock(rt, new Sequential(rt, conv(2, 2, 1), new nn.LeakyReLU(rt, 0.2)), conv(4, 2, 1)), { scale: 0.2 }),
    new nn.Upsample(rt, { scaleFactor: 2 }),
    conv(2, 4, 1),
    new nn.PixelShuffle(rt, 2),
    new nn.LeakyReLU(rt, 0.2),
    conv(1, 1, 1),
    new Tanh(rt),
  );
}

/** The same tensor without its lattice tag, and a backward that drops the gradient's tag: a quantizer
 *  between two of these runs its codec on the values instead of trusting the tags. */
function untagged(t: Tensor): Tensor {
  const v = t.view(t.shape);
  v.lattice = null;
  return record(v, 'untag', [t], (g) => {
    const u = g.view(g.shape);
    u.lattice = null;
    return [u];
  });
}

/** The policy, but padding, upsampling and pixel shuffle treated as elementwise layers (rounded for real). */
class ValueMoversElementwise extends PrecisionPolicy {
  override output(site: nn.Site, y: Tensor): Tensor {
    const f = this.recipe.elementwise;
    if (!['ReflectionPad2d', 'Upsample', 'PixelShuffle'].includes(site.kind) || !f) return super.output(site, y);
    const q = { format: f, rounding: this.recipe.rounding };
    return untagged(quantizer(untagged(y), q, q));
  }
}

describe('padding, upsampling and pixel shuffle pass through', () => {
  async function step(policy: PrecisionPolicy): Promise<Float32Array[]> {
    const net = imageNet(21);
    net.setHook(policy);
    const out = await rt.scope(async () => {
      const x = Tensor.fromArray(rt, Float32Array.from(randomArray(2 * 2 * 5 * 5, 22)), [2, 2, 5, 5]);
      const target = Tensor.fromArray(rt, Float32Array.from(randomArray(2 * 1 * 20 * 20, 23)), [2, 1, 20, 20]);
      const y = net.forward(x);
      expect(y.shape).toEqual([2, 1, 20, 20]);
      backward(mseLoss(y, target));
      return [await y.read(), ...(await Promise.all(net.parameters().map((p) => p.grad!.read())))];
    });
    net.dispose();
    return out;
  }

  for (const name of ['p8+', 'fp8']) {
    it(`${name}: inside a network they give bit for bit the outputs and weight gradients of an elementwise treatment`, async () => {
      const recipe = recipeByName(name);
      const passed = await step(new PrecisionPolicy(recipe));
      const rounded = await step(new ValueMoversElementwise(recipe));
      expect(passed.length).toBe(1 + 7 * 2 + 2); // the output; 7 convolutions' weights and biases, one affine instance norm
      expect(passed.every((v) => v.every(Number.isFinite))).toBe(true);
      for (let i = 0; i < passed.length; i++) expect(passed[i], i === 0 ? 'output' : `gradient ${i - 1}`).toEqual(rounded[i]);
      // And the recipe is at work: float32 gives another output.
      const fp32 = await step(new PrecisionPolicy(recipeByName('fp32')));
      expect(fp32[0]).not.toEqual(passed[0]);
    });
  }
});

describe('deployment of a generator with the new kinds', () => {
  it('packs exactly the convolution weights, runs every recipe point (p6+t) and leaves the output on the activation lattice', async () => {
    const G = imageNet(31);
    G.eval();
    const convs = G.modules().filter((m) => m instanceof nn.Conv2d).map((m) => `${m.path}.weight`);
    expect(convs.length).toBe(7);
    expect([...matmulWeights(G).keys()].sort()).toEqual(convs.sort());
    const recipe = deployRecipeByName('p6+t');
    const dep = await prepareDeployment(G, recipe);
    expect([...dep.packed.keys()].sort()).toEqual(convs.sort());
    G.setHook(dep.hook);
    const y = await rt.scope(() => rt.noGrad(() => G.forward(Tensor.fromArray(rt, Float32Array.from(randomArray(2 * 2 * 5 * 5, 32)), [2, 2, 5, 5])).read()));
    expect(y.length).toBe(2 * 20 * 20);
    for (const v of y) {
      expect(Number.isFinite(v)).toBe(true);
      expect(quantize(recipe.activations!, v)).toBe(v);
    }
    dep.dispose();
    G.dispose();
  });
});

describe('stochastic rounding at a matmul output (the GEMM epilogue)', () => {
  it('each product draws its own seed from the run\'s stream: on the lattice, unbiased, reproducible from the counter', async () => {
    // p8+'s matmul output (posit(16,2)) as the only rounding point of the product (float32 operands),
    // so that the stochastic and nearest outputs round the same float32 sums.
    const base = BUILTIN_RECIPES['p8+']!;
    const onlyOutput = { ...base, matmul: { ...base.matmul, input: null, weight: null }, weightBias: { mode: 'none' }, lossScale: { mode: 'none' } };
    const stochastic = new PrecisionPolicy(resolveRecipe({ ...onlyOutput, name: 'p16 output, stochastic', rounding: 'stochastic' }));
    const nearest = new PrecisionPolicy(resolveRecipe({ ...onlyOutput, name: 'p16 output, nearest', rounding: 'nearest' }));
    const p16 = parseFormat('p16e2');
    const layer = new Linear(rt, 32, 64, { rng: 5 });
    const x = Float32Array.from(randomArray(16 * 32, 6));
    const forward = (policy: PrecisionPolicy) => {
      layer.setHook(policy);
      return rt.scope(async () => layer.forward(Tensor.fromArray(rt, x, [16, 32])).read());
    };
    const near = await forward(nearest);
    const start = rt.randomCounter;
    const first = await forward(stochastic);
    const second = await forward(stochastic);
    rt.randomCounter = start;
    const again = await forward(stochastic);
    layer.dispose();
    // Before the fix the policy gave the epilogue no seed and the layer refused to run.
    expect(again).toEqual(first);
    expect(second).not.toEqual(first);
    for (const v of [first, second]) {
      expect([...v].every((y) => quantize(p16, y) === y)).toBe(true);
      // Rounded up or down, never further than the lattice neighbours of the nearest value, and
      // without bias: the mean difference from nearest rounding is far below one spacing.
      const diffs = [...v].map((y, i) => y - near[i]!);
      expect(diffs.some((d) => d !== 0)).toBe(true);
      for (const [i, d] of diffs.entries()) expect(Math.abs(d)).toBeLessThanOrEqual(Math.abs(near[i]!) * 2 ** -8 + 2 ** -40);
      const meanAbs = [...near].reduce((a, y) => a + Math.abs(y), 0) / near.length;
      expect(Math.abs(diffs.reduce((a, d) => a + d, 0) / diffs.length)).toBeLessThan(meanAbs * 2 ** -11);
    }
  });
});
