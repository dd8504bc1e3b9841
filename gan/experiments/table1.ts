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
import type { ModelKind } from '../models/gan.ts';
import { generateImages } from '../models/generate.ts';
import type { ProgressMode } from '../cli/progress.ts';
import { resolveConfig, type TrainConfig } from '../train/config.ts';
import { CheckpointStore } from '../train/checkpoint-store.ts';
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

/** The paper's Table I (Inception-feature FIDs; docs/method.md section 7.1), shown for the ordering only. */
export const PAPER_FID: Record<ModelKind, Record<string, number>> = {
  cgan: { fp32: 67.31, fp16: 64.58, 'p8+': 70, p8: 75.41, fp8: 423.28 },
  // The paper's DCGAN row is on LSUN bedrooms; ours trains on MNIST: compare orderings only.
  dcgan: { fp32: 43.12, fp16: 49, 'p8+': 44.82, p8: 49.54, fp8: 318.07 },
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
  const path = join(out, 'manifest.json');
  const m = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
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
  const path = join(job.out, 'manifest.json');
  if (!existsSync(path)) return 'start';
  const m = JSON.parse(readFileSync(path, 'utf8'));
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

/** The steps of one epoch at this configuration (BatchOrder drops the last partial batch). */
function stepsPerEpoch(c: TrainConfig): number {
  const n = c.dataLimit === null ? MNIST_TRAIN_IMAGES : Math.min(c.dataLimit, MNIST_TRAIN_IMAGES);
  return new BatchOrder({ n, batchSize: c.batch, seed: c.seed }).batchesPerEpoch;
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
  const evalEvery = o.evalEvery ?? Math.max(1, Math.ceil(steps / DEFAULT_CURVE_POINTS));
  const curveSamples = o.curveSamples ?? 2000;
  const evalSamples = o.evalSamples ?? 10_000;
  // Seed-major order: with a time limit, every recipe gets its first seed before any gets a second.
  const jobs: Job[] = seeds.flatMap((seed) =>
    recipes.map((recipe) => ({ recipe, seed, out: runDir(runsDir, recipe, seed), config: resolveConfig({ ...base, recipe, seed, evalEvery, evalN: curveSamples }) })),
  );
  const cache = referenceCacheFiles(join(runsDir, 'any-run'));
  if (evalEvery > 0 && (o.jobs ?? 1) > 1) await warmReferenceCache(gpu, runsDir);
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
    if (!diverged) {
      const e = await evaluateRun(gpu, out, { n: evalSamples, cacheFiles: cache });
      fid = Number.isFinite(e.fid) ? e.fid : null;
      fidAe = e.second && Number.isFinite(e.second.fid) ? e.second.fid : null;
      acc = e.labelAccuracy?.accuracy ?? null;
      if (fid === null || fidAe === null) notes.push(`${recipe} seed ${seed}: a FID is not finite (the generator's samples are degenerate); it counts as no FID.`);
    }
    if (seed === seeds[0]) {
      // The recipe's row of the side-by-side image (its first seed): digits 0..9 (cgan) or ten samples.
      if (!diverged) {
        const run = restoreRun(gpu, out, { asTrained: true });
        const z = latentNoise(job.config.seed, 0x7ab1e1, 10, run.gan.latent);
        sampleRows.set(recipe, await generateImages(run.runtime, run.gan, z, run.gan.conditional ? Uint32Array.from({ length: 10 }, (_, k) => k) : undefined));
      }
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
      steps_trained: done,
      stopped_early: stopped,
      train_seconds: seconds,
      curve: (readFidCsv(out) ?? []).map((p) => ({ step: p.step, fid: p.fid, fid_ae: p.fidAe })),
    });
  }
  const rows: Table1Row[] = recipes.map((r) => aggregateRow(r, loadRecipe(r).spec, PAPER_FID[o.model][r] ?? null, bySeed.get(r)!));

  const [h, w] = o.model === 'dcgan' && base.size === 32 ? [32, 32] : [28, 28];
  const blank = new Float32Array(10 * h * w).fill(-1);
  const all = new Float32Array(recipes.length * blank.length);
  recipes.forEach((r, k) => all.set(sampleRows.get(r) ?? blank, k * blank.length));
  writeFileAtomicSync(join(resultsDir, 'table1-samples.png'), pngBytes(imageGrid(all, recipes.length * 10, { channels: 1, height: h, width: w }, { cols: 10 })));
  if (o.resume) notes.push('Continued the runs of earlier calls (--resume): a run\'s train time counts this call only (0 for runs already complete).');
  if ((o.jobs ?? 1) > 1) notes.push(`Runs trained side by side (${o.jobs} at a time, one process each): their train times overlap.`);
  notes.push(`table1-samples.png: one row per recipe (its seed ${seeds[0]} run) in the order ${recipes.join(', ')}${o.model === 'cgan' ? '; column i is digit i' : ''}.`);
  notes.push('opcounts/train-<recipe>.opcounts.json: the op counts of each recipe\'s seed ' + `${seeds[0]} run (counts are shape arithmetic: the same for every seed).`);

  const curveFiles = { lenet: 'table1-fid-curve.svg', autoencoder: 'table1-fid-curve-ae.svg' };
  const t: Table1 = {
    commit: commit(),
    command: o.command,
    device: gpu.adapter.description,
    model: o.model,
    epochs: Number((steps / perEpoch).toFixed(3)),
    steps,
    steps_per_epoch: perEpoch,
    seeds,
    evaluation: {
      samples: evalSamples,
      features: "posit-gan's LeNet-5 (84 features)",
      second_features: "posit-gan's MLP autoencoder (its 32-value code; trained without labels)",
      reference: '10000 MNIST test images',
    },
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
