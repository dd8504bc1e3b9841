// The paper's Table I for one model: train every recipe with every seed (per seed, the same
// initialisation, data order and noise for every recipe), evaluate each run (FID on the LeNet features
// and on the autoencoder's code, classifier accuracy for the cgan), and write results/<name>/table1.md,
// table1.json, the FID-vs-steps curves (table1-fid-curve*.svg), a side-by-side sample image and each
// recipe's op counts. Training runs (checkpoints and all) go under runs/<name>-table1/<recipe>-s<seed>,
// which is not committed. The rows, comparisons and text are computed in table1-report.ts.
// Interrupted (Options.signal), the runs in training stop at a checkpoint and the table is not written.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gpu } from '../../engine/device/gpu.ts';
import { Runtime } from '../../engine/runtime.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { imageGrid } from '../io/image-grid.ts';
import { pngBytes } from '../io/png-node.ts';
import { commit } from '../io/provenance.ts';
import { FeatureAutoencoder } from '../metrics/autoencoder.ts';
import { MnistClassifier } from '../metrics/classifier.ts';
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
import { CheckpointStore } from '../train/checkpoint-store.ts';
import { readRunManifest } from '../train/manifest.ts';
import { readFidCsv, referenceCacheFiles } from '../train/fid-curve.ts';
import { restoreRun } from '../train/restore.ts';
import { clearRunDirectory } from '../train/run-dir.ts';
import { BatchOrder } from '../data/batches.ts';
import { MNIST_TRAIN_IMAGES } from '../data/mnist.ts';
import { DivergedError, loadRecipe, runTraining } from '../train/run.ts';
import { latentNoise } from '../train/trainer.ts';
import { evaluateRun } from './evaluate-run.ts';
import { aggregateRow, comparePairs, convergence, fidCurveSvg, table1Markdown, type Table1, type Table1Row, type Table1Seed } from './table1-report.ts';
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
  /** Runs trained at once, each in its own process (default 1: one after another, here). */
  jobs?: number;
  /** Extra `posit-gan train` arguments for those processes (the device options). */
  childArgs?: string[];
  /** Training stops at this time (Date.now() ms) even if steps remain; such rows say so. */
  deadline?: number;
  /** Aborted with a signal's name (SIGINT, SIGTERM): training stops at a checkpoint (child processes
   *  get the signal), nothing more starts, and runTable1 throws a Table1Interrupted. */
  signal?: AbortSignal;
  /** Continue the runs an earlier call left in runs/NAME-table1 (see resumeState) instead of
   *  starting them again: a table can be trained over several calls, e.g. device calls with a time limit. */
  resume?: boolean;
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

/** One training run of the table. */
interface Job {
  recipe: string;
  seed: number;
  out: string;
  config: TrainConfig;
}

interface TrainedRun {
  /** Stopped by the time limit before its steps were done. */
  stopped: boolean;
  /** Steps its configuration asked for. */
  total: number;
  /** Why it diverged (null if it did not). */
  diverged: string | null;
  steps: number;
  seconds: number;
}

function runDir(runsDir: string, recipe: string, seed: number): string {
  return join(runsDir, `${recipe.replace(/[^a-zA-Z0-9+.-]/g, '_')}-s${seed}`);
}

/** What a run's manifest says about how it ended (for runs whose process we did not watch end). */
function fromManifest(out: string, seconds: number): TrainedRun | null {
  const m = readRunManifest(out);
  if (m?.status === 'completed' || m?.status === 'stopped') return { stopped: m.status === 'stopped', total: m.totalSteps, diverged: null, steps: m.step, seconds };
  if (m?.status === 'diverged') return { stopped: false, total: m.totalSteps, diverged: String(m.diverged), steps: m.step, seconds };
  return null;
}

/**
 * With --resume, what becomes of a run directory an earlier call left: 'done' when it completed the
 * steps asked for or diverged (kept as it is), 'continue' when it has a checkpoint to go on from
 * (stopped by a time limit, or killed), 'start' when there is nothing to go on from.
 */
