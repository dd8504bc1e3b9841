// A training run on disk (Node): the run directory, its manifest, per-step losses (CSV) and their
// plot, sample grids at fixed latent vectors, checkpoints, the op-count file, progress display, resume,
// interruption and divergence handling. The training itself is GanTrainer (browser-safe).
//
// Run directory (one run only: a new run needs a new or empty directory, gan/train/run-dir.ts):
//   manifest.json           config, recipe, calibration, adapter, git commit, status, the original
//                           start time and every command that trained it (sessions: the first one
//                           and each resume, with their times and steps)
//   losses.csv, losses.svg  per-step losses (rewritten at each checkpoint, consistent with it); the
//                           seconds column is training time since the run started, across resumes
//   samples/step-NNNNNNNNN.png, samples/latest.png   fixed latent vectors (cgan: row i is digit i)
//   checkpoints/ckpt-NNNNNNNNN.safetensors   the newest three that verify (gan/train/checkpoint-store.ts)
//   fid.csv                 with evalEvery > 0: FID against steps (fid-curve.ts)
//   <run>.opcounts.json     operation counts for the hardware model, of every step since the start
//                           (each checkpoint carries the counts so far, and a resume continues them)

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Gpu } from '../../engine/device/gpu.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import { recipeByName, resolveRecipe, builtinRecipe, RecipeError, type Recipe } from '../../engine/quant/recipe.ts';
import { Runtime } from '../../engine/runtime.ts';
import { Progress, type ProgressMode } from '../cli/progress.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { commit } from '../io/provenance.ts';
import { imageGrid } from '../io/image-grid.ts';
import { pngBytes } from '../io/png-node.ts';
import { lineChart } from '../io/svg-plot.ts';
import { ClassifierWeightsError, MnistClassifier } from '../metrics/classifier.ts';
import type { LabelAccuracy } from '../metrics/evaluate.ts';
import { gridLabelAccuracy } from '../metrics/grid-accuracy.ts';
import { CheckpointError } from './checkpoint.ts';
import { checkpointState, trainerState, type RunMeta } from './checkpoint-meta.ts';
import { CheckpointStore, describeSetAside, type SavedCheckpoint } from './checkpoint-store.ts';
import { resolveConfig, type TrainConfig } from './config.ts';
import { ManifestError, readRunManifest, type RunManifest, type RunSession } from './manifest.ts';
import { FidCurve } from './fid-curve.ts';
import { claimNewRunDirectory } from './run-dir.ts';
import { loadTrainingData } from './training-data.ts';
import { GanTrainer, type StepStats } from './trainer.ts';

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
  /** Aborted (by SIGINT / SIGTERM, gan/cli/interrupt.ts): the current step finishes, then a checkpoint
   *  is written and the run ends with status 'interrupted'. The reason is recorded (e.g. 'SIGINT'). */
  signal?: AbortSignal;
  /** Where warnings and reports go, one line each (default stderr). */
  say?: (line: string) => void;
}

export interface RunResult {
  out: string;
  steps: number;
  status: 'completed' | 'stopped' | 'interrupted';
  /** Steps the configuration asks for. */
  totalSteps: number;
  lastStats: StepStats | null;
  /** LeNet accuracy of the final samples/latest.png against the digits its rows ask for (conditional
   *  models; null for unconditional ones or without the classifier's weights). */
  gridAccuracy: GridAccuracy | null;
  trainer: GanTrainer;
  runtime: Runtime;
}

export interface GridAccuracy extends LabelAccuracy {
  /** The grid, relative to the run directory. */
  file: string;
  /** SHA-256 of the classifier's weights. */
  classifier: string;
}

export class DivergedError extends Error {
  override name = 'DivergedError';
}

