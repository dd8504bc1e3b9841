// Batch normalisation over N (for [N, C]) or N and the spatial dims (for [N, C, ...]), with PyTorch's
// semantics: in training, the batch mean and biased variance normalise, and the running buffers (when
// given) move by `momentum` towards the batch mean and the unbiased variance; in evaluation, the
// running statistics normalise. Kernels: shaders/batchnorm.ts (statistics and their backward are one
// workgroup per channel; the elementwise passes one thread per element).

import { BN_ELEMENT_WORKGROUP, batchNormShader, type BatchNormSpec } from '../../shaders/batchnorm.ts';
import { record } from '../autograd/tape.ts';
import { grid1d } from '../kernels/cache.ts';
import { memoByKey } from '../kernels/memo.ts';
import type { TensorRole } from '../record/schema.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { full, requireF32 } from './elementwise.ts';
import { ParamWriter } from './kernel-params.ts';

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
}

const shaderFor = memoByKey(batchNormShader, (spec: BatchNormSpec) => `${spec.pass}|${spec.train}|${spec.updateRunning ?? false}`);

function bnKernel(rt: Runtime, spec: BatchNormSpec) {
  return rt.kernel(`batchnorm:${spec.pass}`, shaderFor(spec));
}

interface Geometry {
  channels: number;
  inner: number;
  perChannel: number;
  count: number;
}

function params(rt: Runtime, g: Geometry, perChannelGrid: boolean, eps: number, momentum: number) {
  const grid = grid1d(rt.gpu, perChannelGrid ? g.channels : Math.ceil(g.count / BN_ELEMENT_WORKGROUP));
  const unbias = g.perChannel > 1 ? g.perChannel / (g.perChannel - 1) : 1;
  const words = new ParamWriter().u32(g.channels, g.inner, g.perChannel, g.count, grid[0]).f32(eps, momentum, unbias).build();
  return { words, grid };
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
  const stats = params(rt, geo, true, eps, momentum);
  if (train) {
    const bufs = [x.buffer, saved.buffer, ...(update ? [o.runningMean!.buffer, o.runningVar!.buffer] : [])];
    rt.dispatch(bnKernel(rt, { pass: 'stats', train, updateRunning: update }), stats.words, bufs, stats.grid);
  } else {
    rt.dispatch(bnKernel(rt, { pass: 'stats', train }), stats.words, [o.runningMean!.buffer, o.runningVar!.buffer, saved.buffer], stats.grid);
  }
  const el = params(rt, geo, false, eps, momentum);
  const y = Tensor.empty(rt, x.shape, null, 'batchnorm');
  rt.dispatch(bnKernel(rt, { pass: 'apply', train }), el.words, [x.buffer, saved.buffer, weight.buffer, bias.buffer, y.buffer], el.grid);
  countForward(rt, x, y, weight, bias, channels, train, update);

  return record(y, 'batchNorm', [x, weight, bias], (g) => {
    const gw = Tensor.empty(rt, [channels], null, 'batchnorm:gw');
    const gb = Tensor.empty(rt, [channels], null, 'batchnorm:gb');
    rt.dispatch(bnKernel(rt, { pass: 'grad_stats', train }), stats.words, [g.buffer, x.buffer, saved.buffer, gw.buffer, gb.buffer], stats.grid);
    let gx: Tensor | null = null;
    if (x.requiresGrad) {
      gx = Tensor.empty(rt, x.shape, null, 'batchnorm:gx');
      const bufs = train
        ? [g.buffer, x.buffer, saved.buffer, weight.buffer, gw.buffer, gb.buffer, gx.buffer]
        : [g.buffer, saved.buffer, weight.buffer, gx.buffer];
      rt.dispatch(bnKernel(rt, { pass: 'grad_input', train }), el.words, bufs, el.grid);
    }
    countBackward(rt, g, x, gx, weight, channels, train);
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

function countForward(rt: Runtime, x: Tensor, y: Tensor, weight: Tensor, bias: Tensor, c: number, train: boolean, update: boolean): void {
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
  vector(rt, 'read', role, 2 * c);
  traffic(rt, 'read', 'weights', weight);
  traffic(rt, 'read', 'weights', bias);
  traffic(rt, 'write', role, y);
}

function countBackward(rt: Runtime, g: Tensor, x: Tensor, gx: Tensor | null, weight: Tensor, c: number, train: boolean): void {
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
  vector(rt, 'read', role, train ? 2 * c : c);
  traffic(rt, 'read', 'weights', weight);
  if (train) vector(rt, 'read', 'gradients', 2 * c);
  traffic(rt, 'write', role, gx);
}
