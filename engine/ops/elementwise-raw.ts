// Elementwise kernels without autograd: the runner of the generated kernel (shaders/elementwise.ts;
// shapes and strides travel as parameters, so a kernel serves every shape), the unary and binary
// expressions the ops use, broadcasting rules and fills. The differentiable ops are elementwise.ts;
// reductions (reduce.ts) build on this module, and elementwise.ts on both.

import { MAX_RANK, OPERAND_BINDINGS, elementwiseGrid, elementwiseKernel, type ElementwiseKernel, type ElementwiseSpec } from '../../shaders/elementwise.ts';
import type { BindingValues } from '../../shaders/kernel.ts';
import { sameShape } from '../autograd/tape.ts';
import type { Binding } from '../kernels/cache.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fusable, markRounded, roundParams, type FusedRounding } from './round.ts';
import { stridesOf } from './strides.ts';

export function requireF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (!t.isF32) throw new Error(`${op}: tensor ${t} holds packed ${t.encoding!.format.name} codes; decode it to float32 first`);
  }
}

/** The broadcast shape of two shapes (NumPy rules), or an error naming both. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op = 'broadcast'): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides that read `shape` (right-aligned) as if it had `outShape` (0 on broadcast dims). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const s = stridesOf(shape);
  const off = outShape.length - shape.length;
  return outShape.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : s[i - off]!));
}

/** Arithmetic per output element, for op counts (engine/record/schema.ts kinds). */
export type ElementOps = Partial<Record<'add' | 'mul' | 'div' | 'sqrt' | 'exp' | 'log' | 'max', number>> & {
  activation?: 'tanh' | 'sigmoid' | 'relu' | 'leaky_relu';
};

export interface StridedOperand {
  t: Tensor;
  /** Strides per output dimension (elements); omitted: broadcast from the tensor's own shape. */
  strides?: readonly number[];
  /** Element offset of the first value read. */
  base?: number;
}

/**
 * Runs one elementwise kernel. Operands broadcast to `outShape`, or are read through explicit
 * strides/base (permute, slice, expand all are this kernel with the expression `a`). `round`: the
 * result rounded to a format in the same kernel (a quantizer fused into it: engine/ops/round.ts).
 */
export function elementwise(
  rt: Runtime,
  label: string,
  expr: string,
  operands: readonly StridedOperand[],
  outShape: readonly number[],
  params: readonly number[] = [],
  helpers?: string,
  ops: ElementOps = {},
  round: FusedRounding | null = null,
): Tensor {
  if (outShape.length > MAX_RANK) throw new Error(`${label}: rank ${outShape.length} exceeds the engine's maximum of ${MAX_RANK}`);
  if (params.length > 4) throw new Error(`${label}: at most 4 expression parameters (p0..p3), got ${params.length}`);
  for (const o of operands) requireF32(label, o.t);
  const out = Tensor.empty(rt, outShape, null, label);
  // The expression `a` copies values (permute, slice, expand): they stay on the lattice they were on.
  if (expr === 'a' && operands[0]) {
    out.lattice = operands[0].t.lattice;
    out.latticeBias = operands[0].t.latticeBias;
  }
  const count = out.size;
  // A copy of values already on the target lattice has nothing to round (the quantizer would pass it
  // through uncounted), so a fused rounding is dropped as the separate pass would be.
  const r = fusable(round, out.latticeBias === 0 ? out.lattice : null);
  if (count === 0) {
    markRounded(out, r, 'fp32');
    return out;
  }
  const plain = operands.every((o) => !o.strides && !o.base && sameShape(o.t.shape, outShape));
  const spec: ElementwiseSpec = { arity: operands.length as 0 | 1 | 2 | 3, expr, broadcast: !plain };
  if (helpers) spec.helpers = helpers;
  if (r) spec.round = r;
  const grid = elementwiseGrid(count, rt.gpu.limits);
  const base = [0, 0, 0];
  const strides = new Array<number>(operands.length * MAX_RANK).fill(0);
  const buffers: Partial<Record<string, Binding>> = { out: out.buffer };
  operands.forEach((o, j) => {
    base[j] = o.base ?? 0;
    const s = o.strides ?? broadcastStrides(o.t.shape, outShape);
    for (let d = 0; d < s.length; d++) strides[j * MAX_RANK + d] = s[d]!;
    buffers[OPERAND_BINDINGS[j]!] = o.t.buffer;
  });
  const p = { count, rank: outShape.length, grid_x: grid[0], p0: params[0] ?? 0, p1: params[1] ?? 0, p2: params[2] ?? 0, p3: params[3] ?? 0, ...roundParams(rt, r, count), base, shape: outShape, strides };
  rt.run(elementwiseKernel(spec), p, buffers as BindingValues<ElementwiseKernel, Binding>, grid, `ew:${label}`);
  // The unrounded result would be plain float32: the fused quantizer converts from fp32.
  markRounded(out, r, 'fp32');
  countElementwise(rt, operands, out, ops);
  return out;
}

