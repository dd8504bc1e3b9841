// Table I as data and text (pure, browser-safe): each recipe's row aggregated over its seeds, the
// pairs the paper orders compared under the separation rule of table1-stats.ts on both feature
// networks, the convergence check on the FID curves, the Markdown page and the FID-vs-steps SVG.
// table1.ts trains and evaluates; everything it writes is computed here from the per-seed results.

import type { RecipeSpec } from '../../engine/quant/recipe.ts';
import { lineChart } from '../io/svg-plot.ts';
import type { ModelKind } from '../models/gan.ts';
import type { TrainConfig } from '../train/config.ts';
import {
  agreementText,
  agreement,
  compareRecipes,
  curveStats,
  meanStd,
  paperPairs,
  SEPARATION_RULE,
  stillFalling,
  verdictText,
  type Verdict,
} from './table1-stats.ts';

/** One evaluation of a run during training (its fid.csv). */
export interface CurvePoint {
  step: number;
  fid: number;
  /** null where the run's data has no second feature network (not MNIST). */
  fid_ae: number | null;
}

/** One training run: a recipe under one seed. */
export interface Table1Seed {
  seed: number;
  /** LeNet-feature FID; null when it diverged or the FID is not finite. */
  fid: number | null;
  /** Autoencoder-feature FID; null likewise. */
  fid_ae: number | null;
  diverged: boolean;
  /** Why it diverged (null otherwise). */
  divergence: string | null;
  classifier_accuracy: number | null;
  /** srgan: mean PSNR (dB) and SSIM of the upscaled test images (null when it diverged). */
  psnr?: number | null;
  ssim?: number | null;
  steps_trained: number;
  /** Whether the time limit stopped its training before the table's steps. */
  stopped_early: boolean;
  train_seconds: number;
  /** The commit of the code that trained and evaluated it (several joined by ', ' when its sessions
   *  differed; null when not recorded): runs continued from an earlier call may predate the table's. */
  commit: string | null;
  /** FID against steps (train --eval-every), empty without one. */
  curve: CurvePoint[];
}

export interface Table1Row {
  recipe: string;
  /** The recipe the row ran (RecipeSpec JSON). */
  spec: RecipeSpec;
  /** Mean LeNet FID over the seeds that gave one; null when none did. */
  fid: number | null;
  /** Sample standard deviation (n - 1) of those FIDs; null below two. */
  fid_std: number | null;
  fid_ae: number | null;
  fid_ae_std: number | null;
  /** True only when every seed diverged. */
  diverged: boolean;
  /** Seeds that diverged. */
  diverged_seeds: number;
  /** Why the first diverged seed diverged (null when none did). */
  divergence: string | null;
  /** Mean over the seeds that gave one. */
  classifier_accuracy: number | null;
  paper_fid: number | null;
  /** srgan: mean and standard deviation over seeds of PSNR and SSIM, and the paper's ESRGAN PSNR. */
  psnr?: number | null;
  psnr_std?: number | null;
  ssim?: number | null;
  ssim_std?: number | null;
  paper_psnr?: number | null;
  /** The fewest steps any seed trained. */
  steps_trained: number;
  /** Whether the time limit stopped any seed early. */
  stopped_early: boolean;
  /** Mean training time of a run. */
  train_seconds: number;
  seeds: Table1Seed[];
}

export interface PairComparison {
  /** The pair as the paper orders it: `a` against `b`. */
  a: string;
  b: string;
  /** The paper's lower (better) FID of the two, with both values; null without paper values. */
  paper: { lower: string; a: number; b: number } | null;
  lenet: Verdict;
  autoencoder: Verdict;
  /** Whether the ordering holds under both feature networks (table1-stats.ts agreement). */
  both: ReturnType<typeof agreement>;
  /** srgan: the pair on PSNR (higher is better), and the paper's higher PSNR of the two. */
  psnr?: Verdict;
  paper_psnr?: { higher: string; a: number; b: number } | null;
}

export interface Convergence {
  recipe: string;
  features: 'lenet' | 'autoencoder';
  /** Null when fewer than two evaluations were made. */
  falling: boolean | null;
  last: { step: number; mean: number } | null;
  previous: { step: number; mean: number } | null;
  /** The larger standard deviation over seeds of the two evaluations (0 with one seed). */
  spread: number | null;
}

