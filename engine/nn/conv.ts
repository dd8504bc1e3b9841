// 2-D convolution and transposed convolution over NCHW, PyTorch's layouts and default init:
// Conv2d weight [out, in, kh, kw] (fan_in = in * kh * kw); ConvTranspose2d weight [in, out, kh, kw]
// (PyTorch computes fan_in from size(1), so fan_in = out * kh * kw there).

import { conv2d, convTranspose2d } from '../ops/conv.ts';
import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { defaultBound, toRng, uniformArray, type RngLike } from './init.ts';
import { Layer } from './module.ts';

type Pair = number | readonly [number, number];

export interface ConvOptions {
  /** Initialisation generator (share one across a model), or a seed. */
  rng: RngLike;
  stride?: Pair;
  /** Symmetric [ph, pw] or a number; [top, bottom, left, right] for asymmetric padding. */
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
  dilation?: Pair;
  bias?: boolean;
}

export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: Pair;
}

function pair(v: Pair, what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= 1)) throw new Error(`conv: ${what} must be positive integers, got [${p.join(', ')}]`);
  return p;
}

/** Shared parameter set-up: weight of `shape`, optional bias of `channels`, bound 1/sqrt(fan_in). */
abstract class ConvBase extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];

  protected constructor(rt: Runtime, shape: [number, number], channels: number, fanInChannels: number, kernel: Pair, o: ConvOptions) {
    super(rt);
    this.kernelSize = pair(kernel, 'kernel size');
    const [kh, kw] = this.kernelSize;
    const rng = toRng(o.rng);
    const bound = defaultBound(fanInChannels * kh * kw);
    this.weight = this.addParameter('weight', uniformArray(shape[0] * shape[1] * kh * kw, -bound, bound, rng), [...shape, kh, kw]);
    this.bias = (o.bias ?? true) ? this.addParameter('bias', uniformArray(channels, -bound, bound, rng), [channels]) : null;
  }

  protected checkInput(x: Tensor, channels: number): void {
    if (x.rank !== 4 || x.shape[1] !== channels) {
      throw new Error(`${this.path || this.kind}: input [${x.shape.join(', ')}] does not match [N, ${channels}, H, W]`);
    }
  }
}

export class Conv2d extends ConvBase {
  override readonly kind = 'Conv2d';

  constructor(
    rt: Runtime,
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: Pair,
    readonly options: ConvOptions,
  ) {
    super(rt, [outChannels, inChannels], outChannels, inChannels, kernel, options);
  }

  protected run(x: Tensor): Tensor {
    this.checkInput(x, this.inChannels);
    const o = this.operands({ input: x, weight: this.weight, bias: this.bias, kernel: {} });
    const { stride, padding, dilation } = this.options;
    return conv2d(o.input, o.weight, { ...o.kernel, stride, padding, dilation, ...(o.bias ? { bias: o.bias } : {}) });
  }
}

export class ConvTranspose2d extends ConvBase {
  override readonly kind = 'ConvTranspose2d';

  constructor(
    rt: Runtime,
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: Pair,
    readonly options: ConvTransposeOptions,
  ) {
    super(rt, [inChannels, outChannels], outChannels, outChannels, kernel, options);
  }

  protected run(x: Tensor): Tensor {
    this.checkInput(x, this.inChannels);
    const o = this.operands({ input: x, weight: this.weight, bias: this.bias, kernel: {} });
    const { stride, padding, dilation, outputPadding } = this.options;
    return convTranspose2d(o.input, o.weight, { ...o.kernel, stride, padding, dilation, outputPadding, ...(o.bias ? { bias: o.bias } : {}) });
  }
}
