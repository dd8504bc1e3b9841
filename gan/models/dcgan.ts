// DCGAN (Radford, Metz, Chintala 2016) in the shape of the PyTorch examples' dcgan/main.py, sized for
// MNIST: the generator is transposed convolutions with batch norm and ReLU ending in Tanh, the
// discriminator strided convolutions with batch norm and LeakyReLU(0.2) ending in one logit, trained
// with the logistic (BCE) loss, Adam(lr 2e-4, betas 0.5, 0.999) and the DCGAN initialisation
// (conv weights N(0, 0.02), batch-norm weights N(1, 0.02), biases 0; convolutions without bias).
//   32x32 (MNIST zero-padded): G  z -> ConvT(k4,s1,p0) 4x4 -> ConvT(k4,s2,p1) 8 -> 16 -> 32
//                              D  32 -> Conv(k4,s2,p1) 16 -> 8 -> 4 -> Conv(k4,s1,p0) 1
//   28x28:                     G  z -> ConvT(k7,s1,p0) 7x7 -> ConvT(k4,s2,p1) 14 -> 28
//                              D  28 -> Conv(k4,s2,p1) 14 -> 7 -> Conv(k7,s1,p0) 1
// Widths: ngf, ndf (64 in the example) are options; the CPU defaults are smaller.

import { InitRng, normalArray } from '../../engine/nn/init.ts';
import { BatchNorm2d } from '../../engine/nn/norm.ts';
import { LeakyReLU, ReLU, Tanh } from '../../engine/nn/activation.ts';
import { Conv2d, ConvTranspose2d } from '../../engine/nn/conv.ts';
import { Module, type Layer } from '../../engine/nn/module.ts';
import { Sequential } from '../../engine/nn/sequential.ts';
import { reshape } from '../../engine/ops/shape.ts';
import type { Runtime } from '../../engine/runtime.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';
import { describeModule, type Discriminator, type Gan, type Generator } from './gan.ts';

const LATENT = 100;

class DcganGenerator extends Module implements Generator {
  override readonly kind = 'DcganGenerator';
  readonly body: Sequential;
  constructor(rt: Runtime, rng: InitRng, size: 28 | 32, ngf: number) {
    super(rt);
    const o = { rng, bias: false };
    const up = (i: number, out: number): Layer[] => [new ConvTranspose2d(rt, i, out, 4, { ...o, stride: 2, padding: 1 }), new BatchNorm2d(rt, out), new ReLU(rt)];
    const layers: Layer[] =
      size === 32
        ? [
            new ConvTranspose2d(rt, LATENT, ngf * 4, 4, { ...o, stride: 1, padding: 0 }),
            new BatchNorm2d(rt, ngf * 4),
            new ReLU(rt),
            ...up(ngf * 4, ngf * 2),
            ...up(ngf * 2, ngf),
            new ConvTranspose2d(rt, ngf, 1, 4, { ...o, stride: 2, padding: 1 }),
            new Tanh(rt),
          ]
        : [
            new ConvTranspose2d(rt, LATENT, ngf * 4, 7, { ...o, stride: 1, padding: 0 }),
            new BatchNorm2d(rt, ngf * 4),
            new ReLU(rt),
            ...up(ngf * 4, ngf * 2),
            new ConvTranspose2d(rt, ngf * 2, 1, 4, { ...o, stride: 2, padding: 1 }),
            new Tanh(rt),
          ];
    this.body = this.addModule('main', new Sequential(rt, ...layers));
  }

  generate(z: Tensor): Tensor {
    return this.body.forward(reshape(z, [z.shape[0]!, LATENT, 1, 1]));
  }
}

class DcganDiscriminator extends Module implements Discriminator {
  override readonly kind = 'DcganDiscriminator';
  readonly body: Sequential;
  constructor(rt: Runtime, rng: InitRng, size: 28 | 32, ndf: number) {
    super(rt);
    const o = { rng, bias: false };
    const down = (i: number, out: number, norm: boolean): Layer[] => [
      new Conv2d(rt, i, out, 4, { ...o, stride: 2, padding: 1 }),
      ...(norm ? [new BatchNorm2d(rt, out)] : []),
      new LeakyReLU(rt, 0.2),
    ];
    const layers: Layer[] =
      size === 32
        ? [...down(1, ndf, false), ...down(ndf, ndf * 2, true), ...down(ndf * 2, ndf * 4, true), new Conv2d(rt, ndf * 4, 1, 4, { ...o, stride: 1, padding: 0 })]
        : [...down(1, ndf, false), ...down(ndf, ndf * 2, true), new Conv2d(rt, ndf * 2, 1, 7, { ...o, stride: 1, padding: 0 })];
    this.body = this.addModule('main', new Sequential(rt, ...layers));
  }

  score(images: Tensor): Tensor {
    const s = this.body.forward(images);
    return reshape(s, [images.shape[0]!, 1]);
  }
}

/** The DCGAN initialisation: conv weights N(0, 0.02), batch-norm weights N(1, 0.02), biases 0. */
function dcganInit(m: Module, rng: InitRng): void {
  // queue.writeBuffer runs ahead of work still recorded in the encoder: submit that first.
  m.rt.flush();
  for (const [name, p] of m.namedParameters()) {
    const isBn = /(^|\.)\d+\.weight$/.test(name) && p.rank === 1;
    const data = name.endsWith('.bias') ? new Float32Array(p.size) : normalArray(p.size, isBn ? 1 : 0, 0.02, rng);
    m.rt.device.queue.writeBuffer(p.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }
}

export interface DcganOptions {
  seed: number;
  size?: 28 | 32;
  ngf?: number;
  ndf?: number;
}

export function buildDcgan(rt: Runtime, o: DcganOptions): Gan {
  const size = o.size ?? 32;
  const rng = new InitRng(o.seed);
  const G = new DcganGenerator(rt, rng, size, o.ngf ?? 64);
  const D = new DcganDiscriminator(rt, rng, size, o.ndf ?? 64);
  dcganInit(G, rng);
  dcganInit(D, rng);
  return {
    kind: 'dcgan',
    latent: LATENT,
    conditional: false,
    classes: 10,
    imageShape: [1, size, size],
    loss: 'bce',
    G,
    D,
    describe: () => `dcgan ${size}x${size} (PyTorch examples dcgan shape)\nG:\n${describeModule(G)}\nD:\n${describeModule(D)}`,
  };
}