export interface Table1 {
  /** The code's commit (gan/io/provenance.ts). */
  commit: string | null;
  command: string;
  device: string;
  model: ModelKind;
  /** What was learned: cgan, dcgan (MNIST), dcgan-fashion, acgan, thin2bold, bold2thin, digit2fashion,
   *  fashion2digit (cyclegan), srgan. */
  task: string;
  /** The paper's Table I row placed beside it (another data set: orderings only), null when none. */
  paper_row: string | null;
  /** Steps per run / steps per epoch (also when the length was given in steps). */
  epochs: number;
  /** Steps each run was asked to train. */
  steps: number;
  steps_per_epoch: number;
  /** The seeds every recipe was trained with (each: the same initialisation, data order and noise for every recipe). */
  seeds: number[];
  evaluation: { samples: number; features: string; second_features: string; reference: string };
  /** The FID curve's settings (null without one), and its SVG files. */
  curve: { every: number; samples: number; files: { lenet: string; autoencoder: string | null } } | null;
  /** The training configuration of every run, except `recipe` and `seed`. */
  config: TrainConfig;
  rows: Table1Row[];
  comparisons: PairComparison[];
  separation_rule: string;
  convergence: Convergence[];
  notes: string[];
}

/** A row from its seeds (pure): means and spreads over the seeds that gave a value. */
export function aggregateRow(recipe: string, spec: RecipeSpec, paperFid: number | null, seeds: readonly Table1Seed[], paperPsnr: number | null = null): Table1Row {
  if (seeds.length === 0) throw new Error(`table1: recipe ${recipe} has no runs`);
  const vals = (f: (s: Table1Seed) => number | null) => seeds.map(f).filter((v): v is number => v !== null && Number.isFinite(v));
  const fid = meanStd(vals((s) => s.fid));
  const ae = meanStd(vals((s) => s.fid_ae));
  const acc = meanStd(vals((s) => s.classifier_accuracy));
  const diverged = seeds.filter((s) => s.diverged);
  const quality = seeds.some((s) => s.psnr !== undefined)
    ? (() => {
        const psnr = meanStd(vals((s) => s.psnr ?? null));
        const ssim = meanStd(vals((s) => s.ssim ?? null));
        return { psnr: psnr.mean, psnr_std: psnr.std, ssim: ssim.mean, ssim_std: ssim.std, paper_psnr: paperPsnr };
      })()
    : {};
  return {
    recipe,
    spec,
    fid: fid.mean,
    fid_std: fid.std,
    fid_ae: ae.mean,
    fid_ae_std: ae.std,
    diverged: diverged.length === seeds.length,
    diverged_seeds: diverged.length,
    divergence: diverged[0]?.divergence ?? null,
    classifier_accuracy: acc.mean,
    paper_fid: paperFid,
    ...quality,
    steps_trained: Math.min(...seeds.map((s) => s.steps_trained)),
    stopped_early: seeds.some((s) => s.stopped_early),
    train_seconds: seeds.reduce((a, s) => a + s.train_seconds, 0) / seeds.length,
    seeds: [...seeds],
  };
}

/** A note naming the runs whose code differs from the table's commit (null when every run's matches):
 *  a table over runs continued from earlier calls states which code produced which figures. */
export function runCommitsNote(tableCommit: string | null, rows: readonly Table1Row[]): string | null {
  const others = new Map<string, string[]>();
  for (const r of rows) {
    for (const s of r.seeds) {
      const c = s.commit ?? 'unknown';
      if (c === (tableCommit ?? 'unknown')) continue;
      others.set(c, [...(others.get(c) ?? []), `${r.recipe} seed ${s.seed}`]);
    }
  }
  if (others.size === 0) return null;
  const parts = [...others].map(([c, runs]) => `${runs.join(', ')} under ${c === 'unknown' ? 'an unrecorded commit' : `commit ${c}`}`);
  return `Not every run was trained and evaluated by this table's code (commit ${tableCommit ?? 'unknown'}): ${parts.join('; ')}. \`git diff\` between the commits tells whether the difference can matter.`;
}

