// The objective of the GANs that generate from latent vectors (cgan, acgan, dcgan), in the order of the
// PyTorch-GAN cgan reference: the generator loss through the current discriminator, then the
// discriminator loss on the real batch and on the generated batch (detached).

import { detach } from '../../engine/autograd/tape.ts';
import { random, randomStream } from '../../formats/rng.ts';
import { add, affine } from '../../engine/ops/index.ts';
import { bceWithLogits, crossEntropy, mseLoss } from '../../engine/ops/loss.ts';
import { narrow } from '../../engine/ops/shape.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { BatchOrder } from '../data/batches.ts';
import { gatherBatch, type MnistSet } from '../data/mnist-core.ts';
import { buildAcgan } from '../models/acgan.ts';
import { buildCgan } from '../models/cgan.ts';
import { buildDcgan } from '../models/dcgan.ts';
import type { Gan } from '../models/gan.ts';
import { generateImages } from '../models/generate.ts';
import type { TrainConfig } from './config.ts';
import type { Iteration, Objective, SampleGrid } from './objective.ts';

/** Standard normal latent vectors for iteration `step`: a function of (seed, step) only. */
export function latentNoise(seed: number, step: number, batch: number, latent: number): Float32Array {
  const out = new Float32Array(batch * latent);
  const draw = randomStream(random(seed ^ 0x5eed, step));
  for (let i = 0; i < out.length; i += 2) {
    const u = (draw(i) + 0.5) / 2 ** 32;
    const v = (draw(i + 1) + 0.5) / 2 ** 32;
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Latent vectors and (for a conditional GAN) balanced labels (i mod classes) for n samples: the inputs
 *  of every evaluation (eval, experiments, the FID curve during training) and of deployment. */
export function evaluationInputs(gan: Pick<Gan, 'latent' | 'conditional' | 'classes'>, n: number, seed: number): { z: Float32Array; labels?: Uint32Array } {
  const z = latentNoise(seed, 0x6e7a1, n, gan.latent);
  if (!gan.conditional) return { z };
  return { z, labels: Uint32Array.from({ length: n }, (_, i) => i % gan.classes) };
}

/** Labels 0..classes-1 for the generated images of iteration `step` (uniform, seeded). */
export function randomLabels(seed: number, step: number, batch: number, classes: number): Uint32Array {
  const draw = randomStream(random(seed ^ 0x1abe1, step));
  return Uint32Array.from({ length: batch }, (_, i) => Math.floor((draw(i) / 2 ** 32) * classes));
}

/** The latent-vector GAN a configuration names (cgan, dcgan or acgan). */
export function buildGan(rt: Runtime, c: TrainConfig): Gan {
  switch (c.model) {
    case 'cgan':
      return buildCgan(rt, { seed: c.seed, width: c.width });
    case 'dcgan':
      return buildDcgan(rt, { seed: c.seed, size: c.size, ngf: c.ngf, ndf: c.ndf });
    case 'acgan':
      return buildAcgan(rt, { seed: c.seed, width: c.width });
    default:
      throw new Error(`the ${c.model} model does not generate from latent vectors`);
  }
}

export class NoiseObjective implements Objective {
  readonly nets: Objective['nets'];
  readonly lossName: string;
  private readonly order: BatchOrder;

  constructor(
    readonly rt: Runtime,
    readonly gan: Gan,
    readonly config: TrainConfig,
    readonly data: MnistSet,
  ) {
    const [, h, w] = gan.imageShape;
    if (data.height !== h || data.width !== w) {
      throw new Error(`the ${config.model} model takes ${h}x${w} images but the data is ${data.height}x${data.width} (pad to 32 for dcgan size 32)`);
    }
    this.nets = { G: gan.G, D: gan.D };
    this.lossName = gan.loss === 'mse' ? 'MSE loss' : 'BCE loss';
    this.order = new BatchOrder({ n: data.n, batchSize: config.batch, seed: config.seed });
  }

  get stepsPerEpoch(): number {
    return this.order.batchesPerEpoch;
  }

  epochAt(step: number): number {
    return this.order.cursorAt(step).epoch;
  }

  private adversarial(score: Tensor, target: 0 | 1): Tensor {
    // The target value everywhere, as a kernel parameter (no target tensor to fill).
    return this.gan.loss === 'mse' ? mseLoss(score, target) : bceWithLogits(score, target);
  }

  /** The adversarial loss towards `target`, plus, when the discriminator also classifies, the
   *  cross-entropy of its class logits against the labels. */
  private loss(score: Tensor, target: 0 | 1, labels: Uint32Array | undefined): Tensor {
    if (!this.gan.auxiliaryClassifier) return this.adversarial(score, target);
    if (!labels) throw new Error('a discriminator with an auxiliary classifier needs the labels');
    const adversarial = this.adversarial(narrow(score, 1, 0, 1), target);
    return add(adversarial, crossEntropy(narrow(score, 1, 1, this.gan.classes), labels));
  }

  iteration(step: number): Iteration {
    const { rt, gan, config } = this;
    const cursor = this.order.cursorAt(step);
    const batch = this.order.batchAt(cursor);
    const { images, labels } = gatherBatch(this.data, batch.indices);
    const B = batch.indices.length;
    const realLabels = Uint32Array.from(labels);
    const genLabels = gan.conditional ? randomLabels(config.seed, step, B, gan.classes) : undefined;
    const z = latentNoise(config.seed, step, B, gan.latent);
    let fake: Tensor | null = null;
    return {
      epoch: cursor.epoch,
      generatorLoss: () => {
        const zt = Tensor.fromArray(rt, z, [B, gan.latent], 'z');
        // Op counts go to 'G.<layer>' and 'D.<layer>' (backward nodes keep their layer).
        fake = rt.inLayer('G', () => gan.G.generate(zt, genLabels));
        return this.loss(rt.inLayer('D', () => gan.D.score(fake!, genLabels)), 1, genLabels);
      },
      discriminatorLoss: () => {
        if (!fake) throw new Error('discriminatorLoss() before generatorLoss()');
        const real = Tensor.fromArray(rt, images, [B, ...gan.imageShape], 'real');
        const lossReal = this.loss(rt.inLayer('D', () => gan.D.score(real, realLabels)), 1, realLabels);
        const lossFake = this.loss(rt.inLayer('D', () => gan.D.score(detach(fake!), genLabels)), 0, genLabels);
        return affine(add(lossReal, lossFake), 0.5);
      },
    };
  }

  /** 100 fixed latent vectors; for a conditional model, row i is class i. */
  async sampleGrid(): Promise<SampleGrid> {
    const z = latentNoise(this.config.seed, 0x7fffffff, 100, this.gan.latent);
    const labels = this.gan.conditional ? Uint32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)) : undefined;
    const images = await generateImages(this.rt, this.gan, z, labels);
    return { images, count: 100, shape: this.gan.imageShape, rows: 10, cols: 10, ...(labels ? { labels } : {}) };
  }

  async state(): Promise<Record<string, Float32Array>> {
    return {};
  }

  load(): void {}

  describe(): string {
    return this.gan.describe();
  }

  dispose(): void {}
}
