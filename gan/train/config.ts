// Training configuration: the embedded defaults, a JSON config file holding any of the options, and
// command-line flags overriding both. Every field is validated with an error naming it.

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

function int(v: unknown, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function pos(v: unknown, key: string, max = Infinity): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > max) {
    throw new ConfigError(`${key} must be a positive number${max < Infinity ? ` below ${max}` : ''}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Merges partial configs left to right onto the defaults and validates the result. */
export function resolveConfig(...layers: Record<string, unknown>[]): TrainConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const l of layers) {
    for (const [k, v] of Object.entries(l)) {
      if (v === undefined) continue;
      if (!(k in DEFAULT_CONFIG)) {
        throw new ConfigError(`unknown configuration key '${k}' (known: ${Object.keys(DEFAULT_CONFIG).join(', ')})`);
      }
      merged[k] = v;
    }
  }
  const model = String(merged.model).toLowerCase();
  if (!(MODEL_KINDS as readonly string[]).includes(model)) throw new ConfigError(`model must be one of ${MODEL_KINDS.join(', ')}, got '${String(merged.model)}'`);
  if (typeof merged.recipe !== 'string' || merged.recipe === '') throw new ConfigError('recipe must be a recipe name or a path to a recipe JSON file');
  const size = int(merged.size, 'size', 28, 32);
  if (size !== 28 && size !== 32) throw new ConfigError(`size must be 28 or 32, got ${size}`);
  const beta1 = Number(merged.beta1);
  const beta2 = Number(merged.beta2);
  for (const [k, b] of [['beta1', beta1], ['beta2', beta2]] as const) {
    if (!(b >= 0 && b < 1)) throw new ConfigError(`${k} must be in [0, 1), got ${JSON.stringify(merged[k])}`);
  }
  return {
    model: model as ModelKind,
    recipe: merged.recipe,
    steps: int(merged.steps, 'steps', 1),
    epochs: merged.epochs === null ? null : int(merged.epochs, 'epochs', 1),
    batch: int(merged.batch, 'batch', 1, 65536),
    lr: pos(merged.lr, 'lr', 1),
    beta1,
    beta2,
    seed: int(merged.seed, 'seed', 0, 0xffffffff),
    dataLimit: merged.dataLimit === null ? null : int(merged.dataLimit, 'dataLimit', 1),
    width: int(merged.width, 'width', 1, 4096),
    size,
    ngf: int(merged.ngf, 'ngf', 1, 4096),
    ndf: int(merged.ndf, 'ndf', 1, 4096),
    checkpointEvery: int(merged.checkpointEvery, 'checkpointEvery', 1),
    sampleEvery: int(merged.sampleEvery, 'sampleEvery', 0),
    evalEvery: int(merged.evalEvery, 'evalEvery', 0),
    evalN: int(merged.evalN, 'evalN', 2, 1_000_000),
  };
}
