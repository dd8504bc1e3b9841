// Box plots as SVG text, without dependencies: one box per group (quartiles, median, whiskers to the
// minimum and maximum) with optional per-series markers inside each group (e.g. each model's mean),
// for distributions such as the SSIM of every deployed image per recipe (the paper's Fig. 9).
// Quartiles by linear interpolation between order statistics (type 7, R's and NumPy's default).
// Browser-safe.

import { escapeXml, niceTicks, PALETTE, svgStart } from './svg-plot.ts';

export interface BoxGroup {
  label: string;
  /** The distribution's summary (fiveNumbers of its values). */
  stats: FiveNumbers;
  /** Markers drawn over the box, by series name (e.g. a model's mean). */
  markers?: Readonly<Record<string, number>>;
}

export interface BoxPlotOptions {
  title?: string;
  yLabel?: string;
  /** Fixed y range (default: the data's, widened to nice ticks). */
  yRange?: [number, number];
  width?: number;
  height?: number;
}

/** The q-quantile (0..1) of sorted values, interpolating linearly between order statistics. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile: no values');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export interface FiveNumbers {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  n: number;
}

export function fiveNumbers(values: readonly number[]): FiveNumbers {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) throw new Error('fiveNumbers: no finite values');
  return { min: s[0]!, q1: quantile(s, 0.25), median: quantile(s, 0.5), q3: quantile(s, 0.75), max: s[s.length - 1]!, n: s.length };
}

export function boxPlot(groups: readonly BoxGroup[], options: BoxPlotOptions = {}): string {
  if (groups.length === 0) throw new Error('boxPlot: no groups');
  const series = [...new Set(groups.flatMap((g) => Object.keys(g.markers ?? {})))];
  // The legend sits in the right margin: wide enough for its longest name (about 7 px a character
  // at the 12 px font), so a long model name is not cut off at the edge.
  const right = Math.max(150, 40 + 7 * Math.max(0, ...series.map((n) => n.length)));
  const W = options.width ?? Math.max(480, 90 * groups.length + 120) + (right - 150);
  const H = options.height ?? 420;
  const M = { left: 70, right, top: 36, bottom: 52 };
  const stats = groups.map((g) => g.stats);
  let [lo, hi] = options.yRange ?? [Math.min(...stats.map((s) => s.min)), Math.max(...stats.map((s) => s.max))];
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  const ticks = niceTicks(lo, hi);
  if (!options.yRange) [lo, hi] = [Math.min(lo, ticks.ticks[0]!), Math.max(hi, ticks.ticks.at(-1)!)];
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const sy = (v: number) => M.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const slot = plotW / groups.length;
  const f = (v: number) => v.toFixed(2);
  const out = svgStart(W, H, options.title, (M.left + W - M.right) / 2);
  for (const t of ticks.ticks) {
    if (t < lo || t > hi) continue;
    const y = f(sy(t));
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(String(Number(t.toPrecision(6))))}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  if (options.yLabel) out.push(`<text transform="translate(16 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  groups.forEach((g, i) => {
    const s = stats[i]!;
    const cx = M.left + slot * (i + 0.5);
    const half = Math.min(28, slot * 0.3);
    out.push(`<line x1="${f(cx)}" y1="${f(sy(s.min))}" x2="${f(cx)}" y2="${f(sy(s.max))}" stroke="#333"/>`);
    for (const v of [s.min, s.max]) out.push(`<line x1="${f(cx - half / 2)}" y1="${f(sy(v))}" x2="${f(cx + half / 2)}" y2="${f(sy(v))}" stroke="#333"/>`);
    out.push(`<rect x="${f(cx - half)}" y="${f(sy(s.q3))}" width="${f(2 * half)}" height="${f(Math.max(0.5, sy(s.q1) - sy(s.q3)))}" fill="#dbe9f6" stroke="#333"/>`);
    out.push(`<line x1="${f(cx - half)}" y1="${f(sy(s.median))}" x2="${f(cx + half)}" y2="${f(sy(s.median))}" stroke="#000" stroke-width="2"/>`);
    series.forEach((name, k) => {
      const v = g.markers?.[name];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = cx - half + ((k + 0.5) / series.length) * 2 * half;
      out.push(`<circle cx="${f(x)}" cy="${f(sy(v))}" r="3.5" fill="${PALETTE[k % PALETTE.length]}"/>`);
    });
    out.push(`<text x="${f(cx)}" y="${M.top + plotH + 16}" text-anchor="middle">${escapeXml(g.label)}</text>`);
    out.push(`<text x="${f(cx)}" y="${M.top + plotH + 30}" text-anchor="middle" fill="#666" font-size="10">n=${s.n}</text>`);
  });
  series.forEach((name, k) => {
    const y = M.top + 10 + 18 * k;
    out.push(`<circle cx="${W - M.right + 16}" cy="${y}" r="4" fill="${PALETTE[k % PALETTE.length]}"/>`);
    out.push(`<text x="${W - M.right + 26}" y="${y}" dominant-baseline="middle">${escapeXml(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
