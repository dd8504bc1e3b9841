// Training configuration: the embedded defaults, a JSON config file holding any of the options, and
// command-line flags overriding both. Every field is validated with an error naming it the way the
// user gave it: each layer says how to name its keys (`--data-limit` on the command line,
// `"dataLimit" in run.json` in a config file).

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
  /** Use only the first N training images (null: all 60000). For quick runs and tests. */
  dataLimit: number | null;
  /** cgan: width of the first generator layer (reference 128). */
  width: number;
  /** dcgan: image size (28, or 32 with zero padding) and generator / discriminator widths. */
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

/** The main job's defaults: the paper's cgan under p8+, sized to finish in minutes on a CPU driver. */
export const DEFAULT_CONFIG: TrainConfig = {
  model: 'cgan',
  recipe: 'p8+',
  steps: 300,
  epochs: null,
  batch: 64,
  lr: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  seed: 1,
  dataLimit: null,
  width: 128,
  size: 32,
  ngf: 32,
  ndf: 32,
  checkpointEvery: 100,
  sampleEvery: 100,
  evalEvery: 0,
  evalN: 1000,
};

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
}

/** The command-line spelling of a key: dataLimit -> --data-limit. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function int(v: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new ConfigError(`${name} must be an integer ${range}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function pos(v: unknown, name: string, max = Infinity): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > max) {
    throw new ConfigError(`${name} must be a positive number${max < Infinity ? ` below ${max}` : ''}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Merges partial configs left to right onto the defaults and validates the result (keys named as
 *  in TrainConfig). */
export function resolveConfig(...layers: Record<string, unknown>[]): TrainConfig {
  return resolveConfigLayers(layers.map((values) => ({ values, name: (k) => k })));
}

/** resolveConfig with each layer naming its own keys in messages (the layer a bad value came from). */
export function resolveConfigLayers(layers: readonly ConfigLayer[]): TrainConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  const from: Record<string, ConfigLayer> = {};
  for (const l of layers) {
    for (const [k, v] of Object.entries(l.values)) {
      if (v === undefined) continue;
      if (!(k in DEFAULT_CONFIG)) {
        throw new ConfigError(`unknown configuration key '${k}'${l.where ? ` ${l.where}` : ''} (known: ${Object.keys(DEFAULT_CONFIG).join(', ')})`);
      }
      merged[k] = v;
      from[k] = l;
    }
  }
  const name = (k: keyof TrainConfig) => from[k]?.name(k) ?? k;
  const model = String(merged.model).toLowerCase();
  if (!(MODEL_KINDS as readonly string[]).includes(model)) throw new ConfigError(`${name('model')} must be one of ${MODEL_KINDS.join(', ')}, got '${String(merged.model)}'`);
  if (typeof merged.recipe !== 'string' || merged.recipe === '') throw new ConfigError(`${name('recipe')} must be a recipe name or a path to a recipe JSON file`);
  const size = int(merged.size, name('size'), 28, 32);
  if (size !== 28 && size !== 32) throw new ConfigError(`${name('size')} must be 28 or 32, got ${size}`);
  const beta1 = Number(merged.beta1);
  const beta2 = Number(merged.beta2);
  for (const [k, b] of [['beta1', beta1], ['beta2', beta2]] as const) {
    if (!(b >= 0 && b < 1)) throw new ConfigError(`${name(k)} must be in [0, 1), got ${JSON.stringify(merged[k])}`);
  }
  return {
    model: model as ModelKind,
    recipe: merged.recipe,
    steps: int(merged.steps, name('steps'), 1),
    epochs: merged.epochs === null ? null : int(merged.epochs, name('epochs'), 1),
    batch: int(merged.batch, name('batch'), 1, 65536),
    lr: pos(merged.lr, name('lr'), 1),
    beta1,
    beta2,
    seed: int(merged.seed, name('seed'), 0, 0xffffffff),
    dataLimit: merged.dataLimit === null ? null : int(merged.dataLimit, name('dataLimit'), 1),
    width: int(merged.width, name('width'), 1, 4096),
    size,
    ngf: int(merged.ngf, name('ngf'), 1, 4096),
    ndf: int(merged.ndf, name('ndf'), 1, 4096),
    checkpointEvery: int(merged.checkpointEvery, name('checkpointEvery'), 1),
    sampleEvery: int(merged.sampleEvery, name('sampleEvery'), 0),
    evalEvery: int(merged.evalEvery, name('evalEvery'), 0),
    evalN: int(merged.evalN, name('evalN'), 2, 1_000_000),
  };
}