/** The paper's pairs, compared on both feature networks (pure). */
export function comparePairs(rows: readonly Table1Row[]): PairComparison[] {
  const by = new Map(rows.map((r) => [r.recipe, r]));
  return paperPairs(rows.map((r) => r.recipe)).map(([a, b]) => {
    const ra = by.get(a)!;
    const rb = by.get(b)!;
    const lenet = compareRecipes({ recipe: a, values: ra.seeds.map((s) => s.fid) }, { recipe: b, values: rb.seeds.map((s) => s.fid) });
    const autoencoder = compareRecipes({ recipe: a, values: ra.seeds.map((s) => s.fid_ae) }, { recipe: b, values: rb.seeds.map((s) => s.fid_ae) });
    const paper = ra.paper_fid !== null && rb.paper_fid !== null ? { lower: ra.paper_fid <= rb.paper_fid ? a : b, a: ra.paper_fid, b: rb.paper_fid } : null;
    const out: PairComparison = { a, b, paper, lenet, autoencoder, both: agreement(lenet, autoencoder) };
    if (ra.psnr !== undefined && rb.psnr !== undefined) {
      out.psnr = compareRecipes({ recipe: a, values: ra.seeds.map((s) => s.psnr ?? null) }, { recipe: b, values: rb.seeds.map((s) => s.psnr ?? null) }, true);
      const pa = ra.paper_psnr ?? null;
      const pb = rb.paper_psnr ?? null;
      out.paper_psnr = pa !== null && pb !== null ? { higher: pa >= pb ? a : b, a: pa, b: pb } : null;
    }
    return out;
  });
}

/** How the curves' sample count compares with the table's: fewer samples bias FID upwards. */
function curveSamplesText(curve: number, table: number): string {
  if (curve < table) return `fewer than the table's ${table}: the curves sit higher than the table, alike at every step`;
  if (curve > table) return `more than the table's ${table}: the curves sit lower than the table, alike at every step`;
  return "as many as the table's";
}

/** A run's curve on one feature network: the points that have a FID there. */
function curveOn(curve: readonly CurvePoint[], features: 'lenet' | 'autoencoder'): { step: number; fid: number }[] {
  return curve.flatMap((p) => {
    const fid = features === 'lenet' ? p.fid : p.fid_ae;
    return fid === null ? [] : [{ step: p.step, fid }];
  });
}

/** Whether each recipe's FID was still falling at its last evaluation, on both feature networks. */
export function convergence(rows: readonly Table1Row[]): Convergence[] {
  const out: Convergence[] = [];
  for (const r of rows) {
    const good = r.seeds.filter((s) => !s.diverged && s.curve.length > 0);
    if (good.length === 0) continue;
    for (const features of ['lenet', 'autoencoder'] as const) {
      const stats = curveStats(good.map((s) => curveOn(s.curve, features)));
      const f = stillFalling(stats);
      out.push({ recipe: r.recipe, features, falling: f?.falling ?? null, last: f?.last ?? null, previous: f?.previous ?? null, spread: f?.spread ?? null });
    }
  }
  return out;
}

/** Notes saying where the table is not converged (computed from the curves). */
export function convergenceNotes(c: readonly Convergence[], hasCurve: boolean): string[] {
  if (!hasCurve) return ['No FID curve was recorded (--eval-every 0): whether FID was still falling is not known.'];
  const name = (f: Convergence['features']) => (f === 'lenet' ? 'LeNet' : 'autoencoder');
  const falling = c.filter((x) => x.falling === true);
  const unknown = c.filter((x) => x.falling === null);
  const notes: string[] = [];
  if (falling.length) {
    notes.push(
      'NOT CONVERGED: FID was still falling at the last evaluation (lower than at the one before by more than the larger standard deviation over seeds there; with one seed, lower at all) for ' +
        falling.map((x) => `${x.recipe} (${name(x.features)}: ${x.previous!.mean.toFixed(1)} at step ${x.previous!.step} -> ${x.last!.mean.toFixed(1)} at step ${x.last!.step}, spread ${x.spread!.toFixed(1)})`).join('; ') +
        '. The table compares the recipes at this training length, not trained to convergence.',
    );
  } else if (c.some((x) => x.falling === false)) {
    notes.push('By the curves, no recipe\'s FID was still falling at the end (the last evaluation was not lower than the one before by more than the spread over seeds).');
  }
  if (unknown.length) notes.push(`Too few evaluations to tell whether FID was still falling for: ${[...new Set(unknown.map((x) => x.recipe))].join(', ')}.`);
  return notes;
}

