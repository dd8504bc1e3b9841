// Training configuration: the embedded defaults, a JSON config file holding any of the options, and
// command-line flags overriding both. Every field is validated with an error naming it the way the
// user gave it: each layer says how to name its keys (`--data-limit` on the command line,
// `"dataLimit" in run.json` in a config file).

import * as v from 'valibot';
import { problemText } from '../../schema/check.ts';
import { fields, int, oneOf, text } from '../../schema/fields.ts';
import { DATASET_NAMES, type DatasetName } from '../data/dataset-names.ts';
import { TRANSLATION_TASKS, type TranslationTask } from '../data/translation-tasks.ts';
import { MODEL_KINDS, type ModelKind } from '../models/gan.ts';

export interface TrainConfig {
  model: ModelKind;
  /** A recipe name (fp32, fp16, bf16, p8+, p8, p8-all, fp8, fp8-ocp) or a path to a recipe JSON file. */
  recipe: string;
  /** Training length: steps (generator + discriminator updates), or epochs when set. */
  steps: number;
  epochs: number | null;
  batch: number;
  lr: number;
  beta1: number;
  beta2: number;
  seed: number;
  /** Use only the first N training images (null: all 60000). For quick runs and tests. A translation
   *  task takes the first N of each source data set before splitting them into domains. */
  dataLimit: number | null;
  /** The image set of cgan, acgan, dcgan and srgan: MNIST digits or Fashion-MNIST clothes. */
  dataset: DatasetName;
  /** cyclegan: the translation task (gan/data/translation.ts); null for the other models. */
  task: TranslationTask | null;
  /** cyclegan: residual blocks of each generator; srgan: residual-in-residual dense blocks. */
  blocks: number;
  /** srgan: upscaling factor, 2 (14x14 to 28x28) or 4 (7x7 to 28x28). */
  scale: 2 | 4;
  /** srgan: the first N steps train the generator on the pixel (L1) loss alone, as ESRGAN's PSNR-oriented
   *  pre-training; the discriminator starts after them. */
  pretrainSteps: number;
  /** cgan, acgan: width of the first generator layer (cgan reference 128). */
  width: number;
  /** dcgan, cyclegan: image size (28, or 32 with zero padding) and generator / discriminator widths
   *  (srgan: ngf is the trunk width nf, with growth channels gc = ngf / 2 as ESRGAN's 64 / 32). */
  size: 28 | 32;
  ngf: number;
  ndf: number;
  /** Checkpoint every N steps (and at the end). */
  checkpointEvery: number;
  /** Sample grid every N steps (0: once per epoch) and at the end. */
  sampleEvery: number;
  /** FID curve: evaluate every N steps and at the end, appending to fid.csv (0: never; fid-curve.ts). */
  evalEvery: number;
  /** Generated samples per FID-curve evaluation. */
  evalN: number;
}

/** The defaults of every model: the paper's settings (the cgan as its reference trains it, the DCGAN's
 *  Adam and batch), and the quick start's model and recipe, which MODEL_DEFAULTS sizes. */
export const DEFAULT_CONFIG: TrainConfig = {
  model: 'acgan',
  recipe: 'p8+',
  steps: 300,
  epochs: null,
  batch: 64,
  lr: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  seed: 1,
  dataLimit: null,
  dataset: 'mnist',
  task: null,
  blocks: 3,
  scale: 2,
  pretrainSteps: 0,
  width: 128,
  size: 32,
  ngf: 32,
  ndf: 32,
  checkpointEvery: 100,
  sampleEvery: 100,
  evalEvery: 0,
  evalN: 1000,
};

/** What differs from DEFAULT_CONFIG for one model when no layer sets it. The acgan is the main job
 *  (`posit-gan train` with no options): its width, learning rate and length were chosen so that on a
 *  2-core CPU with lavapipe it shows digits that read as the requested ones within 10 minutes
 *  (results/quickstart/: with these settings the LeNet read 91-98% of the grid's digits as asked at
 *  400-500 steps for seeds 1 and 2, and fewer, 77-87%, at 1000 steps). */
export const MODEL_DEFAULTS: Readonly<Record<ModelKind, Partial<TrainConfig>>> = {
  cgan: {},
  dcgan: {},
  acgan: { width: 256, lr: 5e-4, steps: 500 },
  // CycleGAN's reference trains with batch 1; a small batch keeps its instance-normalised generators
  // close to that while giving the GPU some work. Widths and blocks are sized for 32x32 (the reference's
  // 64 / 9 blocks are for 256x256).
  cyclegan: { batch: 8, ngf: 16, ndf: 16, blocks: 3 },
  // ESRGAN: Adam(1e-4, 0.9, 0.999), 23 RRDBs of width 64 for photographs; 2 of width 16 for 28x28.
  srgan: { dataset: 'fashion', batch: 16, lr: 1e-4, beta1: 0.9, beta2: 0.999, ngf: 16, ndf: 16, blocks: 2, scale: 2, pretrainSteps: 100 },
};