/** Op counts of an elementwise kernel: its arithmetic in the operands' value format, and the memory
 *  it moves (each operand read once, the output written once). */
function countElementwise(rt: Runtime, operands: readonly StridedOperand[], out: Tensor, ops: ElementOps): void {
  if (!rt.recorder) return;
  const format = operands[0]?.t.valueFormat ?? 'fp32';
  const { activation, ...arith } = ops;
  for (const [kind, per] of Object.entries(arith) as [keyof Omit<ElementOps, 'activation'>, number][]) {
    rt.count({ kind, format, count: per * out.size });
  }
  if (activation) rt.count({ kind: 'activation', fn: activation, format, fast: false, count: out.size });
  const role = rt.activationRole;
  for (const o of operands) rt.count({ kind: 'memory', direction: 'read', role, format: o.t.valueFormat, bits: o.t.size * o.t.valueBits });
  rt.count({ kind: 'memory', direction: 'write', role, format: out.valueFormat, bits: out.size * out.valueBits });
}

// ---- unary ops --------------------------------------------------------------------------------

/** Unary expressions in `a` (and parameters p0..). Stable forms: WGSL's tanh/exp may overflow. */
export const UNARY = {
  copy: { expr: 'a', ops: {} },
  neg: { expr: '-a', ops: {} },
  relu: { expr: 'max(a, 0.0)', ops: { activation: 'relu' } },
  leaky_relu: { expr: 'select(a * p0, a, a > 0.0)', ops: { activation: 'leaky_relu' } },
  tanh: { expr: 'tanh(clamp(a, -15.0, 15.0))', ops: { activation: 'tanh' } },
  sigmoid: { expr: '1.0 / (1.0 + exp(-clamp(a, -88.0, 88.0)))', ops: { activation: 'sigmoid' } },
  exp: { expr: 'exp(a)', ops: { exp: 1 } },
  log: { expr: 'log(a)', ops: { log: 1 } },
  sqrt: { expr: 'sqrt(a)', ops: { sqrt: 1 } },
  rsqrt: { expr: 'inverseSqrt(a)', ops: { sqrt: 1, div: 1 } },
  abs: { expr: 'abs(a)', ops: {} },
  square: { expr: 'a * a', ops: { mul: 1 } },
  affine: { expr: 'a * p0 + p1', ops: { mul: 1, add: 1 } },
  reciprocal: { expr: '1.0 / a', ops: { div: 1 } },
  step: { expr: 'select(0.0, 1.0, a > 0.0)', ops: { max: 1 } },
  clamp: { expr: 'clamp(a, p0, p1)', ops: { max: 2 } },
} as const satisfies Record<string, { expr: string; ops: ElementOps }>;
export type UnaryOp = keyof typeof UNARY;

export const BINARY = {
  add: { expr: 'a + b', ops: { add: 1 } },
  sub: { expr: 'a - b', ops: { add: 1 } },
  // a + p0 b: a residual connection with scaling (x + 0.2 f(x) in ESRGAN's dense blocks) in one pass.
  add_scaled: { expr: 'a + p0 * b', ops: { mul: 1, add: 1 } },
  mul: { expr: 'a * b', ops: { mul: 1 } },
  div: { expr: 'a / b', ops: { div: 1 } },
  maximum: { expr: 'max(a, b)', ops: { max: 1 } },
  minimum: { expr: 'min(a, b)', ops: { max: 1 } },
  // Fused backward rules: a is the upstream gradient, b the saved input (x) or output (y).
  relu_grad: { expr: 'select(0.0, a, b > 0.0)', ops: { max: 1 } },
  leaky_relu_grad: { expr: 'select(a * p0, a, b > 0.0)', ops: { mul: 1, max: 1 } },
  tanh_grad: { expr: 'a * (1.0 - b * b)', ops: { mul: 2, add: 1 } },
  sigmoid_grad: { expr: 'a * b * (1.0 - b)', ops: { mul: 2, add: 1 } },
} as const satisfies Record<string, { expr: string; ops: ElementOps }>;
export type BinaryOp = keyof typeof BINARY;

export function unaryRaw(x: Tensor, op: UnaryOp, params: readonly number[] = [], round: FusedRounding | null = null): Tensor {
  return elementwise(x.rt, op, UNARY[op].expr, [{ t: x }], x.shape, params, undefined, UNARY[op].ops, round);
}

export function binaryRaw(a: Tensor, b: Tensor, op: BinaryOp, params: readonly number[] = [], round: FusedRounding | null = null): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  return elementwise(a.rt, op, BINARY[op].expr, [{ t: a }, { t: b }], shape, params, undefined, BINARY[op].ops, round);
}

/** A new tensor of `shape` filled with `value`. */
export function full(rt: Runtime, shape: readonly number[], value: number): Tensor {
  return elementwise(rt, 'fill', 'p0', [], shape, [value]);
}
