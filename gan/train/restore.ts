// Rebuilding a trained GAN from a run directory (its manifest and newest good checkpoint), for the
// commands that use a trained model: sample, eval, deploy, export.

import { join } from 'node:path';
import type { Gpu } from '../../engine/device/gpu.ts';
import { PrecisionPolicy } from '../../engine/quant/policy.ts';
import type { Recipe } from '../../engine/quant/recipe.ts';
import { Runtime } from '../../engine/runtime.ts';
import type { Gan } from '../models/gan.ts';
import { loadLatestCheckpoint } from './checkpoint.ts';
import type { TrainConfig } from './config.ts';
import { loadRecipe, readRunConfig } from './run.ts';
import { buildGan } from './trainer.ts';

export interface RestoredRun {
  dir: string;
  config: TrainConfig;
  /** The recipe the run trained under. */
  recipe: Recipe;
  step: number;
  gan: Gan;
  runtime: Runtime;
  /** Exponent bias of each generator matmul weight's forward copy, as trained (0 without one). */
  weightBias: Record<string, number>;
  /** Problems with newer checkpoints that were skipped. */
  skipped: { path: string; reason: string }[];
}

/**
 * Loads the model of a run. With `asTrained`, the generator and discriminator run under the
 * training recipe (weights through the same quantizers, with the trained exponent bias); without
 * it they run in float32 on the trained (master) weights.
 */
export function restoreRun(gpu: Gpu, dir: string, o: { asTrained?: boolean } = {}): RestoredRun {
  const config = readRunConfig(dir);
  const recipe = loadRecipe(config.recipe);
  const loaded = loadLatestCheckpoint(join(dir, 'checkpoints'));
  const rt = new Runtime(gpu);
  const gan = buildGan(rt, config);
  const weightBias: Record<string, number> = {};
  const optMeta = (loaded.data.meta.trainer as { optimizers?: Record<string, { forwardBias?: Record<string, number> }> } | undefined)?.optimizers;
  for (const net of ['G', 'D'] as const) {
    const prefix = `${net}.`;
    const own: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(loaded.data.tensors)) if (k.startsWith(prefix)) own[k.slice(prefix.length)] = v.data;
    gan[net].load(own);
    const fb = optMeta?.[net]?.forwardBias ?? {};
    if (net === 'G') Object.assign(weightBias, fb);
    if (o.asTrained) {
      gan[net].setHook(new PrecisionPolicy(recipe, { weightBias: (site) => fb[`${site.path}.weight`] ?? 0 }));
    }
  }
  return { dir, config, recipe, step: loaded.data.step, gan, runtime: rt, weightBias, skipped: loaded.skipped };
}

// The evaluation inputs live beside the training noise (trainer.ts); the FID curve written during
// training uses them too.
export { evaluationInputs } from './trainer.ts';