/** The defaults for a model: DEFAULT_CONFIG with that model's MODEL_DEFAULTS. */
export function modelDefaults(model: ModelKind): TrainConfig {
  return { ...DEFAULT_CONFIG, ...MODEL_DEFAULTS[model], model };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Partial options and how to name one of its keys in a message. */
export interface ConfigLayer {
  values: Record<string, unknown>;
  /** e.g. dataLimit -> '--data-limit' (command line) or '"dataLimit" in run.json' (a file). */
  name: (key: string) => string;
  /** Where an unknown key came from, for its message (e.g. 'in run.json'). */
  where?: string;
  /** The values are command-line text: numbers are read from them before they are checked. */
  text?: boolean;
}

/** The command-line spelling of a key: dataLimit -> --data-limit. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Each option's schema (JSON values: the command line's text is converted first, see below). */
const FIELD_SCHEMAS = {
  // Case-insensitive: the JSON Schema lists the lower-case names (the metadata: it describes the input).
  model: v.pipe(
    v.string(`must be ${MODEL_KINDS.join(' or ')}`),
    v.metadata({ enum: MODEL_KINDS }),
    v.description('the model: ' + MODEL_KINDS.join(', ') + ' (case-insensitive)'),
    v.toLowerCase(),
    oneOf(MODEL_KINDS),
  ),
  recipe: v.pipe(text('a recipe name or a path to a recipe JSON file'), v.description('a built-in recipe name (fp32, fp16, bf16, p8+, p8, p8-all, fp8, fp8-ocp) or a path to a recipe JSON file')),
  steps: v.pipe(int(1), v.description('training steps (one generator and one discriminator update each)')),
  epochs: v.pipe(v.nullable(int(1)), v.description('train for this many passes over the data instead of steps (null: use steps)')),
  batch: v.pipe(int(1, 65536), v.description('batch size')),
  lr: v.pipe(v.number('must be a positive number up to 1'), v.gtValue(0, 'must be a positive number up to 1'), v.maxValue(1, 'must be a positive number up to 1'), v.description('Adam learning rate')),
  beta1: v.pipe(v.number('must be in [0, 1)'), v.minValue(0, 'must be in [0, 1)'), v.ltValue(1, 'must be in [0, 1)'), v.description("Adam's beta1")),
  beta2: v.pipe(v.number('must be in [0, 1)'), v.minValue(0, 'must be in [0, 1)'), v.ltValue(1, 'must be in [0, 1)'), v.description("Adam's beta2")),
  seed: v.pipe(int(0, 0xffffffff), v.description('initialisation, data order, noise, dropout, stochastic rounding')),
  dataLimit: v.pipe(v.nullable(int(1)), v.description('use only the first N training images (null: all)')),
  dataset: v.pipe(
    v.string(`must be ${DATASET_NAMES.join(' or ')}`),
    v.metadata({ enum: DATASET_NAMES }),
    v.description('the image set: mnist (digits) or fashion (Fashion-MNIST clothes); cgan, acgan, dcgan, srgan'),
    oneOf(DATASET_NAMES),
  ),
  task: v.pipe(
    v.nullable(v.pipe(v.string(`must be ${TRANSLATION_TASKS.join(', ')} or null`), oneOf(TRANSLATION_TASKS))),
    v.metadata({ enum: [...TRANSLATION_TASKS, null] }),
    v.description('cyclegan: the translation task (thin2bold, bold2thin, digit2fashion, fashion2digit)'),
  ),
  blocks: v.pipe(int(0, 64), v.description('cyclegan: residual blocks per generator; srgan: residual-in-residual dense blocks')),
  scale: v.pipe(v.picklist([2, 4], 'must be 2 or 4'), v.description('srgan: upscaling factor (14x14 or 7x7 to 28x28)')),
  pretrainSteps: v.pipe(int(0), v.description('srgan: steps of pixel-loss pre-training before the discriminator starts')),
  width: v.pipe(int(1, 4096), v.description('cgan: width of the first generator layer')),
  size: v.pipe(v.picklist([28, 32], 'must be 28 or 32'), v.description('dcgan: image size (28, or 32 with zero padding)')),
  ngf: v.pipe(int(1, 4096), v.description('dcgan, cyclegan, srgan: generator width')),
  ndf: v.pipe(int(1, 4096), v.description('dcgan, cyclegan, srgan: discriminator width')),
  checkpointEvery: v.pipe(int(1), v.description('checkpoint every N steps (and at the end)')),
  sampleEvery: v.pipe(int(0), v.description('sample grid every N steps (0: once per epoch) and at the end')),
  evalEvery: v.pipe(int(0), v.description('FID curve: evaluate every N steps and at the end, appending to fid.csv (0: never)')),
  evalN: v.pipe(int(2, 1_000_000), v.description('generated samples per FID-curve evaluation')),
} satisfies { [K in keyof TrainConfig]: v.GenericSchema<unknown, TrainConfig[K]> };

const KEYS = Object.keys(FIELD_SCHEMAS) as (keyof TrainConfig)[];

/** A complete training configuration (as a run's manifest.json records it). */
export const TrainConfigSchema = v.pipe(fields(FIELD_SCHEMAS, { noun: 'a training configuration' }), v.title('posit-gan training configuration'));

/** A config file (`train --config FILE.json`, a sweep's base): any of the options, defaults for the rest. */
export const ConfigFileSchema = v.pipe(
  fields(Object.fromEntries(KEYS.map((k) => [k, v.optional(FIELD_SCHEMAS[k])])) as { [K in keyof TrainConfig]: v.OptionalSchema<(typeof FIELD_SCHEMAS)[K], undefined> }, {
    noun: 'a training configuration',
  }),
  v.title('posit-gan train --config file'),
  v.description('Options of `posit-gan train` as JSON (gan/train/config.ts); the command line overrides them and the defaults fill in the rest.'),
);

/** The command line gives text: a number option's text becomes a number when it reads as one (what
 *  it was is still shown in a message), anything else stays text and fails its check. */
function fromText(key: keyof TrainConfig, value: unknown): unknown {
  if (typeof value !== 'string' || key === 'model' || key === 'recipe' || key === 'dataset') return value;
  if (key === 'task') return value === 'null' || value === 'none' ? null : value;
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.trim()) ? Number(value) : value;
}

