// Batch normalisation over N (for [N, C]) or N and the spatial dims (for [N, C, ...]), with PyTorch's
// semantics: in training, the batch mean and biased variance normalise, and the running buffers (when
// given) move by `momentum` towards the batch mean and the unbiased variance; in evaluation, the
// running statistics normalise. Kernels: shaders/batchnorm.ts (statistics and their backward are one
// workgroup per channel; the elementwise passes one thread per element). In training, channels of at
// most FUSE_MAX_PER_CHANNEL values run statistics and normalisation (and their backward) as one
// dispatch each: the same arithmetic, one dispatch fewer per pass. Instance normalisation (at the
// end) is batch normalisation of a view in which every (sample, channel) plane is a channel.

import { batchNormGrid, batchNormKernel, perChannelPass, type BatchNormKernel, type BatchNormSpec } from '../../shaders/batchnorm.ts';
import type { BindingValues } from '../../shaders/kernel.ts';
import { record } from '../autograd/tape.ts';
import type { Binding } from '../kernels/cache.ts';
import type { TensorRole } from '../record/schema.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { full, requireF32 } from './elementwise-raw.ts';
import { fusable, markRounded, roundParams, type FusedRounding } from './round.ts';
import { broadcastTo, reshape } from './shape.ts';

/** Values per channel up to which a training batch norm fuses its passes: one workgroup then sweeps
 *  a channel three times (mean, variance, normalisation), at most 64 values per thread. */
export const FUSE_MAX_PER_CHANNEL = 4096;

export interface BatchNormOptions {
  /** Per-channel scale [C] (default: ones, not learned). */
  weight?: Tensor | null;
  /** Per-channel shift [C] (default: zeros, not learned). */
  bias?: Tensor | null;
  /** Running buffers [C], updated in place in training (no autograd). Required in evaluation. */
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
  /** Round the output to a format in the kernel that computes it (a layer's output quantizer,
   *  engine/ops/round.ts). */
  round?: FusedRounding | null;
  /** Fuse statistics and normalisation (and their backward) into one dispatch each, in training
   *  (default: when a channel has at most FUSE_MAX_PER_CHANNEL values). Either way, the same bits. */
  fuse?: boolean;
}

interface Geometry {
  channels: number;
  inner: number;
  perChannel: number;
  count: number;
}

/** Parameters and grid of the per-channel passes (stats, grad_stats) and of the per-element ones
 *  (apply, grad_input): one table for all four, built once per call. */
function launches(rt: Runtime, g: Geometry, eps: number, momentum: number) {
  const unbias = g.perChannel > 1 ? g.perChannel / (g.perChannel - 1) : 1;
  const launch = (pass: BatchNormSpec['pass']) => {
    const grid = batchNormGrid(pass, g, rt.gpu.limits);
    return { grid, params: { channels: g.channels, inner: g.inner, per_channel: g.perChannel, count: g.count, grid_x: grid[0], eps, momentum, unbias, round_seed: 0, round_counter: 0 } };
  };
  return { channel: launch('stats'), element: launch('apply') };
}

/** One pass; a rounded one reserves its stochastic counters now (index: the element's position in
 *  the tensor, as the quantize kernel numbers it). */
function run(rt: Runtime, spec: BatchNormSpec, l: ReturnType<typeof launches>, bufs: BindingValues<BatchNormKernel, Binding>): void {
  const { params, grid } = perChannelPass(spec.pass) ? l.channel : l.element;
  const r = spec.round ?? null;
  rt.run(batchNormKernel(spec), r ? { ...params, ...roundParams(rt, r, params.count) } : params, bufs, grid);
}

function checkChannelTensor(what: string, t: Tensor | null | undefined, x: Tensor, c: number): void {
  if (!t) return;
  requireF32('batchNorm', t);
  if (t.rank !== 1 || t.shape[0] !== c) {
    throw new Error(`batchNorm: ${what} has shape [${t.shape.join(', ')}] but input [${x.shape.join(', ')}] has ${c} channels (expected [${c}])`);
  }
}

