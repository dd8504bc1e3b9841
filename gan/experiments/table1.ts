// The paper's Table I for one model: train every recipe with every seed (per seed, the same
// initialisation, data order and noise for every recipe), evaluate each run (FID on the LeNet features
// and on the autoencoder's code, classifier accuracy for the cgan), and write results/<name>/table1.md,
// table1.json, the FID-vs-steps curves (table1-fid-curve*.svg), a side-by-side sample image and each
// recipe's op counts. The runs are a sweep (gan/sweep: one code path for running many jobs) on the
// embedded queue in runs/<name>-table1, which is not committed: each run trains in its own `posit-gan
// train` process and is evaluated by `posit-gan eval`; runs/<name>-table1/<recipe>-s<seed> (and .log)
// link to the job's run (and log), and `posit-gan sweep status <name> --dir runs/<name>-table1` shows
// where it stands. The rows, comparisons and text are computed in table1-report.ts.
// Interrupted (Options.signal), the runs in training stop at a checkpoint and the table is not written.

import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { Gpu } from '../../engine/device/gpu.ts';
import { Runtime } from '../../engine/runtime.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { imageGrid } from '../io/image-grid.ts';
import { pngBytes } from '../io/png-node.ts';
import { commit } from '../io/provenance.ts';
import { referenceStats } from '../metrics/evaluate.ts';
import { isNoiseModel, type ModelKind } from '../models/gan.ts';
import { generateImages } from '../models/generate.ts';
import { translateImages } from '../models/translate.ts';
import { DATASET_TITLES, loadDataset } from '../data/datasets.ts';
import { boxDownsample, nearestUpsample } from '../data/low-resolution.ts';
import { loadTranslationTask } from '../data/translation.ts';
import { superResolve } from '../train/sr-objective.ts';
import type { ProgressMode } from '../cli/progress.ts';
import { resolveConfig, type TrainConfig } from '../train/config.ts';
import { readRunManifest, type RunManifest } from '../train/manifest.ts';
import { curveNetworks, readFidCsv, referenceCacheFiles, referenceCacheFilesIn } from '../train/fid-curve.ts';
import { restoreRun } from '../train/restore.ts';
import { runLocal } from '../sweep/local.ts';
import { runningProgress } from '../sweep/progress-line.ts';
import { jobCommit, trainingCommits, type JobProgress } from '../sweep/run-job.ts';
import { expandSweep, type SweepJob, type SweepSpec } from '../sweep/spec.ts';
import { SweepStore } from '../sweep/store.ts';
import type { SweepRow } from '../sweep/table.ts';
import { BatchOrder } from '../data/batches.ts';
import { MNIST_TRAIN_IMAGES } from '../data/mnist.ts';
import { loadRecipe } from '../train/run.ts';
import { latentNoise } from '../train/trainer.ts';
import { evaluateRun } from './evaluate-run.ts';
import { aggregateRow, comparePairs, convergence, fidCurveSvg, runCommitsNote, table1Markdown, type Table1, type Table1Row, type Table1Seed } from './table1-report.ts';
import { SEPARATION_RULE } from './table1-stats.ts';

export { table1Markdown, type Table1, type Table1Row, type Table1Seed } from './table1-report.ts';

/** The paper's five columns, then the all-8-bit ablation (docs/recipes.md). */
export const TABLE1_RECIPES = ['fp32', 'fp16', 'p8+', 'p8', 'fp8', 'p8-all'] as const;

/** The paper's Table I (Inception-feature FIDs; docs/method.md section 7.1), shown for the ordering only.
 *  (The acgan, the quick-start model, is not in the paper.) */
export const PAPER_FID: Partial<Record<ModelKind, Record<string, number>>> = {
  cgan: { fp32: 67.31, fp16: 64.58, 'p8+': 70, p8: 75.41, fp8: 423.28 },
  // The paper's DCGAN row is on LSUN bedrooms; ours trains on MNIST: compare orderings only.
  dcgan: { fp32: 43.12, fp16: 49, 'p8+': 44.82, p8: 49.54, fp8: 318.07 },
};

