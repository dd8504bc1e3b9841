// What the visitor can choose (model, size, recipes, seed) and how a choice becomes training
// configurations. The initial values come from the URL (?model=cgan&size=tiny&recipe=p8%2B&compare=fp32
// &seed=1), so a setup can be linked to and the browser test can pick the tiny size.

import { BUILTIN_RECIPES } from '../../engine/quant/recipe.ts';
import { resolveConfig, type TrainConfig } from '../../gan/train/config.ts';
import { NOISE_MODEL_KINDS, type ModelKind } from '../../gan/models/gan.ts';

/** The demo's models: the latent-vector GANs, CycleGAN on thin2bold (the thin and bold thirds of the
 *  packaged MNIST subset) and x2 super-resolution of its digits. The demo ships no feature network, so
 *  its srgan trains without ESRGAN's perceptual loss (the page says so). */
export const MODEL_KINDS: readonly ModelKind[] = [...NOISE_MODEL_KINDS, 'cyclegan', 'srgan'];

export type SizeName = 'tiny' | 'small' | 'paper';

interface SizePreset {
  label: string;
  /** cgan: generator width (the discriminator is the reference's, 512 wide, at every size). */
  width: number;
  /** dcgan: generator and discriminator widths. */
  ngf: number;
  ndf: number;
  batch: number;
  /** Steps between sample-grid updates. */
  sampleEvery: number;
  /** Columns of the sample grid; it has 10 rows (cgan: row i shows digit i). */
  columns: number;
}

export const SIZES: Readonly<Record<SizeName, SizePreset>> = {
  tiny: { label: 'Tiny (for CPU WebGPU)', width: 8, ngf: 8, ndf: 8, batch: 8, sampleEvery: 2, columns: 2 },
  small: { label: 'Small', width: 32, ngf: 16, ndf: 16, batch: 32, sampleEvery: 10, columns: 8 },
  paper: { label: 'Paper (reference widths)', width: 128, ngf: 32, ndf: 32, batch: 64, sampleEvery: 25, columns: 10 },
};

/** What a size means for a model, in words. */
export function describeSize(model: ModelKind, size: SizeName): string {
  const p = SIZES[size];
  const widths =
    model === 'cgan'
      ? `generator width ${p.width} (discriminator 512, as in the reference)`
      : model === 'acgan'
        ? `generator width ${p.width} (discriminator ${2 * p.width}, ${p.width})`
        : `generator width ${p.ngf}, discriminator width ${p.ndf}`;
  const what =
    model === 'cyclegan'
      ? ' (thin2bold: the thinnest third of the digits to the boldest, 1 residual block; the grid shows test digits above their translations)'
      : model === 'srgan'
        ? ' (x2: 14x14 to 28x28, 1 RRDB, 20 pixel-loss steps first; without the perceptual loss, for want of a feature network in the page; rows: low resolution, upscaled, original)'
        : '';
  return `${model}${what}: ${widths}, batch ${p.batch}; samples every ${p.sampleEvery} steps.`;
}
export const SIZE_NAMES = Object.keys(SIZES) as SizeName[];
export const RECIPE_NAMES = Object.keys(BUILTIN_RECIPES);

export interface Settings {
  model: ModelKind;
  size: SizeName;
  recipe: string;
  /** The second recipe trained side by side, or null. */
  compare: string | null;
  seed: number;
}

/** A URL parameter that names something we do not have: reported, not ignored. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

function oneOf<T extends string>(key: string, value: string | null, allowed: readonly T[], fallback: T): T {
  if (value === null) return fallback;
  const v = value.toLowerCase() as T;
  if (!allowed.includes(v)) throw new SettingsError(`URL parameter ${key}=${value} is not one of ${allowed.join(', ')}`);
  return v;
}

/** Settings from the URL; `defaultSize` applies when the URL names none (tiny on a software adapter). */
export function settingsFromUrl(params: URLSearchParams, defaultSize: SizeName): Settings {
  const seedText = params.get('seed');
  const seed = seedText === null ? 1 : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new SettingsError(`URL parameter seed=${seedText} is not an integer in 0..4294967295`);
  const compare = params.get('compare');
  return {
    model: oneOf('model', params.get('model'), MODEL_KINDS, 'cgan'),
    size: oneOf('size', params.get('size'), SIZE_NAMES, defaultSize),
    recipe: oneOf('recipe', params.get('recipe'), RECIPE_NAMES, 'p8+'),
    compare: compare === null || compare === '' ? null : oneOf('compare', compare, RECIPE_NAMES, 'fp32'),
    seed,
  };
}

/** The training configuration of one recipe under these settings. */
export function trainConfig(s: Settings, recipe: string): TrainConfig {
  const p = SIZES[s.size];
  // dcgan at 28 x 28: the packaged images are not padded (the 32 x 32 variant needs padding).
  const image = s.model === 'cyclegan' ? { task: 'thin2bold', blocks: 1, batch: Math.min(p.batch, 8) } : s.model === 'srgan' ? { dataset: 'mnist', blocks: 1, scale: 2, pretrainSteps: 20, batch: Math.min(p.batch, 16) } : {};
  return resolveConfig({ model: s.model, recipe, batch: p.batch, width: p.width, ngf: p.ngf, ndf: p.ndf, size: 28, seed: s.seed, ...image });
}
