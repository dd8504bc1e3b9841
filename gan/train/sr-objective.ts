// ESRGAN's objective (Wang et al. 2018; BasicSR's ESRGANModel) for super-resolving 28x28 images from
// box-downsampled inputs (gan/data/low-resolution.ts):
//   pre-training (the first pretrainSteps)  the generator on the pixel loss l1(G(lr), hr) alone, the
//                                  discriminator idle (ESRGAN's PSNR-oriented RRDBNet stage)
//   generator      1e-2 l1(G(lr), hr) + 1 * perceptual + 5e-3 RaGAN_G(D(hr), D(G(lr)))
//   discriminator  RaGAN_D(D(hr), D(G(lr)))  (engine/ops/loss.ts relativisticAverageBce)
// The perceptual loss is l1 between feature-network outputs of G(lr) and hr: ESRGAN uses VGG19's
// conv5_4; here it is the data set's own LeNet-5 (gan/metrics/classifier.ts), its 84 features. That
// network is a fixed measuring instrument: frozen, in float32, outside both optimizers and outside the
// precision recipe (gradients pass through it to the generator in float32).

import { add, addScaled, affine } from '../../engine/ops/index.ts';
import { l1Loss, relativisticAverageBce } from '../../engine/ops/loss.ts';
import type { Module } from '../../engine/nn/module.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { detach } from '../../engine/autograd/tape.ts';
import { BatchOrder } from '../data/batches.ts';
import { boxDownsample, nearestUpsample } from '../data/low-resolution.ts';
import { gatherBatch, type MnistSet } from '../data/mnist-core.ts';
import { describeSrgan, HR_SIZE, type RrdbGenerator, type SrDiscriminator } from '../models/srgan.ts';
import { mapImages } from '../models/translate.ts';
import { buildSrganOf } from './build-model.ts';
import type { TrainConfig } from './config.ts';
import { setRequiresGrad, type Iteration, type Objective, type SampleGrid } from './objective.ts';

export const PIXEL_WEIGHT = 1e-2;
export const PERCEPTUAL_WEIGHT = 1;
export const GAN_WEIGHT = 5e-3;
/** The high-resolution size (the SR networks' only one). */
export const SR_SIZE = HR_SIZE;

/** A frozen network whose features the perceptual loss compares. */
export interface FeatureLayers {
  readonly module: Module;
  features(x: Tensor): Tensor;
}

/** What the SR objective trains on: the high-resolution images (training split) and a held-out set
 *  for its sample grid, with the perceptual loss's feature network on the trainer's runtime. */
export interface SuperResolutionData {
  readonly train: MnistSet;
  readonly test: MnistSet;
  /** null: no perceptual term (the browser demo, which ships no feature network); say so where shown.
   *  The objective owns it: its dispose() releases the network. */
  readonly perceptual: FeatureLayers | null;
}

/** Low-resolution inputs and the upscaled outputs of a generator for high-resolution images [n, 1, 28, 28]. */
export async function superResolve(rt: Runtime, G: RrdbGenerator, hr: Float32Array, n: number): Promise<{ lr: Float32Array; sr: Float32Array }> {
  const s = SR_SIZE / G.scale;
  const lr = boxDownsample(hr, n, SR_SIZE, SR_SIZE, G.scale);
  const sr = await mapImages(rt, G, (x) => G.upscale(x), lr, [1, s, s], [1, SR_SIZE, SR_SIZE]);
  return { lr, sr };
}

export class SuperResolutionObjective implements Objective {
  readonly G: RrdbGenerator;
  readonly D: SrDiscriminator;
  readonly nets: Objective['nets'];
  readonly lossName = 'pixel + perceptual + RaGAN loss (G), RaGAN loss (D)';
  private readonly order: BatchOrder;

  constructor(
    readonly rt: Runtime,
    readonly config: TrainConfig,
    readonly data: SuperResolutionData,
  ) {
    for (const [name, set] of [['training', data.train], ['test', data.test]] as const) {
      if (set.height !== SR_SIZE || set.width !== SR_SIZE) throw new Error(`the srgan model takes ${SR_SIZE}x${SR_SIZE} images; the ${name} images are ${set.height}x${set.width} (do not pad them)`);
    }
    const nets = buildSrganOf(rt, config);
    this.G = nets.G;
    this.D = nets.D;
    this.nets = { G: nets.G, D: nets.D };
    if (data.perceptual) {
      setRequiresGrad(data.perceptual.module, false);
      data.perceptual.module.eval();
    }
    this.order = new BatchOrder({ n: data.train.n, batchSize: config.batch, seed: config.seed });
  }