/** The task a configuration learns, as a table names it (Table1.task). */
export function taskOf(c: Pick<TrainConfig, 'model' | 'task' | 'dataset'>): string {
  if (c.model === 'cyclegan') return c.task ?? 'cyclegan';
  if (c.model === 'srgan') return 'srgan';
  return c.dataset === 'mnist' ? c.model : `${c.model}-${c.dataset}`;
}

/** The paper's Table I row each task stands beside (docs/models.md): another data set, so only the
 *  orderings compare. The translation directions pair by kind of change: a texture change (stroke
 *  weight) with horse/zebra, a change of domain (digits to clothes) with the seasons. */
export const PAPER_ROWS: Readonly<Record<string, { row: string; fid?: Record<string, number>; psnr?: Record<string, number> }>> = {
  cgan: { row: 'CGAN-MNIST', fid: PAPER_FID.cgan! },
  dcgan: { row: 'DCGAN-LSUN', fid: PAPER_FID.dcgan! },
  'dcgan-fashion': { row: 'DCGAN-LSUN', fid: PAPER_FID.dcgan! },
  thin2bold: { row: 'Horse2zebra', fid: { fp32: 77.2, fp16: 64.3, 'p8+': 61.1, p8: 70.1, fp8: 75.63 } },
  bold2thin: { row: 'Zebra2horse', fid: { fp32: 134.2, fp16: 134.5, 'p8+': 138.36, p8: 148.49, fp8: 138.13 } },
  digit2fashion: { row: 'Summer2winter', fid: { fp32: 77.6, fp16: 78.52, 'p8+': 77.12, p8: 75.67, fp8: 84.01 } },
  fashion2digit: { row: 'Winter2summer', fid: { fp32: 75, fp16: 73.46, 'p8+': 72.79, p8: 74.75, fp8: 77.16 } },
  srgan: { row: 'ESRGAN (PSNR)', psnr: { fp32: 24.67, fp16: 24.69, 'p8+': 24.74, p8: 24.53, fp8: 4.62 } },
};

/** FID-curve evaluations per run when --eval-every is not given: every tenth of the run. */
export const DEFAULT_CURVE_POINTS = 10;

export interface Table1Options {
  name: string;
  model: ModelKind;
  /** Training-config overrides (steps or epochs, batch, width, ...). */
  config: Record<string, unknown>;
  recipes?: readonly string[];
  /** Every recipe is trained with each of these seeds (default: the config's seed alone). */
  seeds?: readonly number[];
  evalSamples?: number;
  /** FID curve: evaluate every this many steps (0: no curve; default: a tenth of the run). */
  evalEvery?: number;
  /** Samples per FID-curve evaluation (default 2000). */
  curveSamples?: number;
  command: string;
  progress?: ProgressMode;
  root?: string;
  /** Runs trained at once, each in its own process (default 1: one after another). */
  jobs?: number;
  /** Extra `posit-gan train` arguments for those processes (the device options). */
  childArgs?: string[];
  /** Training stops at this time (Date.now() ms) even if steps remain; such rows say so. */
  deadline?: number;
  /** Aborted with a signal's name (SIGINT, SIGTERM): training stops at a checkpoint (child processes
   *  get the signal), nothing more starts, and runTable1 throws a Table1Interrupted. */
  signal?: AbortSignal;
  /** Continue the sweep an earlier call left in runs/NAME-table1 instead of starting again: finished
   *  runs are kept, stopped or killed ones go on from their newest checkpoint. A table can be trained
   *  over several calls, e.g. device calls with a time limit. */
  resume?: boolean;
}

/** A table's runs as a sweep: every recipe with every seed (seed-major) on the resolved `base`
 *  configuration, `steps` long, with the FID curve's settings; evaluated on `evalSamples` samples. A
 *  sweep spec with the same configuration names the same jobs (and finds them done in the same
 *  directory). */
export function table1SweepSpec(
  name: string,
  base: TrainConfig,
  t: { steps: number; seeds: readonly number[]; recipes: readonly string[]; evalEvery: number; curveSamples: number; evalSamples: number },
): SweepSpec {
  const { recipe: _recipe, seed: _seed, epochs: _epochs, ...shared } = base;
  return {
    name,
    base: { ...shared, steps: t.steps, evalEvery: t.evalEvery, evalN: t.curveSamples },
    grid: { seed: [...t.seeds], recipe: [...t.recipes] },
    eval: { n: t.evalSamples, seed: 0 },
  };
}

