// CycleGAN (Zhu, Park, Isola, Efros 2017) networks in the shape of the authors' PyTorch code
// (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py), sized for 1-channel MNIST-like images:
//   ResnetGenerator   c7s1-ngf, d2ngf, d4ngf, `blocks` x R4ngf, u2ngf, ungf, c7s1-1, Tanh.
//                     Instance norm without affine parameters, so every convolution keeps its bias
//                     (the reference's use_bias = norm_layer == InstanceNorm2d), reflection padding in
//                     the stem, the head and the residual blocks (padding_type 'reflect'), no dropout.
//                     32x32: 32 -> 16 -> 8 (blocks) -> 16 -> 32;  28x28: 28 -> 14 -> 7 (blocks) -> 14 -> 28.
//   PatchDiscriminator NLayerDiscriminator(n_layers = 2): the reference's default n_layers = 3 has
//                     three stride-2 convolutions and is built for 256x256 (70x70 patches, 30x30 scores);
//                     on 32x32 it would leave 4 -> 3 -> 2, so one stride-2 stage is dropped. Kernel 4,
//                     padding 1, LeakyReLU(0.2), instance norm on all but the first and last convolution.
//                     32x32: 32 -> 16 -> 8 -> 7 -> 6, scores [B, 1, 6, 6] (34x34 receptive field each);
//                     28x28: 28 -> 14 -> 7 -> 6 -> 5, scores [B, 1, 5, 5].
// Initialisation as the reference's init_weights('normal', 0.02): conv weights N(0, 0.02), biases 0
// (instance norm has no parameters to initialise). Parameter names follow the reference's state dict
// ('model.10.conv_block.1.weight'), under 'G_AB.' / 'G_BA.' / 'D_A.' / 'D_B.'.

import { LeakyReLU, ReLU, Tanh } from '../../engine/nn/activation.ts';
import { Conv2d, ConvTranspose2d } from '../../engine/nn/conv.ts';
import { InitRng, normalArray } from '../../engine/nn/init.ts';
import { Module, type Layer } from '../../engine/nn/module.ts';
import { InstanceNorm2d } from '../../engine/nn/norm.ts';
import { ReflectionPad2d } from '../../engine/nn/resample.ts';
import { Residual } from '../../engine/nn/residual.ts';
import { Sequential } from '../../engine/nn/sequential.ts';
import type { Runtime } from '../../engine/runtime.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';
import { describeModule } from './gan.ts';

export interface CycleganOptions {
  seed: number;
  ngf: number;
  ndf: number;
  blocks: number;
}

/** The reference's ResnetBlock: conv_block = pad, conv, norm, ReLU, pad, conv, norm; y = x + conv_block(x). */
function resnetBlock(rt: Runtime, rng: InitRng, dim: number): Residual {
  const conv = () => new Conv2d(rt, dim, dim, 3, { rng });
  const body = new Sequential(rt, new ReflectionPad2d(rt, 1), conv(), new InstanceNorm2d(rt, dim), new ReLU(rt), new ReflectionPad2d(rt, 1), conv(), new InstanceNorm2d(rt, dim));
  return new Residual(rt, body, { name: 'conv_block' });
}

/** x [B,1,H,W] in [-1,1] -> translated [B,1,H,W] in [-1,1] */
export class ResnetGenerator extends Module {
  override readonly kind = 'ResnetGenerator';
  readonly model: Sequential;

  constructor(rt: Runtime, rng: InitRng, ngf: number, blocks: number) {
    super(rt);
    const down = (i: number, o: number): Layer[] => [new Conv2d(rt, i, o, 3, { rng, stride: 2, padding: 1 }), new InstanceNorm2d(rt, o), new ReLU(rt)];
    // outputPadding 1 makes each stride-2 transposed convolution exactly double the size (8 -> 16, 7 -> 14).
    const up = (i: number, o: number): Layer[] => [new ConvTranspose2d(rt, i, o, 3, { rng, stride: 2, padding: 1, outputPadding: 1 }), new InstanceNorm2d(rt, o), new ReLU(rt)];
    const layers: Layer[] = [
      new ReflectionPad2d(rt, 3),
      new Conv2d(rt, 1, ngf, 7, { rng }),
      new InstanceNorm2d(rt, ngf),
      new ReLU(rt),
      ...down(ngf, ngf * 2),
      ...down(ngf * 2, ngf * 4),
      ...Array.from({ length: blocks }, () => resnetBlock(rt, rng, ngf * 4)),
      ...up(ngf * 4, ngf * 2),
      ...up(ngf * 2, ngf),
      new ReflectionPad2d(rt, 3),
      new Conv2d(rt, ngf, 1, 7, { rng }),
      new Tanh(rt),
    ];
    this.model = this.addModule('model', new Sequential(rt, ...layers));
  }

  translate(x: Tensor): Tensor {
    // Two stride-2 stages down and two exact doublings up return H x W only when both divide by 4;
    // say so here rather than let the caller meet a shape mismatch in the cycle loss.
    const [, c, h, w] = x.shape;
    if (x.rank !== 4 || c !== 1 || h! % 4 !== 0 || w! % 4 !== 0) {
      throw new Error(`${this.path || this.kind}: input [${x.shape.join(', ')}] must be [B, 1, H, W] with H and W multiples of 4`);
    }
    // Scoped so that op counts of G_AB and G_BA are told apart.
    return this.scoped(() => this.model.forward(x));
  }
}

/** images [B,1,H,W] -> patch scores [B,1,h,w] (raw, for the least-squares loss) */
export class PatchDiscriminator extends Module {
  override readonly kind = 'PatchDiscriminator';
  readonly model: Sequential;

