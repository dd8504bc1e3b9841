// Non-finite detection on the GPU: how many NaN / inf values a set of tensors holds, as a one-element
// float32 tensor (exact up to 2^24), without reading the tensors back.

import { FINITE_PER_INVOCATION, FINITE_WORKGROUP, nonFiniteShader, nonFiniteTotalShader } from '../../shaders/finite.ts';
import { memoByKey } from '../kernels/memo.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { full, requireF32 } from './elementwise.ts';

/** Tensors one dispatch scans: the device's storage-binding limit less the output, at most 7. */
export function nonFiniteBatch(rt: Runtime): number {
  return Math.max(1, Math.min(7, rt.gpu.limits.maxStorageBuffersPerShaderStage - 1));
}

const shaderFor = memoByKey(nonFiniteShader, (inputs: number) => String(inputs));
const TOTAL_SHADER = nonFiniteTotalShader();

/** Number of non-finite values in `tensors` (a [1] tensor; no autograd). */
export function nonFiniteCount(rt: Runtime, tensors: readonly Tensor[]): Tensor {
  for (const t of tensors) requireF32('nonFiniteCount', t);
  return rt.scope(() => {
    // The scan adds to a u32 counter (float32 zero has the bit pattern of u32 zero).
    const counter = full(rt, [1], 0);
    const todo = tensors.filter((t) => t.size > 0);
    const batch = nonFiniteBatch(rt);
    const k = rt.kernel(`nonfinite:${batch}`, shaderFor(batch));
    for (let i = 0; i < todo.length; i += batch) {
      const group = todo.slice(i, i + batch);
      const counts = new Uint32Array(Math.ceil(batch / 4) * 4);
      group.forEach((t, j) => (counts[j] = t.size));
      // Unused inputs scan nothing (count 0); they are bound to a tensor of the group (read-only
      // bindings may alias).
      const inputs = Array.from({ length: batch }, (_, j) => (group[j] ?? group[0]!).buffer);
      const largest = Math.max(...group.map((t) => t.size));
      // One x dimension only (the kernel strides by num_workgroups.x): more elements per invocation
      // beyond the per-dimension limit.
      const workgroups = Math.max(1, Math.min(Math.ceil(largest / (FINITE_WORKGROUP * FINITE_PER_INVOCATION)), rt.gpu.limits.maxComputeWorkgroupsPerDimension));
      rt.dispatch(k, counts, [...inputs, counter.buffer], [workgroups]);
    }
    const out = Tensor.empty(rt, [1], null, 'nonfinite');
    rt.dispatch(rt.kernel('nonfinite:total', TOTAL_SHADER), null, [counter.buffer, out.buffer], [1]);
    return out;
  });
}
