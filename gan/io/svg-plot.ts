// Line charts as SVG text, without dependencies: the loss curves of a training run, the FID curves of
// Table I. Several series, each optionally with a shaded band (e.g. min..max over seeds), axes with
// "nice" ticks (1, 2, 5 x 10^k), axis labels, a legend, optional logarithmic y axis. Browser-safe.
//
// Data rules: a point whose x or y is not finite (or, on a log axis, whose y is not positive) is not
// drawn and breaks its line into separate segments, so a NaN loss shows as a gap, not as a spike to
// zero. A series longer than maxPoints is reduced to maxPoints bucket means (consecutive points
// averaged, in x and in y; the plotted curve is a moving average, which is what loss curves want).
// A band follows the same rules: a point where x, lo or hi is not finite (or not positive on a log
// axis) breaks it.

export interface Series {
  name: string;
  /** x values; default 0, 1, 2, ... */
  x?: ArrayLike<number>;
  y: ArrayLike<number>;
  /** CSS colour; default from a fixed palette by series index. */
  color?: string;
  /** A shaded band from lo to hi at the same x values (its legend is the caller's to state). */
  band?: { lo: ArrayLike<number>; hi: ArrayLike<number> };
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logY?: boolean;
  /** Size in pixels (default 720 x 420). */
  width?: number;
  height?: number;
  /** Points per series after bucket averaging (default 2000). */
  maxPoints?: number;
  /** Also mark every point with a dot (for short series, e.g. evaluations every few epochs). */
  markers?: boolean;
}

// Colour-blind-friendly palette (Okabe & Ito).
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

const MARGIN = { left: 70, right: 20, top: 36, bottom: 52 };

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Ticks at multiples of 1, 2 or 5 x 10^k covering [lo, hi] with about `target` intervals. */
export function niceTicks(lo: number, hi: number, target = 6): { ticks: number[]; step: number } {
  if (!(hi > lo) || !Number.isFinite(hi - lo)) throw new Error(`niceTicks: need a finite range lo < hi, got ${lo} .. ${hi}`);
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  // toPrecision(12) drops the float noise of k * step (0.6000000000000001); + 0 turns -0 into 0.
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)) + 0);
  return { ticks, step };
}

function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(0, Math.min(6, Math.ceil(-Math.log10(step / a))))).replace(/\.?0+e/, 'e');
  const decimals = Math.max(0, Math.min(10, Math.ceil(-Math.log10(step) - 1e-9)));
  return v.toFixed(decimals);
}

/** Log-axis ticks: powers of ten, plus 2 and 5 times them when the range spans fewer than 3 decades. */
function logTicks(lo: number, hi: number): number[] {
  const k0 = Math.floor(Math.log10(lo));
  const k1 = Math.ceil(Math.log10(hi));
  const mults = k1 - k0 < 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) for (const m of mults) {
    const v = m * 10 ** k;
    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
  }
  return ticks;
}

/** Points (x, ys[0][i], ys[1][i], ...) bucket-averaged down to maxPoints; NaN marks a break. */
function bucketed(s: Series, ys: readonly ArrayLike<number>[], maxPoints: number, logY: boolean): { x: number[]; ys: number[][] } {
  const n = s.y.length;
  if (s.x && s.x.length !== n) throw new Error(`series '${s.name}': ${s.x.length} x values for ${n} y values`);
  for (const y of ys) if (y.length !== n) throw new Error(`series '${s.name}': a band of ${y.length} values for ${n} y values`);
  const xAt = (i: number) => (s.x ? s.x[i]! : i);
  const ok = (i: number) => Number.isFinite(xAt(i)) && ys.every((y) => Number.isFinite(y[i]!) && (!logY || y[i]! > 0));
  const x: number[] = [];
  const out: number[][] = ys.map(() => []);
  const per = Math.max(1, Math.ceil(n / maxPoints));
  for (let b = 0; b < n; b += per) {
    let sx = 0;
    const sy = ys.map(() => 0);
    let m = 0;
    let broken = false;
    for (let i = b; i < Math.min(n, b + per); i++) {
      if (!ok(i)) {
        broken = true;
        continue;
      }
      sx += xAt(i);
      ys.forEach((y, k) => (sy[k]! += logY ? Math.log10(y[i]!) : y[i]!));
      m++;
    }
    if (m > 0) {
      x.push(sx / m);
      sy.forEach((v, k) => out[k]!.push(logY ? 10 ** (v / m) : v / m));
    }
    if (broken) {
      x.push(NaN);
      out.forEach((o) => o.push(NaN));
    }
  }
  return { x, ys: out };
}

/** The series' points, bucket-averaged down to maxPoints; NaN marks a break. */
function points(s: Series, maxPoints: number, logY: boolean): { x: number[]; y: number[] } {
  const b = bucketed(s, [s.y], maxPoints, logY);
  return { x: b.x, y: b.ys[0]! };
}

/** The band's points (lo and hi), bucketed like the series; NaN marks a break. */
function bandPoints(s: Series, maxPoints: number, logY: boolean): { x: number[]; lo: number[]; hi: number[] } | null {
  if (!s.band) return null;
  const b = bucketed(s, [s.band.lo, s.band.hi], maxPoints, logY);
  return { x: b.x, lo: b.ys[0]!, hi: b.ys[1]! };
}

/** The opening of an SVG chart: the root element, a white background and the title centred at titleX. */
export function svgStart(W: number, H: number, title: string | undefined, titleX: number): string[] {
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`, `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`];
  if (title) out.push(`<text x="${titleX}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  return out;
}

