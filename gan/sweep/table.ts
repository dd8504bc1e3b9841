// A sweep's results as a table: one evaluated row per finished job, grouped so that the jobs that
// differ only in their seed form one table row with the mean and spread over the seeds. The keys are
// those of `experiment table1` (spec, fid, fid_std, seeds, commit, command), so the two tables read
// alike and one aggregation (aggregateSeeds) serves both. Rows that differ in one grid setting are
// compared under Table I's separation rule (Welch's test over the seeds, on both feature networks).

import type { RecipeSpec } from '../../engine/quant/recipe.ts';
import type { TrainConfig } from '../train/config.ts';
import { isNoiseModel } from '../models/gan.ts';
import { agreement, agreementText, compareRecipes, SEPARATION_RULE, verdictText, type Verdict } from '../experiments/table1-stats.ts';
import { canonicalJson, type EvalSettings, type SweepJob } from './spec.ts';

/** Where and from which step one attempt at a job started. */
export interface Attempt {
  host: string;
  pid: number;
  started: string;
  /** The checkpoint step it resumed from (0: a fresh start; the run's last step when only its
   *  evaluation was left). */
  from_step: number;
}

/** One finished job: its training run, evaluated. */
export interface SweepRow {
  id: string;
  recipe: string;
  spec: RecipeSpec;
  seed: number;
  config: TrainConfig;
  settings: Record<string, unknown>;
  eval: EvalSettings;
  /** LeNet-feature FID; null when the run diverged or the FID is not finite. */
  fid: number | null;
  /** FID on the second feature network (the autoencoder's code), where the evaluation has one
   *  (MNIST images); null when not finite. Absent in rows written before it was recorded. */
  fid_ae?: number | null;
  diverged: boolean;
  /** Why it diverged (null otherwise). */
  divergence: string | null;
  classifier_accuracy: number | null;
  /** srgan jobs: PSNR (dB) and SSIM of the upscaled test images (absent for other models). */
  psnr?: number | null;
  ssim?: number | null;
  steps_trained: number;
  steps_per_epoch: number;
  /** Seconds training took in the attempt that finished it. */
  train_seconds: number;
  device: string;
  /** The commit of the code that trained and evaluated the job (`+dirty` when it had changes); several
   *  joined by ', ' when its sessions ran under different ones (run-job.ts jobCommit). */
  commit: string | null;
  host: string;
  attempts: Attempt[];
  finished: string;
  notes: string[];
}

/** One seed's result, as experiment table1 records it. */
export interface SeedResult {
  seed: number;
  fid: number | null;
  /** FID on the second feature network (absent where the evaluation has none). */
  fid_ae?: number | null;
  diverged: boolean;
  classifier_accuracy: number | null;
  /** srgan: PSNR and SSIM (absent for other models). */
  psnr?: number | null;
  ssim?: number | null;
}