  constructor(rt: Runtime, rng: InitRng, ndf: number) {
    super(rt);
    const conv = (i: number, o: number, stride: number) => new Conv2d(rt, i, o, 4, { rng, stride, padding: 1 });
    this.model = this.addModule(
      'model',
      new Sequential(
        rt,
        conv(1, ndf, 2),
        new LeakyReLU(rt, 0.2),
        conv(ndf, ndf * 2, 2),
        new InstanceNorm2d(rt, ndf * 2),
        new LeakyReLU(rt, 0.2),
        conv(ndf * 2, ndf * 4, 1),
        new InstanceNorm2d(rt, ndf * 4),
        new LeakyReLU(rt, 0.2),
        conv(ndf * 4, 1, 1),
      ),
    );
  }

  score(x: Tensor): Tensor {
    return this.scoped(() => this.model.forward(x));
  }
}

/** Holds both generators so that one optimizer covers them (the reference's itertools.chain); or G_AB
 *  alone (buildCycleganAtoB). */
class CycleganGenerators extends Module {
  override readonly kind = 'CycleganGenerators';
  constructor(rt: Runtime, ab: ResnetGenerator, ba?: ResnetGenerator) {
    super(rt);
    this.addModule('G_AB', ab);
    if (ba) this.addModule('G_BA', ba);
  }
}

/** Holds both discriminators, for the same reason. */
class CycleganDiscriminators extends Module {
  override readonly kind = 'CycleganDiscriminators';
  constructor(rt: Runtime, a: PatchDiscriminator, b: PatchDiscriminator) {
    super(rt);
    this.addModule('D_A', a);
    this.addModule('D_B', b);
  }
}

/** Two modules each holding the pair, so a trainer can give each pair one optimizer:
 *  G has children 'G_AB' and 'G_BA' (parameter names 'G_AB.model.0.weight' ...), D has 'D_A' and 'D_B'. */
export interface CycleganNets {
  G: Module;
  D: Module;
  G_AB: ResnetGenerator;
  G_BA: ResnetGenerator;
  D_A: PatchDiscriminator;
  D_B: PatchDiscriminator;
}

/** init_weights('normal', 0.02): conv weights N(0, 0.02), biases 0. */
function cycleganInit(m: Module, rng: InitRng): void {
  // queue.writeBuffer runs ahead of work still recorded in the encoder: submit that first.
  m.rt.flush();
  for (const [name, p] of m.namedParameters()) {
    // Only convolutions carry parameters here (instance norm is not affine); anything else would need
    // its own rule (the reference draws norm weights from N(1, 0.02)), so refuse rather than guess.
    if (p.rank !== 4 && !name.endsWith('.bias')) throw new Error(`cycleganInit: no rule for parameter '${name}' [${p.shape.join(', ')}]`);
    const data = name.endsWith('.bias') ? new Float32Array(p.size) : normalArray(p.size, 0, 0.02, rng);
    m.rt.device.queue.writeBuffer(p.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }
}

function checkOptions(builder: string, o: Partial<Record<'ngf' | 'ndf' | 'blocks', number>>): void {
  for (const [k, x] of Object.entries(o)) {
    if (!Number.isInteger(x) || x < (k === 'blocks' ? 0 : 1)) throw new Error(`${builder}: ${k} must be a ${k === 'blocks' ? 'non-negative' : 'positive'} integer, got ${x}`);
  }
}

export function buildCyclegan(rt: Runtime, o: CycleganOptions): CycleganNets {
  checkOptions('buildCyclegan', { ngf: o.ngf, ndf: o.ndf, blocks: o.blocks });
  // One generator for all four networks, in a fixed order, so a seed fixes every weight.
  const rng = new InitRng(o.seed);
  const G_AB = new ResnetGenerator(rt, rng, o.ngf, o.blocks);
  const G_BA = new ResnetGenerator(rt, rng, o.ngf, o.blocks);
  const D_A = new PatchDiscriminator(rt, rng, o.ndf);
  const D_B = new PatchDiscriminator(rt, rng, o.ndf);
  for (const m of [G_AB, G_BA, D_A, D_B]) cycleganInit(m, rng);
  return { G: new CycleganGenerators(rt, G_AB, G_BA), D: new CycleganDiscriminators(rt, D_A, D_B), G_AB, G_BA, D_A, D_B };
}

/**
 * The A-to-B generator alone, for deployment (an export holds only it), with weights to be loaded: its
 * initialisation is left as the layers make it. It sits where buildCyclegan puts it, under 'G_AB', so
 * its layers have the trained model's paths, which name its op counts and per-weight exponent biases.
 */
export function buildCycleganAtoB(rt: Runtime, o: Pick<CycleganOptions, 'ngf' | 'blocks'>): ResnetGenerator {
  checkOptions('buildCycleganAtoB', { ngf: o.ngf, blocks: o.blocks });
  const G_AB = new ResnetGenerator(rt, new InitRng(0), o.ngf, o.blocks);
  new CycleganGenerators(rt, G_AB); // G_AB's parent, kept alive by it: only its path is needed
  return G_AB;
}

export function describeCyclegan(n: CycleganNets): string {
  const blocks = n.G_AB.model.layers.filter((l) => l.kind === 'Residual').length;
  return `cyclegan (pytorch-CycleGAN-and-pix2pix shape: ResnetGenerator ${blocks} blocks, NLayerDiscriminator n_layers 2)\nG:\n${describeModule(n.G)}\nD:\n${describeModule(n.D)}`;
}
