// 2-D max and average pooling over NCHW (PyTorch's MaxPool2d / AvgPool2d without dilation or
// ceil_mode). Kernels: shaders/pool.ts; the backward is deterministic (no atomics).

import type { BindingValues } from '../../shaders/kernel.ts';
import { poolGrid, poolKernel, type PoolKernel, type PoolSpec } from '../../shaders/pool.ts';
import { record } from '../autograd/tape.ts';
import type { Binding } from '../kernels/cache.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { requireF32 } from './elementwise-raw.ts';

export type Pair = number | readonly [number, number];

export interface PoolOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  /** Zero padding on each side (at most half the kernel, as PyTorch requires). Default 0. */
  padding?: Pair;
  /** Average pooling only: count padded positions in the divisor (PyTorch's default, true). */
  countIncludePad?: boolean;
}

function pair(v: Pair, what: string, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  for (const x of p) if (!Number.isInteger(x) || x < min) throw new Error(`pool2d: ${what} must be integers >= ${min}, got [${p.join(', ')}]`);
  return p;
}

interface Geometry {
  h: number;
  w: number;
  oh: number;
  ow: number;
  k: [number, number];
  s: [number, number];
  p: [number, number];
  includePad: boolean;
}

function dispatch(rt: Runtime, spec: PoolSpec, g: Geometry, count: number, bufs: BindingValues<PoolKernel, Binding>): void {
  const grid = poolGrid(count, rt.gpu.limits);
  const params = {
    count, grid_x: grid[0], h: g.h, w: g.w, oh: g.oh, ow: g.ow,
    kh: g.k[0], kw: g.k[1], sh: g.s[0], sw: g.s[1], ph: g.p[0], pw: g.p[1],
    include_pad: g.includePad ? 1 : 0,
  };
  rt.run(poolKernel(spec), params, bufs, grid);
}

function pool2d(kind: 'max' | 'avg', x: Tensor, kernelSize: Pair, o: PoolOptions): Tensor {
  const op = `${kind}Pool2d`;
  requireF32(op, x);
  if (x.rank !== 4) throw new Error(`${op}: input must be [N, C, H, W], got [${x.shape.join(', ')}]`);
  const rt = x.rt;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = pair(kernelSize, 'kernel size', 1);
  const [sh, sw] = pair(o.stride ?? [kh, kw], 'stride', 1);
  const [ph, pw] = pair(o.padding ?? 0, 'padding', 0);
  if (2 * ph > kh || 2 * pw > kw) throw new Error(`${op}: padding [${ph}, ${pw}] exceeds half the kernel [${kh}, ${kw}]`);
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (oh < 1 || ow < 1) throw new Error(`${op}: kernel [${kh}, ${kw}] with padding [${ph}, ${pw}] does not fit input [${x.shape.join(', ')}]`);
  const geo: Geometry = { h, w, oh, ow, k: [kh, kw], s: [sh, sw], p: [ph, pw], includePad: o.countIncludePad ?? true };
  const y = Tensor.empty(rt, [n, c, oh, ow], null, op);
  // Max pooling's per-output argmax: raw u32 words in a tensor's storage, read only by the backward.
  const arg = kind === 'max' ? Tensor.empty(rt, y.shape, null, `${op}:argmax`) : null;
  dispatch(rt, { kind, pass: 'forward' }, geo, y.size, { x: x.buffer, y: y.buffer, arg: arg?.buffer });
  rt.count({ kind: kind === 'max' ? 'max' : 'add', format: x.valueFormat, count: y.size * kh * kw });
  return record(y, op, [x], (g) => {
    const gx = Tensor.empty(rt, x.shape, null, `${op}:grad`);
    dispatch(rt, { kind, pass: 'backward' }, geo, x.size, { g: g.buffer, arg: arg?.buffer, gx: gx.buffer });
    return [gx];
  });
}

export function maxPool2d(x: Tensor, kernelSize: Pair, o: PoolOptions = {}): Tensor {
  return pool2d('max', x, kernelSize, o);
}

export function avgPool2d(x: Tensor, kernelSize: Pair, o: PoolOptions = {}): Tensor {
  return pool2d('avg', x, kernelSize, o);
}
