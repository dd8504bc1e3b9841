// Sum and mean over any set of axes, and their backward rules (broadcast the gradient back).

import { MAX_RANK } from '../../shaders/elementwise.ts';
import { REDUCE_KERNEL, reduceGrid } from '../../shaders/reduce.ts';
import { record } from '../autograd/tape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { elementwise, requireF32 } from './elementwise-raw.ts';
import { stridesOf } from './strides.ts';

/** Normalises axes (negative counts from the end), rejecting duplicates and out-of-range ones. */
export function normaliseAxes(axes: readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const out = axes.map((a) => (a < 0 ? a + rank : a));
  for (const [i, a] of out.entries()) {
    if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${op}: axis ${axes[i]} is out of range for rank ${rank}`);
  }
  if (new Set(out).size !== out.length) throw new Error(`${op}: repeated axis in [${axes.join(', ')}]`);
  return out.sort((x, y) => x - y);
}

/** Merges neighbouring dimensions that are contiguous in memory (fewer div/mod steps per element). */
function coalesce(dims: { extent: number; stride: number }[]): { extent: number; stride: number }[] {
  const out: { extent: number; stride: number }[] = [];
  for (const d of dims) {
    if (d.extent === 1) continue;
    const last = out[out.length - 1];
    if (last && last.stride === d.extent * d.stride) {
      last.extent *= d.extent;
      last.stride = d.stride;
    } else {
      out.push({ ...d });
    }
  }
  return out;
}

/** Raw sum over `axes` (sorted, valid) times `scale`, without autograd. Output keeps no reduced dims. */
function sumRaw(x: Tensor, axes: number[], scale: number, outShape: readonly number[]): Tensor {
  requireF32('sum', x);
  const rt = x.rt;
  const strides = stridesOf(x.shape);
  const kept = coalesce(x.shape.map((e, d) => ({ extent: e, stride: strides[d]! })).filter((_, d) => !axes.includes(d)));
  const red = coalesce(x.shape.map((e, d) => ({ extent: e, stride: strides[d]! })).filter((_, d) => axes.includes(d)));
  if (kept.length > MAX_RANK || red.length > MAX_RANK) throw new Error(`sum: rank exceeds ${MAX_RANK}`);
  const out = Tensor.empty(rt, outShape, null, 'sum');
  const outCount = out.size;
  if (outCount === 0) return out;
  const redCount = red.reduce((n, d) => n * d.extent, 1);
  const grid = reduceGrid(outCount, rt.gpu.limits);
  const params = {
    out_count: outCount,
    red_count: redCount,
    kept_rank: kept.length,
    red_rank: red.length,
    grid_x: grid[0],
    scale,
    kept_shape: kept.map((d) => d.extent),
    kept_stride: kept.map((d) => d.stride),
    red_shape: red.map((d) => d.extent),
    red_stride: red.map((d) => d.stride),
  };
  rt.run(REDUCE_KERNEL, params, { src: x.buffer, out: out.buffer }, grid);
  rt.count({ kind: 'add', format: x.valueFormat, count: outCount * Math.max(0, redCount - 1) });
  rt.count({ kind: 'memory', direction: 'read', role: rt.activationRole, format: x.valueFormat, bits: x.size * x.valueBits });
  rt.count({ kind: 'memory', direction: 'write', role: rt.activationRole, format: 'fp32', bits: outCount * 32 });
  return out;
}

/** Strides that read a tensor of `shape` with `axes` reduced (kept or not) as if it had `shape`. */
function expandStrides(shape: readonly number[], axes: number[]): number[] {
  const gStrides = stridesOf(shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  return shape.map((_, i) => (axes.includes(i) ? 0 : gStrides[i]!));
}

/** Broadcasts `g` (shape of x with `axes` reduced, kept or not) back to `shape`. */
function expandRaw(g: Tensor, shape: readonly number[], axes: number[]): Tensor {
  return elementwise(g.rt, 'expand', 'a', [{ t: g, strides: expandStrides(shape, axes) }], shape);
}

function reducedShape(shape: readonly number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function sumScaled(x: Tensor, axesIn: readonly number[] | undefined, keepDims: boolean, mean: boolean): Tensor {
  const op = mean ? 'mean' : 'sum';
  const axes = normaliseAxes(axesIn, x.rank, op);
  const n = axes.reduce((k, a) => k * x.shape[a]!, 1);
  if (mean && n === 0) throw new Error('mean: reducing over an empty dimension');
  const scale = mean ? 1 / n : 1;
  const outShape = reducedShape(x.shape, axes, keepDims);
  const out = sumRaw(x, axes, scale, outShape);
  return record(out, op, [x], (g) => {
    if (scale === 1) return [expandRaw(g, x.shape, axes)];
    // The mean's gradient, g / n broadcast back, in one kernel reading g through broadcast strides
    // (the expression of affine(expand(g), 1/n), so the same bits without the expanded copy).
    return [elementwise(x.rt, 'affine', 'a * p0 + p1', [{ t: g, strides: expandStrides(x.shape, axes) }], x.shape, [scale, 0], undefined, { mul: 1, add: 1 })];
  });
}

/** Sum over `axes` (default: all). */
export function sum(x: Tensor, axes?: readonly number[], keepDims = false): Tensor {
  return sumScaled(x, axes, keepDims, false);
}

/** Mean over `axes` (default: all). */
export function mean(x: Tensor, axes?: readonly number[], keepDims = false): Tensor {
  return sumScaled(x, axes, keepDims, true);
}

/** Sums `g` down to `shape` (right-aligned broadcasting), the gradient of a broadcast. No autograd. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const off = g.rank - shape.length;
  if (off < 0) throw new Error(`sumToShape: [${g.shape}] has fewer dimensions than [${shape}]`);
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < off || (shape[i - off] === 1 && d !== 1)) axes.push(i);
    else if (shape[i - off] !== d) throw new Error(`sumToShape: [${g.shape}] does not broadcast from [${shape}]`);
  });
  const s = sumRaw(g, axes, 1, reducedShape(g.shape, axes, true).slice(off));
  return s;
}
