// The precision policy treats every layer by its declared kind (engine/nn/kinds.ts): every layer class
// the engine exports declares a kind the policy classifies, and a kind the policy does not know is an
// error naming the kind, the layer and the fix, under every recipe (never float32 or elementwise by
// default). The deployment hook finds the weights it packs through the same classification.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as nn from '../../engine/nn/index.ts';
import { Layer, LAYER_KINDS, Linear, Sequential, Tanh, type LayerKind } from '../../engine/nn/index.ts';
import { relu } from '../../engine/ops/index.ts';
import { PrecisionPolicy, treatmentOf, UnknownLayerKindError } from '../../engine/quant/policy.ts';
import { BUILTIN_RECIPES, recipeByName } from '../../engine/quant/recipe.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { matmulWeights } from '../../gan/deploy/hook.ts';
import { openTestRuntime } from '../engine/harness.ts';

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
};

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

  it('matmul layers get the matmul points, containers and reshapes pass through, the rest is elementwise', () => {
    const t = (kind: LayerKind) => treatmentOf({ path: 'x', kind });
    expect(['Linear', 'Conv2d', 'ConvTranspose2d'].map((k) => t(k as LayerKind))).toEqual(['matmul', 'matmul', 'matmul']);
    expect(t('Sequential')).toBe('pass');
    expect(t('Flatten')).toBe('pass');
    const elementwise = LAYER_KINDS.filter((k) => !['Linear', 'Conv2d', 'ConvTranspose2d', 'Sequential', 'Flatten'].includes(k));
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
