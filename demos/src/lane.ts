// One training run in the page: its own Runtime on the shared GPU (so two recipes can train side by
// side with interleaved async steps), a GanTrainer, the op counts it records, and its loss history.

import type { Gpu } from '../../engine/device/gpu.ts';
import { recipeByName } from '../../engine/quant/recipe.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import type { OpCountsFile } from '../../engine/record/schema.ts';
import { Runtime } from '../../engine/runtime.ts';
import { boxDownsample } from '../../gan/data/low-resolution.ts';
import type { DeployInputs } from '../../gan/deploy/evaluate.ts';
import { cycleganTarget, ganTarget, srganTarget, type DeployTarget, type ImageInputs } from '../../gan/deploy/target.ts';
import type { TrainConfig } from '../../gan/train/config.ts';
import { NoiseObjective } from '../../gan/train/noise-objective.ts';
import type { SampleGrid } from '../../gan/train/objective.ts';
import type { TrainingData } from '../../gan/train/objectives.ts';
import { SR_SIZE, SuperResolutionObjective } from '../../gan/train/sr-objective.ts';
import { TranslationObjective } from '../../gan/train/translation-objective.ts';
import { GanTrainer, latentNoise, type StepStats } from '../../gan/train/trainer.ts';

/** The sample grid's inputs: 10 rows of `columns` fixed latent vectors (cgan: row i is digit i). */
export function gridInputs(config: TrainConfig, latent: number, conditional: boolean, columns: number): DeployInputs {
  const n = 10 * columns;
  // Training draws its noise from latentNoise(seed, step): a different seed keeps the grid's vectors
  // apart from every training batch's.
  const z = latentNoise((config.seed ^ 0x6a1d) >>> 0, 0, n, latent);
  if (!conditional) return { n, z };
  return { n, z, labels: Uint32Array.from({ length: n }, (_, i) => Math.floor(i / columns)) };
}

/** Steps per second over the last few steps (a sliding window, so pauses do not dilute it). */
class Rate {
  private times: number[] = [];
  tick(now: number): void {
    this.times.push(now);
    if (this.times.length > 11) this.times.shift();
  }
  clear(): void {
    this.times = [];
  }
  get perSecond(): number | null {
    const t = this.times;
    return t.length < 2 ? null : ((t.length - 1) * 1000) / (t[t.length - 1]! - t[0]!);
  }
}

export class Lane {
  readonly rt: Runtime;
  readonly trainer: GanTrainer;
  readonly lossG: number[] = [];
  readonly lossD: number[] = [];
  readonly rate = new Rate();
  last: StepStats | null = null;
  /** Why this lane stopped training (a non-finite loss), or null while it can go on. */
  stopped: string | null = null;
  private readonly recorder = new OpRecorder();

  constructor(
    gpu: Gpu,
    readonly config: TrainConfig,
    data: TrainingData,
  ) {
    this.rt = new Runtime(gpu);
    this.rt.recorder = this.recorder;
    this.trainer = new GanTrainer(this.rt, config, recipeByName(config.recipe), data);
  }

  get recipe(): string {
    return this.trainer.recipe.name;
  }

  async step(): Promise<StepStats> {
    const s = await this.trainer.trainStep();
    this.last = s;
    if (s.diverged) {
      this.stopped = s.diverged;
      return s;
    }
    this.lossG.push(s.lossG);
    // The demo's models train D at every step; NaN would only mark a step without its update.
    this.lossD.push(s.lossD ?? NaN);
    this.rate.tick(performance.now());
    return s;
  }

  /** Generator outputs [n, 1, H, W] in [-1, 1] for fixed inputs. Not counted: the op counts are
   *  the training steps' (the sample grid is the page's, not part of training). */
  async generate(inputs: DeployInputs): Promise<Float32Array> {
    this.rt.recorder = undefined;
    try {
      return await this.trainer.generate(inputs.z, inputs.labels);
    } finally {
      this.rt.recorder = this.recorder;
    }
  }

  /** Whether the model generates from latent vectors (else its sample grid comes from test images). */
  get generatesFromNoise(): boolean {
    return this.trainer.objective instanceof NoiseObjective;
  }

  /** The model's own sample grid (translations or upscaled test images), not counted either. */
  async sampleGrid(): Promise<SampleGrid> {
    this.rt.recorder = undefined;
    try {
      return await this.trainer.sampleGrid();
    } finally {
      this.rt.recorder = this.recorder;
    }
  }

  /** The generator deployment runs, and for an image-to-image model its fixed inputs: the first `n`
   *  test images of the source domain, or downsampled test images (latent models use the grid's). */
  deployTarget(n: number): { target: DeployTarget; inputs: ImageInputs | null } {
    const o = this.trainer.objective;
    if (o instanceof TranslationObjective) {
      const a = o.data.a.test;
      const m = Math.min(n, a.n);
      return { target: cycleganTarget(o.cyclegan.G_AB, o.shape), inputs: { n: m, images: a.images.slice(0, m * a.height * a.width) } };
    }
    if (o instanceof SuperResolutionObjective) {
      const test = o.data.test;
      const m = Math.min(n, test.n);
      return { target: srganTarget(o.G, SR_SIZE), inputs: { n: m, images: boxDownsample(test.images.subarray(0, m * SR_SIZE * SR_SIZE), m, SR_SIZE, SR_SIZE, o.G.scale) } };
    }
    return { target: ganTarget(this.trainer.gan), inputs: null };
  }

  /** The op counts of the training steps so far, in the hardware model's input format. */
  opCounts(): OpCountsFile {
    const c = this.config;
    return this.recorder.toFile({
      name: `demo-${c.model}-${this.recipe}`,
      command: 'train',
      model: c.model,
      recipe: this.recipe,
      steps: this.trainer.step,
      batch: c.batch,
      device: this.rt.gpu.adapter.description,
      created: new Date().toISOString(),
    });
  }

  async dispose(): Promise<void> {
    this.trainer.dispose();
    await this.rt.sync('release a run');
    this.rt.pool.trim();
  }
}