/** A recipe name or a path to a recipe JSON file; every problem is a RecipeError. */
export function loadRecipe(nameOrPath: string): Recipe {
  if (builtinRecipe(nameOrPath)) return recipeByName(nameOrPath);
  if (/\.json$/i.test(nameOrPath) || existsSync(nameOrPath)) {
    let text: string;
    try {
      text = readFileSync(nameOrPath, 'utf8');
    } catch (e) {
      throw new RecipeError(`cannot read recipe file '${nameOrPath}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new RecipeError(`recipe file '${nameOrPath}' is not valid JSON: ${(e as Error).message}`);
    }
    return resolveRecipe(json, `recipe file '${nameOrPath}'`);
  }
  return recipeByName(nameOrPath); // throws the unknown-recipe error listing the built-ins
}

/** The total number of steps the config asks for. */
export function totalSteps(c: TrainConfig, stepsPerEpoch: number): number {
  return c.epochs !== null ? c.epochs * stepsPerEpoch : c.steps;
}

/** The run's manifest (gan/train/manifest.ts), which must exist. */
function readManifest(out: string): RunManifest {
  const m = readRunManifest(out);
  if (!m) throw new ManifestError(`${join(out, 'manifest.json')} does not exist; is '${out}' a run directory written by posit-gan train?`);
  return m;
}

/** Reads the configuration a run directory was started with. */
export function readRunConfig(out: string): TrainConfig {
  return resolveConfig(readManifest(out).config);
}

const CSV_HEADER = 'step,epoch,loss_g,loss_d,loss_scale_g,loss_scale_d,skipped_g,skipped_d,seconds';

export async function runTraining(gpu: Gpu, o: RunOptions): Promise<RunResult> {
  const out = resolve(o.out);
  const c = o.config;
  const say = o.say ?? ((line: string) => process.stderr.write(line + '\n'));
  const recipe = loadRecipe(c.recipe);
  const previous = o.resume ? readManifest(out) : null;
  if (!o.resume) claimNewRunDirectory(o.out);
  const store = new CheckpointStore(join(out, 'checkpoints'));
  const rt = new Runtime(gpu);
  const data = loadTrainingData(c, rt);
  rt.recorder = new OpRecorder();
  const trainer = new GanTrainer(rt, c, recipe, data);
  // Only now that the model is built: a run that cannot start leaves its directory empty.
  mkdirSync(join(out, 'samples'), { recursive: true });
  mkdirSync(join(out, 'checkpoints'), { recursive: true });
  const total = totalSteps(c, trainer.stepsPerEpoch);
  const rows: string[] = [];
  const now = new Date().toISOString();
  const notes: string[] = [...(previous?.notes ?? [])];
  const note = (line: string) => {
    notes.push(line);
    say(`posit-gan: ${line}`);
  };
  /** Training time before this process (a resumed run continues its clock). */
  let elapsedBefore = 0;
  /** Whether the op counts cover every step since the start (not only this process's). */
  let countsFromStart = true;

  if (o.resume) {
    let loaded: ReturnType<CheckpointStore['loadLatest']>;
    try {
      loaded = store.loadLatest();
    } catch (e) {
      throw new CheckpointError(`cannot resume: ${(e as Error).message}. Start the run again in a new directory, or over this one with --force.`);
    }
    for (const s of loaded.skipped) {
      const aside = store.setAside(s.path, s.reason, 'damaged');
      note(`skipped a damaged checkpoint, resuming from an older one: ${describeSetAside(aside, 'damaged')}`);
    }
    say(`posit-gan: resuming ${o.out} from step ${loaded.data.step} (${loaded.path})`);
    const state = checkpointState(loaded.data, loaded.path);
    checkResumable(resolveConfig(state.config), c, loaded.path);
    // Loading re-encodes weights (optimizer sync): not training work, so not counted.
    rt.recorder = undefined;
    trainer.load(trainerState(loaded.data, loaded.path));
    const meta = state.run;
    rt.recorder = new OpRecorder();
    if (meta?.opCounts) {
      rt.recorder.addRecords(meta.opCounts);
    } else {
      countsFromStart = false;
      note(`${loaded.path} carries no op counts (written by an older posit-gan): ${basename(out)}.opcounts.json counts only the steps from ${trainer.step} on`);
    }
    // Keep the losses up to the checkpoint; the steps after it are trained again.
    const csv = join(out, 'losses.csv');
    if (existsSync(csv)) {
      for (const line of readFileSync(csv, 'utf8').trim().split('\n').slice(1)) {
        if (Number(line.split(',')[0]) < trainer.step) rows.push(line);
      }
    }
    elapsedBefore = meta?.elapsedSeconds ?? Number(rows.at(-1)?.split(',').at(-1) ?? 0);
  }

  // Every command that trained this run: the earlier ones (a manifest from before sessions were
  // recorded counts as one session) and this one.
  const sessions: RunSession[] = previous?.sessions
    ? [...previous.sessions]
    : previous
      ? [{ command: previous.command, started: previous.started, finished: previous.finished ?? previous.updated, fromStep: 0, toStep: previous.step, status: previous.status, commit: previous.commit ?? previous.gitCommit ?? null }]
      : [];
  const session: RunSession = { command: o.command ?? null, started: now, finished: null, fromStep: trainer.step, toStep: trainer.step, status: 'running', commit: commit() };
  sessions.push(session);
  const started = previous?.started ?? now;

  const manifest = (status: string, extra: Record<string, unknown> = {}) => ({
    tool: 'posit-gan',
    command: sessions[0]!.command,
    status,
    config: c,
    recipe: recipe.spec,
    model: trainer.objective.describe(),
    adapter: gpu.adapter,
    commit: commit(),
    started,
    updated: new Date().toISOString(),
    stepsPerEpoch: trainer.stepsPerEpoch,
    totalSteps: total,
    step: trainer.step,
    calibration: trainer.calibration,
    lossScale: trainer.lossScale,
    sessions,
    notes,
    ...extra,
  });
  const writeManifest = (status: string, extra?: Record<string, unknown>) => {
    session.status = status;
    session.toStep = trainer.step;
    if (status !== 'running') session.finished = new Date().toISOString();
    writeFileAtomicSync(join(out, 'manifest.json'), JSON.stringify(manifest(status, extra), null, 2) + '\n');
  };

  const writeLosses = () => {
    writeFileAtomicSync(join(out, 'losses.csv'), [CSV_HEADER, ...rows].join('\n') + '\n');
    const cols = rows.map((r) => r.split(',').map((v) => (v === '' ? NaN : Number(v))));
    const x = cols.map((r) => r[0]!);
    // Steps without a discriminator update (SR pre-training) have no D loss: plotted from its first.
    const withD = cols.filter((r) => !Number.isNaN(r[3]!));
    writeFileAtomicSync(
      join(out, 'losses.svg'),
      lineChart(
        [
          { name: 'generator', x, y: cols.map((r) => r[2]!) },
          { name: 'discriminator', x: withD.map((r) => r[0]!), y: withD.map((r) => r[3]!) },
        ],
        { title: `${c.model} ${recipe.name}: losses`, xLabel: 'step', yLabel: trainer.objective.lossName },
      ),
    );
  };

  const t0 = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;

  const reportSaved = (saved: SavedCheckpoint) => {
    for (const d of saved.damaged) note(describeSetAside(d, 'damaged'));
    for (const d of saved.superseded) note(describeSetAside(d, 'superseded'));
  };

  const checkpoint = async () => {
    const st = await trainer.state();
    const { tensors, ...meta } = st;
    const run: RunMeta = { elapsedSeconds: elapsed(), opCounts: countsFromStart && rt.recorder ? rt.recorder.records() : null };
    const codes = new Set(st.codeTensors);
    reportSaved(
      store.save({
        step: st.step,
        meta: { trainer: meta, config: c, run },
        tensors: Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, { shape: [v.length], data: v, ...(codes.has(k) ? { codes: true } : {}) }])),
      }),
    );
    writeLosses();
  };

  const sample = async () => {
    // The sample grid is not training work: it stays out of the run's op counts.
    const recorder = rt.recorder;
    rt.recorder = undefined;
    const grid = await trainer.sampleGrid().finally(() => (rt.recorder = recorder));
    const [ch, h, w] = grid.shape;
    const png = pngBytes(imageGrid(grid.images, grid.count, { channels: ch as 1, height: h, width: w }, { cols: grid.cols, rows: grid.rows }));
    writeFileAtomicSync(join(out, 'samples', `step-${String(trainer.step).padStart(9, '0')}.png`), png);
    writeFileAtomicSync(join(out, 'samples', 'latest.png'), png);
    return grid;
  };

  const recordedFrom = trainer.step;
  const writeOpCounts = () => {
    if (!rt.recorder) return;
    const runName = basename(out);
    const counts = rt.recorder.toFile({
      name: runName,
      command: 'train',
      model: c.model,
      recipe: recipe.name,
      steps: countsFromStart ? trainer.step : trainer.step - recordedFrom,
      batch: c.batch,
      device: gpu.adapter.description,
      created: new Date().toISOString(),
      commit: commit(),
      ...(o.command ? { commandLine: o.command } : {}),
    });
    writeFileAtomicSync(join(out, `${runName}.opcounts.json`), JSON.stringify(counts, null, 1) + '\n');
  };

  // FID against steps (evalEvery > 0): evaluated at every multiple of evalEvery and at the last step.
  const curve = c.evalEvery > 0 ? FidCurve.open(trainer, out, c.evalN, c.evalEvery, c.dataset) : null;

  writeManifest('running');
  const progress = new Progress({ mode: o.progress ?? 'bar', total, startStep: trainer.step });
  let last: StepStats | null = null;
  let doneHere = 0;
  while (trainer.step < total) {
    if (o.signal?.aborted) break;
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
    // An iteration without a discriminator update (SR pre-training) leaves loss_d empty.
    rows.push([s.step, s.epoch, s.lossG, s.lossD ?? '', s.lossScaleG, s.lossScaleD, +s.skippedG, +s.skippedD, elapsed().toFixed(3)].join(','));
    progress.update({ step: trainer.step, epoch: s.epoch, losses: s.lossD === null ? { G: s.lossG } : { G: s.lossG, D: s.lossD } });
    const epochEnd = trainer.step % trainer.stepsPerEpoch === 0;
    if (trainer.step % c.checkpointEvery === 0 && trainer.step < total) await checkpoint();
    if ((c.sampleEvery > 0 ? trainer.step % c.sampleEvery === 0 : epochEnd) && trainer.step < total) await sample();
    if (curve && trainer.step % c.evalEvery === 0) await curve.evaluate();
  }
  const finished = trainer.step >= total;
  const interrupted = !finished && o.signal?.aborted === true;
  await checkpoint();
  // An interrupted run ends as soon as its state is safe; the sample grid (and its score) wait for the resume.
  const finalGrid = interrupted ? null : await sample();
  const gridAccuracy = finalGrid?.labels && finalGrid.shape[0] === 1 && c.dataset === 'mnist' ? await finalGridAccuracy(gpu, finalGrid.images, finalGrid.labels, finalGrid.shape, notes) : null;
  if (curve) {
    if (!interrupted && curve.lastStep !== trainer.step) await curve.evaluate();
    curve.dispose();
  }
  writeOpCounts();
  const status = finished ? 'completed' : interrupted ? 'interrupted' : 'stopped';
  writeManifest(status, {
    finished: new Date().toISOString(),
    ...(interrupted ? { interruptedBy: String(o.signal!.reason ?? 'signal') } : {}),
    ...(gridAccuracy ? { sampleGridAccuracy: gridAccuracy } : {}),
  });
  progress.finish(interrupted ? `interrupted (${String(o.signal!.reason ?? 'signal')})` : undefined);
  return { out, steps: trainer.step, totalSteps: total, status, lastStats: last, gridAccuracy, trainer, runtime: rt };
}

/** What the user sees: how many digits of the final conditional grid the LeNet reads as asked (on a
 *  runtime of its own, so that it stays out of the run's op counts). A missing or damaged classifier
 *  file costs only this figure, with a note saying why. */
async function finalGridAccuracy(gpu: Gpu, images: Float32Array, labels: Uint32Array, shape: readonly number[], notes: string[]): Promise<GridAccuracy | null> {
  const rt = new Runtime(gpu);
  let classifier: MnistClassifier | undefined;
  try {
    classifier = MnistClassifier.load(rt);
    const a = await gridLabelAccuracy(classifier, images, labels, { height: shape[1]!, width: shape[2]! });
    return { file: 'samples/latest.png', ...a, classifier: classifier.sha256 };
  } catch (e) {
    if (!(e instanceof ClassifierWeightsError)) throw e;
    const line = `posit-gan: cannot score samples/latest.png: ${e.message}`;
    notes.push(line);
    process.stderr.write(line + '\n');
    return null;
  } finally {
    classifier?.dispose();
  }
}

/** Settings that may change when a run is resumed (how long, how often to save); the rest must match. */
const RESUME_MAY_CHANGE: readonly (keyof TrainConfig)[] = ['steps', 'epochs', 'checkpointEvery', 'sampleEvery', 'evalEvery', 'evalN'];

function checkResumable(saved: TrainConfig, now: TrainConfig, path: string): void {
  const diff = (Object.keys(now) as (keyof TrainConfig)[]).filter((k) => !RESUME_MAY_CHANGE.includes(k) && JSON.stringify(saved[k]) !== JSON.stringify(now[k]));
  if (diff.length) {
    throw new Error(
      `cannot resume from ${path}: ${diff.map((k) => `${k} was ${JSON.stringify(saved[k])}, now ${JSON.stringify(now[k])}`).join('; ')}. ` +
        `Only ${RESUME_MAY_CHANGE.join(', ')} may change when resuming.`,
    );
  }
}