export interface SeedAggregate {
  /** Mean FID over the seeds that did not diverge and have a finite FID (null if none). */
  fid: number | null;
  /** Sample standard deviation (n - 1) of those FIDs; null with fewer than two. */
  fid_std: number | null;
  /** The same for the second feature network's FID, where the seeds have one. */
  fid_ae?: number | null;
  fid_ae_std?: number | null;
  /** True only when every seed diverged. */
  diverged: boolean;
  /** Mean classifier accuracy over the seeds that have one (null if none). */
  classifier_accuracy: number | null;
  /** srgan: mean and sample standard deviation of PSNR, mean SSIM, over the seeds that have them. */
  psnr?: number | null;
  psnr_std?: number | null;
  ssim?: number | null;
  seeds: SeedResult[];
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Mean and spread over seeds (the same recipe and settings, different seeds), ordered by seed. */
export function aggregateSeeds(results: readonly SeedResult[]): SeedAggregate {
  const seeds = [...results].sort((a, b) => a.seed - b.seed);
  const fids = seeds.filter((s) => !s.diverged && s.fid !== null && Number.isFinite(s.fid)).map((s) => s.fid!);
  const m = mean(fids);
  const spread = (xs: number[], mu: number | null) => (xs.length >= 2 ? Math.sqrt(xs.reduce((a, f) => a + (f - mu!) ** 2, 0) / (xs.length - 1)) : null);
  const second = seeds.some((s) => s.fid_ae !== undefined)
    ? (() => {
        const aes = seeds.filter((s) => !s.diverged && typeof s.fid_ae === 'number' && Number.isFinite(s.fid_ae)).map((s) => s.fid_ae!);
        const a = mean(aes);
        return { fid_ae: a, fid_ae_std: spread(aes, a) };
      })()
    : {};
  const quality = seeds.some((s) => s.psnr !== undefined)
    ? (() => {
        const psnrs = seeds.filter((s) => !s.diverged && typeof s.psnr === 'number' && Number.isFinite(s.psnr)).map((s) => s.psnr!);
        const p = mean(psnrs);
        return { psnr: p, psnr_std: spread(psnrs, p), ssim: mean(seeds.filter((s) => typeof s.ssim === 'number').map((s) => s.ssim!)) };
      })()
    : {};
  return {
    fid: m,
    fid_std: spread(fids, m),
    ...second,
    diverged: seeds.length > 0 && seeds.every((s) => s.diverged),
    classifier_accuracy: mean(seeds.filter((s) => s.classifier_accuracy !== null).map((s) => s.classifier_accuracy!)),
    ...quality,
    seeds,
  };
}

export interface SweepTableRow extends SeedAggregate {
  recipe: string;
  spec: RecipeSpec;
  /** The grid values these seeds share (besides the seed), e.g. {recipe: 'p8+', width: 64}. */
  settings: Record<string, unknown>;
  /** The training configuration they share (its seed is each seed's). */
  config: Omit<TrainConfig, 'seed'>;
  /** Steps trained (the same for every finished seed; the largest if they differ). */
  steps: number;
  epochs: number;
  /** Jobs of this row finished / listed. */
  jobs: { finished: number; total: number };
}

/** Two rows that differ in one grid setting, compared under Table I's separation rule. */
export interface SweepComparison {
  /** The rows' labels (sweepRowLabel). */
  a: string;
  b: string;
  /** The grid key they differ in ('recipe', 'width', ...). */
  differs: string;
  /** On the LeNet FIDs of their seeds. */
  lenet: Verdict;
  /** On the second network's FIDs, where the rows have them. */
  autoencoder?: Verdict;
  /** Whether an ordering holds under both networks (table1-stats.ts agreement). */
  both?: ReturnType<typeof agreement>;
  /** srgan rows: on PSNR (higher is better). */
  psnr?: Verdict;
}

export interface SweepTable {
  name: string;
  device: string | null;
  commit: string | null;
  command: string;
  created: string;
  evaluation: { samples: number | null; features: string; reference: string };
  jobs: { total: number; finished: number };
  rows: SweepTableRow[];
  /** Every pair of rows that differ in exactly one grid setting (not one that changes what the FID is
   *  measured against: model, task, data set, scale). */
  comparisons: SweepComparison[];
  notes: string[];
}

/** Grid keys that change the images a FID is measured against: rows differing in them are not compared. */
const REFERENCE_KEYS = new Set(['model', 'task', 'dataset', 'scale']);

/** The grid settings a table shows besides the recipe (the keys any row's settings have). */
function settingKeysOf(rows: readonly Pick<SweepTableRow, 'settings'>[]): string[] {
  return distinct(rows.flatMap((r) => Object.keys(r.settings).filter((k) => k !== 'recipe')));
}

/** A row's name in comparisons: its recipe, then its other grid settings, e.g. `p8+ width=64`. */
export function sweepRowLabel(r: Pick<SweepTableRow, 'recipe' | 'settings'>, settingKeys: readonly string[]): string {
  return [r.recipe, ...settingKeys.filter((k) => k in r.settings).map((k) => `${k}=${JSON.stringify(r.settings[k])}`)].join(' ');
}

/** The one grid key two rows differ in (recipe included), or null when they differ in none or several. */
function singleDifference(a: SweepTableRow, b: SweepTableRow): string | null {
  const keys = distinct([...Object.keys(a.settings), ...Object.keys(b.settings)]);
  const differing = keys.filter((k) => canonicalJson(a.settings[k] ?? null) !== canonicalJson(b.settings[k] ?? null));
  if (a.recipe !== b.recipe && !differing.includes('recipe')) differing.push('recipe');
  return differing.length === 1 ? differing[0]! : null;
}

/** Compares every pair of rows (with at least one finished seed each) that differ in one setting. */
export function compareSweepRows(rows: readonly SweepTableRow[]): SweepComparison[] {
  const keys = settingKeysOf(rows);
  const done = rows.filter((r) => r.seeds.length > 0);
  const out: SweepComparison[] = [];
  for (let i = 0; i < done.length; i++) {
    for (let j = i + 1; j < done.length; j++) {
      const ra = done[i]!;
      const rb = done[j]!;
      const differs = singleDifference(ra, rb);
      if (differs === null || REFERENCE_KEYS.has(differs)) continue;
      const a = sweepRowLabel(ra, keys);
      const b = sweepRowLabel(rb, keys);
      const on = (f: (s: SeedResult) => number | null | undefined, higherIsBetter = false) =>
        compareRecipes({ recipe: a, values: ra.seeds.map((s) => f(s) ?? null) }, { recipe: b, values: rb.seeds.map((s) => f(s) ?? null) }, higherIsBetter);
      const c: SweepComparison = { a, b, differs, lenet: on((s) => s.fid) };
      if (ra.fid_ae !== undefined && rb.fid_ae !== undefined) {
        c.autoencoder = on((s) => s.fid_ae);
        c.both = agreement(c.lenet, c.autoencoder);
      }
      if (ra.psnr !== undefined && rb.psnr !== undefined) c.psnr = on((s) => s.psnr, true);
      out.push(c);
    }
  }
  return out;
}

/** The key of a job's table row: everything it depends on except the seed. */
function groupKey(job: Pick<SweepJob, 'config' | 'recipe' | 'eval'>): string {
  const { seed: _seed, ...config } = job.config;
  return canonicalJson({ config, recipe: job.recipe, eval: job.eval });
}

function distinct<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Groups the rows of a sweep's jobs (in the sweep's order) into its table. */
export function sweepTable(name: string, jobs: readonly SweepJob[], rows: ReadonlyMap<string, SweepRow>, command: string): SweepTable {
  const groups = new Map<string, SweepJob[]>();
  for (const j of jobs) {
    const k = groupKey(j);
    groups.set(k, [...(groups.get(k) ?? []), j]);
  }
  const finished = jobs.map((j) => rows.get(j.id)).filter((r): r is SweepRow => r !== undefined);
  const notes: string[] = [];
  const tableRows: SweepTableRow[] = [];
  for (const members of groups.values()) {
    const done = members.map((j) => rows.get(j.id)).filter((r): r is SweepRow => r !== undefined);
    const first = members[0]!;
    const { seed: _seed, ...config } = first.config;
    const { seed: _s, ...settings } = first.settings;
    const steps = Math.max(0, ...done.map((r) => r.steps_trained));
    if (distinct(done.map((r) => r.steps_trained)).length > 1) notes.push(`${first.recipe.name} ${canonicalJson(settings)}: its seeds trained different numbers of steps (${done.map((r) => r.steps_trained).join(', ')})`);
    for (const r of done) if (r.notes.length) notes.push(...r.notes.map((n) => `${r.recipe} seed ${r.seed}: ${n}`));
    tableRows.push({
      recipe: first.recipe.name,
      spec: first.recipe,
      settings,
      config,
      ...aggregateSeeds(
        done.map((r) => ({
          seed: r.seed,
          fid: r.fid,
          ...(r.fid_ae !== undefined ? { fid_ae: r.fid_ae } : {}),
          diverged: r.diverged,
          classifier_accuracy: r.classifier_accuracy,
          ...(r.psnr !== undefined ? { psnr: r.psnr, ssim: r.ssim ?? null } : {}),
        })),
      ),
      steps,
      epochs: done.length ? steps / done[0]!.steps_per_epoch : 0,
      jobs: { finished: done.length, total: members.length },
    });
  }
  const devices = distinct(finished.map((r) => r.device));
  // A row's commit lists several (', ') when its job trained or was evaluated under more than one.
  const commits = distinct(finished.flatMap((r) => (r.commit ?? 'unknown').split(', ')));
  if (devices.length > 1) notes.push(`jobs ran on ${devices.length} devices: ${devices.join('; ')}`);
  if (commits.length > 1) notes.push(`jobs ran under ${commits.length} commits: ${commits.join(', ')}`);
  if (finished.length < jobs.length) notes.push(`${jobs.length - finished.length} of ${jobs.length} jobs have not finished: rows with fewer seeds than listed are partial`);
  const samples = distinct(jobs.map((j) => j.eval.n));
  return {
    name,
    device: devices.length === 1 ? devices[0]! : devices.length ? devices.join('; ') : null,
    commit: commits.length === 1 ? (commits[0] === 'unknown' ? null : commits[0]!) : commits.length ? commits.join(', ') : null,
    command,
    created: new Date().toISOString(),
    evaluation: {
      samples: samples.length === 1 ? samples[0]! : null,
      features: "posit-gan's LeNet-5 of the images' data set (84 features)",
      reference: jobs.every((j) => isNoiseModel(j.config.model) && j.config.dataset === 'mnist')
        ? '10000 MNIST test images'
        : "test images of each job's data set or target domain (each run's eval.json names its reference)",
    },
    jobs: { total: jobs.length, finished: finished.length },
    rows: tableRows,
    comparisons: compareSweepRows(tableRows),
    notes,
  };
}

