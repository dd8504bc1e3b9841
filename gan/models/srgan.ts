// ESRGAN (Wang et al. 2018) networks in the shape of xinntao/ESRGAN's RRDBNet_arch.py and BasicSR's
// VGG-style discriminator, sized for 1-channel 28x28 images super-resolved from 14x14 (scale 2) or
// 7x7 (scale 4):
//   RrdbGenerator   conv_first -> fea; fea + trunk_conv(RRDB_trunk(fea)); per factor of 2: nearest
//                   Upsample(2), upconvN, LeakyReLU(0.2); HRconv, LeakyReLU(0.2); conv_last. No output
//                   activation (as ESRGAN: the losses see the raw image). RRDB = x + 0.2 (RDB1, RDB2,
//                   RDB3)(x), RDB = x + 0.2 dense5(x), dense5 = five 3x3 convolutions, stage k seeing
//                   the input and stages < k concatenated (growth gc), LeakyReLU(0.2) after all but the
//                   last. All 3x3, stride 1, padding 1, with bias.
//   SrDiscriminator BasicSR's VGGStyleDiscriminator cut to 28x28: 28 -> 14 -> 7 in two stages of
//                   (3x3 s1, 4x4 s2) convolutions, batch norm after all but the first convolution,
//                   LeakyReLU(0.2), then Linear(2ndf * 7 * 7, 100), LeakyReLU(0.2), Linear(100, 1): one
//                   raw logit per image, for the relativistic average loss.
// Initialisation: the five convolutions of every residual dense block kaiming_normal_(fan_in, a = 0)
// scaled by 0.1, biases 0 (ESRGAN's ResidualDenseBlock_5C calls initialize_weights(..., 0.1) on exactly
// these: small residual branches keep the deep trunk near the identity at the start); every other
// convolution of the generator, and the discriminator, keep PyTorch's default initialisation.

import { Flatten, LeakyReLU } from '../../engine/nn/activation.ts';
import { Conv2d } from '../../engine/nn/conv.ts';
import { InitRng, normalArray } from '../../engine/nn/init.ts';
import { Linear } from '../../engine/nn/linear.ts';
import { Layer, Module } from '../../engine/nn/module.ts';
import { BatchNorm2d } from '../../engine/nn/norm.ts';
import { Upsample } from '../../engine/nn/resample.ts';
import { DenseBlock, Residual } from '../../engine/nn/residual.ts';
import { Sequential } from '../../engine/nn/sequential.ts';
import type { Runtime } from '../../engine/runtime.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';
import { describeModule } from './gan.ts';

export interface SrganOptions {
  seed: number;
  /** Trunk width (ESRGAN's nf, 64 there). */
  nf: number;
  /** Growth channels of each dense block (gc, 32 there). */
  gc: number;
  /** Number of RRDBs in the trunk (nb, 23 there). */
  blocks: number;
  scale: 2 | 4;
  /** Discriminator base width (BasicSR's num_feat). */
  ndf: number;
  /** High-resolution size; only 28 (the discriminator's Linear is sized for 7x7 features). */
  size?: 28;
}

/** The size of the high-resolution images: the only one (the discriminator's Linear is sized for its 7x7 features). */
export const HR_SIZE = 28;
const SLOPE = 0.2;
const RESIDUAL_SCALE = 0.2;

/** A Sequential whose children carry names instead of '0', '1', ... (PyTorch's Sequential(OrderedDict)),
 *  so residual bodies keep the reference's names (RRDB_trunk, trunk_conv, RDB1). Its kind is
 *  'Sequential' because that is what it is: a container the precision policy passes through. */
class NamedSequential extends Layer {
  override readonly kind = 'Sequential';
  private readonly layers: Layer[];
  constructor(rt: Runtime, entries: Record<string, Layer>) {
    super(rt);
    this.layers = Object.entries(entries).map(([name, l]) => this.addModule(name, l));
  }
  protected run(x: Tensor): Tensor {
    return this.layers.reduce((h, l) => l.forward(h), x);
  }
}

/** ResidualDenseBlock_5C: x + 0.2 conv5(cat(x, x1..x4)), xk = lrelu(convk(cat(x, x1..x{k-1}))). */
function rdb(rt: Runtime, rng: InitRng, nf: number, gc: number): Residual {
  const conv = (k: number, out: number) => new Conv2d(rt, nf + k * gc, out, 3, { rng, padding: 1 });
  const stages: Layer[] = [0, 1, 2, 3].map((k) => new Sequential(rt, conv(k, gc), new LeakyReLU(rt, SLOPE)));
  return new Residual(rt, new DenseBlock(rt, ...stages, conv(4, nf)), { scale: RESIDUAL_SCALE });
}

