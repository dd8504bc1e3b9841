// Containers for residual networks: a residual connection with optional scaling (the CycleGAN
// ResNet block, ESRGAN's dense and residual-in-residual blocks) and a densely connected block
// (ESRGAN's residual dense block without its residual connection). The arithmetic they add between
// their children (the residual sum) belongs to the container, so the precision policy rounds it like
// any other non-matmul layer output (engine/quant/policy.ts); a densely connected block only
// concatenates values its children already rounded.

import { add, addScaled } from '../ops/elementwise.ts';
import { concat } from '../ops/shape.ts';
import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Layer } from './module.ts';

export interface ResidualOptions {
  /** Residual scaling k in x + k f(x) (ESRGAN's 0.2); default 1. */
  scale?: number;
  /** Name of the body in parameter names (default 'body'; e.g. 'conv_block' to match the CycleGAN
   *  reference's state dict). */
  name?: string;
}

/** y = x + scale * body(x); the body must keep the input's shape. */
export class Residual extends Layer {
  override readonly kind = 'Residual';
  readonly body: Layer;
  readonly scale: number;

  constructor(rt: Runtime, body: Layer, o: ResidualOptions = {}) {
    super(rt);
    this.scale = o.scale ?? 1;
    if (!Number.isFinite(this.scale)) throw new Error(`Residual: the scale must be a finite number, got ${this.scale}`);
    this.body = this.addModule(o.name ?? 'body', body);
  }

  protected run(x: Tensor): Tensor {
    const f = this.body.forward(x);
    if (f.shape.length !== x.shape.length || f.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(`${this.path || this.kind}: the body maps [${x.shape.join(', ')}] to [${f.shape.join(', ')}]; a residual connection needs the same shape`);
    }
    return this.scale === 1 ? add(x, f) : addScaled(x, f, this.scale);
  }
}

/**
 * Dense connectivity over channels: stage k receives the concatenation, along dimension 1, of the block's
 * input and the outputs of stages 0 .. k-1; the block returns the last stage's output. ESRGAN's residual
 * dense block is Residual(DenseBlock(conv+lrelu, ..., conv), { scale: 0.2 }). Stages are named '0', '1', ...
 */
export class DenseBlock extends Layer {
  override readonly kind = 'DenseBlock';
  readonly stages: readonly Layer[];

  constructor(rt: Runtime, ...stages: Layer[]) {
    super(rt);
    if (stages.length === 0) throw new Error('DenseBlock: give at least one stage');
    this.stages = stages.map((l, i) => this.addModule(String(i), l));
  }

  protected run(x: Tensor): Tensor {
    // The running concatenation grows by one stage output per stage (one pair copy each, as much
    // traffic as concatenating every part anew, and autograd splits the gradient back the same way).
    let features = x;
    let h = x;
    this.stages.forEach((stage, i) => {
      if (i > 0) features = concat([features, h], 1);
      h = stage.forward(features);
    });
    return h;
  }
}