// ---- text ----------------------------------------------------------------------------------------

function meanPm(mean: number | null, std: number | null, n: number, digits = 2): string {
  if (mean === null) return '—';
  if (std === null) return `${mean.toFixed(digits)}${n === 1 ? ' (1 seed)' : ''}`;
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}

function fidCell(r: Table1Row, which: 'fid' | 'fid_ae'): string {
  if (r.diverged) return `diverged (${r.divergence})`;
  const n = r.seeds.filter((s) => s[which] !== null).length;
  const cell = meanPm(r[which], which === 'fid' ? r.fid_std : r.fid_ae_std, n);
  return r.diverged_seeds ? `${cell}; ${r.diverged_seeds} of ${r.seeds.length} seeds diverged` : cell;
}

function pct(x: number | null): string {
  return x === null ? '—' : `${(100 * x).toFixed(1)}%`;
}

function bothText(c: PairComparison): string {
  return agreementText(c.both, c.lenet, (better) => (c.paper ? (c.paper.lower === better ? ', as in the paper' : ', the opposite of the paper') : ''));
}

/** 'cgan on MNIST', 'dcgan on Fashion-MNIST', 'cyclegan, thin2bold', 'srgan x2 on Fashion-MNIST'. */
function tableTitle(t: Table1): string {
  const data = t.config.dataset === 'fashion' ? 'Fashion-MNIST' : 'MNIST';
  if (t.model === 'cyclegan') return `cyclegan, ${t.task}`;
  if (t.model === 'srgan') return `srgan x${t.config.scale} on ${data}`;
  return `${t.model} on ${data}`;
}

