// A sweep: a named grid of training configurations (models x recipes x seeds x any config key), each
// point trained and evaluated as one job. This module reads a sweep spec, checks it, and expands it to
// jobs whose id is a hash of everything that determines the result, so submitting the same sweep
// twice adds nothing and a job two sweeps share is run once.
//
// A spec (JSON):
//   {
//     "name": "cgan-rounding",                   a plain file name
//     "base": { "model": "cgan", "steps": 2000 }, any `posit-gan train` config key (config.ts)
//     "grid": { "recipe": ["p8+", "p8-sr.json"], "seed": [1, 2, 3] },
//     "eval": { "n": 10000, "seed": 0 }           FID samples and their seed
//   }
// "grid" maps config keys to lists of values (their product is the sweep), or is a list of such
// grids (their union, e.g. a recipe that needs fewer seeds). A recipe value is a built-in name, a
// recipe JSON file (relative to the spec file) or an inline recipe object.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as v from 'valibot';
import { builtinRecipe, RecipeError, resolveRecipe, type RecipeSpec } from '../../engine/quant/recipe.ts';
import { parseWith, shown } from '../../schema/check.ts';
import { fields, int } from '../../schema/fields.ts';
import { DEFAULT_CONFIG, resolveConfig, type TrainConfig } from '../train/config.ts';
import { isNoiseModel } from '../models/gan.ts';

export interface SweepSpec {
  name: string;
  base?: Record<string, unknown>;
  grid?: Grid | Grid[];
  eval?: { n?: number; seed?: number };
}

export type Grid = Record<string, unknown[]>;

export interface EvalSettings {
  /** Generated samples per FID. */
  n: number;
  /** Seed of the latent vectors the samples come from. */
  seed: number;
}

/** One training run plus its evaluation. */
export interface SweepJob {
  /** Hash of config, recipe and eval (see jobIdentity): the same work has the same id everywhere. */
  id: string;
  /** The sweep that listed it (for display only: not part of the id). */
  sweep: string;
  /** The training configuration; `recipe` is the recipe's name (the built-in's when `recipe` is one). */
  config: TrainConfig;
  /** The recipe it trains under, in full. */
  recipe: RecipeSpec;
  eval: EvalSettings;
  /** This job's grid values, e.g. {recipe: 'p8+', seed: 2}: what tells it apart within the sweep. */
  settings: Record<string, unknown>;
}

export class SweepSpecError extends Error {
  override name = 'SweepSpecError';
}

export const DEFAULT_EVAL: EvalSettings = { n: 10_000, seed: 0 };

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Config keys added after job ids were first defined, with the value every job before them trained
 *  with: at that value a key is left out of the identity, so a sweep directory from before the key
 *  existed keeps its job ids (its finished jobs are not trained again). blocks, scale and
 *  pretrainSteps do not affect the latent-vector GANs, whose jobs are all such older ones. */
const LATER_KEYS: Readonly<Record<string, (c: TrainConfig) => boolean>> = {
  dataset: (c) => c.dataset === 'mnist',
  task: (c) => c.task === null,
  blocks: (c) => isNoiseModel(c.model),
  scale: (c) => isNoiseModel(c.model),
  pretrainSteps: (c) => isNoiseModel(c.model),
};

/** What a job's result depends on, hashed into its id. */
export function jobIdentity(job: Pick<SweepJob, 'config' | 'recipe' | 'eval'>): unknown {
  const config = Object.fromEntries(Object.entries(job.config).filter(([k]) => !LATER_KEYS[k]?.(job.config)));
  return { config, recipe: job.recipe, eval: job.eval };
}

export function jobId(job: Pick<SweepJob, 'config' | 'recipe' | 'eval'>): string {
  return createHash('sha256').update(canonicalJson(jobIdentity(job))).digest('hex').slice(0, 16);
}

/** Whether a recipe is exactly a built-in one (then a job passes its name to `train`). */
export function isBuiltinRecipe(spec: RecipeSpec): boolean {
  const b = builtinRecipe(spec.name);
  return b !== undefined && canonicalJson(b) === canonicalJson(spec);
}

const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG);

/** One grid: config keys to non-empty lists of distinct values. */
const GridSchema = v.pipe(
  v.record(
    v.pipe(v.string(), v.check((k) => k in DEFAULT_CONFIG, `is not a training config key (known: ${CONFIG_KEYS.join(', ')})`)),
    v.pipe(
      v.array(v.unknown(), 'must be a non-empty list of values'),
      v.minLength(1, 'must be a non-empty list of values'),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const seen = new Set<string>();
        for (const x of dataset.value) {
          const key = canonicalJson(x);
          if (seen.has(key)) return addIssue({ message: `lists ${key} twice` });
          seen.add(key);
        }
      }),
    ),
    'must be an object mapping config keys to lists of values',
  ),
  v.description('training config keys (gan/train/config.ts) mapped to lists of values; the sweep is their product'),
);

