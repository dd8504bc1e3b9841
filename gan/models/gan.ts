// What the training loop needs from a GAN: a generator from latent vectors (and labels, when
// conditional) to images in [-1, 1], a discriminator from images (and labels) to one score per image,
// and the adversarial loss the reference implementation uses.

import type { Module } from '../../engine/nn/module.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';

/** The models that generate from latent vectors (this file's Gan). */
export const NOISE_MODEL_KINDS = ['cgan', 'dcgan', 'acgan'] as const;
export type NoiseModelKind = (typeof NOISE_MODEL_KINDS)[number];
/** Every model `train` knows: the latent-vector GANs, CycleGAN (unpaired translation, cyclegan.ts) and
 *  ESRGAN-style super-resolution (srgan.ts). */
export const MODEL_KINDS = [...NOISE_MODEL_KINDS, 'cyclegan', 'srgan'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export function isNoiseModel(kind: string): kind is NoiseModelKind {
  return (NOISE_MODEL_KINDS as readonly string[]).includes(kind);
}

export interface Generator extends Module {
  /** z [B, latent] (and labels for a conditional GAN) to images [B, C, H, W] in [-1, 1]. */
  generate(z: Tensor, labels?: Uint32Array): Tensor;
}

export interface Discriminator extends Module {
  /** Images [B, C, H, W] (and labels) to scores [B, 1]: logits for 'bce', raw outputs for 'mse'.
   *  With an auxiliary classifier, [B, 1 + classes]: that score, then the class logits. */
  score(images: Tensor, labels?: Uint32Array): Tensor;
}

export interface Gan {
  readonly kind: NoiseModelKind;
  readonly latent: number;
  readonly conditional: boolean;
  readonly classes: number;
  /** [C, H, W] of the images. */
  readonly imageShape: readonly [number, number, number];
  /** 'mse': least-squares GAN loss (the cgan reference); 'bce': logistic loss on logits (DCGAN). */
  readonly loss: 'mse' | 'bce';
  /** The discriminator also classifies its input (AC-GAN, Odena, Olah & Shlens 2017): the trainer
   *  adds the cross-entropy of the class logits against the labels (the real images' own, the ones the
   *  fakes were generated for) to both networks' losses. */
  readonly auxiliaryClassifier?: boolean;
  readonly G: Generator;
  readonly D: Discriminator;
  /** The layer names and shapes, for manifests and documentation. */
  describe(): string;
}

export function describeModule(m: Module): string {
  return m
    .namedParameters()
    .map(([n, t]) => `  ${n} [${t.shape.join(', ')}]`)
    .join('\n');
}
