// The paper's Table I for one model: train every recipe with the same seed and data order, evaluate
// each (FID on LeNet features, classifier accuracy for the cgan), and write results/<name>/table1.md,
// table1.json, a side-by-side sample image and each run's op counts. Training runs (checkpoints and
// all) go under runs/<name>-table1/<recipe>, which is not committed and is replaced each time.
// Interrupted (Options.signal), the run in training stops at a checkpoint and the table is not written.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gpu } from '../../engine/device/gpu.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { imageGrid } from '../io/image-grid.ts';
import { pngBytes } from '../io/png-node.ts';
import type { ModelKind } from '../models/gan.ts';
import { generateImages } from '../models/generate.ts';
import type { ProgressMode } from '../cli/progress.ts';
import { resolveConfig, type TrainConfig } from '../train/config.ts';
import { readRunManifest } from '../train/manifest.ts';
import { restoreRun } from '../train/restore.ts';
import { clearRunDirectory } from '../train/run-dir.ts';
import { DivergedError, runTraining } from '../train/run.ts';
import { latentNoise } from '../train/trainer.ts';
import { evaluateRun } from './evaluate-run.ts';

export const TABLE1_RECIPES = ['fp32', 'fp16', 'p8+', 'p8', 'fp8'] as const;

/** The paper's Table I (Inception-feature FIDs; docs/method.md section 7.1), shown for the ordering only. */
export const PAPER_FID: Record<ModelKind, Record<string, number>> = {
  cgan: { fp32: 67.31, fp16: 64.58, 'p8+': 70, p8: 75.41, fp8: 423.28 },
  // The paper's DCGAN row is on LSUN bedrooms; ours trains on MNIST: compare orderings only.
  dcgan: { fp32: 43.12, fp16: 49, 'p8+': 44.82, p8: 49.54, fp8: 318.07 },
};

export interface Table1Row {
  recipe: string;
  fid: number | null;
  diverged: boolean;
  /** Why it diverged (null otherwise). */
  divergence: string | null;
  classifier_accuracy: number | null;
  paper_fid: number | null;
  steps_trained: number;
  /** Whether the time limit stopped its training before the table's steps. */
  stopped_early: boolean;
  train_seconds: number;
}

export interface Table1 {
  device: string;
  model: ModelKind;
  epochs: number | null;
  steps: number;
  seed: number;
  command: string;
  evaluation: { samples: number; features: string; reference: string };
  config: TrainConfig;
  rows: Table1Row[];
  notes: string[];
}

export interface Table1Options {
  name: string;
  model: ModelKind;
  /** Training-config overrides (steps or epochs, batch, width, ...). */
  config: Record<string, unknown>;
  recipes?: readonly string[];
  evalSamples?: number;
  command: string;
  progress?: ProgressMode;
  root?: string;
  /** Recipes trained at once, each in its own process (default 1: one after another, here). */
  jobs?: number;
  /** Extra `posit-gan train` arguments for those processes (the device options). */
  childArgs?: string[];
  /** Training stops at this time (Date.now() ms) even if steps remain; such rows say so. */
  deadline?: number;
  /** Aborted with a signal's name (SIGINT, SIGTERM): training stops at a checkpoint (child processes
   *  get the signal), nothing more starts, and runTable1 throws a Table1Interrupted. */
  signal?: AbortSignal;
}

/** The table was interrupted before it was written; the runs trained so far stay in runsDir. */
export class Table1Interrupted extends Error {
  override name = 'Table1Interrupted';
}

function interrupted(runsDir: string, signal: AbortSignal): Table1Interrupted {
  return new Table1Interrupted(
    `interrupted (${String(signal.reason)}) before the table was written. The runs in ${runsDir} end at a checkpoint ` +
      '(each continues with `posit-gan train --resume DIR`); running the experiment again trains them anew.',
  );
}

function fmt(x: number | null, digits: number): string {
  return x === null ? '—' : x.toFixed(digits);
}

export function table1Markdown(t: Table1): string {
  const lines = [
    `# Table I reproduction: ${t.model} on MNIST`,
    '',
    `Device: ${t.device}. Training: ${t.epochs !== null ? `${t.epochs} epochs` : `${t.steps} steps`} of batch ${t.config.batch}, seed ${t.seed}, the same data order for every recipe.`,
    `Evaluation: ${t.evaluation.samples} generated samples against the ${t.evaluation.reference}; FID on ${t.evaluation.features}.`,
    '',
    '| recipe | FID (LeNet features) | classifier accuracy | paper FID (Inception, for ordering only) | steps | train time |',
    '|---|---|---|---|---|---|',
    ...t.rows.map(
      (r) =>
        `| ${r.recipe} | ${r.diverged ? `diverged (${r.divergence})` : fmt(r.fid, 2)} | ${r.classifier_accuracy === null ? '—' : `${(100 * r.classifier_accuracy).toFixed(1)}%`} | ${fmt(r.paper_fid, 2)} | ${r.steps_trained}${r.stopped_early ? ' (time limit)' : ''} | ${(r.train_seconds / 60).toFixed(1)} min |`,
    ),
    '',
    'The LeNet-feature FIDs are on a different scale from the paper\'s Inception-feature FIDs: compare the',
    'ordering of the recipes, never the values.' + (t.model === 'dcgan' ? ' The paper\'s DCGAN row was trained on LSUN, ours on MNIST.' : ''),
    '',
    `Command: \`${t.command}\``,
    ...(t.notes.length ? ['', ...t.notes.map((n) => `- ${n}`)] : []),
    '',
  ];
  return lines.join('\n');
}

