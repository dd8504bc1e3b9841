// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay, as
// torch.optim.SGD: g += wd * w; buf = momentum * buf + (1 - dampening) * g (buf = g on the first
// step); w -= lr * (nesterov ? g + momentum * buf : buf).

import type { Runtime } from '../runtime.ts';
import { Optimizer, type OptimizerOptions, type ParamList, type RuleScalars } from './optimizer.ts';

export interface SgdOptions extends OptimizerOptions {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;

  constructor(rt: Runtime, params: ParamList, o: SgdOptions) {
    const momentum = o.momentum ?? 0;
    const dampening = o.dampening ?? 0;
    if (!(momentum >= 0)) throw new Error(`sgd: momentum must be >= 0, got ${momentum}`);
    if (o.nesterov && (momentum <= 0 || dampening !== 0)) throw new Error('sgd: Nesterov momentum needs momentum > 0 and dampening 0');
    super(rt, 'sgd', params, o, { rule: 'sgd', momentum: momentum > 0, nesterov: o.nesterov ?? false });
    this.momentum = momentum;
    this.dampening = dampening;
  }

  protected scalars(): RuleScalars {
    return { momentum: this.momentum, dampening: this.dampening };
  }
}
