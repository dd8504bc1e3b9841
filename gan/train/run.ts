// A training run on disk (Node): the run directory, its manifest, per-step losses (CSV) and their
// plot, sample grids at fixed latent vectors, checkpoints, the op-count file, progress display, resume
// and divergence handling. The training itself is GanTrainer (browser-safe).
//
// Run directory:
//   manifest.json           config, recipe, calibration, adapter, git commit, times, status
//   losses.csv, losses.svg  per-step losses (rewritten at each checkpoint, consistent with it)
//   samples/step-NNNNNNNNN.png, samples/latest.png   fixed latent vectors (cgan: row i is digit i)
//   checkpoints/ckpt-NNNNNNNNN.pgc   the newest three
//   fid.csv                 with evalEvery > 0: FID against steps (fid-curve.ts)
//   <run>.opcounts.json     operation counts for the hardware model

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Gpu } from '../../engine/device/gpu.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import { recipeByName, resolveRecipe, builtinRecipe, type Recipe } from '../../engine/quant/recipe.ts';
import { Runtime } from '../../engine/runtime.ts';
import { Progress, type ProgressMode } from '../cli/progress.ts';
import { loadMnist } from '../data/mnist.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { commit } from '../io/provenance.ts';
import { imageGrid } from '../io/image-grid.ts';
import { pngBytes } from '../io/png-node.ts';
import { lineChart } from '../io/svg-plot.ts';
import { loadLatestCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { resolveConfig, type TrainConfig } from './config.ts';
import { FidCurve } from './fid-curve.ts';
import { GanTrainer, latentNoise, type StepStats, type TrainerState } from './trainer.ts';

export interface RunOptions {
  config: TrainConfig;
  out: string;
  /** Continue the run in `out` from its newest good checkpoint. */
  resume?: boolean;
  progress?: ProgressMode;
  /** The command line, for the manifest. */
  command?: string;
  /** Stop after this many steps in this process (tests use it to simulate a crash). */
  stopAfter?: number;
  /** Stop at the first step boundary after this time (Date.now() milliseconds), checkpointed and
   *  resumable, with status 'stopped' (a time budget, e.g. on a lent GPU). */
  deadline?: number;
}

export interface RunResult {
  out: string;
  steps: number;
  status: 'completed' | 'stopped';
  /** Steps the configuration asks for. */
  totalSteps: number;
  lastStats: StepStats | null;
  trainer: GanTrainer;
  runtime: Runtime;
}

export class DivergedError extends Error {
  override name = 'DivergedError';
}

/** A recipe name or a path to a recipe JSON file. */
export function loadRecipe(nameOrPath: string): Recipe {
  if (builtinRecipe(nameOrPath)) return recipeByName(nameOrPath);
  if (/\.json$/i.test(nameOrPath) || existsSync(nameOrPath)) {
    let text: string;
    try {
      text = readFileSync(nameOrPath, 'utf8');
    } catch (e) {
      throw new Error(`cannot read recipe file '${nameOrPath}': ${(e as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`recipe file '${nameOrPath}' is not valid JSON: ${(e as Error).message}`);
    }
    return resolveRecipe(json);
  }
  return recipeByName(nameOrPath); // throws the unknown-recipe error listing the built-ins
}

/** The total number of steps the config asks for. */
export function totalSteps(c: TrainConfig, stepsPerEpoch: number): number {
  return c.epochs !== null ? c.epochs * stepsPerEpoch : c.steps;
}

/** Reads the configuration a run directory was started with. */
export function readRunConfig(out: string): TrainConfig {
  const path = join(out, 'manifest.json');
  let m: { config?: Record<string, unknown> };
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot resume: ${path} is missing or unreadable (${(e as Error).message}); is '${out}' a run directory?`);
  }
  if (!m.config) throw new Error(`cannot resume: ${path} has no config`);
  return resolveConfig(m.config);
}

const CSV_HEADER = 'step,epoch,loss_g,loss_d,loss_scale_g,loss_scale_d,skipped_g,skipped_d,seconds';

export async function runTraining(gpu: Gpu, o: RunOptions): Promise<RunResult> {
  const out = resolve(o.out);
  const c = o.config;
  const recipe = loadRecipe(c.recipe);
  const data = loadMnist('train', { pad32: c.model === 'dcgan' && c.size === 32, ...(c.dataLimit ? { limit: c.dataLimit } : {}) });
  mkdirSync(join(out, 'samples'), { recursive: true });
  mkdirSync(join(out, 'checkpoints'), { recursive: true });
  const rt = new Runtime(gpu);
  rt.recorder = new OpRecorder();
  const trainer = new GanTrainer(rt, c, recipe, data);
  const total = totalSteps(c, trainer.stepsPerEpoch);
  const rows: string[] = [];
  const started = new Date().toISOString();
  const notes: string[] = [];

  if (o.resume) {
    const loaded = loadLatestCheckpoint(join(out, 'checkpoints'));
    for (const s of loaded.skipped) {
      const line = `posit-gan: checkpoint ${s.path} is unusable (${s.reason}); using an older one`;
      notes.push(line);
      process.stderr.write(line + '\n');
    }
    checkResumable(loaded.data.meta.config as TrainConfig | undefined, c, loaded.path);
    trainer.load(trainerState(loaded.data));
    // Keep the losses up to the checkpoint; the steps after it are trained again.
    const csv = join(out, 'losses.csv');
    if (existsSync(csv)) {
      for (const line of readFileSync(csv, 'utf8').trim().split('\n').slice(1)) {
        if (Number(line.split(',')[0]) < trainer.step) rows.push(line);
      }
    }
  }

  // Fixed sample inputs: 100 latent vectors; for the cgan, row i is digit i.
  const sampleZ = latentNoise(c.seed, 0x7fffffff, 100, trainer.gan.latent);
  const sampleLabels = trainer.gan.conditional ? Uint32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)) : undefined;

  const manifest = (status: string, extra: Record<string, unknown> = {}) => ({
    tool: 'posit-gan',
    command: o.command ?? null,
    status,
    config: c,
    recipe: recipe.spec,
    model: trainer.gan.describe(),
    adapter: gpu.adapter,
    commit: commit(),
    started,
    updated: new Date().toISOString(),
    stepsPerEpoch: trainer.stepsPerEpoch,
    totalSteps: total,
    step: trainer.step,
    calibration: trainer.calibration,
    lossScale: trainer.lossScale,
    notes,
    ...extra,
  });
  const writeManifest = (status: string, extra?: Record<string, unknown>) =>
    writeFileAtomicSync(join(out, 'manifest.json'), JSON.stringify(manifest(status, extra), null, 2) + '\n');

  const writeLosses = () => {
    writeFileAtomicSync(join(out, 'losses.csv'), [CSV_HEADER, ...rows].join('\n') + '\n');
    const cols = rows.map((r) => r.split(',').map(Number));
    const x = cols.map((r) => r[0]!);
    writeFileAtomicSync(
      join(out, 'losses.svg'),
      lineChart(
        [
          { name: 'generator', x, y: cols.map((r) => r[2]!) },
          { name: 'discriminator', x, y: cols.map((r) => r[3]!) },
        ],
        { title: `${c.model} ${recipe.name}: losses`, xLabel: 'step', yLabel: trainer.gan.loss === 'mse' ? 'MSE loss' : 'BCE loss' },
      ),
    );
  };

  const checkpoint = async () => {
    const st = await trainer.state();
    const { tensors, ...meta } = st;
    saveCheckpoint(join(out, 'checkpoints'), { step: st.step, meta: { trainer: meta, config: c }, tensors: Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, { shape: [v.length], data: v }])) });
    writeLosses();
  };

  const sample = async () => {
    // The sample grid is not training work: it stays out of the run's op counts.
    const recorder = rt.recorder;
    rt.recorder = undefined;
    const imgs = await trainer.generate(sampleZ, sampleLabels).finally(() => (rt.recorder = recorder));
    const [ch, h, w] = trainer.gan.imageShape;
    const png = pngBytes(imageGrid(imgs, 100, { channels: ch as 1, height: h, width: w }, { cols: 10, rows: 10 }));
    writeFileAtomicSync(join(out, 'samples', `step-${String(trainer.step).padStart(9, '0')}.png`), png);
    writeFileAtomicSync(join(out, 'samples', 'latest.png'), png);
  };

  // FID against steps (evalEvery > 0): evaluated at every multiple of evalEvery and at the last step.
  const curve = c.evalEvery > 0 ? FidCurve.open(trainer, out, c.evalN, c.evalEvery) : null;

  writeManifest('running');
  const progress = new Progress({ mode: o.progress ?? 'bar', total, startStep: trainer.step });
  const t0 = performance.now();
  let last: StepStats | null = null;
  let doneHere = 0;
  const recordedFrom = trainer.step;
  while (trainer.step < total) {
    if (o.stopAfter !== undefined && doneHere >= o.stopAfter) break;
    if (o.deadline !== undefined && Date.now() >= o.deadline) break;
    const s = await trainer.trainStep();
    last = s;
    if (s.diverged) {
      // The updates were not applied: the weights are the last good state.
      await checkpoint();
      curve?.dispose();
      writeManifest('diverged', { diverged: s.diverged });
      progress.finish(`stopped: ${s.diverged}`);
      throw new DivergedError(`training diverged: ${s.diverged}. A checkpoint of the last good state (step ${trainer.step}) is in ${join(out, 'checkpoints')}.`);
    }
    doneHere++;
    rows.push(
      [s.step, s.epoch, s.lossG, s.lossD, s.lossScaleG, s.lossScaleD, +s.skippedG, +s.skippedD, ((performance.now() - t0) / 1000).toFixed(3)].join(','),
    );
    progress.update({ step: trainer.step, epoch: s.epoch, losses: { G: s.lossG, D: s.lossD } });
    const epochEnd = trainer.step % trainer.stepsPerEpoch === 0;
    if (trainer.step % c.checkpointEvery === 0 && trainer.step < total) await checkpoint();
    if ((c.sampleEvery > 0 ? trainer.step % c.sampleEvery === 0 : epochEnd) && trainer.step < total) await sample();
    if (curve && trainer.step % c.evalEvery === 0) await curve.evaluate();
  }
  const finished = trainer.step >= total;
  await checkpoint();
  await sample();
  if (curve) {
    if (curve.lastStep !== trainer.step) await curve.evaluate();
    curve.dispose();
  }
  const runName = basename(out);
  if (rt.recorder) {
    const counts = rt.recorder.toFile({
      name: runName,
      command: 'train',
      model: c.model,
      recipe: recipe.name,
      steps: trainer.step - recordedFrom,
      batch: c.batch,
      device: gpu.adapter.description,
      created: new Date().toISOString(),
      commit: commit(),
      ...(o.command ? { commandLine: o.command } : {}),
    });
    writeFileAtomicSync(join(out, `${runName}.opcounts.json`), JSON.stringify(counts, null, 1) + '\n');
  }
  writeManifest(finished ? 'completed' : 'stopped', { finished: new Date().toISOString() });
  progress.finish();
  return { out, steps: trainer.step, totalSteps: total, status: finished ? 'completed' : 'stopped', lastStats: last, trainer, runtime: rt };
}