function resumeState(job: Job, steps: number): 'done' | 'continue' | 'start' {
  const m = readRunManifest(job.out);
  if (!m) return 'start';
  if (m.status === 'diverged' || (m.status === 'completed' && m.step >= steps)) return 'done';
  // A checkpoint that verifies: a damaged one is no place to go on from (train --resume says why).
  try {
    new CheckpointStore(join(job.out, 'checkpoints')).loadLatest();
    return 'continue';
  } catch {
    return 'start';
  }
}

/** Trains the runs one after another in this process. */
async function trainHere(gpu: Gpu, jobs: readonly Job[], steps: number, o: Table1Options): Promise<TrainedRun[]> {
  const runs: TrainedRun[] = [];
  for (const job of jobs) {
    if (o.signal?.aborted) throw interrupted(dirname(job.out), o.signal);
    const state = o.resume ? resumeState(job, steps) : 'start';
    if (state === 'done') {
      runs.push(fromManifest(job.out, 0)!);
      continue;
    }
    if (state === 'start') clearRunDirectory(job.out);
    const t0 = performance.now();
    try {
      const r = await runTraining(gpu, {
        config: job.config,
        out: job.out,
        resume: state === 'continue',
        progress: o.progress ?? 'bar',
        command: o.command,
        ...(o.deadline ? { deadline: o.deadline } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      if (r.status === 'interrupted') throw interrupted(dirname(job.out), o.signal!);
      r.trainer.dispose();
      r.runtime.pool.trim();
    } catch (e) {
      if (!(e instanceof DivergedError)) throw e;
    }
    runs.push(fromManifest(job.out, (performance.now() - t0) / 1000)!);
  }
  return runs;
}

const CLI = fileURLToPath(new URL('../../bin/posit-gan', import.meta.url));

/**
 * Trains the runs side by side, each in its own `posit-gan train` process (at most o.jobs at a time):
 * a training step is bound by the host's time to record it, so separate processes use more CPU cores
 * while sharing the GPU. Each run is the one `train` would make alone (same config, same seed); its
 * output goes to runs/NAME-table1/<recipe>-s<seed>.log.
 */
async function trainInChildren(jobs: readonly Job[], steps: number, runsDir: string, o: Table1Options): Promise<TrainedRun[]> {
  mkdirSync(runsDir, { recursive: true });
  const runs: TrainedRun[] = new Array(jobs.length);
  let next = 0;
  // When one run fails, the others are stopped rather than left training for a table never written.
  const live = new Set<ChildProcess>();
  let failed = false;
  // Each child runs in its own process group (detached), so a Ctrl-C at the terminal reaches only
  // this process, which passes each signal on exactly once: the children stop at a checkpoint.
  const forward = () => {
    for (const c of live) c.kill(o.signal!.reason as NodeJS.Signals);
  };
  o.signal?.addEventListener('abort', forward);
  // This process exiting (a second Ctrl-C exits at once) passes the signal on again, so the children
  // exit at once too instead of training on unseen.
  const onExit = () => {
    for (const c of live) c.kill((o.signal?.reason as NodeJS.Signals | undefined) ?? 'SIGTERM');
  };
  process.on('exit', onExit);
  const one = async (): Promise<void> => {
    while (!failed && !o.signal?.aborted && next < jobs.length) {
      const i = next++;
      const { recipe, seed, out, config } = jobs[i]!;
      const state = o.resume ? resumeState(jobs[i]!, steps) : 'start';
      if (state === 'done') {
        runs[i] = fromManifest(out, 0)!;
        continue;
      }
      if (state === 'start') clearRunDirectory(out);
      const configFile = `${out}.config.json`;
      writeFileAtomicSync(configFile, JSON.stringify(config, null, 2) + '\n');
      const log = `${out}.log`;
      const fd = openSync(log, 'w');
      const t0 = performance.now();
      const code = await new Promise<number>((done, fail) => {
        const limit = o.deadline ? ['--time-limit', String(Math.max(1, (o.deadline - Date.now()) / 1000))] : [];
        const where = state === 'continue' ? ['--resume', out] : ['--out', out];
        const child = spawn(process.execPath, [CLI, 'train', '--config', configFile, ...where, '--progress', 'jsonl', ...limit, ...(o.childArgs ?? [])], {
          stdio: ['ignore', fd, fd],
          detached: process.platform !== 'win32',
        });
        live.add(child);
        child.on('error', fail);
        child.on('exit', (c, signal) => {
          live.delete(child);
          done(c ?? (signal ? 128 : 1));
        });
      }).finally(() => closeSync(fd));
      const seconds = (performance.now() - t0) / 1000;
      if (o.signal?.aborted) return; // stopped by the signal: reported once all have stopped
      const run = fromManifest(out, seconds);
      if (run && (code === 0 || run.diverged)) {
        runs[i] = run;
      } else {
        if (failed) return; // stopped because another run failed
        failed = true;
        for (const c of live) c.kill();
        const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n');
        throw new Error(`training ${recipe} seed ${seed} failed (exit status ${code}); its log ${log} ends:\n${tail}`);
      }
      if (o.progress !== 'quiet') process.stderr.write(`table1: ${recipe} seed ${seed} ${run.diverged ? 'diverged' : 'trained'} (${run.steps} steps, ${seconds.toFixed(0)} s)\n`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.jobs ?? 1, jobs.length) }, one));
  } finally {
    o.signal?.removeEventListener('abort', forward);
    process.off('exit', onExit);
  }
  if (o.signal?.aborted) throw interrupted(runsDir, o.signal);
  return runs;
}

/** Computes the test set's feature statistics once, into the cache files every run of the table reads
 *  (instead of each training process computing them at its first FID-curve evaluation). */
async function warmReferenceCache(gpu: Gpu, runsDir: string): Promise<void> {
  const rt = new Runtime(gpu);
  const files = referenceCacheFiles(join(runsDir, 'any-run'));
  const lenet = MnistClassifier.load(rt);
  const ae = FeatureAutoencoder.load(rt);
  try {
    await referenceStats(lenet, { cacheFile: files.lenet });
    await referenceStats(ae, { cacheFile: files.autoencoder });
  } finally {
    lenet.dispose();
    ae.dispose();
    rt.pool.trim();
  }
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
      const z = latentNoise(job.config.seed, 0x7ab1e1, 10, run.gan.latent);
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
  const jobs: Job[] = seeds.flatMap((seed) =>
    recipes.map((recipe) => ({ recipe, seed, out: runDir(runsDir, recipe, seed), config: resolveConfig({ ...base, recipe, seed, evalEvery, evalN: curveSamples }) })),
  );
  const cache = referenceCacheFiles(join(runsDir, 'any-run'));
  if (evalEvery > 0 && (o.jobs ?? 1) > 1 && base.dataset === 'mnist') await warmReferenceCache(gpu, runsDir);
  const trained = (o.jobs ?? 1) > 1 ? await trainInChildren(jobs, steps, runsDir, o) : await trainHere(gpu, jobs, steps, o);

  const notes: string[] = [];
  const bySeed = new Map<string, Table1Seed[]>(recipes.map((r) => [r, []]));
  const sampleRows = new Map<string, Float32Array>();
  for (const [i, job] of jobs.entries()) {
    const { recipe, seed, out } = job;
    const { stopped, total, diverged, steps: done, seconds } = trained[i]!;
    if (stopped) notes.push(`${recipe} seed ${seed}: stopped by the time limit at step ${done} of ${total}; its values are not comparable with runs that trained longer.`);
    let fid: number | null = null;
    let fidAe: number | null = null;
    let acc: number | null = null;
    let quality: Pick<Table1Seed, 'psnr' | 'ssim'> = {};
    if (!diverged) {
      const e = await evaluateRun(gpu, out, { n: evalSamples, cacheFiles: cache });
      fid = Number.isFinite(e.fid) ? e.fid : null;
      fidAe = e.second && Number.isFinite(e.second.fid) ? e.second.fid : null;
      acc = e.labelAccuracy?.accuracy ?? null;
      if (e.superResolution) quality = { psnr: e.superResolution.psnr, ssim: e.superResolution.ssim };
      if (fid === null || (e.second && fidAe === null)) notes.push(`${recipe} seed ${seed}: a FID is not finite (the generator's samples are degenerate); it counts as no FID.`);
    } else if (base.model === 'srgan') {
      quality = { psnr: null, ssim: null };
    }
    if (seed === seeds[0]) {
      // The recipe's row of the side-by-side image (its first seed).
      if (!diverged) sampleRows.set(recipe, await sampleRow(gpu, job));
      // Op counts are shape arithmetic: the first seed's stand for the recipe's.
      const counts = join(out, `${basename(out)}.opcounts.json`);
      if (existsSync(counts)) copyFileSync(counts, join(resultsDir, 'opcounts', `train-${recipe.replace(/[^a-zA-Z0-9+.-]/g, '_')}.opcounts.json`));
    }
    bySeed.get(recipe)!.push({
      seed,
      fid,
      fid_ae: fidAe,
      diverged: diverged !== null,
      divergence: diverged ? diverged.replace(/^training diverged: /, '').split('. A checkpoint')[0]! : null,
      classifier_accuracy: acc,
      ...quality,
      steps_trained: done,
      stopped_early: stopped,
      train_seconds: seconds,
      curve: (readFidCsv(out) ?? []).map((p) => ({ step: p.step, fid: p.fid, fid_ae: p.fidAe })),
    });
  }
  const rows: Table1Row[] = recipes.map((r) => aggregateRow(r, loadRecipe(r).spec, paperRow?.fid?.[r] ?? null, bySeed.get(r)!, paperRow?.psnr?.[r] ?? null));

  const [h, w] = (o.model === 'dcgan' || o.model === 'cyclegan') && base.size === 32 ? [32, 32] : [28, 28];
  const blank = new Float32Array(10 * h * w).fill(-1);
  const inputs = inputRow(base);
  const pictureRows = [...(inputs ? [inputs] : []), ...recipes.map((r) => sampleRows.get(r) ?? blank)];
  const all = new Float32Array(pictureRows.length * blank.length);
  pictureRows.forEach((row, k) => all.set(row, k * blank.length));
  writeFileAtomicSync(join(resultsDir, 'table1-samples.png'), pngBytes(imageGrid(all, pictureRows.length * 10, { channels: 1, height: h, width: w }, { cols: 10 })));
  if (o.resume) notes.push('Continued the runs of earlier calls (--resume): a run\'s train time counts this call only (0 for runs already complete).');
  if ((o.jobs ?? 1) > 1) notes.push(`Runs trained side by side (${o.jobs} at a time, one process each): their train times overlap.`);
  const firstRow = base.model === 'cyclegan' ? 'the first ten test images of the source domain, then ' : base.model === 'srgan' ? 'the first ten low-resolution test inputs (enlarged), then ' : '';
  const rowsAre = base.model === 'cyclegan' ? 'their translations' : base.model === 'srgan' ? 'their upscaled images' : 'samples';
  notes.push(`table1-samples.png: ${firstRow}one row of ${rowsAre} per recipe (its seed ${seeds[0]} run) in the order ${recipes.join(', ')}${o.model === 'cgan' ? '; column i is digit i' : ''}.`);
  notes.push('opcounts/train-<recipe>.opcounts.json: the op counts of each recipe\'s seed ' + `${seeds[0]} run (counts are shape arithmetic: the same for every seed).`);

  const curveFiles = { lenet: 'table1-fid-curve.svg', autoencoder: 'table1-fid-curve-ae.svg' };
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
    writeFileAtomicSync(join(resultsDir, curveFiles.autoencoder), fidCurveSvg(t, 'autoencoder'));
  }
  writeFileAtomicSync(join(resultsDir, 'table1.json'), JSON.stringify(t, null, 2) + '\n');
  writeFileAtomicSync(join(resultsDir, 'table1.md'), table1Markdown(t));
  return t;
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
