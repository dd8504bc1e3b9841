// Parameter-free layers that rearrange NCHW images (PyTorch's ReflectionPad2d, Upsample with mode
// 'nearest', PixelShuffle); the ops are engine/ops/resample.ts. They copy values and compute none,
// which is why the precision policy passes them through (engine/quant/policy.ts).

import { pixelShuffle, reflectionPad2d, upsampleNearest2d, type Padding2d, type Scale2d } from '../ops/resample.ts';
import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Layer } from './module.ts';

/** Reflection padding: a number for every side, or [left, right, top, bottom]; each below the input's size. */
export class ReflectionPad2d extends Layer {
  override readonly kind = 'ReflectionPad2d';
  constructor(
    rt: Runtime,
    readonly padding: Padding2d,
  ) {
    super(rt);
  }
  protected run(x: Tensor): Tensor {
    return reflectionPad2d(x, this.padding);
  }
}

export interface UpsampleOptions {
  /** Integer factor for height and width, or [height, width]. */
  scaleFactor: Scale2d;
  /** Only 'nearest' (the default, as PyTorch's). */
  mode?: 'nearest';
}

/** Upsample(scale_factor, mode='nearest') by integer factors. */
export class Upsample extends Layer {
  override readonly kind = 'Upsample';
  readonly scaleFactor: Scale2d;
  constructor(rt: Runtime, o: UpsampleOptions) {
    super(rt);
    const mode: string = o.mode ?? 'nearest';
    if (mode !== 'nearest') throw new Error(`Upsample: mode '${mode}' is not available; this engine upsamples with mode 'nearest' (integer factors)`);
    this.scaleFactor = o.scaleFactor;
  }
  protected run(x: Tensor): Tensor {
    return upsampleNearest2d(x, this.scaleFactor);
  }
}

/** PixelShuffle(upscale_factor): [N, C r^2, H, W] to [N, C, H r, W r]. */
export class PixelShuffle extends Layer {
  override readonly kind = 'PixelShuffle';
  constructor(
    rt: Runtime,
    readonly upscaleFactor: number,
  ) {
    super(rt);
  }
  protected run(x: Tensor): Tensor {
    return pixelShuffle(x, this.upscaleFactor);
  }
}
