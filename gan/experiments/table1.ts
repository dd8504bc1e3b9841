// The paper's Table I for one model: train every recipe with the same seed and data order, evaluate
// each (FID on LeNet features, classifier accuracy for the cgan), and write results/<name>/table1.md,
// table1.json, a side-by-side sample image and each run's op counts. Training runs (checkpoints and
// all) go under runs/<name>-table1/<recipe>, which is not committed.

import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Gpu } from '../../engine/device/gpu.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { imageGrid } from '../io/image-grid.ts';
import { pngBytes } from '../io/png-node.ts';
import type { ModelKind } from '../models/gan.ts';
import { generateImages } from '../models/generate.ts';
import type { ProgressMode } from '../cli/progress.ts';
import { resolveConfig, type TrainConfig } from '../train/config.ts';
import { restoreRun } from '../train/restore.ts';
import { DivergedError, runTraining } from '../train/run.ts';
import { latentNoise } from '../train/trainer.ts';
import { evaluateRun } from './evaluate-run.ts';

export const TABLE1_RECIPES = ['fp32', 'fp16', 'p8+', 'p8', 'fp8'] as const;

/** The paper's Table I (Inception-feature FIDs; METHOD.md section 6), shown for the ordering only. */
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
        `| ${r.recipe} | ${r.diverged ? `diverged (${r.divergence})` : fmt(r.fid, 2)} | ${r.classifier_accuracy === null ? '—' : `${(100 * r.classifier_accuracy).toFixed(1)}%`} | ${fmt(r.paper_fid, 2)} | ${r.steps_trained} | ${(r.train_seconds / 60).toFixed(1)} min |`,
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
  for (const recipe of recipes) {
    const config = resolveConfig({ ...base, recipe });
    const out = join(runsDir, recipe.replace(/[^a-zA-Z0-9+.-]/g, '_'));
    const t0 = performance.now();
    let diverged: string | null = null;
    let steps = 0;
    try {
      const r = await runTraining(gpu, { config, out, progress: o.progress ?? 'bar', command: o.command });
      steps = r.steps;
      r.trainer.dispose();
      r.runtime.pool.trim();
    } catch (e) {
      if (!(e instanceof DivergedError)) throw e;
      diverged = e.message;
      steps = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).step;
    }
    const seconds = (performance.now() - t0) / 1000;
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
