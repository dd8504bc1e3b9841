// Running a generator under deployment recipes on a fixed set of inputs and comparing each recipe's
// images with the float32 generator's (PSNR / SSIM as gan/metrics/quality.ts defines them). Each
// recipe's run records its own op counts (phase 'inference') for the hardware model. Browser-safe.

import { OpRecorder } from '../../engine/record/recorder.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { compareImages, type QualitySummary } from '../metrics/quality.ts';
import type { Gan } from '../models/gan.ts';
import { prepareDeployment, type Deployment } from './hook.ts';
import type { DeployRecipe } from './recipes.ts';
import { deployTarget, type DeployTarget, type ImageInputs, type LatentInputs } from './target.ts';

/** The fixed inputs every recipe sees: n latent vectors (and labels for a conditional GAN). */
export type { LatentInputs as DeployInputs } from './target.ts';

/** Latent vectors for a latent-vector GAN, images for an image-to-image generator. */
export type AnyInputs = LatentInputs | ImageInputs;

export interface GeneratedRun {
  /** Number of images. */
  n: number;
  images: Float32Array;
  /** Op counts of the forward passes (phase 'inference'). */
  recorder: OpRecorder;
  /** Forward passes run (n / batch). */
  passes: number;
  seconds: number;
}

function checkBatch(n: number, batch: number): void {
  if (!Number.isInteger(batch) || batch < 1 || n % batch !== 0) {
    throw new Error(`deployment: ${n} inputs are not a whole number of batches of ${batch} (op counts are per forward pass)`);
  }
}

/** Images of the generator under `deployment` (null: the plain float32 generator), with op counts. */
export async function runDeployment(rt: Runtime, generator: Gan | DeployTarget, deployment: Deployment | null, inputs: AnyInputs, batch: number): Promise<GeneratedRun> {
  checkBatch(inputs.n, batch);
  const gan = deployTarget(generator);
  const was = { hook: gan.G.hook, recorder: rt.recorder, phase: rt.phase };
  const recorder = new OpRecorder();
  gan.G.setHook(deployment?.hook ?? null);
  rt.recorder = recorder;
  rt.phase = 'inference';
  const start = performance.now();
  try {
    const images = await gan.run(rt, inputs, batch);
    return { n: inputs.n, images, recorder, passes: inputs.n / batch, seconds: (performance.now() - start) / 1000 };
  } finally {
    gan.G.setHook(was.hook);
    rt.recorder = was.recorder;
    rt.phase = was.phase;
  }
}

/** Runs `fn` with no recorder attached. The one-time encoding of a deployment's weights belongs to no
 *  recipe's per-pass counts, nor to what the caller's recorder counts (the browser demo keeps its
 *  training run's recorder attached to the runtime): the command line never counts it either. */
async function uncounted<T>(rt: Runtime, fn: () => Promise<T>): Promise<T> {
  const was = rt.recorder;
  rt.recorder = undefined;
  try {
    return await fn();
  } finally {
    rt.recorder = was;
  }
}

/** One recipe's outcome. */
export interface DeployRow extends GeneratedRun {
  /** The row's name: the recipe name, or `export:<recipe>` for an export file's generator. */
  label: string;
  recipe: DeployRecipe;
  /** Exponent bias t of each packed weight, by parameter name (empty without a weight format). */
  weightBias: Readonly<Record<string, number>>;
  /** Against the float32 generator's images; null without a reference. */
  quality: QualitySummary | null;
}

/** Runs a prepared deployment and compares it with `reference` (when given). */
export async function deployRow(
  rt: Runtime,
  generator: Gan | DeployTarget,
  deployment: Deployment,
  label: string,
  inputs: AnyInputs,
  batch: number,
  reference: Float32Array | null,
): Promise<DeployRow> {
  const run = await runDeployment(rt, generator, deployment, inputs, batch);
  const [channels, height, width] = deployTarget(generator).imageShape;
  const quality = reference ? compareImages(reference, run.images, inputs.n, { channels, height, width }) : null;
  return { ...run, label, recipe: deployment.recipe, weightBias: deployment.weightBias, quality };
}

/**
 * The float32 generator's images (the reference) and one row per recipe. Each recipe is prepared
 * from the generator's trained weights (calibrating t when it asks), run, compared and released
 * before the next. `onRow` sees each row as it completes (progress output).
 */
export async function evaluateRecipes(
  rt: Runtime,
  generator: Gan | DeployTarget,
  recipes: readonly DeployRecipe[],
  inputs: AnyInputs,
  batch: number,
  onRow?: (row: DeployRow) => void,
): Promise<{ reference: GeneratedRun; rows: DeployRow[] }> {
  const gan = deployTarget(generator);
  const reference = await runDeployment(rt, gan, null, inputs, batch);
  const rows: DeployRow[] = [];
  for (const recipe of recipes) {
    const deployment = await uncounted(rt, () => prepareDeployment(gan.G, recipe));
    try {
      const row = await deployRow(rt, gan, deployment, recipe.name, inputs, batch, reference.images);
      rows.push(row);
      onRow?.(row);
    } finally {
      deployment.dispose();
    }
  }
  return { reference, rows };
}
