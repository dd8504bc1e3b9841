// The engine's op surface: differentiable tensor ops and backward().

import { backward as runBackward } from '../autograd/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { binaryRaw, full } from './elementwise-raw.ts';

export * from './elementwise.ts';
export * from './reduce.ts';
export * from './shape.ts';
export * from './batchnorm.ts';
export * from './dropout.ts';
export * from './embedding.ts';
export * from './indices.ts';
export * from './loss.ts';
export * from './pool.ts';
export * from './resample.ts';
export * from './substitute.ts';
export * from './matmul.ts';
export * from './conv.ts';
export * from './fast-tanh.ts';
export * from './finite.ts';

/** Backpropagates from a scalar loss (or any tensor, with gradient 1 everywhere). */
export function backward(loss: Tensor): void {
  const seed = loss.rt.noGrad(() => full(loss.rt, loss.shape, 1));
  runBackward(loss, seed, (a, b) => binaryRaw(a, b, 'add'));
}
