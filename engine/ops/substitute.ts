// Straight-through substitution: `copy` (e.g. the optimizer's packed p8e2 forward copy of a weight)
// stands in for `master` in the forward pass, and the gradient that reaches it goes to `master`
// unchanged, as if master itself had been used. This is how the weights a layer multiplies with can
// live in another format than the weights the optimizer updates (paper, docs/method.md section 2).

import { record, sameShape } from '../autograd/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';

export function substitute(master: Tensor, copy: Tensor): Tensor {
  if (!sameShape(master.shape, copy.shape)) {
    throw new Error(`substitute: copy [${copy.shape.join(', ')}] does not match master [${master.shape.join(', ')}]`);
  }
  const out = copy.view(copy.shape);
  return record(out, 'substitute', [master], (g) => [g]);
}
