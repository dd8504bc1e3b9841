// The conditional GAN for MNIST the paper's CGAN row uses: the widely used PyTorch reference
// implementation "cgan.py" of the PyTorch-GAN collection (E. Linder-Norén), reproduced layer by layer:
//   G: [label embedding(10, 10) ++ z(100)] -> Linear 110-128, LeakyReLU 0.2
//      -> (Linear, BatchNorm1d(eps 0.8), LeakyReLU 0.2) x 3 to 256, 512, 1024 -> Linear 1024-784 -> Tanh
//   D: [image(784) ++ label embedding(10, 10)] -> Linear 794-512, LeakyReLU 0.2
//      -> (Linear 512-512, Dropout 0.4, LeakyReLU 0.2) x 2 -> Linear 512-1
// trained with the least-squares (MSE) loss, Adam(lr 2e-4, betas 0.5, 0.999), batch 64.
// Note: the reference passes 0.8 as BatchNorm1d's second positional argument, which is eps (not
// momentum); we keep eps = 0.8 so that the model is the one the paper trained.

import { InitRng } from '../../engine/nn/init.ts';
import { BatchNorm1d } from '../../engine/nn/norm.ts';
import { Dropout, Flatten, LeakyReLU, Tanh } from '../../engine/nn/activation.ts';
import { Embedding } from '../../engine/nn/embedding.ts';
import { Linear } from '../../engine/nn/linear.ts';
import { Module, type Layer } from '../../engine/nn/module.ts';
import { Sequential } from '../../engine/nn/sequential.ts';
import { concat, reshape } from '../../engine/ops/shape.ts';
import type { Runtime } from '../../engine/runtime.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';
import { describeModule, type Discriminator, type Gan, type Generator } from './gan.ts';

const CLASSES = 10;
const LATENT = 100;
const PIXELS = 28 * 28;

function needLabels(labels: Uint32Array | undefined, batch: number, who: string): Uint32Array {
  if (!labels) throw new Error(`${who}: the conditional GAN needs one label per image`);
  if (labels.length !== batch) throw new Error(`${who}: ${labels.length} labels for a batch of ${batch}`);
  return labels;
}

class CganGenerator extends Module implements Generator {
  override readonly kind = 'CganGenerator';
  readonly embed: Embedding;
  readonly body: Sequential;

  constructor(rt: Runtime, rng: InitRng, readonly width: number) {
    super(rt);
    const w = width;
    this.embed = this.addModule('label_emb', new Embedding(rt, CLASSES, CLASSES, { rng }));
    const block = (i: number, o: number, norm: boolean): Layer[] => [
      new Linear(rt, i, o, { rng }),
      ...(norm ? [new BatchNorm1d(rt, o, { eps: 0.8 })] : []),
      new LeakyReLU(rt, 0.2),
    ];
    this.body = this.addModule(
      'model',
      new Sequential(
        rt,
        ...block(LATENT + CLASSES, w, false),
        ...block(w, 2 * w, true),
        ...block(2 * w, 4 * w, true),
        ...block(4 * w, 8 * w, true),
        new Linear(rt, 8 * w, PIXELS, { rng }),
        new Tanh(rt),
      ),
    );
  }

  generate(z: Tensor, labels?: Uint32Array): Tensor {
    const l = needLabels(labels, z.shape[0]!, 'cgan generator');
    const input = concat([this.embed.forward(l), z], 1);
    return reshape(this.body.forward(input), [z.shape[0]!, 1, 28, 28]);
  }
}

class CganDiscriminator extends Module implements Discriminator {
  override readonly kind = 'CganDiscriminator';
  readonly embed: Embedding;
  readonly flatten: Flatten;
  readonly body: Sequential;

  constructor(rt: Runtime, rng: InitRng, seed: number) {
    super(rt);
    this.embed = this.addModule('label_embedding', new Embedding(rt, CLASSES, CLASSES, { rng }));
    this.flatten = this.addModule('flatten', new Flatten(rt));
    this.body = this.addModule(
      'model',
      new Sequential(
        rt,
        new Linear(rt, PIXELS + CLASSES, 512, { rng }),
        new LeakyReLU(rt, 0.2),
        new Linear(rt, 512, 512, { rng }),
        new Dropout(rt, 0.4, seed ^ 0x1001),
        new LeakyReLU(rt, 0.2),
        new Linear(rt, 512, 512, { rng }),
        new Dropout(rt, 0.4, seed ^ 0x2002),
        new LeakyReLU(rt, 0.2),
        new Linear(rt, 512, 1, { rng }),
      ),
    );
  }

  score(images: Tensor, labels?: Uint32Array): Tensor {
    const l = needLabels(labels, images.shape[0]!, 'cgan discriminator');
    return this.body.forward(concat([this.flatten.forward(images), this.embed.forward(l)], 1));
  }
}

export interface CganOptions {
  seed: number;
  /** Width of the first generator layer (128 in the reference; the others are 2x, 4x, 8x it). */
  width?: number;
}

export function buildCgan(rt: Runtime, o: CganOptions): Gan {
  const rng = new InitRng(o.seed);
  const G = new CganGenerator(rt, rng, o.width ?? 128);
  const D = new CganDiscriminator(rt, rng, o.seed >>> 0);
  return {
    kind: 'cgan',
    latent: LATENT,
    conditional: true,
    classes: CLASSES,
    imageShape: [1, 28, 28],
    loss: 'mse',
    G,
    D,
    describe: () => `cgan (PyTorch-GAN cgan.py shape)\nG:\n${describeModule(G)}\nD:\n${describeModule(D)}`,
  };
}
