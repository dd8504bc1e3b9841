// A configuration's networks, freshly initialised, by model family: the one place a TrainConfig becomes
// networks (the objectives build them for training, restore.ts for a trained run). Browser-safe.

import type { Module } from '../../engine/nn/module.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { buildCyclegan, type CycleganNets } from '../models/cyclegan.ts';
import type { Gan } from '../models/gan.ts';
import { buildSrgan, HR_SIZE, type RrdbGenerator, type SrDiscriminator, type SrGeneratorOptions } from '../models/srgan.ts';
import type { TrainConfig } from './config.ts';
import { buildGan } from './noise-objective.ts';
import type { Net } from './objective.ts';

export type ModelNets =
  | { family: 'noise'; gan: Gan }
  | { family: 'translation'; cyclegan: CycleganNets }
  | { family: 'sr'; G: RrdbGenerator; D: SrDiscriminator };

export function buildCycleganOf(rt: Runtime, c: TrainConfig): CycleganNets {
  return buildCyclegan(rt, { seed: c.seed, ngf: c.ngf, ndf: c.ndf, blocks: c.blocks });
}

/** The SR generator's shape from a configuration: ngf is the trunk width nf; the dense blocks grow by
 *  gc = ngf / 2 (ESRGAN's 64 / 32). */
export function srGeneratorOptionsOf(c: Pick<TrainConfig, 'ngf' | 'blocks' | 'scale'>): Required<SrGeneratorOptions> {
  return { nf: c.ngf, gc: Math.max(1, Math.floor(c.ngf / 2)), blocks: c.blocks, scale: c.scale, size: HR_SIZE };
}

export function buildSrganOf(rt: Runtime, c: TrainConfig): { G: RrdbGenerator; D: SrDiscriminator } {
  return buildSrgan(rt, { seed: c.seed, ...srGeneratorOptionsOf(c), ndf: c.ndf });
}

export function buildModel(rt: Runtime, c: TrainConfig): ModelNets {
  switch (c.model) {
    case 'cyclegan':
      return { family: 'translation', cyclegan: buildCycleganOf(rt, c) };
    case 'srgan':
      return { family: 'sr', ...buildSrganOf(rt, c) };
    default:
      return { family: 'noise', gan: buildGan(rt, c) };
  }
}

/** Everything the generator loss trains ('G') and the discriminator loss trains ('D'). */
export function netsOf(m: ModelNets): Record<Net, Module> {
  switch (m.family) {
    case 'noise':
      return { G: m.gan.G, D: m.gan.D };
    case 'translation':
      return { G: m.cyclegan.G, D: m.cyclegan.D };
    case 'sr':
      return { G: m.G, D: m.D };
  }
}