  get stepsPerEpoch(): number {
    return this.order.batchesPerEpoch;
  }

  epochAt(step: number): number {
    return this.order.cursorAt(step).epoch;
  }

  iteration(step: number): Iteration {
    const { rt, G, D } = this;
    const cursor = this.order.cursorAt(step);
    const indices = this.order.batchAt(cursor).indices;
    const B = indices.length;
    const hrValues = gatherBatch(this.data.train, indices).images;
    const s = SR_SIZE / G.scale;
    const lrValues = boxDownsample(hrValues, B, SR_SIZE, SR_SIZE, G.scale);
    const pretraining = step < this.config.pretrainSteps;
    let hr: Tensor | null = null;
    let sr: Tensor | null = null;
    return {
      epoch: cursor.epoch,
      generatorLoss: () => {
        hr = Tensor.fromArray(rt, hrValues, [B, 1, SR_SIZE, SR_SIZE], 'hr');
        const lr = Tensor.fromArray(rt, lrValues, [B, 1, s, s], 'lr');
        const out = (sr = rt.inLayer('G', () => G.upscale(lr)));
        const pixel = l1Loss(out, hr);
        if (pretraining) return pixel;
        const target = hr;
        const ragan = relativisticAverageBce(
          rt.inLayer('D', () => D.score(target)),
          rt.inLayer('D', () => D.score(out)),
          'generator',
        );
        const network = this.data.perceptual;
        const content = network
          ? add(
              affine(pixel, PIXEL_WEIGHT),
              affine(
                rt.inLayer('perceptual', () => l1Loss(network.features(out), rt.noGrad(() => network.features(target)))),
                PERCEPTUAL_WEIGHT,
              ),
            )
          : affine(pixel, PIXEL_WEIGHT);
        return addScaled(content, ragan, GAN_WEIGHT);
      },
      discriminatorLoss: () => {
        if (pretraining) return null;
        if (!hr || !sr) throw new Error('discriminatorLoss() before generatorLoss()');
        const real = hr;
        const fake = detach(sr);
        return relativisticAverageBce(
          rt.inLayer('D', () => D.score(real)),
          rt.inLayer('D', () => D.score(fake)),
          'discriminator',
        );
      },
    };
  }

  /** Twenty test images: low resolution, upscaled, original (superResolutionGrid). */
  sampleGrid(): Promise<SampleGrid> {
    return superResolutionGrid(this.rt, this.G, this.data.test, 20);
  }

  async state(): Promise<Record<string, Float32Array>> {
    return {};
  }

  load(): void {}

  describe(): string {
    const perceptual = this.data.perceptual ? '' : ', without the perceptual loss';
    return `srgan ${SR_SIZE / this.G.scale}x${SR_SIZE / this.G.scale} to ${SR_SIZE}x${SR_SIZE} (x${this.G.scale})${perceptual}\n${describeSrgan({ G: this.G, D: this.D })}`;
  }

  dispose(): void {
    this.data.perceptual?.module.dispose();
  }
}

/** The first `n` test images in groups of ten columns and three rows: the low-resolution input
 *  (enlarged by repetition), the upscaled image and the original. */
export async function superResolutionGrid(rt: Runtime, G: RrdbGenerator, test: MnistSet, n: number): Promise<SampleGrid> {
  const per = 10;
  const count = Math.min(n, test.n);
  const size = SR_SIZE * SR_SIZE;
  const hr = test.images.subarray(0, count * size);
  const { lr, sr } = await superResolve(rt, G, hr, count);
  const shown = nearestUpsample(lr, count, SR_SIZE / G.scale, SR_SIZE / G.scale, G.scale);
  const groups = Math.ceil(count / per);
  const images = new Float32Array(groups * 3 * per * size).fill(-1);
  for (let g = 0; g < groups; g++) {
    const from = g * per * size;
    const to = Math.min((g + 1) * per, count) * size;
    [shown, sr, hr].forEach((x, r) => images.set(x.subarray(from, to), (g * 3 + r) * per * size));
  }
  return { images, count: groups * 3 * per, shape: [1, SR_SIZE, SR_SIZE], rows: groups * 3, cols: per };
}
