// What a deployment comparison reports: one JSON shape (used by `deploy` and `experiment deploy`), a
// plain-text table, a Markdown page, and the image strip (one row per recipe over the same inputs,
// the float32 generator first). The paper's reported ranges (docs/method.md section 7.2, read off bar charts,
// about +-0.5 dB) stand beside the measured values as a reference, not as comparable numbers: the
// paper's generators and data differ. Browser-safe.

import { imageGrid } from '../io/image-grid.ts';
import type { RasterImage } from '../io/png.ts';
import type { DeployRow } from './evaluate.ts';

/** The paper's deployment results where docs/method.md section 7.2 gives them. */
export const PAPER_DEPLOYMENT: Readonly<Record<string, { psnr: [number, number] | null; ssim: string }>> = {
  p8: { psnr: [37, 45], ssim: '~0.99' },
  'p8+': { psnr: [37, 45], ssim: '~0.99' },
  'p6+': { psnr: [25, 32], ssim: 'mostly > 0.9' },
  'p6+t': { psnr: [25, 32], ssim: 'close to P6+' },
  fp6: { psnr: null, ssim: '0.4-0.92' },
};

export interface DeployResultRow {
  /** The recipe name, or `export:<recipe>` for a generator loaded from an export file. */
  recipe: string;
  weights: string | null;
  activations: string | null;
  tanh: string;
  /** The weights' exponent bias t: one number when every layer has the same, else by weight name;
   *  null without a weight format. */
  weight_bias: number | Record<string, number> | null;
  n: number;
  /** Mean PSNR (dB) over the images that differ from the reference; null when all are identical
   *  (or without a reference). */
  psnr: number | null;
  psnr_min: number | null;
  /** Mean SSIM over all images (identical ones count as 1); null without a reference. */
  ssim: number | null;
  ssim_min: number | null;
  /** SSIM of each image (4 decimals), in input order; null without a reference. The distribution
   *  plot across models (experiment fig9) pools these. */
  ssim_per_image: number[] | null;
  /** Images with the same 8-bit pixels as the reference (infinite PSNR, not averaged). */
  identical: number | null;
  seconds: number;
  /** The op-count file of this row, relative to the result file. */
  opcounts: string;
  paper_psnr: [number, number] | null;
  paper_ssim: string | null;
}

export interface DeployResult {
  device: string;
  /** The code's commit (gan/io/provenance.ts). */
  commit: string | null;
  command: string;
  checkpoint: string | null;
  export: string | null;
  model: string;
  step: number | null;
  train_recipe: string | null;
  n: number;
  seed: number;
  batch: number;
  reference: string | null;
  created: string;
  strip: { file: string; rows: string[]; columns: number };
  rows: DeployResultRow[];
  /** What the run left out and why (e.g. recipes that do not apply to this generator). */
  notes: string[];
}

function biasSummary(b: Readonly<Record<string, number>>): DeployResultRow['weight_bias'] {
  const values = Object.values(b);
  if (values.length === 0) return null;
  return values.every((v) => v === values[0]) ? values[0]! : { ...b };
}

/** A file-name-safe form of a row label (`export:p8+t` -> `export-p8+t`). */
export function rowFileName(label: string): string {
  return label.replace(/[^a-zA-Z0-9+._-]/g, '-');
}

export function resultRow(row: DeployRow): DeployResultRow {
  const q = row.quality;
  const paper = PAPER_DEPLOYMENT[row.label];
  const finite = q ? q.psnr.filter((p) => p !== Infinity) : [];
  return {
    recipe: row.label,
    weights: row.recipe.spec.weights,
    activations: row.recipe.spec.activations,
    tanh: row.recipe.tanh,
    weight_bias: biasSummary(row.weightBias),
    n: row.n,
    psnr: q?.meanPsnr ?? null,
    psnr_min: finite.length ? Math.min(...finite) : null,
    ssim: q ? q.meanSsim : null,
    ssim_min: q ? Math.min(...q.ssim) : null,
    ssim_per_image: q ? q.ssim.map((v) => Number(v.toFixed(4))) : null,
    identical: q ? q.identical : null,
    seconds: Number(row.seconds.toFixed(3)),
    opcounts: `${rowFileName(row.label)}.opcounts.json`,
    paper_psnr: paper?.psnr ?? null,
    paper_ssim: paper?.ssim ?? null,
  };
}