/** The table was interrupted before it was written; the runs trained so far stay in runsDir. */
export class Table1Interrupted extends Error {
  override name = 'Table1Interrupted';
}

function interrupted(runsDir: string, signal: AbortSignal): Table1Interrupted {
  return new Table1Interrupted(
    `interrupted (${String(signal.reason)}) before the table was written. The runs in ${runsDir} end at a checkpoint ` +
      '(the same command with --resume continues them; each also continues alone with `posit-gan train --resume DIR`).',
  );
}

/** One training run of the table: a sweep job (gan/sweep) and where it is found under its readable name. */
interface Job {
  recipe: string;
  seed: number;
  job: SweepJob;
  /** Its run directory (the sweep's DIR/runs/<id>). */
  out: string;
  /** runs/NAME-table1/<recipe>-s<seed>: a link to `out`. */
  named: string;
}

/** A run's file-name form of a recipe name. */
function fileName(recipe: string): string {
  return recipe.replace(/[^a-zA-Z0-9+.-]/g, '_');
}

/** Makes `path` a symbolic link to `target` (relative to path's folder), replacing what was there. */
function linkAtomic(target: string, path: string): void {
  const tmp = `${path}.${process.pid}.link`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, path);
}

/** Computes the test set's feature statistics once, into the cache files the FID curves of every run
 *  read (next to the runs), instead of each training process computing them at its first FID-curve
 *  evaluation. (Where the networks ship their statistics, nothing is computed or written.) */
async function warmReferenceCache(gpu: Gpu, store: SweepStore, dataset: 'mnist' | 'fashion'): Promise<void> {
  const rt = new Runtime(gpu);
  const files = referenceCacheFiles(store.paths('any-run').run);
  const { lenet, autoencoder: ae } = curveNetworks(rt, dataset);
  try {
    await referenceStats(lenet, { cacheFile: files.lenet });
    if (ae) await referenceStats(ae, { cacheFile: files.autoencoder });
  } finally {
    lenet.dispose();
    ae?.dispose();
    rt.pool.trim();
  }
}

/** Seconds the run's last training session took (from its manifest), or 0. */
function lastSessionSeconds(m: RunManifest): number {
  const s = m.sessions?.at(-1);
  return s?.finished ? (Date.parse(s.finished) - Date.parse(s.started)) / 1000 : 0;
}

/** One seed's values from the job's sweep row (trained and evaluated by the sweep). */
function seedFromRow(row: SweepRow, job: Job, sr: boolean): Table1Seed {
  return {
    seed: job.seed,
    fid: row.fid,
    fid_ae: row.fid_ae ?? null,
    diverged: row.diverged,
    divergence: row.divergence === null ? null : row.divergence.replace(/^training diverged: /, '').split('. A checkpoint')[0]!,
    classifier_accuracy: row.classifier_accuracy,
    ...(sr ? { psnr: row.psnr ?? null, ssim: row.ssim ?? null } : {}),
    steps_trained: row.steps_trained,
    stopped_early: false,
    train_seconds: row.train_seconds,
    commit: row.commit,
    curve: (readFidCsv(job.out) ?? []).map((p) => ({ step: p.step, fid: p.fid, fid_ae: p.fidAe })),
  };
}

/** One seed's values from a run the time limit stopped: the sweep keeps it queued (the next call with
 *  --resume continues it), so it is evaluated here, as the sweep's `eval` would. */
async function seedFromStoppedRun(gpu: Gpu, job: Job, m: RunManifest, store: SweepStore): Promise<Table1Seed> {
  const e = await evaluateRun(gpu, job.out, { n: job.job.eval.n, seed: job.job.eval.seed, cacheFiles: referenceCacheFilesIn(store.referenceCache) });
  const finite = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
  return {
    seed: job.seed,
    fid: finite(e.fid),
    fid_ae: e.second ? finite(e.second.fid) : null,
    diverged: false,
    divergence: null,
    classifier_accuracy: e.labelAccuracy?.accuracy ?? null,
    ...(e.superResolution ? { psnr: e.superResolution.psnr, ssim: e.superResolution.ssim } : {}),
    steps_trained: m.step,
    stopped_early: true,
    train_seconds: lastSessionSeconds(m),
    commit: jobCommit(trainingCommits(m), [commit()]),
    curve: (readFidCsv(job.out) ?? []).map((p) => ({ step: p.step, fid: p.fid, fid_ae: p.fidAe })),
  };
}

