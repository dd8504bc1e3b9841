// Losses: mean-squared error, binary cross-entropy with logits (numerically stable), log-softmax and
// softmax cross-entropy with integer labels. Each computes per-element (or per-row) losses with their
// own backward rule, then reduces with the differentiable sum / mean.

import { softmaxGrid, softmaxKernel, type SoftmaxKernel, type SoftmaxPass } from '../../shaders/softmax.ts';
import type { BindingValues } from '../../shaders/kernel.ts';
import { record, sameShape } from '../autograd/tape.ts';
import type { Binding } from '../kernels/cache.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { elementwise, full, requireF32 } from './elementwise-raw.ts';
import { add, affine, sub } from './elementwise.ts';
import { type Indices, indexTensor } from './indices.ts';
import { mean, sum } from './reduce.ts';

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossOptions {
  /** Default 'mean' (over every element), as PyTorch. */
  reduction?: Reduction;
}

function reduce(l: Tensor, r: Reduction | undefined): Tensor {
  switch (r ?? 'mean') {
    case 'none':
      return l;
    case 'sum':
      return sum(l);
    case 'mean':
      return mean(l);
    default:
      throw new Error(`loss: reduction must be 'mean', 'sum' or 'none', got '${String(r)}'`);
  }
}

function sameShapes(op: string, a: Tensor, b: Tensor): void {
  requireF32(op, a, b);
  if (!sameShape(a.shape, b.shape)) {
    throw new Error(`${op}: input [${a.shape.join(', ')}] and target [${b.shape.join(', ')}] must have the same shape`);
  }
}

/** Mean (or sum) of (input - target)^2. A number as the target stands for a tensor of that value
 *  everywhere, read from the kernel's parameters (no tensor to fill, the same bits). */
export function mseLoss(input: Tensor, target: Tensor | number, o: LossOptions = {}): Tensor {
  if (typeof target === 'number') return mseConstant(input, target, o);
  sameShapes('mseLoss', input, target);
  const rt = input.rt;
  const sq = elementwise(rt, 'mse', '(a - b) * (a - b)', [{ t: input }, { t: target }], input.shape, [], undefined, { add: 1, mul: 1 });
  // The gradients fuse the rounding autograd asks of them (engine/autograd/tape.ts).
  const per = record(sq, 'mseLoss', [input, target], (g, r) => [
    input.requiresGrad ? elementwise(rt, 'mse_grad', '2.0 * a * (b - c)', [{ t: g }, { t: input }, { t: target }], g.shape, [], undefined, { add: 1, mul: 2 }, r[0]) : null,
    target.requiresGrad ? elementwise(rt, 'mse_grad', '2.0 * a * (b - c)', [{ t: g }, { t: target }, { t: input }], g.shape, [], undefined, { add: 1, mul: 2 }, r[1]) : null,
  ]);
  return reduce(per, o.reduction);
}

function mseConstant(input: Tensor, target: number, o: LossOptions): Tensor {
  requireF32('mseLoss', input);
  const rt = input.rt;
  const sq = elementwise(rt, 'mse', '(a - p0) * (a - p0)', [{ t: input }], input.shape, [target], undefined, { add: 1, mul: 1 });
  const per = record(sq, 'mseLoss', [input], (g, r) => [elementwise(rt, 'mse_grad', '2.0 * a * (b - p0)', [{ t: g }, { t: input }], g.shape, [target], undefined, { add: 1, mul: 2 }, r[0])]);
  return reduce(per, o.reduction);
}