interface TrainedRun {
  out: string;
  /** Stopped by the time limit before its steps were done. */
  stopped: boolean;
  /** Steps its configuration asked for. */
  total: number;
  /** Why it diverged (null if it did not). */
  diverged: string | null;
  steps: number;
  seconds: number;
}

function runDir(runsDir: string, recipe: string): string {
  return join(runsDir, recipe.replace(/[^a-zA-Z0-9+.-]/g, '_'));
}

/** Trains the recipes one after another in this process. */
async function trainHere(gpu: Gpu, recipes: readonly string[], base: TrainConfig, runsDir: string, o: Table1Options): Promise<TrainedRun[]> {
  const runs: TrainedRun[] = [];
  for (const recipe of recipes) {
    if (o.signal?.aborted) throw interrupted(runsDir, o.signal);
    const out = runDir(runsDir, recipe);
    clearRunDirectory(out);
    const t0 = performance.now();
    let diverged: string | null = null;
    let steps = 0;
    let stopped = false;
    let total = 0;
    try {
      const r = await runTraining(gpu, {
        config: resolveConfig({ ...base, recipe }),
        out,
        progress: o.progress ?? 'bar',
        command: o.command,
        ...(o.deadline ? { deadline: o.deadline } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      if (r.status === 'interrupted') throw interrupted(runsDir, o.signal!);
      steps = r.steps;
      total = r.totalSteps;
      stopped = r.status === 'stopped';
      r.trainer.dispose();
      r.runtime.pool.trim();
    } catch (e) {
      if (!(e instanceof DivergedError)) throw e;
      diverged = e.message;
      const m = readRunManifest(out)!;
      steps = m.step;
      total = m.totalSteps;
    }
    runs.push({ out, stopped, total, diverged, steps, seconds: (performance.now() - t0) / 1000 });
  }
  return runs;
}

const CLI = fileURLToPath(new URL('../../bin/posit-gan', import.meta.url));

/**
 * Trains the recipes side by side, each in its own `posit-gan train` process (at most o.jobs at a
 * time): a training step is bound by the host's time to record it, so separate processes use more
 * CPU cores while sharing the GPU. Each run is the one `train` would make alone (same config, same
 * seed); its output goes to runs/NAME-table1/<recipe>.log.
 */
async function trainInChildren(recipes: readonly string[], base: TrainConfig, runsDir: string, o: Table1Options): Promise<TrainedRun[]> {
  mkdirSync(runsDir, { recursive: true });
  const runs: TrainedRun[] = new Array(recipes.length);
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
    while (!failed && !o.signal?.aborted && next < recipes.length) {
      const i = next++;
      const recipe = recipes[i]!;
      const out = runDir(runsDir, recipe);
      clearRunDirectory(out);
      const configFile = `${out}.config.json`;
      writeFileAtomicSync(configFile, JSON.stringify(resolveConfig({ ...base, recipe }), null, 2) + '\n');
      const log = `${out}.log`;
      const fd = openSync(log, 'w');
      const t0 = performance.now();
      const code = await new Promise<number>((done, fail) => {
        const limit = o.deadline ? ['--time-limit', String(Math.max(1, (o.deadline - Date.now()) / 1000))] : [];
        const child = spawn(process.execPath, [CLI, 'train', '--config', configFile, '--out', out, '--progress', 'jsonl', ...limit, ...(o.childArgs ?? [])], {
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
      const manifest = readRunManifest(out);
      if (o.signal?.aborted) return; // stopped by the signal: reported once all have stopped
      if (code === 0 && (manifest?.status === 'completed' || manifest?.status === 'stopped')) {
        runs[i] = { out, stopped: manifest.status === 'stopped', total: manifest.totalSteps, diverged: null, steps: manifest.step, seconds };
      } else if (manifest?.status === 'diverged') {
        runs[i] = { out, stopped: false, total: manifest.totalSteps, diverged: String(manifest.diverged), steps: manifest.step, seconds };
      } else {
        if (failed) return; // stopped because another run failed
        failed = true;
        for (const c of live) c.kill();
        const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n');
        throw new Error(`training ${recipe} failed (exit status ${code}); its log ${log} ends:\n${tail}`);
      }
      if (o.progress !== 'quiet') process.stderr.write(`table1: ${recipe} ${runs[i]!.diverged ? 'diverged' : 'trained'} (${runs[i]!.steps} steps, ${seconds.toFixed(0)} s)\n`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.jobs ?? 1, recipes.length) }, one));
  } finally {
    o.signal?.removeEventListener('abort', forward);
    process.off('exit', onExit);
  }
  if (o.signal?.aborted) throw interrupted(runsDir, o.signal);
  return runs;
}

export async function runTable1(gpu: Gpu, o: Table1Options): Promise<Table1> {
  const root = resolve(o.root ?? '.');
  const resultsDir = join(root, 'results', o.name);
  const runsDir = join(root, 'runs', `${o.name}-table1`);
  mkdirSync(join(resultsDir, 'opcounts'), { recursive: true });
  const recipes = o.recipes ?? TABLE1_RECIPES;
  const base = resolveConfig({ ...o.config, model: o.model });
  const rows: Table1Row[] = [];
  const notes: string[] = [];
  const sampleRows: Float32Array[] = [];
  const evalSamples = o.evalSamples ?? 10_000;
  const trained = (o.jobs ?? 1) > 1 ? await trainInChildren(recipes, base, runsDir, o) : await trainHere(gpu, recipes, base, runsDir, o);
  for (const [i, recipe] of recipes.entries()) {
    const config = resolveConfig({ ...base, recipe });
    const { out, stopped, total, diverged, steps, seconds } = trained[i]!;
    if (stopped) notes.push(`${recipe}: stopped by the time limit at step ${steps} of ${total}; its row is not comparable with rows that trained longer.`);
    const counts = join(out, `${basename(out)}.opcounts.json`);
    if (existsSync(counts)) copyFileSync(counts, join(resultsDir, 'opcounts', `train-${basename(out)}.opcounts.json`));
    let fid: number | null = null;
    let acc: number | null = null;
    if (!diverged) {
      const e = await evaluateRun(gpu, out, { n: evalSamples });
      fid = e.fid;
      acc = e.labelAccuracy?.accuracy ?? null;
      if (!Number.isFinite(fid)) {
        notes.push(`${recipe}: the FID is not finite (the generator's samples are degenerate)`);
        fid = null;
      }
      // One row of the side-by-side image: digits 0..9 (cgan) or ten samples, fixed latent vectors.
      const run = restoreRun(gpu, out, { asTrained: true });
      const z = latentNoise(config.seed, 0x7ab1e1, 10, run.gan.latent);
      sampleRows.push(await generateImages(run.runtime, run.gan, z, run.gan.conditional ? Uint32Array.from({ length: 10 }, (_, i) => i) : undefined));
    } else {
      sampleRows.push(new Float32Array(10 * base.size * base.size).fill(-1));
    }
    rows.push({
      recipe,
      fid,
      diverged: diverged !== null,
      divergence: diverged ? diverged.replace(/^training diverged: /, '').split('. A checkpoint')[0]! : null,
      classifier_accuracy: acc,
      paper_fid: PAPER_FID[o.model][recipe] ?? null,
      steps_trained: steps,
      stopped_early: stopped,
      train_seconds: seconds,
    });
  }
  const [h, w] = o.model === 'dcgan' && base.size === 32 ? [32, 32] : [28, 28];
  const all = new Float32Array(sampleRows.reduce((n, r) => n + r.length, 0));
  let off = 0;
  for (const r of sampleRows) {
    all.set(r, off);
    off += r.length;
  }
  writeFileAtomicSync(join(resultsDir, 'table1-samples.png'), pngBytes(imageGrid(all, recipes.length * 10, { channels: 1, height: h, width: w }, { cols: 10 })));
  if ((o.jobs ?? 1) > 1) notes.push(`Recipes trained side by side (${o.jobs} at a time, one process each): their train times overlap.`);
  notes.push(`table1-samples.png: one row per recipe in the order ${recipes.join(', ')}${o.model === 'cgan' ? '; column i is digit i' : ''}.`);
  const t: Table1 = {
    device: gpu.adapter.description,
    model: o.model,
    epochs: base.epochs,
    steps: base.steps,
    seed: base.seed,
    command: o.command,
    evaluation: { samples: evalSamples, features: "posit-gan's LeNet-5 (84 features)", reference: '10000 MNIST test images' },
    config: base,
    rows,
    notes,
  };
  writeFileAtomicSync(join(resultsDir, 'table1.json'), JSON.stringify(t, null, 2) + '\n');
  writeFileAtomicSync(join(resultsDir, 'table1.md'), table1Markdown(t));
  return t;
}