/**
 * Trains and evaluates the table's runs as a sweep on the embedded queue (gan/sweep/local.ts): at most
 * o.jobs at a time, each in its own `posit-gan train` process (a training step is bound by the host's
 * time to record it, so separate processes use more CPU cores while sharing the GPU) and evaluated by
 * `posit-gan eval`. Each run is the one `train` would make alone with the same config and seed. Returns
 * each job's seed values, in the jobs' order.
 */
async function runJobs(gpu: Gpu, jobs: readonly Job[], store: SweepStore, o: Table1Options): Promise<Table1Seed[]> {
  const byId = new Map(jobs.map((j) => [j.job.id, j]));
  const label = (j: SweepJob) => {
    const t = byId.get(j.id)!;
    return `${t.recipe} seed ${t.seed}`;
  };
  const jsonl = o.progress === 'jsonl';
  const say = o.progress === 'quiet' ? undefined : jsonl ? (line: string) => process.stdout.write(JSON.stringify({ type: 'log', line }) + '\n') : (line: string) => process.stderr.write(`table1: ${line}\n`);
  const progress = o.progress === 'quiet' ? {} : jsonl ? { onProgress: jsonProgress(byId) } : runningProgress(label, say!);
  const r = await runLocal(
    jobs.map((j) => j.job),
    {
      store,
      jobs: o.jobs ?? 1,
      // A run that fails is a problem to look at (a divergence is a result, not a failure): no retries.
      attempts: 1,
      failFast: true,
      label,
      ...(o.childArgs ? { childArgs: o.childArgs } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
      ...(say ? { log: say } : {}),
      ...progress,
      pollMs: 200,
    },
  );
  if (o.signal?.aborted) throw interrupted(store.dir, o.signal);
  if (r.failed.length) {
    const f = r.failed[0]!;
    const j = byId.get(f.id)!;
    throw new Error(`training or evaluating ${j.recipe} seed ${j.seed} failed (its run: ${j.named}, its log: ${j.named}.log): ${f.error}`);
  }
  const seeds: Table1Seed[] = [];
  for (const j of jobs) {
    const row = store.row(j.job.id);
    if (row) {
      seeds.push(seedFromRow(row, j, j.job.config.model === 'srgan'));
      continue;
    }
    const m = readRunManifest(j.out);
    if (m?.status !== 'stopped') throw new Error(`table1: ${j.recipe} seed ${j.seed} has neither a result nor a run stopped by the time limit (${j.out}: ${m ? `status ${m.status}` : 'no manifest'})`);
    seeds.push(await seedFromStoppedRun(gpu, j, m, store));
  }
  return seeds;
}

/** Progress of the running jobs as JSON lines on stdout (about one a second per job). */
function jsonProgress(byId: ReadonlyMap<string, Job>): (job: SweepJob, p: JobProgress) => void {
  return (job, p) => {
    const { recipe, seed } = byId.get(job.id)!;
    process.stdout.write(JSON.stringify({ type: 'progress', recipe, seed, phase: p.phase, step: p.step, total: p.total, losses: p.losses, stepsPerSec: p.stepsPerSec, etaSec: p.etaSec }) + '\n');
  };
}

/** The steps of one epoch at this configuration (BatchOrder drops the last partial batch): a pass over
 *  the training set, or for a translation task over its larger domain (thin and bold: a third each of
 *  the digits; digits and clothes: all of each). */
function stepsPerEpoch(c: TrainConfig): number {
  const all = c.dataLimit === null ? MNIST_TRAIN_IMAGES : Math.min(c.dataLimit, MNIST_TRAIN_IMAGES);
  const n = c.task === 'thin2bold' || c.task === 'bold2thin' ? Math.floor(all / 3) : all;
  return new BatchOrder({ n, batchSize: c.batch, seed: c.seed }).batchesPerEpoch;
}

/** Ten images of a run for the table's side-by-side picture: generated samples (digits 0..9 for a
 *  conditional model), or the translations / upscaled versions of the first ten test images. */
async function sampleRow(gpu: Gpu, job: Job): Promise<Float32Array> {
  const run = restoreRun(gpu, job.out, { asTrained: true });
  const c = run.config;
  switch (run.model.family) {
    case 'noise': {
      const z = latentNoise(job.seed, 0x7ab1e1, 10, run.gan.latent);
      return generateImages(run.runtime, run.gan, z, run.gan.conditional ? Uint32Array.from({ length: 10 }, (_, k) => k) : undefined);
    }
    case 'translation': {
      const a = loadTranslationTask(c.task!, { pad32: c.size === 32, trainLimit: 30, testLimit: 30 }).a.test;
      const images = a.images.subarray(0, 10 * a.height * a.width);
      return translateImages(run.runtime, run.model.cyclegan.G_AB, images, [1, a.height, a.width]);
    }
    case 'sr': {
      const test = loadDataset(c.dataset, 'test', { limit: 10 });
      return (await superResolve(run.runtime, run.model.G, test.images, 10)).sr;
    }
  }
}

/** The inputs of sampleRow for the models that have any (the picture's first row), else null. */
function inputRow(c: TrainConfig): Float32Array | null {
  if (c.model === 'cyclegan') {
    const a = loadTranslationTask(c.task!, { pad32: c.size === 32, trainLimit: 30, testLimit: 30 }).a.test;
    return a.images.slice(0, 10 * a.height * a.width);
  }
  if (c.model === 'srgan') {
    const test = loadDataset(c.dataset, 'test', { limit: 10 });
    const s = 28 / c.scale;
    return nearestUpsample(boxDownsample(test.images, 10, 28, 28, c.scale), 10, s, s, c.scale);
  }
  return null;
}

export async function runTable1(gpu: Gpu, o: Table1Options): Promise<Table1> {
  const root = resolve(o.root ?? '.');
  const resultsDir = join(root, 'results', o.name);
  const runsDir = join(root, 'runs', `${o.name}-table1`);
  mkdirSync(join(resultsDir, 'opcounts'), { recursive: true });
  mkdirSync(runsDir, { recursive: true });
  const recipes = o.recipes ?? TABLE1_RECIPES;
  for (const r of recipes) loadRecipe(r); // an unknown recipe fails before any training
  const base = resolveConfig({ ...o.config, model: o.model });
  const seeds = o.seeds?.length ? [...o.seeds] : [base.seed];
  if (new Set(seeds).size !== seeds.length) throw new Error(`table1: seeds must differ, got ${seeds.join(', ')}`);
  const perEpoch = stepsPerEpoch(base);
  const steps = base.epochs !== null ? base.epochs * perEpoch : base.steps;
  const task = taskOf(base);
  const paperRow = PAPER_ROWS[task] ?? null;
  // The FID curve during training samples latent vectors: the other models have none (their FID
  // needs the test images of the task, evaluated at the end).
  const generates = isNoiseModel(base.model);
  if (!generates && o.evalEvery) throw new Error(`table1: --eval-every (the FID curve during training) is for the latent-vector GANs; a ${base.model} table is evaluated at the end`);
  const evalEvery = generates ? (o.evalEvery ?? Math.max(1, Math.ceil(steps / DEFAULT_CURVE_POINTS))) : 0;
  const curveSamples = o.curveSamples ?? 2000;
  const evalSamples = o.evalSamples ?? 10_000;
  // Seed-major order: with a time limit, every recipe gets its first seed before any gets a second.
  // The table is a sweep (gan/sweep) over recipe x seed, in runsDir: seed-major order, so that with a
  // time limit every recipe gets its first seed before any gets a second.
  if (!o.resume) rmSync(runsDir, { recursive: true, force: true });
  const store = new SweepStore(runsDir);
  const spec = table1SweepSpec(o.name, base, { steps, seeds, recipes, evalEvery, curveSamples, evalSamples });
  const sweepJobs = expandSweep(spec, process.cwd());
  // The grid's product, in order: job i is seed i / R with recipe i % R, named as --recipes names it
  // (a recipe file by its file name, not the name inside it).
  if (sweepJobs.length !== seeds.length * recipes.length) throw new Error(`table1: two of the recipes ${recipes.join(', ')} are the same recipe`);
  const jobs: Job[] = sweepJobs.map((job, i) => {
    const recipe = recipes[i % recipes.length]!;
    const seed = seeds[Math.floor(i / recipes.length)]!;
    if (job.config.seed !== seed) throw new Error(`table1: internal error: job ${i} trains seed ${job.config.seed}, expected ${seed}`);
    return { recipe, seed, job, out: store.paths(job.id).run, named: join(runsDir, `${fileName(recipe)}-s${seed}`) };
  });
  store.init();
  store.recordSweep({ spec, jobs: sweepJobs, command: o.command });
  for (const j of jobs) {
    linkAtomic(relative(runsDir, j.out), j.named);
    linkAtomic(relative(runsDir, store.paths(j.job.id).log), `${j.named}.log`);
  }
  if (evalEvery > 0 && (o.jobs ?? 1) > 1) await warmReferenceCache(gpu, store, base.dataset);
  const results = await runJobs(gpu, jobs, store, o);

  const notes: string[] = [];
  const bySeed = new Map<string, Table1Seed[]>(recipes.map((r) => [r, []]));
  const sampleRows = new Map<string, Float32Array>();
  for (const [i, job] of jobs.entries()) {
    const { recipe, seed, out } = job;
    const result = results[i]!;
    if (result.stopped_early) notes.push(`${recipe} seed ${seed}: stopped by the time limit at step ${result.steps_trained} of ${steps}; its values are not comparable with runs that trained longer.`);
    if (!result.diverged && (result.fid === null || (hasSecondNetwork(base) && result.fid_ae === null))) {
      notes.push(`${recipe} seed ${seed}: a FID is not finite (the generator's samples are degenerate); it counts as no FID.`);
    }
    if (seed === seeds[0]) {
      // The recipe's row of the side-by-side image (its first seed).
      if (!result.diverged) sampleRows.set(recipe, await sampleRow(gpu, job));
      // Op counts are shape arithmetic: the first seed's stand for the recipe's.
      const counts = join(out, `${basename(out)}.opcounts.json`);
      if (existsSync(counts)) copyFileSync(counts, join(resultsDir, 'opcounts', `train-${fileName(recipe)}.opcounts.json`));
    }
    bySeed.get(recipe)!.push(result);
  }
  const rows: Table1Row[] = recipes.map((r) => aggregateRow(r, loadRecipe(r).spec, paperRow?.fid?.[r] ?? null, bySeed.get(r)!, paperRow?.psnr?.[r] ?? null));

  const [h, w] = (o.model === 'dcgan' || o.model === 'cyclegan') && base.size === 32 ? [32, 32] : [28, 28];
  const blank = new Float32Array(10 * h * w).fill(-1);
  const inputs = inputRow(base);
  const pictureRows = [...(inputs ? [inputs] : []), ...recipes.map((r) => sampleRows.get(r) ?? blank)];
  const all = new Float32Array(pictureRows.length * blank.length);
  pictureRows.forEach((row, k) => all.set(row, k * blank.length));
  writeFileAtomicSync(join(resultsDir, 'table1-samples.png'), pngBytes(imageGrid(all, pictureRows.length * 10, { channels: 1, height: h, width: w }, { cols: 10 })));
  const commitsNote = runCommitsNote(commit(), rows);
  if (commitsNote) notes.push(commitsNote);
  if (o.resume) notes.push("Continued the runs of earlier calls (--resume): a run's train time is that of the process that finished its training (from its checkpoint, when it resumed).");
  if ((o.jobs ?? 1) > 1) notes.push(`Runs trained side by side (${o.jobs} at a time, one process each): their train times overlap.`);
  const firstRow = base.model === 'cyclegan' ? 'the first ten test images of the source domain, then ' : base.model === 'srgan' ? 'the first ten low-resolution test inputs (enlarged), then ' : '';
  const rowsAre = base.model === 'cyclegan' ? 'their translations' : base.model === 'srgan' ? 'their upscaled images' : 'samples';
  notes.push(`table1-samples.png: ${firstRow}one row of ${rowsAre} per recipe (its seed ${seeds[0]} run) in the order ${recipes.join(', ')}${o.model === 'cgan' ? '; column i is digit i' : ''}.`);
  notes.push('opcounts/train-<recipe>.opcounts.json: the op counts of each recipe\'s seed ' + `${seeds[0]} run (counts are shape arithmetic: the same for every seed).`);

  const curveFiles = { lenet: 'table1-fid-curve.svg', autoencoder: hasSecondNetwork(base) ? 'table1-fid-curve-ae.svg' : null };
  const t: Table1 = {
    commit: commit(),
    command: o.command,
    device: gpu.adapter.description,
    model: o.model,
    task,
    paper_row: paperRow?.row ?? null,
    epochs: Number((steps / perEpoch).toFixed(3)),
    steps,
    steps_per_epoch: perEpoch,
    seeds,
    evaluation: evaluationText(base, evalSamples),
    curve: evalEvery > 0 ? { every: evalEvery, samples: curveSamples, files: curveFiles } : null,
    config: base,
    rows,
    comparisons: comparePairs(rows),
    separation_rule: SEPARATION_RULE,
    convergence: convergence(rows),
    notes,
  };
  if (t.curve) {
    writeFileAtomicSync(join(resultsDir, curveFiles.lenet), fidCurveSvg(t, 'lenet'));
    if (curveFiles.autoencoder) writeFileAtomicSync(join(resultsDir, curveFiles.autoencoder), fidCurveSvg(t, 'autoencoder'));
  }
  writeFileAtomicSync(join(resultsDir, 'table1.json'), JSON.stringify(t, null, 2) + '\n');
  writeFileAtomicSync(join(resultsDir, 'table1.md'), table1Markdown(t));
  return t;
}

/** Whether the evaluation has the second feature network (the autoencoder, trained on MNIST): the
 *  evaluated images are MNIST digits. */
function hasSecondNetwork(c: TrainConfig): boolean {
  return (c.model === 'cyclegan' ? loadTranslationTaskNames(c.task!).target : c.dataset) === 'mnist';
}

/** What the table's evaluation compares, in words. */
function evaluationText(c: TrainConfig, samples: number): Table1['evaluation'] {
  const lenet = (d: string) => `posit-gan's LeNet-5 for ${DATASET_TITLES[d as 'mnist' | 'fashion']} (84 features)`;
  const autoencoder = "posit-gan's MLP autoencoder (its 32-value code; trained without labels)";
  if (c.model === 'cyclegan') {
    const t = loadTranslationTaskNames(c.task!);
    return {
      samples,
      features: lenet(t.target),
      second_features: t.target === 'mnist' ? autoencoder : 'none (the autoencoder is trained on MNIST)',
      reference: `${t.targetName} test images; the samples are the ${t.sourceName} test images translated (at most ${samples})`,
    };
  }
  if (c.model === 'srgan') {
    return {
      samples,
      features: lenet(c.dataset),
      second_features: 'none (PSNR and SSIM against the originals instead)',
      reference: `${DATASET_TITLES[c.dataset]} test images; the samples are the first ${samples} of them, box-downsampled x${c.scale} and upscaled`,
    };
  }
  return {
    samples,
    features: lenet(c.dataset),
    second_features: c.dataset === 'mnist' ? autoencoder : 'none (the autoencoder is trained on MNIST)',
    reference: `10000 ${DATASET_TITLES[c.dataset]} test images`,
  };
}

/** The data sets and domain names of a task's two sides, without loading them. */
function loadTranslationTaskNames(task: string): { target: 'mnist' | 'fashion'; sourceName: string; targetName: string } {
  switch (task) {
    case 'thin2bold':
      return { target: 'mnist', sourceName: 'thin MNIST', targetName: 'bold MNIST' };
    case 'bold2thin':
      return { target: 'mnist', sourceName: 'bold MNIST', targetName: 'thin MNIST' };
    case 'digit2fashion':
      return { target: 'fashion', sourceName: 'MNIST', targetName: 'Fashion-MNIST' };
    default:
      return { target: 'mnist', sourceName: 'Fashion-MNIST', targetName: 'MNIST' };
  }
}
