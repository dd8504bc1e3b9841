// Layers applied in order; children are named '0', '1', ... as in PyTorch's nn.Sequential.

import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Layer } from './module.ts';

export class Sequential extends Layer {
  override readonly kind = 'Sequential';
  readonly layers: readonly Layer[];

  constructor(rt: Runtime, ...layers: Layer[]) {
    super(rt);
    this.layers = layers.map((l, i) => this.addModule(String(i), l));
  }

  protected run(x: Tensor): Tensor {
    return this.layers.reduce((h, l) => l.forward(h), x);
  }
}
