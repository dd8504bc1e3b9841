// Rebuilding a trained GAN from a run directory (its manifest and newest good checkpoint), for the
// commands that use a trained model: sample, eval, deploy, export. Each says which step it loaded.
// When the newest checkpoint is damaged, they refuse (the results would be for a step nobody asked
// for) unless told to accept the newest good one (allowOlder, the CLI's --allow-older), and then warn.

import { join } from 'node:path';
import type { Gpu } from '../../engine/device/gpu.ts';
import { PrecisionPolicy } from '../../engine/quant/policy.ts';
import type { Recipe } from '../../engine/quant/recipe.ts';
import { Runtime } from '../../engine/runtime.ts';
import type { Module } from '../../engine/nn/module.ts';
import type { Gan } from '../models/gan.ts';
import { buildModel, netsOf, type ModelNets } from './build-model.ts';
import { CheckpointError } from './checkpoint.ts';
import { checkpointState } from './checkpoint-meta.ts';
import { CheckpointStore, skippedText, type SkippedCheckpoint } from './checkpoint-store.ts';
import type { TrainConfig } from './config.ts';
import { loadRecipe, readRunConfig } from './run.ts';
import type { Net } from './objective.ts';

/** A trained model's networks, by family. */
export type RestoredModel = ModelNets;

export interface RestoredRun {
  dir: string;
  config: TrainConfig;
  /** The recipe the run trained under. */
  recipe: Recipe;
  step: number;
  /** The latent-vector GAN (cgan, acgan, dcgan); an error for the other models (see `model`). */
  readonly gan: Gan;
  model: RestoredModel;
  /** Everything the generator loss trained ('G') and the discriminator loss ('D'). */
  nets: Record<Net, Module>;
  runtime: Runtime;
  /** Exponent bias of each generator matmul weight's forward copy, as trained (0 without one). */
  weightBias: Record<string, number>;
  /** The checkpoint file loaded. */
  path: string;
  /** Newer checkpoints that were skipped (damaged), only with allowOlder. */
  skipped: SkippedCheckpoint[];
}

export interface RestoreOptions {
  /** Run under the training recipe (see restoreRun). */
  asTrained?: boolean;
  /** Accept the newest good checkpoint when newer ones are damaged (warned about); default: refuse. */
  allowOlder?: boolean;
  /** Where the one-line report of what was loaded goes (default stderr). */
  say?: (line: string) => void;
}

/** The newest checkpoint is damaged and an older one was not accepted. */
export class DamagedCheckpointError extends CheckpointError {
  override name = 'DamagedCheckpointError';
}

/**
 * Loads the model of a run. With `asTrained`, the generator and discriminator run under the
 * training recipe (weights through the same quantizers, with the trained exponent bias); without
 * it they run in float32 on the trained (master) weights.
 */
export function restoreRun(gpu: Gpu, dir: string, o: RestoreOptions = {}): RestoredRun {
  const config = readRunConfig(dir);
  const recipe = loadRecipe(config.recipe);
  const say = o.say ?? ((line: string) => process.stderr.write(line + '\n'));
  const loaded = new CheckpointStore(join(dir, 'checkpoints')).loadLatest();
  if (loaded.skipped.length > 0 && !o.allowOlder) {
    const newest = loaded.skipped[0]!;
    throw new DamagedCheckpointError(
      `the newest checkpoint of ${dir} is damaged: ${skippedText(newest)}` +
        (loaded.skipped.length > 1 ? ` (and ${loaded.skipped.length - 1} more newer than the newest good one)` : '') +
        `. The newest good one is step ${loaded.data.step} (${loaded.path}): pass --allow-older to use it, ` +
        `or continue training with \`posit-gan train --resume ${dir}\` (which moves damaged checkpoints aside).`,
    );
  }
  for (const s of loaded.skipped) say(`posit-gan: warning: skipped a damaged checkpoint: ${skippedText(s)}`);
  say(`posit-gan: loaded step ${loaded.data.step} of ${dir} (${loaded.path})${loaded.skipped.length ? ', older than the damaged newest, as --allow-older permits' : ''}`);
  const rt = new Runtime(gpu);
  const model = buildModel(rt, config);
  const nets = netsOf(model);
  const weightBias: Record<string, number> = {};
  const optMeta = checkpointState(loaded.data, loaded.path).trainer.optimizers;
  for (const net of ['G', 'D'] as const) {
    const prefix = `${net}.`;
    const own: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(loaded.data.tensors)) if (k.startsWith(prefix)) own[k.slice(prefix.length)] = v.data;
    nets[net].load(own);
    const fb = optMeta[net].forwardBias ?? {};
    if (net === 'G') Object.assign(weightBias, fb);
    if (o.asTrained) {
      nets[net].setHook(new PrecisionPolicy(recipe, { weightBias: (site) => fb[`${site.path}.weight`] ?? 0 }));
    }
  }
  return {
    dir,
    config,
    recipe,
    step: loaded.data.step,
    get gan(): Gan {
      if (model.family !== 'noise') throw new Error(`the ${config.model} model of ${dir} does not generate from latent vectors`);
      return model.gan;
    },
    model,
    nets,
    runtime: rt,
    weightBias,
    path: loaded.path,
    skipped: loaded.skipped,
  };
}

// The evaluation inputs live beside the training noise (trainer.ts); the FID curve written during
// training uses them too.
export { evaluationInputs } from './trainer.ts';