/** Merges partial configs left to right onto the defaults and validates the result (keys named as
 *  in TrainConfig). */
export function resolveConfig(...layers: Record<string, unknown>[]): TrainConfig {
  return resolveConfigLayers(layers.map((values) => ({ values, name: (k) => k })));
}

/** resolveConfig with each layer naming its own keys in messages (the layer a bad value came from).
 *  The layers merge onto the defaults of the model they name (the last layer that names one; else
 *  DEFAULT_CONFIG's). */
export function resolveConfigLayers(layers: readonly ConfigLayer[]): TrainConfig {
  const named = layers.map((l) => l.values.model).filter((m) => m !== undefined).at(-1) ?? DEFAULT_CONFIG.model;
  const kind = String(named).toLowerCase();
  const merged: Record<string, unknown> = (MODEL_KINDS as readonly string[]).includes(kind) ? { ...modelDefaults(kind as ModelKind) } : { ...DEFAULT_CONFIG };
  const from: Record<string, ConfigLayer> = {};
  for (const l of layers) {
    for (const [k, value] of Object.entries(l.values)) {
      if (value === undefined) continue;
      if (!(k in DEFAULT_CONFIG)) {
        throw new ConfigError(`unknown configuration key '${k}'${l.where ? ` ${l.where}` : ''} (known: ${KEYS.join(', ')})`);
      }
      merged[k] = value;
      from[k] = l;
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of KEYS) {
    const raw = merged[k];
    const layer = from[k];
    const r = v.safeParse(FIELD_SCHEMAS[k] as v.GenericSchema, layer?.text ? fromText(k, raw) : raw, { abortEarly: true });
    if (!r.success) throw new ConfigError(`${layer?.name(k) ?? k} ${problemText(r.issues[0], { value: raw })}`);
    out[k] = r.output;
  }
  const c = out as unknown as TrainConfig;
  checkModelOptions(c, (k) => from[k]?.name(k) ?? k);
  return c;
}

/** Options that belong to one model: a translation task only with cyclegan (which needs one). */
function checkModelOptions(c: TrainConfig, name: (k: keyof TrainConfig) => string): void {
  if (c.model === 'cyclegan' && c.task === null) {
    throw new ConfigError(`the cyclegan model needs a translation task: give ${name('task')} ${TRANSLATION_TASKS.join('|')}`);
  }
  if (c.model !== 'cyclegan' && c.task !== null) {
    throw new ConfigError(`${name('task')} ${c.task}: translation tasks are for --model cyclegan (the ${c.model} model trains on --dataset)`);
  }
}
