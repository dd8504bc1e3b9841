// Integer index inputs (class labels, embedding rows): held on the CPU as arrays, or on the GPU as
// float32 tensors of integers (exact up to 2^24). CPU indices are checked here, naming the bad one;
// GPU indices cannot be checked without a read back, so the kernels turn an invalid one into NaN.

import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { requireF32 } from './elementwise-raw.ts';

export type Indices = Tensor | Uint32Array | Int32Array | readonly number[];

/** The indices as a float32 tensor (a new one for CPU arrays; a view of a given tensor) and whether
 *  the caller owns it. Checks CPU indices against [0, limit). */
export function indexTensor(rt: Runtime, idx: Indices, limit: number, op: string, what: string): Tensor {
  if (idx instanceof Tensor) {
    requireF32(op, idx);
    return idx.view(idx.shape);
  }
  if (limit > 2 ** 24) throw new Error(`${op}: ${limit} ${what}s exceed the 2^24 that float32 indices can name`);
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      throw new Error(`${op}: ${what} ${v} at position ${i} is out of range [0, ${limit})`);
    }
  }
  return Tensor.fromArray(rt, Float32Array.from(idx), [idx.length], `${op}:${what}s`);
}
