// Pooling layers (parameter-free), over NCHW inputs; the ops are engine/ops/pool.ts.

import { avgPool2d, maxPool2d, type Pair, type PoolOptions } from '../ops/pool.ts';
import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Layer } from './module.ts';

abstract class Pool2d extends Layer {
  constructor(
    rt: Runtime,
    readonly kernelSize: Pair,
    readonly options: PoolOptions = {},
  ) {
    super(rt);
  }
}

/** Max pooling; the stride defaults to the kernel size, as in PyTorch. */
export class MaxPool2d extends Pool2d {
  override readonly kind = 'MaxPool2d';

  protected run(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

/** Average pooling; the stride defaults to the kernel size, as in PyTorch. */
export class AvgPool2d extends Pool2d {
  override readonly kind = 'AvgPool2d';

  protected run(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}
