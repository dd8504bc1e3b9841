// What a training objective gives the trainer (gan/train/trainer.ts): the two networks it updates, and
// for each step the losses to minimise. The trainer owns everything the models share — optimizers,
// the precision recipe's hooks, calibration, loss scaling, the one read back per step, checkpoints —
// and an objective only says what one iteration computes:
//
//   noise GANs (noise-objective.ts)     cgan, acgan, dcgan: latent vectors (and labels) to images
//   translation (translation-objective.ts)  cyclegan: two generators and two discriminators, each
//                                       pair one "network" of the trainer (one optimizer per pair)
//   super-resolution (sr-objective.ts)  srgan: a low-resolution image to a high-resolution one, with
//                                       a pre-training phase on the pixel loss alone
//
// 'G' is everything the generator loss trains, 'D' everything the discriminator loss trains.

import type { Module } from '../../engine/nn/module.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';

export type Net = 'G' | 'D';

/** One iteration's losses, recorded inside the trainer's scope. The trainer calls generatorLoss()
 *  with D's parameters frozen, runs its backward, then calls discriminatorLoss(). */
export interface Iteration {
  readonly epoch: number;
  generatorLoss(): Tensor;
  /** null: the discriminator does not train in this iteration (its update is skipped). */
  discriminatorLoss(): Tensor | null;
}

/** Images for a sample grid: `count` images of `shape`, laid out `rows` x `cols`. */
export interface SampleGrid {
  images: Float32Array;
  count: number;
  shape: readonly [number, number, number];
  rows: number;
  cols: number;
  /** For a conditional model: the class each image was asked for (scored by the classifier). */
  labels?: Uint32Array;
}

export interface Objective {
  /** What a loss plot's axis should say, e.g. 'MSE loss'. */
  readonly lossName: string;
  readonly nets: Readonly<Record<Net, Module>>;
  readonly stepsPerEpoch: number;
  epochAt(step: number): number;
  iteration(step: number): Iteration;
  /** The run's fixed sample grid (in eval mode, outside any op count). */
  sampleGrid(): Promise<SampleGrid>;
  /** State besides the networks' parameters and buffers that a resumed run needs (e.g. CycleGAN's image
   *  history), by name; restored by load(). */
  state(): Promise<Record<string, Float32Array>>;
  load(tensors: Readonly<Record<string, Float32Array>>): void;
  describe(): string;
  dispose(): void;
}

export function setRequiresGrad(m: Module, on: boolean): void {
  for (const p of m.parameters()) p.requiresGrad = on;
}