function fmt(x: number | null, digits: number): string {
  return x === null ? '—' : x.toFixed(digits);
}

/** Whether a comparison's ordering holds under both feature networks, in words. */
function bothText(c: SweepComparison): string {
  return agreementText(c.both, c.lenet);
}

function comparisonsMarkdown(t: SweepTable): string[] {
  // Tables written before comparisons were recorded have none.
  const cs = t.comparisons ?? [];
  if (cs.length === 0) return [];
  const hasAe = cs.some((c) => c.autoencoder);
  const hasPsnr = cs.some((c) => c.psnr);
  return [
    '',
    '## Rows the runs separate',
    '',
    `Each pair of rows that differ in one grid setting. ${SEPARATION_RULE}${hasAe ? ' An ordering is worth stating only where it holds under both feature networks.' : ''}`,
    '',
    `| pair | differs in | LeNet features |${hasAe ? ' autoencoder features | holds under both? |' : ''}${hasPsnr ? ' PSNR |' : ''}`,
    `|---|---|---|${hasAe ? '---|---|' : ''}${hasPsnr ? '---|' : ''}`,
    ...cs.map(
      (c) =>
        `| ${c.a} vs ${c.b} | ${c.differs} | ${verdictText(c.lenet)} |${hasAe ? ` ${c.autoencoder ? verdictText(c.autoencoder) : '—'} | ${bothText(c)} |` : ''}${hasPsnr ? ` ${c.psnr ? verdictText(c.psnr, 'higher') : '—'} |` : ''}`,
    ),
  ];
}

