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
import { builtinRecipe, resolveRecipe, type RecipeSpec } from '../../engine/quant/recipe.ts';
import { DEFAULT_CONFIG, resolveConfig, type TrainConfig } from '../train/config.ts';

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

/** What a job's result depends on, hashed into its id. */
export function jobIdentity(job: Pick<SweepJob, 'config' | 'recipe' | 'eval'>): unknown {
  return { config: job.config, recipe: job.recipe, eval: job.eval };
}

export function jobId(job: Pick<SweepJob, 'config' | 'recipe' | 'eval'>): string {
  return createHash('sha256').update(canonicalJson(jobIdentity(job))).digest('hex').slice(0, 16);
}

/** Whether a recipe is exactly a built-in one (then a job passes its name to `train`). */
export function isBuiltinRecipe(spec: RecipeSpec): boolean {
  const b = builtinRecipe(spec.name);
  return b !== undefined && canonicalJson(b) === canonicalJson(spec);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads and checks a sweep spec file. */
export function readSweepSpec(path: string): { spec: SweepSpec; baseDir: string } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SweepSpecError(`cannot read sweep spec ${path}: ${(e as Error).message}`);
  }
  return { spec: checkSweepSpec(json, path), baseDir: dirname(resolve(path)) };
}

/** Checks the shape of a spec (the config values are checked when it is expanded). */
export function checkSweepSpec(json: unknown, where = 'sweep spec'): SweepSpec {
  if (!isObject(json)) throw new SweepSpecError(`${where} must be a JSON object with name, base, grid and eval`);
  for (const k of Object.keys(json)) {
    if (!['name', 'base', 'grid', 'eval'].includes(k)) throw new SweepSpecError(`${where}: unknown key '${k}' (known: name, base, grid, eval)`);
  }
  const { name, base, grid, eval: ev } = json;
  if (typeof name !== 'string' || !/^[a-zA-Z0-9+._-]+$/.test(name)) {
    throw new SweepSpecError(`${where}: name must be a plain file name (letters, digits, + . _ -), got ${JSON.stringify(name)}`);
  }
  if (base !== undefined && !isObject(base)) throw new SweepSpecError(`${where}: base must be an object of training config keys`);
  const grids = grid === undefined ? [] : Array.isArray(grid) ? grid : [grid];
  for (const [i, g] of grids.entries()) {
    const at = Array.isArray(grid) ? `grid[${i}]` : 'grid';
    if (!isObject(g)) throw new SweepSpecError(`${where}: ${at} must be an object mapping config keys to lists of values`);
    for (const [k, values] of Object.entries(g)) {
      if (!(k in DEFAULT_CONFIG)) throw new SweepSpecError(`${where}: ${at}.${k} is not a training config key (known: ${Object.keys(DEFAULT_CONFIG).join(', ')})`);
      if (!Array.isArray(values) || values.length === 0) throw new SweepSpecError(`${where}: ${at}.${k} must be a non-empty list of values`);
      const seen = new Set<string>();
      for (const v of values) {
        const key = canonicalJson(v);
        if (seen.has(key)) throw new SweepSpecError(`${where}: ${at}.${k} lists ${key} twice`);
        seen.add(key);
      }
    }
  }
  if (ev !== undefined) {
    if (!isObject(ev)) throw new SweepSpecError(`${where}: eval must be an object {n, seed}`);
    for (const k of Object.keys(ev)) if (k !== 'n' && k !== 'seed') throw new SweepSpecError(`${where}: eval.${k} is unknown (known: n, seed)`);
    if (ev.n !== undefined && !(Number.isInteger(ev.n) && (ev.n as number) >= 2)) throw new SweepSpecError(`${where}: eval.n must be an integer of at least 2, got ${JSON.stringify(ev.n)}`);
    if (ev.seed !== undefined && !(Number.isInteger(ev.seed) && (ev.seed as number) >= 0 && (ev.seed as number) <= 0xffffffff)) {
      throw new SweepSpecError(`${where}: eval.seed must be an integer in 0..4294967295, got ${JSON.stringify(ev.seed)}`);
    }
  }
  return json as unknown as SweepSpec;
}

/** A recipe value from a spec: a built-in name, a JSON file (relative to baseDir), or an inline spec. */
export function resolveRecipeValue(v: unknown, baseDir: string): RecipeSpec {
  try {
    if (isObject(v)) return resolveRecipe(v).spec;
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
    return resolveRecipe(json).spec;
  } catch (e) {
    if (e instanceof SweepSpecError) throw e;
    throw new SweepSpecError(`recipe ${typeof v === 'string' ? `'${v}'` : JSON.stringify(v)}: ${(e as Error).message}`);
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
