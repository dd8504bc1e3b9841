// Non-finite detection on the GPU: how many NaN / inf values a set of tensors holds, as a one-element
// float32 tensor (exact up to 2^24), without reading the tensors back.

import { inputBinding, NON_FINITE_TOTAL, nonFiniteGrid, nonFiniteKernel, type NonFiniteKernel } from '../../shaders/finite.ts';
import type { BindingValues } from '../../shaders/kernel.ts';
import type { Binding } from '../kernels/cache.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { full, requireF32 } from './elementwise-raw.ts';

/** Tensors one dispatch scans: the device's storage-binding limit less the output, at most 7. */
export function nonFiniteBatch(rt: Runtime): number {
  return Math.max(1, Math.min(7, rt.gpu.limits.maxStorageBuffersPerShaderStage - 1));
}

/** Number of non-finite values in `tensors` (a [1] tensor; no autograd). */
export function nonFiniteCount(rt: Runtime, tensors: readonly Tensor[]): Tensor {
  for (const t of tensors) requireF32('nonFiniteCount', t);
  return rt.scope(() => {
    // The scan adds to a u32 counter (float32 zero has the bit pattern of u32 zero).
    const counter = full(rt, [1], 0);
    const todo = tensors.filter((t) => t.size > 0);
    const batch = nonFiniteBatch(rt);
    const k = nonFiniteKernel(batch);
    for (let i = 0; i < todo.length; i += batch) {
      const group = todo.slice(i, i + batch);
      // Unused inputs scan nothing (count 0); they are bound to a tensor of the group (read-only
      // bindings may alias).
      const buffers: Partial<Record<string, Binding>> = { total: counter.buffer };
      for (let j = 0; j < batch; j++) buffers[inputBinding(j)] = (group[j] ?? group[0]!).buffer;
      const grid = nonFiniteGrid(Math.max(...group.map((t) => t.size)), rt.gpu.limits);
      rt.run(k, { count: group.map((t) => t.size) }, buffers as BindingValues<NonFiniteKernel, Binding>, grid);
    }
    const out = Tensor.empty(rt, [1], null, 'nonfinite');
    rt.run(NON_FINITE_TOTAL, {}, { total: counter.buffer, out: out.buffer }, [1]);
    return out;
  });
}