export function sweepTableMarkdown(t: SweepTable): string {
  const settingKeys = settingKeysOf(t.rows);
  const hasPsnr = t.rows.some((r) => r.psnr !== undefined);
  const hasAe = t.rows.some((r) => r.fid_ae !== undefined);
  const lines = [
    `# Sweep ${t.name}`,
    '',
    `Device: ${t.device ?? '—'}. Commit: ${t.commit ?? '—'}. ${t.jobs.finished} of ${t.jobs.total} jobs finished.`,
    `Evaluation: ${t.evaluation.samples ?? 'various numbers of'} generated samples against the ${t.evaluation.reference}; FID on ${t.evaluation.features}: compare orderings, not values, with the paper's Inception FIDs.`,
    ...(hasAe ? ["FID (autoencoder): the same samples on the 32-value code of posit-gan's MLP autoencoder, a second network built differently (no labels, no convolutions; MNIST images only). An ordering that holds under both FIDs is worth stating; one that flips is not."] : []),
    '',
    `| recipe | ${settingKeys.map((k) => `${k} | `).join('')}FID mean ± std |${hasAe ? ' FID (autoencoder) mean ± std |' : ''}${hasPsnr ? ' PSNR dB mean ± std | SSIM |' : ''} seeds (diverged) | classifier accuracy | steps (epochs) |`,
    `|---|${settingKeys.map(() => '---|').join('')}---|${hasAe ? '---|' : ''}${hasPsnr ? '---|---|' : ''}---|---|---|`,
    ...t.rows.map((r) => {
      const fid = r.diverged ? 'diverged' : r.fid === null ? '—' : `${fmt(r.fid, 2)}${r.fid_std === null ? '' : ` ± ${fmt(r.fid_std, 2)}`}`;
      const div = r.seeds.filter((s) => s.diverged).length;
      const seeds = `${r.seeds.length}${r.jobs.finished < r.jobs.total ? ` of ${r.jobs.total}` : ''}${div ? ` (${div})` : ''}`;
      const acc = r.classifier_accuracy === null ? '—' : `${(100 * r.classifier_accuracy).toFixed(1)}%`;
      const ae = hasAe ? ` ${r.diverged ? 'diverged' : r.fid_ae == null ? '—' : `${fmt(r.fid_ae, 2)}${r.fid_ae_std == null ? '' : ` ± ${fmt(r.fid_ae_std, 2)}`}`} |` : '';
      const quality = hasPsnr ? ` ${r.psnr == null ? '—' : `${fmt(r.psnr, 2)}${r.psnr_std == null ? '' : ` ± ${fmt(r.psnr_std, 2)}`}`} | ${r.ssim == null ? '—' : fmt(r.ssim, 4)} |` : '';
      return `| ${r.recipe} | ${settingKeys.map((k) => `${k in r.settings ? JSON.stringify(r.settings[k]) : '—'} | `).join('')}${fid} |${ae}${quality} ${seeds} | ${acc} | ${r.steps} (${r.epochs.toFixed(2)}) |`;
    }),
    ...comparisonsMarkdown(t),
    '',
    `Command: \`${t.command}\``,
    ...(t.notes.length ? ['', ...t.notes.map((n) => `- ${n}`)] : []),
    '',
  ];
  return lines.join('\n');
}