function fixed(v: number | null, digits: number): string {
  return v === null ? '-' : v.toFixed(digits);
}

function biasText(b: DeployResultRow['weight_bias']): string {
  if (b === null) return '-';
  if (typeof b === 'number') return String(b);
  const v = Object.values(b);
  return `${Math.min(...v)}..${Math.max(...v)}`;
}

function paperText(r: DeployResultRow): string {
  const parts = [];
  if (r.paper_psnr) parts.push(`${r.paper_psnr[0]}-${r.paper_psnr[1]} dB`);
  if (r.paper_ssim) parts.push(`SSIM ${r.paper_ssim}`);
  return parts.join(', ') || '-';
}

const HEAD = ['recipe', 'weights', 'activations', 't', 'tanh', 'PSNR dB', 'PSNR min', 'SSIM', 'SSIM min', 'identical', 'paper'];

function cells(r: DeployResultRow): string[] {
  return [
    r.recipe,
    r.weights ?? 'fp32',
    r.activations ?? 'fp32',
    biasText(r.weight_bias),
    r.tanh,
    r.identical !== null && r.identical === r.n ? 'inf' : fixed(r.psnr, 2),
    fixed(r.psnr_min, 2),
    fixed(r.ssim, 4),
    fixed(r.ssim_min, 4),
    r.identical === null ? '-' : `${r.identical}/${r.n}`,
    paperText(r),
  ];
}

/** The comparison as a plain-text table with a line on what it measured. */
export function deployTable(res: DeployResult): string {
  const rows = res.rows.map(cells);
  const w = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  return [
    `${res.model}${res.step !== null ? ` (step ${res.step}, trained ${res.train_recipe})` : ''}: ${res.n} images, seed ${res.seed}, on ${res.device}`,
    res.reference ? `PSNR / SSIM against the ${res.reference}; identical images are counted apart from the PSNR mean` : 'no float32 reference (give --checkpoint): images and op counts only',
    line(HEAD),
    w.map((n) => '-'.repeat(n)).join('  '),
    ...rows.map(line),
    ...res.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

/** The comparison as a Markdown page (results/<name>/deploy.md). */
export function deployMarkdown(res: DeployResult, title: string): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `# ${title}`,
    '',
    `- device: ${res.device}`,
    `- command: \`${res.command}\``,
    `- code: commit ${res.commit ?? 'unknown'}`,
    `- model: ${res.model}${res.checkpoint ? `, checkpoint \`${res.checkpoint}\`` : ''}${res.step !== null ? ` at step ${res.step} (trained under ${res.train_recipe})` : ''}`,
    `- inputs: ${res.n} evaluation inputs (seed ${res.seed}), batch ${res.batch}`,
    `- reference: ${res.reference ?? 'none'}`,
    `- created: ${res.created}`,
    '',
    `| ${HEAD.map(esc).join(' | ')} |`,
    `|${HEAD.map((_, i) => (i === 0 || i === HEAD.length - 1 ? '---' : '---:')).join('|')}|`,
    ...res.rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`),
    '',
    'PSNR (peak 255) and SSIM (11x11 Gaussian window, sigma 1.5) on the 8-bit pixels the images would be',
    'saved as; PSNR is the mean over images that differ from the reference (identical ones are counted in',
    "`identical`), SSIM the mean over all. `paper`: the ranges the paper reports for its own generators",
    '(docs/method.md section 7.2, read off bar charts, about +-0.5 dB) - a reference for the ordering, not',
    'comparable values.',
    '',
    `![recipes side by side](${res.strip.file}) rows: ${res.strip.rows.join(', ')}`,
    ...res.notes.map((n) => `\nNote: ${n}.`),
    '',
  ].join('\n');
}

/**
 * One row per generator (the reference first, when given) over the first `columns` inputs, so the
 * same latent vector (and label) sits in the same column in every row.
 */
export function deployStrip(reference: Float32Array | null, rows: readonly DeployRow[], imageShape: readonly [number, number, number], columns: number): RasterImage {
  const [c, h, w] = imageShape;
  const size = c * h * w;
  const sets = [...(reference ? [reference] : []), ...rows.map((r) => r.images)];
  const data = new Float32Array(sets.length * columns * size);
  sets.forEach((s, i) => data.set(s.subarray(0, columns * size), i * columns * size));
  return imageGrid(data, sets.length * columns, { channels: c as 1 | 3, height: h, width: w }, { cols: columns });
}