export const SweepSpecSchema = v.pipe(
  fields(
    {
      name: v.pipe(
        v.string('must be a plain file name (letters, digits, + . _ -)'),
        v.regex(/^[a-zA-Z0-9+._-]+$/, 'must be a plain file name (letters, digits, + . _ -)'),
        v.description('the sweep\'s name, a plain file name (letters, digits, + . _ -)'),
      ),
      base: v.optional(
        v.pipe(
          v.record(v.string(), v.unknown(), 'must be an object of training config keys'),
          v.description('training config keys (gan/train/config.ts) every job shares; a recipe may be a name, a recipe JSON file (relative to the spec) or an inline recipe'),
        ),
      ),
      grid: v.optional(
        v.pipe(
          // No message of its own: a problem is reported inside the grid (or the list) it is in.
          v.union([GridSchema, v.array(GridSchema)]),
          v.description('a grid, or a list of grids (their union)'),
        ),
      ),
      eval: v.optional(
        v.pipe(
          fields(
            {
              n: v.optional(v.pipe(int(2), v.description(`generated samples per FID (default ${DEFAULT_EVAL.n})`))),
              seed: v.optional(v.pipe(int(0, 0xffffffff), v.description(`seed of the latent vectors (default ${DEFAULT_EVAL.seed})`))),
            },
            { noun: 'the evaluation settings {n, seed}' },
          ),
          v.description('FID samples and their seed'),
        ),
      ),
    },
    { noun: 'a sweep spec' },
  ),
  v.title('posit-gan sweep spec'),
  v.description('A named grid of training configurations, each trained and evaluated as one job (gan/sweep/spec.ts).'),
);

/** Reads and checks a sweep spec file. */
export function readSweepSpec(path: string): { spec: SweepSpec; baseDir: string } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SweepSpecError(`cannot read sweep spec ${path}: ${(e as Error).message}`);
  }
  return { spec: checkSweepSpec(json, `sweep spec ${path}`), baseDir: dirname(resolve(path)) };
}

/** Checks the shape of a spec (the config values are checked when it is expanded). */
export function checkSweepSpec(json: unknown, where = 'sweep spec'): SweepSpec {
  return parseWith(SweepSpecSchema, json, where, (m) => new SweepSpecError(m));
}

/** A recipe value from a spec: a built-in name, a JSON file (relative to baseDir), or an inline spec. */
export function resolveRecipeValue(v: unknown, baseDir: string): RecipeSpec {
  try {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return resolveRecipe(v, `inline recipe ${shown(v)}`).spec;
    if (typeof v !== 'string' || v === '') throw new SweepSpecError(`a recipe must be a built-in name, a recipe JSON file or a recipe object, got ${JSON.stringify(v)}`);
    const builtin = builtinRecipe(v);
    if (builtin) return builtin;
    const path = resolve(baseDir, v);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new SweepSpecError(`recipe '${v}' is neither a built-in recipe nor a readable recipe JSON file (${(e as Error).message})`);
    }
    return resolveRecipe(json, `recipe file '${v}'`).spec;
  } catch (e) {
    // A bad recipe is a bad spec (the same exit status), its message as the recipe check gives it.
    if (e instanceof RecipeError) throw new SweepSpecError(e.message);
    throw e;
  }
}

function product(grid: Grid): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(grid)) points = points.flatMap((p) => values.map((v) => ({ ...p, [k]: v })));
  return points;
}

/**
 * The jobs of a sweep, in grid order, each listed once (a point two grids share is one job).
 * baseDir: where relative recipe files are found (the spec file's folder).
 */
export function expandSweep(spec: SweepSpec, baseDir = '.'): SweepJob[] {
  const checked = checkSweepSpec(spec);
  const base = checked.base ?? {};
  const ev: EvalSettings = { n: checked.eval?.n ?? DEFAULT_EVAL.n, seed: checked.eval?.seed ?? DEFAULT_EVAL.seed };
  const grids = checked.grid === undefined ? [{}] : Array.isArray(checked.grid) ? checked.grid : [checked.grid];
  const jobs = new Map<string, SweepJob>();
  for (const grid of grids) {
    for (const point of product(grid)) {
      const merged = { ...base, ...point };
      const where = Object.keys(point).length ? `point ${canonicalJson(point)}` : 'base';
      if (merged.steps !== undefined && merged.epochs !== undefined && merged.epochs !== null) {
        throw new SweepSpecError(`sweep spec, ${where}: give steps or epochs, not both`);
      }
      const recipe = resolveRecipeValue(merged.recipe ?? DEFAULT_CONFIG.recipe, baseDir);
      let config: TrainConfig;
      try {
        config = resolveConfig({ ...merged, recipe: recipe.name, ...(merged.steps !== undefined ? { epochs: null } : {}) });
      } catch (e) {
        throw new SweepSpecError(`sweep spec, ${where}: ${(e as Error).message}`);
      }
      const settings = { ...point, ...('recipe' in point ? { recipe: recipe.name } : {}) };
      const job: Omit<SweepJob, 'id'> = { sweep: checked.name, config, recipe, eval: ev, settings };
      const id = jobId(job);
      if (!jobs.has(id)) jobs.set(id, { id, ...job });
    }
  }
  return [...jobs.values()];
}