/** Mean (or sum) of |input - target| (PyTorch's L1Loss; its gradient at input = target is 0). */
export function l1Loss(input: Tensor, target: Tensor, o: LossOptions = {}): Tensor {
  sameShapes('l1Loss', input, target);
  const rt = input.rt;
  const d = elementwise(rt, 'l1', 'abs(a - b)', [{ t: input }, { t: target }], input.shape, [], undefined, { add: 1 });
  // g sign(u - v): a subtraction, a comparison (sign) and a multiply per element.
  const grad = (g: Tensor, u: Tensor, v: Tensor) => elementwise(rt, 'l1_grad', 'a * sign(b - c)', [{ t: g }, { t: u }, { t: v }], g.shape, [], undefined, { add: 1, max: 1, mul: 1 });
  const per = record(d, 'l1Loss', [input, target], (g) => [
    input.requiresGrad ? grad(g, input, target) : null,
    target.requiresGrad ? grad(g, target, input) : null,
  ]);
  return reduce(per, o.reduction);
}

// log(1 + e) for e in [0, 1], accurate for tiny e (where 1 + e rounds): the ratio log(u) / (u - 1)
// corrects for the rounding of u = 1 + e.
const LOG1P_WGSL = `fn log1p_small(e: f32) -> f32 {
  let u = 1.0 + e;
  if (u == 1.0) { return e; }
  return log(u) * e / (u - 1.0);
}`;

/**
 * Binary cross-entropy on logits x with targets y in [0, 1]:
 * max(x, 0) - x * y + log(1 + exp(-|x|)), which never overflows (PyTorch's BCEWithLogitsLoss).
 */
export function bceWithLogits(logits: Tensor, targets: Tensor | number, o: LossOptions = {}): Tensor {
  if (typeof targets === 'number') return bceConstant(logits, targets, o);
  sameShapes('bceWithLogits', logits, targets);
  const rt = logits.rt;
  const expr = 'max(a, 0.0) - a * b + log1p_small(exp(-abs(a)))';
  const l = elementwise(rt, 'bce_logits', expr, [{ t: logits }, { t: targets }], logits.shape, [], LOG1P_WGSL, { max: 1, mul: 1, add: 3, exp: 1, log: 1 });
  const per = record(l, 'bceWithLogits', [logits, targets], (g, r) => [
    logits.requiresGrad
      ? elementwise(rt, 'bce_logits_grad', 'a * (1.0 / (1.0 + exp(-clamp(b, -88.0, 88.0))) - c)', [{ t: g }, { t: logits }, { t: targets }], g.shape, [], undefined, { exp: 1, add: 2, div: 1, mul: 1 }, r[0])
      : null,
    targets.requiresGrad ? elementwise(rt, 'bce_target_grad', '-a * b', [{ t: g }, { t: logits }], g.shape, [], undefined, { mul: 1 }, r[1]) : null,
  ]);
  return reduce(per, o.reduction);
}

/** bceWithLogits against one target value everywhere (a kernel parameter, as mseConstant). */
function bceConstant(logits: Tensor, target: number, o: LossOptions): Tensor {
  requireF32('bceWithLogits', logits);
  const rt = logits.rt;
  const expr = 'max(a, 0.0) - a * p0 + log1p_small(exp(-abs(a)))';
  const l = elementwise(rt, 'bce_logits', expr, [{ t: logits }], logits.shape, [target], LOG1P_WGSL, { max: 1, mul: 1, add: 3, exp: 1, log: 1 });
  const grad = 'a * (1.0 / (1.0 + exp(-clamp(b, -88.0, 88.0))) - p0)';
  const per = record(l, 'bceWithLogits', [logits], (g, r) => [elementwise(rt, 'bce_logits_grad', grad, [{ t: g }, { t: logits }], g.shape, [target], undefined, { exp: 1, add: 2, div: 1, mul: 1 }, r[0])]);
  return reduce(per, o.reduction);
}

function rowKernel(rt: Runtime, pass: SoftmaxPass, rows: number, classes: number, bufs: BindingValues<SoftmaxKernel, Binding>): void {
  if (rows === 0 || classes === 0) return;
  const grid = softmaxGrid(rows, rt.gpu.limits);
  rt.run(softmaxKernel(pass), { rows, classes, grid_x: grid[0] }, bufs, grid);
}

