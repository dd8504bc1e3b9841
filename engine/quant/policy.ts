// A recipe applied to a model: the LayerHook that puts the recipe's quantizers at every quantization
// point of a forward pass (engine/nn/module.ts explains the hook), and the optimizer precision that
// covers the update side (gradients, optimizer state, master weights, the packed forward copy of the
// weights with its exponent bias). docs/method.md section 5 says where the paper quantizes.
//
// Each layer is treated by its declared kind (engine/nn/kinds.ts), through TREATMENT below, which
// names every kind:
//   matmul       (Linear, Conv2d, ConvTranspose2d)
//                  input  -> quantizer(forward: matmul.input, backward: matmul.inputError)
//                  weight -> the optimizer's packed forward copy (matmul.weight, bias t), or encoded
//                            here when there is no optimizer (inference)
//                  matmul/conv with wide accumulation, epilogue rounding to matmul.output
//                  output -> quantizer(forward: none, backward: matmul.error)
//   elementwise  (activations, batch and instance norm, pooling, dropout, embedding lookups, the
//                residual sum of a Residual container)
//                  output -> quantizer(elementwise, elementwise)
//   pass         (Sequential, Flatten, DenseBlock, ReflectionPad2d, Upsample, PixelShuffle): nothing;
//                their children or input are already quantized (see the note above TREATMENT).
// A kind the table does not name (a layer class added without classifying it, or a kind forced past
// the type checker) is an error naming the kind and the layer: guessing float32 or elementwise would
// quietly train a different model than the recipe describes.

import type { Format } from '../../formats/descriptor.ts';
import { random } from '../../formats/rng.ts';
import type { LayerKind } from '../nn/kinds.ts';
import type { LayerHook, Operands, Site } from '../nn/module.ts';
import type { OptimizerPrecision } from '../optim/optimizer.ts';
import type { RoundSpec } from '../ops/round.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { encode, quantizer, type QuantSpec } from './quantizer.ts';
import type { Recipe } from './recipe.ts';

/** How the policy quantizes a layer (see the top of this file). */
export type Treatment = 'matmul' | 'elementwise' | 'pass';

// Pass-through layers that are not containers: padding, nearest upsampling and pixel shuffle (and a DenseBlock's concatenation) move
// values and compute none. docs/method.md section 5.1: "all other operations work on posit(16, 2)
// values, and a value is rounded to posit(8, 2) again when it enters the next matmul or convolution";
// these layers sit between a rounded output and the next layer (a convolution in both reference
// models), so:
//  - forward, every value they output is a copy of a value their producer already rounded (to
//    `elementwise`, or to `matmul.output`, which equals it in every built-in recipe). Re-rounding a
//    value on its lattice returns it unchanged under nearest and stochastic rounding alike, so an
//    `elementwise` quantizer here would be a no-op (the output carries the input's lattice, so the
//    quantizer would not even run a kernel). Where the input is on no lattice (the model's input
//    image before the CycleGAN generator's first ReflectionPad2d), pass-through leaves it to be
//    rounded once, by the next convolution's `matmul.input`, as every model's images enter its first
//    layer; an `elementwise` rounding there would round the image twice (to p16, then p8), which the
//    paper does not do.
//  - backward, the error reaching them was rounded by their consumer (a convolution's
//    `matmul.inputError`, or an elementwise layer's quantizer), and their own gradients are sums (a
//    value copied k times receives the sum of k gradients): the same sums autograd forms for a tensor
//    used k times, which the engine rounds where the producer's output quantizer rounds its error.
// test/quant/policy.test.ts checks that, inside a network, passing padding, upsampling and pixel shuffle
// through gives bit for bit the outputs and weight gradients that rounding them for real gives under
// p8+ and fp8.
const TREATMENT: Readonly<Record<LayerKind, Treatment>> = {
  Linear: 'matmul',
  Conv2d: 'matmul',
  ConvTranspose2d: 'matmul',
  Embedding: 'elementwise',
  BatchNorm1d: 'elementwise',
  BatchNorm2d: 'elementwise',
  InstanceNorm2d: 'elementwise',
  ReLU: 'elementwise',
  LeakyReLU: 'elementwise',
  Tanh: 'elementwise',
  Sigmoid: 'elementwise',
  Dropout: 'elementwise',
  MaxPool2d: 'elementwise',
  AvgPool2d: 'elementwise',
  // The residual sum x + k f(x) is an "other op" (section 5.1): its result is rounded.
  Residual: 'elementwise',
  ReflectionPad2d: 'pass',
  Upsample: 'pass',
  PixelShuffle: 'pass',
  Flatten: 'pass',
  Sequential: 'pass',
  DenseBlock: 'pass',
};

