// What deployment runs: a generator module (the one the deployment hook is set on and whose weights
// are packed) and how it turns the fixed inputs into images. Latent-vector GANs take latent vectors
// (and labels); a CycleGAN's A-to-B generator and an SR generator take images. Browser-safe.

import type { Module } from '../../engine/nn/module.ts';
import type { Runtime } from '../../engine/runtime.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';
import type { ResnetGenerator } from '../models/cyclegan.ts';
import type { Gan } from '../models/gan.ts';
import type { RrdbGenerator } from '../models/srgan.ts';
import { generateImages } from '../models/generate.ts';
import { mapImages } from '../models/translate.ts';
import { imageModelShapes, type ExportModel } from './export-format.ts';

/** Fixed latent inputs: n latent vectors (and labels for a conditional GAN). */
export interface LatentInputs {
  n: number;
  z: Float32Array;
  labels?: Uint32Array;
}

/** Fixed image inputs: n images of the generator's input shape. */
export interface ImageInputs {
  n: number;
  images: Float32Array;
}

export interface DeployTarget {
  /** The model kind, for results and op-count files. */
  readonly kind: string;
  readonly G: Module;
  /** [C, H, W] of the output images. */
  readonly imageShape: readonly [number, number, number];
  /** The images for `inputs`, `batch` at a time, in eval mode without autograd. */
  run(rt: Runtime, inputs: LatentInputs | ImageInputs, batch: number): Promise<Float32Array>;
}

/** A latent-vector GAN, as opposed to a bare module or a target. */
export function isGan(x: object): x is Gan {
  return 'latent' in x;
}

/**
 * The networks deployment uses, by model family: a trained run's (RestoredModel fits this) or an
 * export's. A translation model may have only its A-to-B generator (an export holds no other).
 */
export type DeployedNets =
  | { family: 'noise'; gan: Gan }
  | { family: 'translation'; cyclegan: { G_AB: ResnetGenerator; G_BA?: ResnetGenerator } }
  | { family: 'sr'; G: RrdbGenerator };

/** The generator deployment runs and exports: the GAN, CycleGAN's A-to-B generator, the SR generator. */
export function deployedGenerator(nets: DeployedNets): Gan | ResnetGenerator | RrdbGenerator {
  switch (nets.family) {
    case 'noise':
      return nets.gan;
    case 'translation':
      return nets.cyclegan.G_AB;
    case 'sr':
      return nets.G;
  }
}

/** The target of `nets`, with the image shapes `model` (the same model's options) fixes. */
export function targetOf(nets: DeployedNets, model: ExportModel): DeployTarget {
  const mismatch = () => new Error(`deployment: a ${nets.family} model's generator does not fit a ${model.kind} model's options`);
  switch (nets.family) {
    case 'noise':
      return ganTarget(nets.gan);
    case 'translation':
      if (model.kind !== 'cyclegan') throw mismatch();
      return cycleganTarget(nets.cyclegan.G_AB, imageModelShapes(model).inputShape);
    case 'sr':
      if (model.kind !== 'srgan') throw mismatch();
      return srganTarget(nets.G, model.size);
  }
}

/** A latent-vector GAN's generator as a deployment target. */
export function ganTarget(gan: Gan): DeployTarget {
  return {
    kind: gan.kind,
    G: gan.G,
    imageShape: gan.imageShape,
    run(rt, inputs, batch) {
      if (!('z' in inputs)) throw new Error(`the ${gan.kind} generator takes latent vectors, not images`);
      return generateImages(rt, gan, inputs.z, inputs.labels, batch);
    },
  };
}

/** An image-to-image generator (CycleGAN's G_AB, an SR generator) as a deployment target. */
export function imageTarget(kind: string, G: Module, apply: (x: Tensor) => Tensor, inShape: readonly [number, number, number], outShape: readonly [number, number, number]): DeployTarget {
  return {
    kind,
    G,
    imageShape: outShape,
    run(rt, inputs, batch) {
      if (!('images' in inputs)) throw new Error(`the ${kind} generator takes images, not latent vectors`);
      return mapImages(rt, G, apply, inputs.images, inShape, outShape, batch);
    },
  };
}

/** CycleGAN's A-to-B generator on images of `shape` (the source domain's). */
export function cycleganTarget(G: ResnetGenerator, shape: readonly [number, number, number]): DeployTarget {
  return imageTarget('cyclegan', G, (x) => G.translate(x), shape, shape);
}

/** An SR generator on [1, size / scale, size / scale] images (`size` the output's, 28). */
export function srganTarget(G: RrdbGenerator, size: number): DeployTarget {
  const s = size / G.scale;
  return imageTarget('srgan', G, (x) => G.upscale(x), [1, s, s], [1, size, size]);
}

/** A Gan as its target; a target as it is. */
export function deployTarget(x: Gan | DeployTarget): DeployTarget {
  return isGan(x) ? ganTarget(x) : x;
}
