// A recipe applied to a model: the LayerHook that puts the recipe's quantizers at every quantization
// point of a forward pass (engine/nn/module.ts explains the hook), and the optimizer precision that
// covers the update side (gradients, optimizer state, master weights, the packed forward copy of the
// weights with its exponent bias).
//
// For each Linear / Conv layer:
//   input  -> quantizer(forward: matmul.input, backward: matmul.inputError)
//   weight -> the optimizer's packed forward copy (matmul.weight, bias t), or encoded here when there
//             is no optimizer (inference)
//   matmul/conv with wide accumulation, epilogue rounding to matmul.output
//   output -> quantizer(forward: none, backward: matmul.error)
// Every other layer's output -> quantizer(elementwise, elementwise). Containers (Sequential) and pure
// reshapes (Flatten) pass through.

import type { Format } from '../../formats/descriptor.ts';
import type { LayerHook, Operands, Site } from '../nn/module.ts';
import type { OptimizerPrecision } from '../optim/optimizer.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { encode, quantizer, type QuantSpec } from './quantizer.ts';
import type { Recipe } from './recipe.ts';

const MATMUL_LAYERS = new Set(['Linear', 'Conv2d', 'ConvTranspose2d']);
const PASS_THROUGH = new Set(['Sequential', 'Flatten']);

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
    const m = this.recipe.matmul;
    const input = m.input || m.inputError ? quantizer(o.input, this.spec(m.input), this.spec(m.inputError)) : o.input;
    let weight = o.weight;
    if (m.weight) {
      weight = this.options.forwardWeight
        ? this.options.forwardWeight(o.weight)
        : encode(o.weight, { format: m.weight, rounding: 'nearest', bias: this.options.weightBias?.(site) ?? 0 });
    }
    const kernel = { ...o.kernel };
    if (m.output) kernel.output = { format: m.output, rounding: this.recipe.rounding };
    if (m.accumulate === 'quire') kernel.accumulate = 'quire';
    return { input, weight, bias: o.bias, kernel };
  }

  output(site: Site, y: Tensor): Tensor {
    if (PASS_THROUGH.has(site.kind)) return y;
    if (MATMUL_LAYERS.has(site.kind)) {
      const e = this.recipe.matmul.error;
      return e ? quantizer(y, null, this.spec(e)) : y;
    }
    const f = this.recipe.elementwise;
    return f ? quantizer(y, this.spec(f), this.spec(f)) : y;
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