/** A layer whose kind the precision policy does not classify. */
export class UnknownLayerKindError extends Error {
  override name = 'UnknownLayerKindError';
}

/** The policy's treatment of the layer at `site`; throws UnknownLayerKindError for a kind it does not know. */
export function treatmentOf(site: Pick<Site, 'path' | 'kind'>): Treatment {
  const kind: string = site.kind;
  if (Object.hasOwn(TREATMENT, kind)) return TREATMENT[kind as LayerKind];
  throw new UnknownLayerKindError(
    `precision policy: layer '${site.path || '(root)'}' has kind '${kind}', which the policy does not know, so it cannot tell ` +
      `where to quantize it. Add '${kind}' to LAYER_KINDS in engine/nn/kinds.ts and classify it in TREATMENT in ` +
      `engine/quant/policy.ts (matmul, elementwise or pass), as docs/method.md section 5.2 describes; the policy does not guess.`,
  );
}

export interface PolicyOptions {
  /** The packed forward copy of a weight (the optimizer's), when training. */
  forwardWeight?: (w: Tensor) => Tensor;
  /** Exponent bias of the weights encoded here (inference without an optimizer). */
  weightBias?: (site: Site) => number;
}

export class PrecisionPolicy implements LayerHook {
  constructor(
    readonly recipe: Recipe,
    private readonly options: PolicyOptions = {},
  ) {}

  private spec(f: Format | null): QuantSpec | null {
    return f ? { format: f, rounding: this.recipe.rounding } : null;
  }

  operands(site: Site, o: Operands): Operands {
    const t = treatmentOf(site);
    if (t !== 'matmul') {
      throw new Error(`precision policy: layer '${site.path || '(root)'}' of kind '${site.kind}' handed matmul operands, but the policy treats '${site.kind}' as ${t}: classify it as matmul in engine/quant/policy.ts, or do not call operands() from it`);
    }
    const m = this.recipe.matmul;
    const input = m.input || m.inputError ? quantizer(o.input, this.spec(m.input), this.spec(m.inputError)) : o.input;
    let weight = o.weight;
    if (m.weight) {
      weight = this.options.forwardWeight
        ? this.options.forwardWeight(o.weight)
        : encode(o.weight, { format: m.weight, rounding: 'nearest', bias: this.options.weightBias?.(site) ?? 0 });
    }
    const kernel = { ...o.kernel };
    if (m.output) {
      kernel.output = { format: m.output, rounding: this.recipe.rounding };
      // The epilogue's stochastic rounding draws random(seed, output index): each product gets its own
      // seed from the runtime's stream (one counter per product), so no two products, and no two
      // steps, share random numbers, and a resumed run (its counter restored) draws the same ones.
      if (this.recipe.rounding === 'stochastic') kernel.output.seed = random(o.input.rt.randomSeed, o.input.rt.nextCounter(1));
    }
    if (m.accumulate === 'quire') kernel.accumulate = 'quire';
    return { input, weight, bias: o.bias, kernel };
  }

  /** The forward rounding output() applies to an elementwise layer's result (the layer may fuse it). */
  outputRounding(site: Site): RoundSpec | null {
    const f = this.recipe.elementwise;
    return f && treatmentOf(site) === 'elementwise' ? { format: f, rounding: this.recipe.rounding } : null;
  }

  output(site: Site, y: Tensor): Tensor {
    switch (treatmentOf(site)) {
      case 'pass':
        return y;
      case 'matmul': {
        const e = this.recipe.matmul.error;
        return e ? quantizer(y, null, this.spec(e)) : y;
      }
      case 'elementwise': {
        const f = this.recipe.elementwise;
        return f ? quantizer(y, this.spec(f), this.spec(f)) : y;
      }
    }
  }
}

/** The optimizer side of a recipe. `weightBias` is the initial exponent bias of the forward copies. */
export function optimizerPrecision(recipe: Recipe, weightBias = 0, seed = 0): OptimizerPrecision {
  const q = (f: Format | null) => (f ? { format: f, rounding: recipe.rounding } : null);
  return {
    grad: q(recipe.gradient),
    state: q(recipe.optimizerState),
    master: q(recipe.masterWeights),
    forwardCopy: recipe.matmul.weight ? { format: recipe.matmul.weight, rounding: 'nearest', bias: weightBias } : null,
    seed,
  };
}