/** log(softmax(x)) over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  requireF32('logSoftmax', x);
  if (x.rank < 1) throw new Error('logSoftmax: needs at least one dimension');
  const rt = x.rt;
  const classes = x.shape[x.rank - 1]!;
  const rows = x.size / Math.max(1, classes);
  const y = Tensor.empty(rt, x.shape, null, 'logSoftmax');
  rowKernel(rt, 'log_softmax', rows, classes, { x: x.buffer, out: y.buffer });
  return record(y, 'logSoftmax', [x], (g) => {
    const gx = Tensor.empty(rt, x.shape, null, 'logSoftmax:grad');
    rowKernel(rt, 'log_softmax_grad', rows, classes, { x: y.buffer, g: g.buffer, out: gx.buffer });
    return [gx];
  });
}

/** Softmax cross-entropy of logits [B, C] against integer labels in [0, C) (PyTorch's CrossEntropyLoss). */
export function crossEntropy(logits: Tensor, labels: Indices, o: LossOptions = {}): Tensor {
  requireF32('crossEntropy', logits);
  if (logits.rank !== 2) throw new Error(`crossEntropy: logits must be [B, C], got [${logits.shape.join(', ')}]`);
  const rt = logits.rt;
  const [rows, classes] = logits.shape as [number, number];
  const lab = indexTensor(rt, labels, classes, 'crossEntropy', 'label');
  if (lab.size !== rows) throw new Error(`crossEntropy: ${lab.size} labels for ${rows} rows of logits [${logits.shape.join(', ')}]`);
  const l = Tensor.empty(rt, [rows], null, 'crossEntropy');
  rowKernel(rt, 'xent', rows, classes, { x: logits.buffer, labels: lab.buffer, out: l.buffer });
  const per = record(l, 'crossEntropy', [logits], (g) => {
    const gx = Tensor.empty(rt, logits.shape, null, 'crossEntropy:grad');
    rowKernel(rt, 'xent_grad', rows, classes, { x: logits.buffer, labels: lab.buffer, g: g.buffer, out: gx.buffer });
    return [gx];
  });
  return reduce(per, o.reduction);
}

/**
 * The relativistic average GAN loss in its BCE form (ESRGAN, Wang et al. 2018, after Jolicoeur-Martineau's
 * RaGAN), from the critic's logits on a real batch and a fake batch:
 *   discriminator  (bce(real - mean(fake), 1) + bce(fake - mean(real), 0)) / 2
 *   generator      (bce(real - mean(fake), 0) + bce(fake - mean(real), 1)) / 2
 * with each bce the mean BCE-with-logits over its batch and each mean over all of the other batch's
 * logits (BasicSR's ESRGAN model). Gradients flow into both batches through both terms; detach the one
 * a step must not train (the generator step's real logits, the discriminator step's fake images).
 * Composed of mean, sub and bceWithLogits: exact, and only batch-sized tensors are involved.
 */
export function relativisticAverageBce(real: Tensor, fake: Tensor, who: 'discriminator' | 'generator'): Tensor {
  requireF32('relativisticAverageBce', real, fake);
  if (who !== 'discriminator' && who !== 'generator') throw new Error(`relativisticAverageBce: say whose loss it is ('discriminator' or 'generator'), got '${String(who)}'`);
  if (real.size === 0 || fake.size === 0) throw new Error(`relativisticAverageBce: empty batch of logits (real [${real.shape.join(', ')}], fake [${fake.shape.join(', ')}])`);
  const rt = real.rt;
  const realFirst = who === 'discriminator' ? 1 : 0;
  const target = (t: Tensor, v: number) => rt.noGrad(() => full(rt, t.shape, v));
  const lReal = bceWithLogits(sub(real, mean(fake)), target(real, realFirst));
  const lFake = bceWithLogits(sub(fake, mean(real)), target(fake, 1 - realFirst));
  return affine(add(lReal, lFake), 0.5);
}