/** RRDB: x + 0.2 RDB3(RDB2(RDB1(x))). */
function rrdb(rt: Runtime, rng: InitRng, nf: number, gc: number): Residual {
  return new Residual(rt, new NamedSequential(rt, { RDB1: rdb(rt, rng, nf, gc), RDB2: rdb(rt, rng, nf, gc), RDB3: rdb(rt, rng, nf, gc) }), { scale: RESIDUAL_SCALE });
}

/** lr [B,1,28/scale,28/scale] in [-1,1] -> sr [B,1,28,28] (no output activation, as ESRGAN) */
export class RrdbGenerator extends Module {
  override readonly kind = 'RrdbGenerator';
  readonly scale: 2 | 4;
  private readonly convFirst: Conv2d;
  private readonly trunk: Residual;
  private readonly upconvs: Conv2d[];
  private readonly hrConv: Conv2d;
  private readonly convLast: Conv2d;
  // Parameter-free layers are children too, so that a hook set on the generator reaches them (the
  // precision policy rounds LeakyReLU outputs). One instance each, as the reference's self.lrelu.
  private readonly upsample: Upsample;
  private readonly lrelu: LeakyReLU;

  constructor(rt: Runtime, rng: InitRng, o: Pick<SrganOptions, 'nf' | 'gc' | 'blocks' | 'scale'>) {
    super(rt);
    this.scale = o.scale;
    const conv = (i: number, out: number) => new Conv2d(rt, i, out, 3, { rng, padding: 1 });
    this.convFirst = this.addModule('conv_first', conv(1, o.nf));
    // fea + trunk_conv(RRDB_trunk(fea)) as one Residual, so the policy rounds the long skip's sum
    // like the RRDBs' own. Names: trunk.body.RRDB_trunk.0.body.RDB1.body.0.0.weight, trunk.body.trunk_conv.weight.
    const blocks = new Sequential(rt, ...Array.from({ length: o.blocks }, () => rrdb(rt, rng, o.nf, o.gc)));
    this.trunk = this.addModule('trunk', new Residual(rt, new NamedSequential(rt, { RRDB_trunk: blocks, trunk_conv: conv(o.nf, o.nf) })));
    this.upsample = this.addModule('upsample', new Upsample(rt, { scaleFactor: 2 }));
    this.upconvs = Array.from({ length: Math.log2(o.scale) }, (_, i) => this.addModule(`upconv${i + 1}`, conv(o.nf, o.nf)));
    this.hrConv = this.addModule('HRconv', conv(o.nf, o.nf));
    this.convLast = this.addModule('conv_last', conv(o.nf, 1));
    this.lrelu = this.addModule('lrelu', new LeakyReLU(rt, SLOPE));
  }

  upscale(lr: Tensor): Tensor {
    // Check here: a wrong size would otherwise only surface as a shape mismatch in the loss against the
    // 28x28 target, far from its cause.
    const s = HR_SIZE / this.scale;
    const [, c, h, w] = lr.shape;
    if (lr.rank !== 4 || c !== 1 || h !== s || w !== s) {
      throw new Error(`${this.path || this.kind}: input [${lr.shape.join(', ')}] must be [B, 1, ${s}, ${s}] (${HR_SIZE}x${HR_SIZE} / scale ${this.scale})`);
    }
    // Scoped so that op counts name the generator.
    return this.scoped(() => {
      let fea = this.trunk.forward(this.convFirst.forward(lr));
      for (const up of this.upconvs) fea = this.lrelu.forward(up.forward(this.upsample.forward(fea)));
      return this.convLast.forward(this.lrelu.forward(this.hrConv.forward(fea)));
    });
  }
}

/** hr [B,1,28,28] -> one raw logit per image [B,1] (for the relativistic average loss) */
export class SrDiscriminator extends Module {
  override readonly kind = 'SrDiscriminator';
  private readonly stages: Layer[];

