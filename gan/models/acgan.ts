// An auxiliary-classifier GAN (AC-GAN; Odena, Olah & Shlens, "Conditional Image Synthesis with
// Auxiliary Classifier GANs", ICML 2017) with small MLPs: the quick-start default of `posit-gan train`.
//
// Why it is the default. The main job must show, within minutes on a 2-core CPU with lavapipe, a
// sample grid whose rows read as the digit they ask for. The paper's cgan (cgan.ts) learns the
// conditioning slowly: its discriminator sees the label only as 10 extra inputs, and it takes about
// 5,000 steps of batch 64 before three quarters of its digits read as asked (results/cgan-gpu/).
// Here the discriminator also says which digit it sees, and the generator is trained to make digits
// it reads as the requested one, so the conditioning is learnt with the digits themselves, within a
// few hundred steps. MLPs because the conditional DCGANs measured on lavapipe cost as much CPU time
// per step or 3-4 times more, and learnt the conditioning more slowly per CPU second. Measurements:
// results/quickstart/. The cgan stays unchanged (model 'cgan') for Table I.
//
//   G: [z(100) ++ one-hot(label)(10)] -> Linear 110-w, BatchNorm1d, LeakyReLU 0.2
//      -> Linear w-2w, BatchNorm1d, LeakyReLU 0.2 -> Linear 2w-784 -> Tanh
//   D: image(784) -> Linear 784-2w, LeakyReLU 0.2 -> Linear 2w-w, LeakyReLU 0.2
//      -> Linear w-11: one real/fake logit, then 10 class logits
// with w = width (256 by default), PyTorch's default initialisation, the logistic (BCE) loss on the
// first logit plus the class cross-entropy (the trainer's auxiliary-classifier loss, gan.ts) for both
// networks, and Adam. Only layers the precision policy quantizes (Linear, BatchNorm1d, LeakyReLU,
// Tanh, Flatten); the one-hot rows and the concatenation are data movement (0 and 1 are exact in every
// format).

import { InitRng } from '../../engine/nn/init.ts';
import { BatchNorm1d } from '../../engine/nn/norm.ts';
import { Flatten, LeakyReLU, Tanh } from '../../engine/nn/activation.ts';
import { Linear } from '../../engine/nn/linear.ts';
import { Module } from '../../engine/nn/module.ts';
import { Sequential } from '../../engine/nn/sequential.ts';
import { concat, reshape } from '../../engine/ops/shape.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { describeModule, type Discriminator, type Gan, type Generator } from './gan.ts';

const CLASSES = 10;
const LATENT = 100;
const PIXELS = 28 * 28;

/** One-hot rows [B, classes] of the labels (checked: one per image, each a class index). */
function oneHot(rt: Runtime, labels: Uint32Array | undefined, batch: number, who: string): Tensor {
  if (!labels) throw new Error(`${who}: the conditional GAN needs one label per image`);
  if (labels.length !== batch) throw new Error(`${who}: ${labels.length} labels for a batch of ${batch}`);
  const rows = new Float32Array(batch * CLASSES);
  labels.forEach((l, i) => {
    if (!(l < CLASSES)) throw new Error(`${who}: label ${l} at index ${i} is not a class 0..${CLASSES - 1}`);
    rows[i * CLASSES + l] = 1;
  });
  return Tensor.fromArray(rt, rows, [batch, CLASSES], 'one-hot labels');
}

class AcganGenerator extends Module implements Generator {
  override readonly kind = 'AcganGenerator';
  readonly body: Sequential;

  constructor(rt: Runtime, rng: InitRng, width: number) {
    super(rt);
    this.body = this.addModule(
      'model',
      new Sequential(
        rt,
        new Linear(rt, LATENT + CLASSES, width, { rng }),
        new BatchNorm1d(rt, width),
        new LeakyReLU(rt, 0.2),
        new Linear(rt, width, 2 * width, { rng }),
        new BatchNorm1d(rt, 2 * width),
        new LeakyReLU(rt, 0.2),
        new Linear(rt, 2 * width, PIXELS, { rng }),
        new Tanh(rt),
      ),
    );
  }

  generate(z: Tensor, labels?: Uint32Array): Tensor {
    const b = z.shape[0]!;
    const input = concat([z, oneHot(this.rt, labels, b, 'acgan generator')], 1);
    return reshape(this.body.forward(input), [b, 1, 28, 28]);
  }
}

class AcganDiscriminator extends Module implements Discriminator {
  override readonly kind = 'AcganDiscriminator';
  readonly flatten: Flatten;
  readonly body: Sequential;

  constructor(rt: Runtime, rng: InitRng, width: number) {
    super(rt);
    this.flatten = this.addModule('flatten', new Flatten(rt));
    this.body = this.addModule(
      'model',
      new Sequential(
        rt,
        new Linear(rt, PIXELS, 2 * width, { rng }),
        new LeakyReLU(rt, 0.2),
        new Linear(rt, 2 * width, width, { rng }),
        new LeakyReLU(rt, 0.2),
        new Linear(rt, width, 1 + CLASSES, { rng }),
      ),
    );
  }

  /** [B, 11]: the real/fake logit, then the class logits. The label is not an input: the
   *  discriminator has to tell the digit itself. */
  score(images: Tensor): Tensor {
    return this.body.forward(this.flatten.forward(images));
  }
}

export interface AcganOptions {
  seed: number;
  /** Width of the generator's first layer and the discriminator's last hidden layer (the other hidden
   *  layers are twice as wide). */
  width?: number;
}

export function buildAcgan(rt: Runtime, o: AcganOptions): Gan {
  const rng = new InitRng(o.seed);
  const width = o.width ?? 256;
  const G = new AcganGenerator(rt, rng, width);
  const D = new AcganDiscriminator(rt, rng, width);
  return {
    kind: 'acgan',
    latent: LATENT,
    conditional: true,
    classes: CLASSES,
    imageShape: [1, 28, 28],
    loss: 'bce',
    auxiliaryClassifier: true,
    G,
    D,
    describe: () => `acgan (MLP AC-GAN, width ${width})\nG:\n${describeModule(G)}\nD:\n${describeModule(D)}`,
  };
}
