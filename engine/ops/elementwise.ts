// Differentiable elementwise ops (autograd rules over the raw kernels of elementwise-raw.ts; a
// broadcast operand's gradient is summed back to its shape by reduce.ts). The raw layer is
// re-exported: this module is the elementwise op surface.

import { record, sameShape } from '../autograd/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { binaryRaw, unaryRaw } from './elementwise-raw.ts';
import type { FusedRounding } from './round.ts';
import { sumToShape } from './reduce.ts';

export * from './elementwise-raw.ts';

function reduceGrad(g: Tensor, shape: readonly number[]): Tensor {
  return sameShape(g.shape, shape) ? g : sumToShape(g, shape);
}

// ---- differentiable ops ------------------------------------------------------------------------

export function add(a: Tensor, b: Tensor): Tensor {
  return record(binaryRaw(a, b, 'add'), 'add', [a, b], (g) => [reduceGrad(g, a.shape), reduceGrad(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record(binaryRaw(a, b, 'sub'), 'sub', [a, b], (g) => [
    reduceGrad(g, a.shape),
    b.requiresGrad ? reduceGrad(unaryRaw(g, 'neg'), b.shape) : null,
  ]);
}

/** a + k b for a number k (a residual connection with scaling), broadcasting like add. */
export function addScaled(a: Tensor, b: Tensor, k: number): Tensor {
  if (!Number.isFinite(k)) throw new Error(`addScaled: the scale must be a finite number, got ${k}`);
  return record(binaryRaw(a, b, 'add_scaled', [k]), 'addScaled', [a, b], (g) => [
    reduceGrad(g, a.shape),
    b.requiresGrad ? reduceGrad(unaryRaw(g, 'affine', [k, 0]), b.shape) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record(binaryRaw(a, b, 'mul'), 'mul', [a, b], (g) => [
    a.requiresGrad ? reduceGrad(binaryRaw(g, b, 'mul'), a.shape) : null,
    b.requiresGrad ? reduceGrad(binaryRaw(g, a, 'mul'), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw(a, b, 'div');
  return record(out, 'div', [a, b], (g) => [
    a.requiresGrad ? reduceGrad(binaryRaw(g, b, 'div'), a.shape) : null,
    // d(a/b)/db = -(a/b)/b
    b.requiresGrad ? reduceGrad(unaryRaw(binaryRaw(binaryRaw(g, out, 'mul'), b, 'div'), 'neg'), b.shape) : null,
  ]);
}

export function neg(x: Tensor): Tensor {
  return record(unaryRaw(x, 'neg'), 'neg', [x], (g) => [unaryRaw(g, 'neg')]);
}

/** x * k + c for numbers k, c. */
export function affine(x: Tensor, k: number, c = 0): Tensor {
  return record(unaryRaw(x, 'affine', [k, c]), 'affine', [x], (g) => [unaryRaw(g, 'affine', [k, 0])]);
}

export function scale(x: Tensor, k: number): Tensor {
  return affine(x, k, 0);
}

// relu and leaky relu take an output rounding (a layer's output quantizer fused into the kernel: the
// result lies on the format's lattice, engine/ops/round.ts); their derivatives read the input, which
// the rounding does not touch. tanh and sigmoid take none: their derivatives read the unrounded
// output, which a fused rounding would replace. Every backward rule here fuses the rounding autograd
// asks of its input gradient.

export function relu(x: Tensor, round: FusedRounding | null = null): Tensor {
  return record(unaryRaw(x, 'relu', [], round), 'relu', [x], (g, r) => [binaryRaw(g, x, 'relu_grad', [], r[0])]);
}

export function leakyRelu(x: Tensor, slope = 0.01, round: FusedRounding | null = null): Tensor {
  return record(unaryRaw(x, 'leaky_relu', [slope], round), 'leaky_relu', [x], (g, r) => [binaryRaw(g, x, 'leaky_relu_grad', [slope], r[0])]);
}

export function tanh(x: Tensor): Tensor {
  const y = unaryRaw(x, 'tanh');
  return record(y, 'tanh', [x], (g, r) => [binaryRaw(g, y, 'tanh_grad', [], r[0])]);
}

export function sigmoid(x: Tensor): Tensor {
  const y = unaryRaw(x, 'sigmoid');
  return record(y, 'sigmoid', [x], (g, r) => [binaryRaw(g, y, 'sigmoid_grad', [], r[0])]);
}

export function exp(x: Tensor): Tensor {
  const y = unaryRaw(x, 'exp');
  return record(y, 'exp', [x], (g) => [binaryRaw(g, y, 'mul')]);
}

export function log(x: Tensor): Tensor {
  return record(unaryRaw(x, 'log'), 'log', [x], (g) => [binaryRaw(g, x, 'div')]);
}

export function sqrt(x: Tensor): Tensor {
  const y = unaryRaw(x, 'sqrt');
  // d sqrt(x) = g / (2 sqrt(x))
  return record(y, 'sqrt', [x], (g) => [binaryRaw(g, unaryRaw(y, 'affine', [2, 0]), 'div')]);
}

export function square(x: Tensor): Tensor {
  return record(unaryRaw(x, 'square'), 'square', [x], (g) => [binaryRaw(g, unaryRaw(x, 'affine', [2, 0]), 'mul')]);
}
