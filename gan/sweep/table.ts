// A sweep's results as a table: one evaluated row per finished job, grouped so that the jobs that
// differ only in their seed form one table row with the mean and spread over the seeds. The keys are
// those of `experiment table1` (spec, fid, fid_std, seeds, commit, command), so the two tables read
// alike and one aggregation (aggregateSeeds) serves both.

import type { RecipeSpec } from '../../engine/quant/recipe.ts';
import type { TrainConfig } from '../train/config.ts';
import { isNoiseModel } from '../models/gan.ts';
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
  /** The commit of the code that ran the job (`+dirty` when it had changes). */
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

export interface SweepTable {
  name: string;
  device: string | null;
  commit: string | null;
  command: string;
  created: string;
  evaluation: { samples: number | null; features: string; reference: string };
  jobs: { total: number; finished: number };
  rows: SweepTableRow[];
  notes: string[];
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
  const commits = distinct(finished.map((r) => r.commit ?? 'unknown'));
  if (devices.length > 1) notes.push(`jobs ran on ${devices.length} devices: ${devices.join('; ')}`);
  if (commits.length > 1) notes.push(`jobs ran under ${commits.length} commits: ${commits.join(', ')}`);
  if (finished.length < jobs.length) notes.push(`${jobs.length - finished.length} of ${jobs.length} jobs have not finished: rows with fewer seeds than listed are partial`);
  const samples = distinct(jobs.map((j) => j.eval.n));
  return {
    name,
    device: devices.length === 1 ? devices[0]! : devices.length ? devices.join('; ') : null,
    commit: commits.length === 1 ? (finished[0]!.commit ?? null) : commits.length ? commits.join(', ') : null,
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
    notes,
  };
}

function fmt(x: number | null, digits: number): string {
  return x === null ? '—' : x.toFixed(digits);
}

export function sweepTableMarkdown(t: SweepTable): string {
  const settingKeys = distinct(t.rows.flatMap((r) => Object.keys(r.settings).filter((k) => k !== 'recipe')));
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
    '',
    `Command: \`${t.command}\``,
    ...(t.notes.length ? ['', ...t.notes.map((n) => `- ${n}`)] : []),
    '',
  ];
  return lines.join('\n');
}
