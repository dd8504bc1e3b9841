// Normalisation layers. Batch normalisation: weight 1, bias 0, running mean 0, running variance 1
// (PyTorch's defaults; num_batches_tracked is not kept, since it only matters for momentum = None).
// Instance normalisation: PyTorch's InstanceNorm2d without running statistics.

import { batchNorm, instanceNorm } from '../ops/batchnorm.ts';
import type { RoundSpec } from '../ops/round.ts';
import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Layer } from './module.ts';

export interface BatchNormLayerOptions {
  eps?: number;
  momentum?: number;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for evaluation (default true); without them evaluation uses batch
   *  statistics, as PyTorch does. */
  trackRunningStats?: boolean;
}

abstract class BatchNormBase extends Layer {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    rt: Runtime,
    readonly numFeatures: number,
    o: BatchNormLayerOptions,
    private readonly ranks: readonly number[],
  ) {
    super(rt);
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    const c = [numFeatures];
    const affine = o.affine ?? true;
    this.weight = affine ? this.addParameter('weight', new Float32Array(numFeatures).fill(1), c) : null;
    this.bias = affine ? this.addParameter('bias', new Float32Array(numFeatures), c) : null;
    const track = o.trackRunningStats ?? true;
    this.runningMean = track ? this.addBuffer('running_mean', new Float32Array(numFeatures), c) : null;
    this.runningVar = track ? this.addBuffer('running_var', new Float32Array(numFeatures).fill(1), c) : null;
  }

  protected run(x: Tensor, round: RoundSpec | null): Tensor {
    if (!this.ranks.includes(x.rank) || x.shape[1] !== this.numFeatures) {
      const dims: Record<number, string> = { 2: 'N, C', 3: 'N, C, L', 4: 'N, C, H, W' };
      const want = this.ranks.map((r) => `[${dims[r]}]`).join(' or ');
      throw new Error(`${this.path || this.kind}: input [${x.shape.join(', ')}] does not match ${want} with C = ${this.numFeatures}`);
    }
    return batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training || !this.runningMean,
      momentum: this.momentum,
      eps: this.eps,
      round,
    });
  }
}

/** Over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  override readonly kind = 'BatchNorm1d';

  constructor(rt: Runtime, numFeatures: number, o: BatchNormLayerOptions = {}) {
    super(rt, numFeatures, o, [2, 3]);
  }
}

/** Over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  override readonly kind = 'BatchNorm2d';

  constructor(rt: Runtime, numFeatures: number, o: BatchNormLayerOptions = {}) {
    super(rt, numFeatures, o, [4]);
  }
}

export interface InstanceNormLayerOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Learn a per-channel scale (1) and shift (0); default false, as PyTorch's InstanceNorm2d and the
   *  CycleGAN reference's norm layer. */
  affine?: boolean;
}

/**
 * Over [N, C, H, W]: each sample's channel normalised by its own mean and biased variance, in training
 * and evaluation alike (PyTorch's InstanceNorm2d with track_running_stats=False, its default; running
 * statistics are not offered).
 */
export class InstanceNorm2d extends Layer {
  override readonly kind = 'InstanceNorm2d';
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(
    rt: Runtime,
    readonly numFeatures: number,
    o: InstanceNormLayerOptions = {},
  ) {
    super(rt);
    this.eps = o.eps ?? 1e-5;
    const c = [numFeatures];
    const affine = o.affine ?? false;
    this.weight = affine ? this.addParameter('weight', new Float32Array(numFeatures).fill(1), c) : null;
    this.bias = affine ? this.addParameter('bias', new Float32Array(numFeatures), c) : null;
  }

  protected run(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures) {
      throw new Error(`${this.path || this.kind}: input [${x.shape.join(', ')}] does not match [N, C, H, W] with C = ${this.numFeatures}`);
    }
    return instanceNorm(x, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
}
