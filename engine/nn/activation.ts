// Parameter-free layers: activations, dropout and flatten.

import { dropout } from '../ops/dropout.ts';
import { leakyRelu, relu, sigmoid, tanh } from '../ops/elementwise.ts';
import { reshape } from '../ops/shape.ts';
import type { RoundSpec } from '../ops/round.ts';
import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Layer } from './module.ts';

export class ReLU extends Layer {
  override readonly kind = 'ReLU';
  protected run(x: Tensor, round: RoundSpec | null): Tensor {
    return relu(x, round);
  }
}

export class LeakyReLU extends Layer {
  override readonly kind = 'LeakyReLU';
  constructor(
    rt: Runtime,
    readonly negativeSlope = 0.01,
  ) {
    super(rt);
  }
  protected run(x: Tensor, round: RoundSpec | null): Tensor {
    return leakyRelu(x, this.negativeSlope, round);
  }
}

export class Tanh extends Layer {
  override readonly kind = 'Tanh';
  protected run(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Sigmoid extends Layer {
  override readonly kind = 'Sigmoid';
  protected run(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** Flattens dimensions startDim.. into one (default: all but the batch dimension). */
export class Flatten extends Layer {
  override readonly kind = 'Flatten';
  constructor(
    rt: Runtime,
    readonly startDim = 1,
  ) {
    super(rt);
  }
  protected run(x: Tensor): Tensor {
    if (this.startDim < 0 || this.startDim >= x.rank) throw new Error(`Flatten: start dimension ${this.startDim} is outside input [${x.shape.join(', ')}]`);
    return reshape(x, [...x.shape.slice(0, this.startDim), -1]);
  }
}

/**
 * Dropout with a seeded counter-based mask. Each training forward pass uses counters
 * [counter, counter + x.size) and then advances `counter`, so successive passes draw fresh masks and
 * a run is reproducible from its seed (save `counter` to resume one exactly).
 */
export class Dropout extends Layer {
  override readonly kind = 'Dropout';
  counter = 0;
  constructor(
    rt: Runtime,
    readonly p = 0.5,
    readonly seed = 0,
  ) {
    super(rt);
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: probability must lie in [0, 1], got ${p}`);
  }
  protected run(x: Tensor, round: RoundSpec | null): Tensor {
    const y = dropout(x, this.p, { seed: this.seed, counter: this.counter, training: this.training, round });
    if (this.training) this.counter = (this.counter + x.size) >>> 0;
    return y;
  }
}