/** Settings that may change when a run is resumed (how long, how often to save); the rest must match. */
const RESUME_MAY_CHANGE: readonly (keyof TrainConfig)[] = ['steps', 'epochs', 'checkpointEvery', 'sampleEvery', 'evalEvery', 'evalN'];

function checkResumable(saved: TrainConfig | undefined, now: TrainConfig, path: string): void {
  if (!saved) throw new Error(`cannot resume from ${path}: it records no configuration`);
  const diff = (Object.keys(now) as (keyof TrainConfig)[]).filter((k) => !RESUME_MAY_CHANGE.includes(k) && JSON.stringify(saved[k]) !== JSON.stringify(now[k]));
  if (diff.length) {
    throw new Error(
      `cannot resume from ${path}: ${diff.map((k) => `${k} was ${JSON.stringify(saved[k])}, now ${JSON.stringify(now[k])}`).join('; ')}. ` +
        `Only ${RESUME_MAY_CHANGE.join(', ')} may change when resuming.`,
    );
  }
}

function trainerState(data: { meta: Record<string, unknown>; tensors: Record<string, { data: Float32Array }> }): TrainerState {
  const meta = data.meta.trainer as Omit<TrainerState, 'tensors'> | undefined;
  if (!meta) throw new Error('checkpoint has no trainer state (was it written by posit-gan train?)');
  return { ...meta, tensors: Object.fromEntries(Object.entries(data.tensors).map(([k, v]) => [k, v.data])) };
}
