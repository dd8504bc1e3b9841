// The paper's Fig. 9: the SSIM of deployed generator outputs against the float32 generator, per
// deployment recipe, pooled across models. Reads the deploy.json that `experiment deploy` wrote for
// each model (its rows carry every image's SSIM), and writes fig9.svg (a box per recipe: quartiles,
// median, whiskers to min and max; a dot per model at its mean), fig9.json and fig9.md. Every source
// is named with its model, checkpoint, step, device and commit; recipes missing from a source are
// said so, never filled in.

import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as v from 'valibot';
import { parseWith } from '../../schema/check.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { commit } from '../io/provenance.ts';
import { boxPlot, fiveNumbers, type FiveNumbers } from '../io/svg-boxplot.ts';

/** What fig9 reads of a deploy.json (other keys are allowed and ignored). */
export const DeploySourceSchema = v.pipe(
  v.looseObject({
    model: v.string(),
    checkpoint: v.nullable(v.string()),
    step: v.nullable(v.number()),
    train_recipe: v.nullable(v.string()),
    device: v.string(),
    commit: v.nullable(v.string()),
    n: v.number(),
    rows: v.array(
      v.looseObject({
        recipe: v.string(),
        ssim: v.nullable(v.number()),
        psnr: v.nullable(v.number()),
        ssim_per_image: v.optional(v.nullable(v.array(v.number()))),
      }),
    ),
  }),
  v.title('posit-gan deploy.json (what experiment fig9 reads of it)'),
);

export class Fig9Error extends Error {
  override name = 'Fig9Error';
}

export interface Fig9Source {
  dir: string;
  model: string;
  checkpoint: string | null;
  step: number | null;
  train_recipe: string | null;
  device: string;
  commit: string | null;
}

export interface Fig9Recipe {
  recipe: string;
  /** Quartiles etc. of every pooled image's SSIM. */
  ssim: FiveNumbers;
  /** Each model's mean SSIM under this recipe (by source directory). */
  per_model: Record<string, number>;
}

export interface Fig9 {
  commit: string | null;
  command: string;
  sources: Fig9Source[];
  recipes: Fig9Recipe[];
  notes: string[];
}

/** How a source directory is recorded: relative to `base` (the figure's own directory, so the
 *  committed files name their sources wherever the repository is cloned and fig9.md can link them),
 *  or as given without a base. */
export function sourceName(dir: string, base?: string): string {
  return base === undefined ? dir : relative(resolve(base), resolve(dir)) || '.';
}

function readSource(dir: string, base?: string): { source: Fig9Source; rows: Map<string, { ssim: number | null; images: number[] | null }> } {
  const path = join(dir, 'deploy.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Fig9Error(`cannot read ${path}: ${(e as Error).message}. Give directories that \`posit-gan experiment deploy\` wrote.`);
  }
  const d = parseWith(DeploySourceSchema, json, path, (m) => new Fig9Error(m));
  const rows = new Map(d.rows.map((r) => [r.recipe, { ssim: r.ssim, images: r.ssim_per_image ?? null }]));
  return { source: { dir: sourceName(dir, base), model: d.model, checkpoint: d.checkpoint, step: d.step, train_recipe: d.train_recipe, device: d.device, commit: d.commit }, rows };
}

/** Pools the sources' per-image SSIM per recipe (recipes in the order they first appear); sources are
 *  named relative to `base` when given (see sourceName). */
export function buildFig9(dirs: readonly string[], command: string, base?: string): Fig9 {
  if (dirs.length === 0) throw new Fig9Error('fig9 needs at least one directory written by `posit-gan experiment deploy`');
  const read = dirs.map((d) => readSource(d, base));
  const order = [...new Set(read.flatMap((r) => [...r.rows.keys()]))];
  const notes: string[] = [];
  const recipes: Fig9Recipe[] = [];
  for (const recipe of order) {
    const values: number[] = [];
    const perModel: Record<string, number> = {};
    for (const { source, rows } of read) {
      const row = rows.get(recipe);
      if (!row) {
        notes.push(`${source.dir} has no ${recipe} row: its images are not in that box.`);
        continue;
      }
      if (!row.images) {
        notes.push(`${source.dir}: the ${recipe} row has no per-image SSIM (written before deploy.json carried it, or without a reference): left out; rerun experiment deploy.`);
        continue;
      }
      values.push(...row.images);
      if (row.ssim !== null) perModel[source.dir] = row.ssim;
    }
    if (values.length) recipes.push({ recipe, ssim: fiveNumbers(values), per_model: perModel });
  }
  if (recipes.length === 0) throw new Fig9Error(`no per-image SSIM in ${dirs.join(', ')}: rerun \`posit-gan experiment deploy\` on those runs`);
  return { commit: commit(), command, sources: read.map((r) => r.source), recipes, notes };
}

export function fig9Svg(f: Fig9): string {
  const label = (s: Fig9Source) => `${s.model} (${s.dir.split('/').filter(Boolean).at(-1)})`;
  const names = new Map(f.sources.map((s) => [s.dir, label(s)]));
  return boxPlot(
    f.recipes.map((r) => ({
      label: r.recipe,
      stats: r.ssim,
      markers: Object.fromEntries(Object.entries(r.per_model).map(([dir, m]) => [names.get(dir)!, m])),
    })),
    { title: 'SSIM of deployed outputs against the float32 generator (all models)', yLabel: 'SSIM' },
  );
}

export function fig9Markdown(f: Fig9, svg: string): string {
  const lines = [
    '# Deployment across models (the paper\'s Fig. 9)',
    '',
    `Code: commit ${f.commit ?? 'unknown'}. Command: \`${f.command}\`. Plot: [${svg}](${svg}).`,
    '',
    'Sources (each `experiment deploy` of one trained generator):',
    '',
    ...f.sources.map((s) => `- [${s.dir}](${s.dir}/deploy.md): ${s.model}, ${s.train_recipe ?? '?'} step ${s.step ?? '?'}, ${s.device}, commit ${s.commit ?? 'unknown'}`),
    '',
    '| recipe | images | SSIM min | Q1 | median | Q3 | max | mean per model |',
    '|---|---|---|---|---|---|---|---|',
    ...f.recipes.map(
      (r) =>
        `| ${r.recipe} | ${r.ssim.n} | ${r.ssim.min.toFixed(4)} | ${r.ssim.q1.toFixed(4)} | ${r.ssim.median.toFixed(4)} | ${r.ssim.q3.toFixed(4)} | ${r.ssim.max.toFixed(4)} | ${Object.entries(r.per_model)
          .map(([d, m]) => `${d.split('/').filter(Boolean).at(-1)} ${m.toFixed(3)}`)
          .join('; ')} |`,
    ),
    ...(f.notes.length ? ['', ...f.notes.map((n) => `- ${n}`)] : []),
    '',
  ];
  return lines.join('\n');
}

/** Builds the figure from the sources and writes fig9.svg, fig9.json and fig9.md into `out`. */
export function writeFig9(dirs: readonly string[], out: string, command: string): Fig9 {
  const f = buildFig9(dirs, command, out);
  writeFileAtomicSync(join(out, 'fig9.svg'), fig9Svg(f));
  writeFileAtomicSync(join(out, 'fig9.json'), JSON.stringify(f, null, 2) + '\n');
  writeFileAtomicSync(join(out, 'fig9.md'), fig9Markdown(f, 'fig9.svg'));
  return f;
}