export function table1Markdown(t: Table1): string {
  const seedsText = t.seeds.length === 1 ? `seed ${t.seeds[0]} (one seed: the table ranks nothing)` : `seeds ${t.seeds.join(', ')}`;
  const lines = [
    `# Table I reproduction: ${tableTitle(t)}`,
    '',
    `Device: ${t.device}. Code: commit ${t.commit ?? 'unknown'}.`,
    `Training: ${t.steps} steps (${t.epochs} epochs of ${t.steps_per_epoch} steps) of batch ${t.config.batch} per run; every recipe with ${seedsText}; a seed fixes the initialisation, data order and noise, the same for every recipe.`,
    `Evaluation: ${t.evaluation.samples} generated samples per run against the ${t.evaluation.reference}; FID on ${t.evaluation.features}; second feature network: ${t.evaluation.second_features}. Each cell is the mean ± the sample standard deviation over the seeds that did not diverge.`,
    '',
    '| recipe | FID, LeNet features | FID, autoencoder features | classifier accuracy | paper FID (Inception, ordering only) | per seed: FID LeNet / autoencoder | steps | train time per run |',
    '|---|---|---|---|---|---|---|---|',
    ...t.rows.map((r) => {
      const per = r.seeds.map((s) => (s.diverged ? `s${s.seed}: diverged` : `s${s.seed}: ${s.fid?.toFixed(1) ?? '—'} / ${s.fid_ae?.toFixed(1) ?? '—'}`)).join('; ');
      return `| ${r.recipe} | ${fidCell(r, 'fid')} | ${fidCell(r, 'fid_ae')} | ${pct(r.classifier_accuracy)} | ${r.paper_fid === null ? '—' : r.paper_fid.toFixed(2)} | ${per} | ${r.steps_trained}${r.stopped_early ? ' (time limit)' : ''} | ${(r.train_seconds / 60).toFixed(1)} min |`;
    }),
    '',
    ...(t.rows.some((r) => r.psnr !== undefined)
      ? [
          '',
          '| recipe | PSNR (dB) | SSIM | paper PSNR (ESRGAN) | per seed: PSNR / SSIM |',
          '|---|---|---|---|---|',
          ...t.rows.map((r) => {
            const n = r.seeds.filter((s) => s.psnr !== null && s.psnr !== undefined).length;
            const per = r.seeds.map((s) => (s.diverged ? `s${s.seed}: diverged` : `s${s.seed}: ${s.psnr?.toFixed(2) ?? '—'} / ${s.ssim?.toFixed(4) ?? '—'}`)).join('; ');
            return `| ${r.recipe} | ${meanPm(r.psnr ?? null, r.psnr_std ?? null, n, 2)} | ${meanPm(r.ssim ?? null, r.ssim_std ?? null, n, 4)} | ${r.paper_psnr == null ? '—' : r.paper_psnr.toFixed(2)} | ${per} |`;
          }),
        ]
      : []),
    '',
    "FIDs on these features are on another scale than the paper's Inception-feature FIDs: compare the ordering of the recipes, never the values." +
      (t.paper_row && t.task !== 'cgan' ? ` The paper's row beside this one is ${t.paper_row}, on another data set.` : ''),
    '',
    '## The orderings the paper makes',
    '',
    `${SEPARATION_RULE} An ordering is stated only where it holds under both feature networks.`,
    '',
    '| pair | paper (Inception FID) | LeNet features | autoencoder features | holds under both? |',
    '|---|---|---|---|---|',
    ...t.comparisons.map(
      (c) =>
        `| ${c.a} vs ${c.b} | ${c.paper ? `${c.paper.lower} lower (${c.paper.a.toFixed(2)} vs ${c.paper.b.toFixed(2)})` : '—'} | ${verdictText(c.lenet)} | ${verdictText(c.autoencoder)} | ${bothText(c)} |`,
    ),
    ...(t.comparisons.some((c) => c.psnr)
      ? [
          '',
          "On PSNR (the paper's ESRGAN row; higher is better), under the same rule:",
          '',
          '| pair | paper (PSNR) | ours |',
          '|---|---|---|',
          ...t.comparisons.map((c) => `| ${c.a} vs ${c.b} | ${c.paper_psnr ? `${c.paper_psnr.higher} higher (${c.paper_psnr.a.toFixed(2)} vs ${c.paper_psnr.b.toFixed(2)})` : '—'} | ${c.psnr ? verdictText(c.psnr, 'higher') : '—'} |`),
        ]
      : []),
    '',
    '## Convergence',
    '',
    ...(t.curve
      ? [
          `FID against training steps: [${t.curve.files.lenet}](${t.curve.files.lenet}) (LeNet features)` +
            (t.curve.files.autoencoder ? ` and [${t.curve.files.autoencoder}](${t.curve.files.autoencoder}) (autoencoder)` : '') +
            `, every ${t.curve.every} steps and at the end on ${t.curve.samples} samples per evaluation (${curveSamplesText(t.curve.samples, t.evaluation.samples)}); ` +
            'the line is the mean over seeds, the band their minimum to maximum.',
          '',
        ]
      : []),
    ...convergenceNotes(t.convergence, t.curve !== null).map((n) => `- ${n}`),
    '',
    `Command: \`${t.command}\``,
    ...(t.notes.length ? ['', ...t.notes.map((n) => `- ${n}`)] : []),
    '',
  ];
  return lines.join('\n');
}

/** FID against steps, one line per recipe (mean over its non-diverged seeds) with a min..max band. */
export function fidCurveSvg(t: Pick<Table1, 'model' | 'rows' | 'curve'>, features: 'lenet' | 'autoencoder'): string {
  const series = t.rows.flatMap((r) => {
    const good = r.seeds.filter((s) => !s.diverged && s.curve.length > 0);
    if (!good.length) return [];
    const stats = curveStats(good.map((s) => curveOn(s.curve, features)));
    if (!stats.length) return [];
    return [
      {
        name: `${r.recipe} (${good.length} seed${good.length === 1 ? '' : 's'})`,
        x: stats.map((p) => p.step),
        y: stats.map((p) => p.mean),
        ...(good.length > 1 ? { band: { lo: stats.map((p) => p.min), hi: stats.map((p) => p.max) } } : {}),
      },
    ];
  });
  const what = features === 'lenet' ? 'LeNet-5 features' : 'autoencoder features';
  return lineChart(series, {
    title: `${t.model}: FID on ${what} vs step (mean over seeds, band min-max${t.curve ? `; ${t.curve.samples} samples each` : ''})`,
    xLabel: 'training step',
    yLabel: `FID (${what}, log scale)`,
    logY: true,
    markers: true,
    width: 820,
  });
}
