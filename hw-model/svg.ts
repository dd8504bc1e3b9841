// The breakdown chart: one horizontal stacked bar per run (energy per step, split by part), one block
// per parameter point, bars normalised to the point's reference run (the reference is 1.0). Plain SVG
// written by hand: no dependencies, readable in a browser or an image viewer.

import type { Estimate } from './estimate.ts';
import { PART_ORDER, type Comparison } from './report.ts';
import { formatEnergy } from './units.ts';

/** One colour per part; memory parts in greys/blues so "what drives the result" separates at a glance. */
const COLOURS: Readonly<Record<string, string>> = {
  multiply: '#d95f02',
  accumulate: '#e6ab02',
  register_write: '#a6761d',
  arithmetic: '#66a61e',
  convert: '#e7298a',
  quire_round: '#7570b3',
  activation: '#1b9e77',
  register_file: '#a6cee3',
  sram: '#1f78b4',
  dram: '#525252',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface ChartBlock {
  readonly heading: string;
  readonly estimates: readonly Estimate[];
  readonly comparison: Comparison;
}

export function breakdownSvg(blocks: readonly ChartBlock[], title: string): string {
  const W = 1000;
  const labelW = 220;
  const barW = 520;
  const rowH = 24;
  const parts = PART_ORDER.filter((p) => blocks.some((b) => b.estimates.some((e) => (e.energy.byPart[p] ?? 0) > 0)));
  const el: string[] = [];
  let y = 30;
  el.push(`<text x="10" y="${y}" font-size="16" font-weight="bold">${esc(title)}</text>`);
  y += 22;
  let x = 10;
  for (const p of parts) {
    el.push(`<rect x="${x}" y="${y - 11}" width="12" height="12" fill="${COLOURS[p]}"/><text x="${x + 16}" y="${y}" font-size="12">${esc(p)}</text>`);
    x += 30 + p.length * 7.5;
  }
  y += 16;
  for (const b of blocks) {
    y += 20;
    el.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${esc(b.heading)} (energy per step, reference ${esc(b.comparison.reference)} = 1)</text>`);
    y += 8;
    const ref = b.comparison.rows.find((r) => r.label === b.comparison.reference)!;
    const maxRatio = Math.max(1, ...b.comparison.rows.map((r) => r.energyRatio));
    b.estimates.forEach((e, i) => {
      const row = b.comparison.rows[i]!;
      const top = y + 4;
      el.push(`<text x="${labelW - 8}" y="${top + 15}" font-size="12" text-anchor="end">${esc(row.label)}</text>`);
      let bx = labelW;
      for (const p of parts) {
        const v = (e.energy.byPart[p] ?? 0) / e.run.steps;
        if (v <= 0) continue;
        const w = (v / ref.energyPerStep_pJ / maxRatio) * barW;
        el.push(
          `<rect x="${bx.toFixed(2)}" y="${top}" width="${w.toFixed(2)}" height="${rowH - 6}" fill="${COLOURS[p]}"><title>${esc(`${row.label} ${p}: ${formatEnergy(v)} per step`)}</title></rect>`,
        );
        bx += w;
      }
      el.push(`<text x="${(bx + 6).toFixed(2)}" y="${top + 15}" font-size="12">${esc(`${row.energyRatio.toFixed(2)}x energy (${formatEnergy(row.energyPerStep_pJ)}/step), ${row.timeRatio.toFixed(2)}x time`)}</text>`);
      y += rowH;
    });
  }
  const H = y + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    ...el,
    '</svg>',
    '',
  ].join('\n');
}