/** An SVG document (text) with a line chart of the given series. */
export function lineChart(series: readonly Series[], options: ChartOptions = {}): string {
  const W = options.width ?? 720;
  const H = options.height ?? 420;
  const logY = options.logY ?? false;
  const maxPoints = options.maxPoints ?? 2000;
  const pts = series.map((s) => points(s, maxPoints, logY));
  const bands = series.map((s) => bandPoints(s, maxPoints, logY));

  let xLo = Infinity;
  let xHi = -Infinity;
  let yLo = Infinity;
  let yHi = -Infinity;
  const extend = (x: number[], ...ys: number[][]) => {
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i]!)) continue;
      xLo = Math.min(xLo, x[i]!);
      xHi = Math.max(xHi, x[i]!);
      for (const y of ys) {
        yLo = Math.min(yLo, y[i]!);
        yHi = Math.max(yHi, y[i]!);
      }
    }
  };
  for (const p of pts) extend(p.x, p.y);
  for (const b of bands) if (b) extend(b.x, b.lo, b.hi);
  const empty = xLo > xHi;
  if (empty) [xLo, xHi, yLo, yHi] = [0, 1, logY ? 1 : 0, logY ? 10 : 1];
  if (xLo === xHi) [xLo, xHi] = [xLo - 1, xHi + 1];
  if (yLo === yHi) [yLo, yHi] = logY ? [yLo / 2, yHi * 2] : [yLo - Math.max(1, Math.abs(yLo) * 0.1), yHi + Math.max(1, Math.abs(yHi) * 0.1)];

  const xt = niceTicks(xLo, xHi);
  let yTicks: number[];
  let yStep = 0;
  if (logY) {
    yLo = 10 ** Math.floor(Math.log10(yLo));
    yHi = 10 ** Math.ceil(Math.log10(yHi));
    yTicks = logTicks(yLo, yHi);
  } else {
    const yt = niceTicks(yLo, yHi);
    yStep = yt.step;
    yLo = Math.min(yLo, yt.ticks[0]!);
    yHi = Math.max(yHi, yt.ticks[yt.ticks.length - 1]!);
    yTicks = yt.ticks;
  }

  const plotW = W - MARGIN.left - MARGIN.right;
  const plotH = H - MARGIN.top - MARGIN.bottom;
  const sx = (v: number) => MARGIN.left + ((v - xLo) / (xHi - xLo)) * plotW;
  const sy = (v: number) =>
    MARGIN.top + plotH - (logY ? (Math.log10(v) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo)) : (v - yLo) / (yHi - yLo)) * plotH;
  const f = (v: number) => v.toFixed(2);

  const out = svgStart(W, H, options.title, W / 2);

  // Grid lines and tick labels.
  for (const t of xt.ticks) {
    if (t < xLo || t > xHi) continue;
    const x = f(sx(t));
    out.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(formatTick(t, xt.step))}</text>`);
  }
  for (const t of yTicks) {
    const y = f(sy(t));
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    const label = logY ? formatTick(t, t) : formatTick(t, yStep);
    out.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(label)}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  if (options.xLabel) out.push(`<text x="${MARGIN.left + plotW / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  if (options.yLabel) {
    const cy = MARGIN.top + plotH / 2;
    out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(options.yLabel)}</text>`);
  }
  if (empty) out.push(`<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle" fill="#888">no data</text>`);

  // Bands under the lines: one polygon per unbroken stretch, along hi and back along lo.
  series.forEach((s, k) => {
    const b = bands[k];
    if (!b) return;
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    let run: number[] = [];
    const flush = () => {
      if (run.length > 1) {
        const fwd = run.map((i) => `${f(sx(b.x[i]!))},${f(sy(b.hi[i]!))}`);
        const back = [...run].reverse().map((i) => `${f(sx(b.x[i]!))},${f(sy(b.lo[i]!))}`);
        out.push(`<polygon points="${[...fwd, ...back].join(' ')}" fill="${escapeXml(color)}" fill-opacity="0.18" stroke="none"><title>${escapeXml(s.name)} (band)</title></polygon>`);
      }
      run = [];
    };
    for (let i = 0; i < b.x.length; i++) {
      if (Number.isNaN(b.x[i]!)) flush();
      else run.push(i);
    }
    flush();
  });

  // Series.
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const p = pts[k]!;
    let d = '';
    let pen = false;
    for (let i = 0; i < p.x.length; i++) {
      if (Number.isNaN(p.x[i]!)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${f(sx(p.x[i]!))} ${f(sy(p.y[i]!))}`;
      pen = true;
    }
    if (d) out.push(`<path d="${d}" fill="none" stroke="${escapeXml(color)}" stroke-width="1.5" stroke-linejoin="round"><title>${escapeXml(s.name)}</title></path>`);
    if (options.markers) {
      for (let i = 0; i < p.x.length; i++) {
        if (!Number.isNaN(p.x[i]!)) out.push(`<circle cx="${f(sx(p.x[i]!))}" cy="${f(sy(p.y[i]!))}" r="2.5" fill="${escapeXml(color)}"/>`);
      }
    }
  });

  // Legend, top right inside the plot.
  const legendW = 26 + Math.max(0, ...series.map((s) => s.name.length)) * 7;
  if (series.length > 0) {
    const x = MARGIN.left + plotW - legendW - 6;
    out.push(`<rect x="${x}" y="${MARGIN.top + 4}" width="${legendW + 2}" height="${series.length * 16 + 4}" fill="white" fill-opacity="0.85"/>`);
  }
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const x = MARGIN.left + plotW - legendW;
    const y = MARGIN.top + 14 + k * 16;
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${escapeXml(color)}" stroke-width="2.5"/>`);
    out.push(`<text x="${x + 24}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
