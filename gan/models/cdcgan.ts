// A small conditional DCGAN for MNIST at 28x28: the quick-start default of `posit-gan train`.
//
// Why it exists. The paper's cgan (cgan.ts, an MLP) needs thousands of steps before its samples show
// the requested digit (about 5,000 steps of batch 64 for 75% on a GPU; at the 300 steps a CPU allows
// in a few minutes its rows are mostly the wrong digit). Convolutions share their weights across the
// image, so a conv GAN with a fraction of the MLP's parameters learns digit shapes, and with the label
// fed to both networks the conditioning, in far fewer steps per CPU second: it is what a new user on a
// CPU driver should see first. Measurements behind the choice: results/quickstart/. The cgan stays
// unchanged (model 'cgan') for Table I.
//
// Shape (the DCGAN recipe of dcgan.ts at 28x28 with the label as one-hot inputs, as the usual
// conditional DCGANs for MNIST do):
//   G: [z(100) ++ one-hot(label)(10)] -> Linear 110 -> 2ngf*7*7 -> reshape [2ngf, 7, 7]
//      -> BatchNorm2d, ReLU -> ConvT(2ngf -> ngf, k4 s2 p1) 14x14, BatchNorm2d, ReLU
//      -> ConvT(ngf -> 1, k4 s2 p1) 28x28 -> Tanh
//   D: [image(1) ++ one-hot(label) planes(10)] 28x28 -> Conv(11 -> ndf, k4 s2 p1) 14x14, LeakyReLU 0.2
//      -> Conv(ndf -> 2ndf, k4 s2 p1) 7x7, BatchNorm2d, LeakyReLU 0.2 -> Flatten -> Linear 2ndf*49 -> 1
// with the logistic (BCE) loss on the logit, the DCGAN initialisation (weights N(0, 0.02), batch-norm
// weights N(1, 0.02), biases 0) and Adam. Only layers the precision policy quantizes (Linear,
// Conv2d, ConvTranspose2d, BatchNorm2d, ReLU, LeakyReLU, Tanh, Flatten); the one-hot planes and the
// concatenations are data movement (0 and 1 are exact in every format).

import { InitRng } from '../../engine/nn/init.ts';
import { BatchNorm2d } from '../../engine/nn/norm.ts';
import { Flatten, LeakyReLU, ReLU, Tanh } from '../../engine/nn/activation.ts';
import { Conv2d, ConvTranspose2d } from '../../engine/nn/conv.ts';
import { Linear } from '../../engine/nn/linear.ts';
import { Module } from '../../engine/nn/module.ts';
import { Sequential } from '../../engine/nn/sequential.ts';
import { broadcastTo, concat, reshape } from '../../engine/ops/shape.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { dcganInit } from './dcgan.ts';
import { describeModule, type Discriminator, type Gan, type Generator } from './gan.ts';

const CLASSES = 10;
const LATENT = 100;
const SIZE = 28;

/** One-hot rows [B, classes] of the labels (checked: one per image, each a class index). */
export function oneHot(rt: Runtime, labels: Uint32Array | undefined, batch: number, who: string): Tensor {
  if (!labels) throw new Error(`${who}: the conditional GAN needs one label per image`);
  if (labels.length !== batch) throw new Error(`${who}: ${labels.length} labels for a batch of ${batch}`);
  const rows = new Float32Array(batch * CLASSES);
  labels.forEach((l, i) => {
    if (!(l < CLASSES)) throw new Error(`${who}: label ${l} at index ${i} is not a class 0..${CLASSES - 1}`);
    rows[i * CLASSES + l] = 1;
  });
  return Tensor.fromArray(rt, rows, [batch, CLASSES], 'one-hot labels');
}

class CdcganGenerator extends Module implements Generator {
  readonly fc: Linear;
  readonly body: Sequential;

  constructor(
    rt: Runtime,
    rng: InitRng,
    readonly ngf: number,
  ) {
    super(rt);
    const o = { rng, bias: false };
    this.fc = this.addModule('fc', new Linear(rt, LATENT + CLASSES, 2 * ngf * 7 * 7, { rng }));
    this.body = this.addModule(
      'main',
      new Sequential(
        rt,
        new BatchNorm2d(rt, 2 * ngf),
        new ReLU(rt),
        new ConvTranspose2d(rt, 2 * ngf, ngf, 4, { ...o, stride: 2, padding: 1 }),
        new BatchNorm2d(rt, ngf),
        new ReLU(rt),
        new ConvTranspose2d(rt, ngf, 1, 4, { ...o, stride: 2, padding: 1 }),
        new Tanh(rt),
      ),
    );
  }

  generate(z: Tensor, labels?: Uint32Array): Tensor {
    const b = z.shape[0]!;
    const h = this.fc.forward(concat([z, oneHot(this.rt, labels, b, 'cdcgan generator')], 1));
    return this.body.forward(reshape(h, [b, 2 * this.ngf, 7, 7]));
  }
}

class CdcganDiscriminator extends Module implements Discriminator {
  readonly body: Sequential;

  constructor(
    rt: Runtime,
    rng: InitRng,
    ndf: number,
    readonly auxiliary: boolean,
  ) {
    super(rt);
    const o = { rng, bias: false };
    this.body = this.addModule(
      'main',
      new Sequential(
        rt,
        new Conv2d(rt, auxiliary ? 1 : 1 + CLASSES, ndf, 4, { ...o, stride: 2, padding: 1 }),
        new LeakyReLU(rt, 0.2),
        new Conv2d(rt, ndf, 2 * ndf, 4, { ...o, stride: 2, padding: 1 }),
        new BatchNorm2d(rt, 2 * ndf),
        new LeakyReLU(rt, 0.2),
        new Flatten(rt),
        new Linear(rt, 2 * ndf * 7 * 7, auxiliary ? 1 + CLASSES : 1, { rng }),
      ),
    );
  }

  score(images: Tensor, labels?: Uint32Array): Tensor {
    if (this.auxiliary) return this.body.forward(images);
    const b = images.shape[0]!;
    const planes = broadcastTo(reshape(oneHot(this.rt, labels, b, 'cdcgan discriminator'), [b, CLASSES, 1, 1]), [b, CLASSES, SIZE, SIZE]);
    return this.body.forward(concat([images, planes], 1));
  }
}

export interface CdcganOptions {
  seed: number;
  /** Generator width: channels of the 14x14 layer (the 7x7 layer has twice as many). */
  ngf?: number;
  /** Discriminator width: channels of the 14x14 layer (the 7x7 layer has twice as many). */
  ndf?: number;
  /** 'input': the label as one-hot planes of the discriminator's input; 'auxiliary': the
   *  discriminator sees the image only and also classifies it (AC-GAN). */
  conditioning?: 'input' | 'auxiliary';
}

export function buildCdcgan(rt: Runtime, o: CdcganOptions): Gan {
  const rng = new InitRng(o.seed);
  const G = new CdcganGenerator(rt, rng, o.ngf ?? 32);
  const auxiliary = o.conditioning === 'auxiliary';
  const D = new CdcganDiscriminator(rt, rng, o.ndf ?? 32, auxiliary);
  dcganInit(G, rng);
  dcganInit(D, rng);
  return {
    kind: 'cdcgan',
    latent: LATENT,
    conditional: true,
    classes: CLASSES,
    imageShape: [1, SIZE, SIZE],
    loss: 'bce',
    auxiliaryClassifier: auxiliary,
    G,
    D,
    describe: () => `cdcgan 28x28 (conditional DCGAN, one-hot labels)\nG:\n${describeModule(G)}\nD:\n${describeModule(D)}`,
  };
}