  constructor(rt: Runtime, rng: InitRng, ndf: number) {
    super(rt);
    // BasicSR's names (conv0_0, conv0_1, bn0_1, ...). Convolutions followed by batch norm have no
    // bias there: the norm's shift would cancel it.
    const conv = (name: string, i: number, out: number, k: 3 | 4, bias: boolean) =>
      this.addModule(name, new Conv2d(rt, i, out, k, { rng, stride: k === 4 ? 2 : 1, padding: 1, bias }));
    const bn = (name: string, c: number) => this.addModule(name, new BatchNorm2d(rt, c));
    const lrelu = this.addModule('lrelu', new LeakyReLU(rt, SLOPE));
    const a = ndf;
    const b = 2 * ndf;
    const c0 = conv('conv0_0', 1, a, 3, true);
    const c1 = conv('conv0_1', a, a, 4, false);
    const n1 = bn('bn0_1', a);
    const c2 = conv('conv1_0', a, b, 3, false);
    const n2 = bn('bn1_0', b);
    const c3 = conv('conv1_1', b, b, 4, false);
    const n3 = bn('bn1_1', b);
    const flatten = this.addModule('flatten', new Flatten(rt));
    const l1 = this.addModule('linear1', new Linear(rt, b * 7 * 7, 100, { rng }));
    const l2 = this.addModule('linear2', new Linear(rt, 100, 1, { rng }));
    this.stages = [c0, lrelu, c1, n1, lrelu, c2, n2, lrelu, c3, n3, lrelu, flatten, l1, lrelu, l2];
  }

  score(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 1 || x.shape[2] !== HR_SIZE || x.shape[3] !== HR_SIZE) {
      throw new Error(`${this.path || this.kind}: input [${x.shape.join(', ')}] must be [B, 1, ${HR_SIZE}, ${HR_SIZE}]`);
    }
    return this.scoped(() => this.stages.reduce((h, l) => l.forward(h), x));
  }
}

/** initialize_weights(scale 0.1): kaiming_normal_(fan_in, a = 0), i.e. N(0, 2 / fan_in), times 0.1; biases 0. */
/** Parameters of a residual dense block's convolutions, e.g. trunk.body.RRDB_trunk.0.body.RDB1.body.0.0.weight. */
const DENSE_BLOCK_PARAMETER = /(^|\.)RDB\d\./;

function esrganInit(m: Module, rng: InitRng): void {
  // queue.writeBuffer runs ahead of work still recorded in the encoder: submit that first.
  m.rt.flush();
  for (const [name, p] of m.namedParameters()) {
    if (!DENSE_BLOCK_PARAMETER.test(name)) continue;
    // Only convolutions carry parameters in a dense block; refuse anything else rather than guess.
    if (p.rank !== 4 && !name.endsWith('.bias')) throw new Error(`esrganInit: no rule for parameter '${name}' [${p.shape.join(', ')}]`);
    const fanIn = p.rank === 4 ? p.shape[1]! * p.shape[2]! * p.shape[3]! : 0;
    const data = p.rank === 4 ? normalArray(p.size, 0, 0.1 * Math.sqrt(2 / fanIn), rng) : new Float32Array(p.size);
    m.rt.device.queue.writeBuffer(p.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }
}

/** The generator's options (the builders' own check: a config or a file may hold anything). */
function checkGeneratorOptions(builder: string, o: SrGeneratorOptions): void {
  for (const k of ['nf', 'gc', 'blocks'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`${builder}: ${k} must be a positive integer, got ${o[k]}`);
  }
  if (o.scale !== 2 && o.scale !== 4) throw new Error(`${builder}: scale must be 2 or 4, got ${String(o.scale)}`);
  if (o.size !== undefined && o.size !== HR_SIZE) throw new Error(`${builder}: only ${HR_SIZE}x${HR_SIZE} images are supported, got size ${String(o.size)}`);
}

/** What fixes the generator's shape. */
export type SrGeneratorOptions = Pick<SrganOptions, 'nf' | 'gc' | 'blocks' | 'scale' | 'size'>;

export function buildSrgan(rt: Runtime, o: SrganOptions): { G: RrdbGenerator; D: SrDiscriminator } {
  checkGeneratorOptions('buildSrgan', o);
  if (!Number.isInteger(o.ndf) || o.ndf < 1) throw new Error(`buildSrgan: ndf must be a positive integer, got ${o.ndf}`);
  // One generator for both networks, in a fixed order, so a seed fixes every weight.
  const rng = new InitRng(o.seed);
  const G = new RrdbGenerator(rt, rng, o);
  const D = new SrDiscriminator(rt, rng, o.ndf);
  esrganInit(G, rng);
  return { G, D };
}

/** The generator alone, for deployment (an export holds only it), with weights to be loaded: its
 *  initialisation is left as the layers make it. */
export function buildSrGenerator(rt: Runtime, o: SrGeneratorOptions): RrdbGenerator {
  checkGeneratorOptions('buildSrGenerator', o);
  return new RrdbGenerator(rt, new InitRng(0), o);
}

export function describeSrgan(n: { G: RrdbGenerator; D: SrDiscriminator }): string {
  return `srgan x${n.G.scale} (ESRGAN RRDBNet, BasicSR VGG-style discriminator for ${HR_SIZE}x${HR_SIZE})\nG:\n${describeModule(n.G)}\nD:\n${describeModule(n.D)}`;
}
