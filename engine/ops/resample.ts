// Spatial rearrangements of NCHW images: reflection padding (PyTorch's ReflectionPad2d), nearest-
// neighbour upsampling by integer factors (Upsample(scale_factor, mode='nearest')) and pixel shuffle
// (PixelShuffle). The first two run shaders/resample.ts (forward a copy per output element, backward
// a deterministic sum per input element); pixel shuffle is a reshape, a permutation and a reshape, so
// the strided copy kernel forward and the inverse permutation backward.
//
// None of them computes a value: every output is a copy of an input, so the output lies on whatever
// lattice the input lies on and carries it (Tensor.lattice): a quantizer to that format after them has
// nothing to do, and the op counts see the values in their format. Their gradients are sums (an input
// copied to k outputs receives the sum of their k gradients), the same sums autograd forms for a tensor
// used k times.

import { resampleGrid, resampleKernel, type ResampleKernel, type ResampleSpec } from '../../shaders/resample.ts';
import type { BindingValues } from '../../shaders/kernel.ts';
import { record } from '../autograd/tape.ts';
import type { Binding } from '../kernels/cache.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { requireF32 } from './elementwise-raw.ts';
import { permute, reshape } from './shape.ts';

/** Padding on every side, or [left, right, top, bottom] (PyTorch's order for ReflectionPad2d). */
export type Padding2d = number | readonly [number, number, number, number];

/** A scale factor for both axes, or [height, width]. */
export type Scale2d = number | readonly [number, number];

interface Geometry {
  h: number;
  w: number;
  oh: number;
  ow: number;
  top: number;
  left: number;
  fh: number;
  fw: number;
}

function image(op: string, x: Tensor): [number, number, number, number] {
  requireF32(op, x);
  if (x.rank !== 4) throw new Error(`${op}: input must be [N, C, H, W], got [${x.shape.join(', ')}]`);
  return x.shape as [number, number, number, number];
}

function dispatch(rt: Runtime, spec: ResampleSpec, g: Geometry, count: number, bufs: BindingValues<ResampleKernel, Binding>): void {
  if (count === 0) return;
  const grid = resampleGrid(count, rt.gpu.limits);
  rt.run(resampleKernel(spec), { count, grid_x: grid[0], ...g }, bufs, grid);
}

/** The op: y = copy of x through the index map, backward the sum per input element. */
function resample(op: string, kind: ResampleSpec['kind'], x: Tensor, g: Geometry): Tensor {
  const rt = x.rt;
  const [n, c] = x.shape as [number, number];
  const y = Tensor.empty(rt, [n, c, g.oh, g.ow], null, op);
  y.lattice = x.lattice;
  y.latticeBias = x.latticeBias;
  dispatch(rt, { kind, pass: 'forward' }, g, y.size, { x: x.buffer, y: y.buffer });
  if (rt.recorder) {
    const role = rt.activationRole;
    rt.count({ kind: 'memory', direction: 'read', role, format: x.valueFormat, bits: x.size * x.valueBits });
    rt.count({ kind: 'memory', direction: 'write', role, format: y.valueFormat, bits: y.size * y.valueBits });
  }
  return record(y, op, [x], (grad) => {
    const gx = Tensor.empty(rt, x.shape, null, `${op}:grad`);
    dispatch(rt, { kind, pass: 'backward' }, g, x.size, { g: grad.buffer, gx: gx.buffer });
    if (rt.recorder) {
      // Every output gradient is added to exactly one input's sum, and every input has at least one
      // term: a sum of k terms is k - 1 adds, y.size - x.size in all.
      const role = rt.activationRole;
      rt.count({ kind: 'add', format: grad.valueFormat, count: y.size - x.size });
      rt.count({ kind: 'memory', direction: 'read', role, format: grad.valueFormat, bits: grad.size * grad.valueBits });
      rt.count({ kind: 'memory', direction: 'write', role, format: gx.valueFormat, bits: gx.size * gx.valueBits });
    }
    return [gx];
  });
}

/**
 * Reflection padding of x [N, C, H, W] (ReflectionPad2d): the border mirrored about the edge row or
 * column, which is not repeated. Each pad must be smaller than the input dimension it mirrors, as
 * PyTorch requires (pads up to H - 1 and W - 1).
 */
export function reflectionPad2d(x: Tensor, padding: Padding2d): Tensor {
  const op = 'reflectionPad2d';
  const [, , h, w] = image(op, x);
  const pads = typeof padding === 'number' ? [padding, padding, padding, padding] : [...padding];
  if (pads.length !== 4 || !pads.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new Error(`${op}: padding must be a non-negative integer or [left, right, top, bottom] of them, got ${JSON.stringify(padding)}`);
  }
  const [left, right, top, bottom] = pads as [number, number, number, number];
  if (left >= w || right >= w || top >= h || bottom >= h) {
    throw new Error(
      `${op}: padding [left ${left}, right ${right}, top ${top}, bottom ${bottom}] must be smaller than the input's width ${w} and height ${h} ` +
        `(input [${x.shape.join(', ')}]): a reflection cannot reach past the opposite edge; pad less or pad a larger input`,
    );
  }
  return resample(op, 'reflect', x, { h, w, oh: h + top + bottom, ow: w + left + right, top, left, fh: 0, fw: 0 });
}

/** Nearest-neighbour upsampling of x [N, C, H, W] by integer factors (Upsample(scale_factor, mode='nearest')):
 *  output [N, C, H fh, W fw], out[i, j] = x[floor(i / fh), floor(j / fw)]. */
export function upsampleNearest2d(x: Tensor, scale: Scale2d): Tensor {
  const op = 'upsampleNearest2d';
  const [, , h, w] = image(op, x);
  const [fh, fw] = typeof scale === 'number' ? [scale, scale] : [scale[0], scale[1]];
  if (!Number.isInteger(fh) || !Number.isInteger(fw) || fh < 1 || fw < 1) {
    throw new Error(`${op}: scale factors must be positive integers (nearest upsampling here repeats each value an integer number of times), got ${JSON.stringify(scale)}`);
  }
  return resample(op, 'nearest', x, { h, w, oh: h * fh, ow: w * fw, top: 0, left: 0, fh, fw });
}

/** PixelShuffle(r): x [N, C r^2, H, W] to [N, C, H r, W r], out[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w]. */
export function pixelShuffle(x: Tensor, r: number): Tensor {
  const op = 'pixelShuffle';
  const [n, cr, h, w] = image(op, x);
  if (!Number.isInteger(r) || r < 1) throw new Error(`${op}: the upscale factor must be a positive integer, got ${r}`);
  if (cr % (r * r) !== 0) throw new Error(`${op}: input [${x.shape.join(', ')}] has ${cr} channels, which upscale factor ${r} cannot divide into groups of ${r * r}`);
  const c = cr / (r * r);
  return reshape(permute(reshape(x, [n, c, r, r, h, w]), [0, 1, 4, 2, 5, 3]), [n, c, h * r, w * r]);
}
