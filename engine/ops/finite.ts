// Non-finite detection on the GPU: how many NaN / inf values a set of tensors holds, as a one-element
// float32 tensor (exact up to 2^24), without reading the tensors back.

import { nonFiniteShader } from '../../shaders/finite.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { full, requireF32 } from './elementwise.ts';

let code: string | undefined;

/** Number of non-finite values in `tensors` (a [1] tensor; no autograd). */
export function nonFiniteCount(rt: Runtime, tensors: readonly Tensor[]): Tensor {
  const out = full(rt, [1], 0);
  const k = rt.kernel('nonfinite', (code ??= nonFiniteShader()));
  for (const t of tensors) {
    requireF32('nonFiniteCount', t);
    if (t.size === 0) continue;
    // One workgroup per tensor: these are gradient-sized checks, once per step.
    rt.dispatch(k, new Uint32Array([t.size, 0, 0, 0]), [t.buffer, out.buffer], [1]);
  }
  return out;
}
