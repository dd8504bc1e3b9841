// Fully connected layer y = x W^T + b with W [out, in] (PyTorch's layout and default init).

import { linear } from '../ops/matmul.ts';
import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { defaultBound, toRng, uniformArray, type RngLike } from './init.ts';
import { Layer } from './module.ts';

export interface LinearOptions {
  /** Initialisation generator (share one across a model), or a seed. */
  rng: RngLike;
  bias?: boolean;
}

export class Linear extends Layer {
  override readonly kind = 'Linear';
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    rt: Runtime,
    readonly inFeatures: number,
    readonly outFeatures: number,
    o: LinearOptions,
  ) {
    super(rt);
    const rng = toRng(o.rng);
    const bound = defaultBound(inFeatures);
    this.weight = this.addParameter('weight', uniformArray(outFeatures * inFeatures, -bound, bound, rng), [outFeatures, inFeatures]);
    this.bias = (o.bias ?? true) ? this.addParameter('bias', uniformArray(outFeatures, -bound, bound, rng), [outFeatures]) : null;
  }

  protected run(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new Error(`${this.path || this.kind}: input [${x.shape.join(', ')}] does not match [batch, ${this.inFeatures}]`);
    }
    const o = this.operands({ input: x, weight: this.weight, bias: this.bias, kernel: {} });
    return linear(o.input, o.weight, { ...o.kernel, ...(o.bias ? { bias: o.bias } : {}) });
  }
}
