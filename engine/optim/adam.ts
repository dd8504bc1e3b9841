// Adam as torch.optim.Adam (not AdamW: weight decay is added to the gradient): m = b1 m + (1 - b1) g,
// v = b2 v + (1 - b2) g^2, w -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), with t the
// parameter's step count. The bias corrections are computed in float64 on the host.

import type { Runtime } from '../runtime.ts';
import { Optimizer, type OptimizerOptions, type ParamList, type RuleScalars } from './optimizer.ts';

export interface AdamOptions extends Partial<OptimizerOptions> {
  betas?: readonly [number, number];
  eps?: number;
}

export class Adam extends Optimizer {
  readonly betas: readonly [number, number];
  readonly eps: number;

  constructor(rt: Runtime, params: ParamList, o: AdamOptions = {}) {
    const betas = o.betas ?? [0.9, 0.999];
    const eps = o.eps ?? 1e-8;
    for (const b of betas) if (!(b >= 0 && b < 1)) throw new Error(`adam: betas must lie in [0, 1), got [${betas.join(', ')}]`);
    if (!(eps >= 0)) throw new Error(`adam: eps must be >= 0, got ${eps}`);
    super(rt, 'adam', params, { ...o, lr: o.lr ?? 1e-3 }, { rule: 'adam' });
    this.betas = betas;
    this.eps = eps;
  }

  protected scalars(step: number): RuleScalars {
    const [b1, b2] = this.betas;
    return {
      beta1: b1,
      beta2: b2,
      eps: this.eps,
      stepSize: this.lr / (1 - b1 ** step),
      bc2Sqrt: Math.sqrt(1 - b2 ** step),
    };
  }
}