/** Batch normalisation of x ([N, C] or [N, C, ...]) per channel; differentiable in x, weight, bias. */
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  const rt = x.rt;
  requireF32('batchNorm', x);
  if (x.rank < 2) throw new Error(`batchNorm: input [${x.shape.join(', ')}] needs at least 2 dimensions [N, C, ...]`);
  const channels = x.shape[1]!;
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const perChannel = x.shape[0]! * inner;
  const geo: Geometry = { channels, inner, perChannel, count: x.size };
  const eps = o.eps ?? 1e-5;
  const momentum = o.momentum ?? 0.1;
  if (!(eps > 0)) throw new Error(`batchNorm: eps must be positive, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`batchNorm: momentum must lie in [0, 1], got ${momentum}`);
  for (const [what, t] of [['weight', o.weight], ['bias', o.bias], ['runningMean', o.runningMean], ['runningVar', o.runningVar]] as const) {
    checkChannelTensor(what, t, x, channels);
  }
  if (!o.runningMean !== !o.runningVar) throw new Error('batchNorm: give both runningMean and runningVar, or neither');
  const train = o.training;
  if (train && perChannel < 2) {
    throw new Error(`batchNorm: training needs more than one value per channel, got input [${x.shape.join(', ')}]`);
  }
  if (!train && !o.runningMean) throw new Error('batchNorm: evaluation mode needs runningMean and runningVar');
  const weight = o.weight ?? full(rt, [channels], 1);
  const bias = o.bias ?? full(rt, [channels], 0);

  // Per-channel [mean | invstd], used by the forward and saved for the backward.
  const saved = Tensor.empty(rt, [2 * channels], null, 'batchnorm:saved');
  const update = train && !!o.runningMean;
  const fuse = train && (o.fuse ?? perChannel <= FUSE_MAX_PER_CHANNEL);
  const p = launches(rt, geo, eps, momentum);
  const y = Tensor.empty(rt, x.shape, null, 'batchnorm');
  const round = fusable(o.round);
  const apply = { x: x.buffer, saved: saved.buffer, weight: weight.buffer, bias: bias.buffer, y: y.buffer };
  if (train) {
    const running = update ? { running_mean: o.runningMean!.buffer, running_var: o.runningVar!.buffer } : {};
    if (fuse) run(rt, { pass: 'stats_apply', train, updateRunning: update, round }, p, { ...apply, ...running });
    else run(rt, { pass: 'stats', train, updateRunning: update }, p, { x: x.buffer, saved: saved.buffer, ...running });
  } else {
    run(rt, { pass: 'stats', train }, p, { running_mean: o.runningMean!.buffer, running_var: o.runningVar!.buffer, saved: saved.buffer });
  }
  if (!fuse) run(rt, { pass: 'apply', train, round }, p, apply);
  // The normalised values would be plain float32.
  markRounded(y, round, 'fp32');
  countForward(rt, x, y, weight, bias, channels, train, update, fuse);

  return record(y, 'batchNorm', [x, weight, bias], (g, r) => {
    const gw = Tensor.empty(rt, [channels], null, 'batchnorm:gw');
    const gb = Tensor.empty(rt, [channels], null, 'batchnorm:gb');
    const sums = { g: g.buffer, x: x.buffer, saved: saved.buffer, gw: gw.buffer, gb: gb.buffer };
    let gx: Tensor | null = null;
    const gxRound = fusable(r[0]);
    if (!x.requiresGrad) {
      run(rt, { pass: 'grad_stats', train }, p, sums);
    } else if (fuse) {
      gx = Tensor.empty(rt, x.shape, null, 'batchnorm:gx');
      run(rt, { pass: 'grad', train, round: gxRound }, p, { ...sums, weight: weight.buffer, gx: gx.buffer });
    } else {
      run(rt, { pass: 'grad_stats', train }, p, sums);
      gx = Tensor.empty(rt, x.shape, null, 'batchnorm:gx');
      const bufs = { g: g.buffer, saved: saved.buffer, weight: weight.buffer, gx: gx.buffer };
      run(rt, { pass: 'grad_input', train, round: gxRound }, p, train ? { ...bufs, x: x.buffer, gw: gw.buffer, gb: gb.buffer } : bufs);
    }
    if (gx) markRounded(gx, gxRound, 'fp32');
    countBackward(rt, g, x, gx, weight, channels, train, fuse);
    return [gx, weight.requiresGrad ? gw : null, bias.requiresGrad ? gb : null];
  });
}

// ---- op counts ----------------------------------------------------------------------------------
// The arithmetic of shaders/batchnorm.ts as written there, in the input's value format, with a sum of
// M terms counted as M - 1 adds (as reduce.ts counts sums) and per-channel work once per channel.
// Memory: every tensor a pass reads or writes, once per pass, in its value bits (the stats pass reads
// x twice: the mean, then the centred variance). Roles: x, y and their gradients as the phase says
// (activations / errors), as is the saved [mean | invstd]; weight, bias and the running statistics
// are 'weights'; the channel sums gw, gb 'gradients'. With n elements, c channels, M = n / c:
//   train forward  mean: n - c add, c div; variance: n add (x - mean), n mul, n - c add, c div;
//                  invstd: c add, c sqrt, c div; apply (x - mean) invstd w + b: 2n add, 2n mul;
//                  running update: mean 2c mul + c add, variance 3c mul + c add
//   eval forward   invstd from the running variance: c add, c sqrt, c div; apply: 2n add, 2n mul
// The fused passes (one dispatch for statistics and normalisation, one for the backward) keep the
// statistics and the channel sums in registers: they do not read them back.
//   backward       channel sums of g and g xhat: n add (x - mean), 2n mul, 2(n - c) add; then
//                  train gx = w invstd (g - (gb + xhat gw) / M): 3n add, 4n mul, n div
//                  eval  gx = w invstd g: 2n mul

function arith(rt: Runtime, format: string, ops: Partial<Record<'add' | 'mul' | 'div' | 'sqrt', number>>): void {
  for (const [kind, count] of Object.entries(ops) as ['add' | 'mul' | 'div' | 'sqrt', number][]) rt.count({ kind, format, count });
}

function traffic(rt: Runtime, direction: 'read' | 'write', role: TensorRole, t: Tensor, times = 1): void {
  rt.count({ kind: 'memory', direction, role, format: t.valueFormat, bits: times * t.size * t.valueBits });
}

/** A [channels] float32 vector's traffic (saved statistics, channel sums). */
function vector(rt: Runtime, direction: 'read' | 'write', role: TensorRole, values: number): void {
  rt.count({ kind: 'memory', direction, role, format: 'fp32', bits: values * 32 });
}

function countForward(rt: Runtime, x: Tensor, y: Tensor, weight: Tensor, bias: Tensor, c: number, train: boolean, update: boolean, fused: boolean): void {
  if (!rt.recorder) return;
  const n = x.size;
  const role = rt.activationRole;
  if (train) {
    arith(rt, x.valueFormat, { add: n - c + n + (n - c) + c + 2 * n + (update ? 2 * c : 0), mul: n + 2 * n + (update ? 5 * c : 0), div: 3 * c, sqrt: c });
    traffic(rt, 'read', role, x, 2);
    vector(rt, 'write', role, 2 * c);
    if (update) {
      vector(rt, 'read', 'weights', 2 * c);
      vector(rt, 'write', 'weights', 2 * c);
    }
  } else {
    arith(rt, x.valueFormat, { add: 2 * n + c, mul: 2 * n, div: c, sqrt: c });
    vector(rt, 'read', 'weights', 2 * c);
    vector(rt, 'write', role, 2 * c);
  }
  traffic(rt, 'read', role, x);
  if (!fused) vector(rt, 'read', role, 2 * c);
  traffic(rt, 'read', 'weights', weight);
  traffic(rt, 'read', 'weights', bias);
  traffic(rt, 'write', role, y);
}

function countBackward(rt: Runtime, g: Tensor, x: Tensor, gx: Tensor | null, weight: Tensor, c: number, train: boolean, fused: boolean): void {
  if (!rt.recorder) return;
  const n = x.size;
  const role = rt.activationRole;
  // grad_stats: sums of g and g * xhat per channel.
  arith(rt, x.valueFormat, { add: n + 2 * (n - c), mul: 2 * n });
  traffic(rt, 'read', role, g);
  traffic(rt, 'read', role, x);
  vector(rt, 'read', role, 2 * c);
  vector(rt, 'write', 'gradients', 2 * c);
  if (!gx) return;
  arith(rt, x.valueFormat, train ? { add: 3 * n, mul: 4 * n, div: n } : { mul: 2 * n });
  traffic(rt, 'read', role, g);
  if (train) traffic(rt, 'read', role, x);
  if (!fused) vector(rt, 'read', role, train ? 2 * c : c);
  traffic(rt, 'read', 'weights', weight);
  if (train && !fused) vector(rt, 'read', 'gradients', 2 * c);
  traffic(rt, 'write', role, gx);
}

// ---- instance normalisation ---------------------------------------------------------------------
// PyTorch's InstanceNorm1d/2d/3d without running statistics (F.instance_norm; the CycleGAN reference's
// norm layer): each (sample, channel) plane of x [N, C, ...] is normalised by its own mean and biased
// variance, in training and in evaluation alike, then an optional per-channel weight and bias [C] apply.
// That is batch normalisation of the view [1, N*C, S] (every plane a channel of a batch of one, S the
// plane's size), so it runs the batch-norm kernels above unchanged, with their gradients and op counts;
// the [C] weight and bias are broadcast to the N*C planes, and broadcastTo's backward sums their
// gradients back over the batch.

export interface InstanceNormOptions {
  /** Per-channel scale [C] (PyTorch's affine=True); default none (affine=False, the CycleGAN setting). */
  weight?: Tensor | null;
  /** Per-channel shift [C]; default none. */
  bias?: Tensor | null;
  /** Default 1e-5, as PyTorch. */
  eps?: number;
}

/** Instance normalisation of x [N, C, ...spatial] per sample and channel; differentiable in x, weight, bias. */
export function instanceNorm(x: Tensor, o: InstanceNormOptions = {}): Tensor {
  requireF32('instanceNorm', x);
  if (x.rank < 3) throw new Error(`instanceNorm: input [${x.shape.join(', ')}] needs the layout [N, C, spatial...] (at least 3 dimensions)`);
  const [n, c] = x.shape as [number, number];
  const plane = x.shape.slice(2).reduce((a, b) => a * b, 1);
  if (plane < 2) {
    throw new Error(`instanceNorm: input [${x.shape.join(', ')}] has ${plane === 1 ? 'one value' : 'no values'} per (sample, channel) plane; normalising a plane needs more than one (give a larger spatial size)`);
  }
  const perPlane = (what: string, t: Tensor | null | undefined): Tensor | null => {
    if (!t) return null;
    requireF32('instanceNorm', t);
    if (t.rank !== 1 || t.shape[0] !== c) {
      throw new Error(`instanceNorm: ${what} has shape [${t.shape.join(', ')}] but input [${x.shape.join(', ')}] has ${c} channels (expected [${c}])`);
    }
    return n === 1 ? t : reshape(broadcastTo(reshape(t, [1, c]), [n, c]), [n * c]);
  };
  const weight = perPlane('weight', o.weight);
  const bias = perPlane('bias', o.bias);
  const y = batchNorm(reshape(x, [1, n * c, plane]), { weight, bias, training: true, ...(o.eps !== undefined ? { eps: o.eps } : {}) });
  return reshape(y, x.shape);
}
