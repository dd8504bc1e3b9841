// Generator and discriminator loss curves on a canvas, sized to its CSS box at the device's pixel
// ratio. The discriminator's curve is dashed, so the two stay apart without relying on colour.

export interface Series {
  label: string;
  values: readonly number[];
  color: string;
  dashed: boolean;
}

const PAD = { left: 44, right: 8, top: 8, bottom: 20 };

function niceRange(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (hi - lo < 1e-6) return [lo - 0.5, hi + 0.5];
  const m = (hi - lo) * 0.08;
  return [lo - m, hi + m];
}

export function drawLossChart(canvas: HTMLCanvasElement, series: readonly Series[]): void {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth;
  const cssH = canvas.clientHeight;
  if (cssW === 0 || cssH === 0) return; // not laid out (hidden): drawn again when shown
  canvas.width = Math.round(cssW * dpr);
  canvas.height = Math.round(cssH * dpr);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  const style = getComputedStyle(canvas);
  const ink = style.color;
  ctx.font = `11px ${style.fontFamily}`;
  const steps = Math.max(...series.map((s) => s.values.length), 1);
  const [lo, hi] = niceRange(series.flatMap((s) => s.values));
  const plotW = cssW - PAD.left - PAD.right;
  const plotH = cssH - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (steps <= 1 ? 0 : (i / (steps - 1)) * plotW);
  const y = (v: number) => PAD.top + (1 - (v - lo) / (hi - lo)) * plotH;

  ctx.strokeStyle = ink;
  ctx.globalAlpha = 0.35;
  ctx.lineWidth = 1;
  ctx.strokeRect(PAD.left, PAD.top, plotW, plotH);
  ctx.globalAlpha = 1;
  ctx.fillStyle = ink;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of [lo, (lo + hi) / 2, hi]) ctx.fillText(v.toPrecision(3), PAD.left - 4, y(v));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(`step ${steps}`, PAD.left + plotW / 2, PAD.top + plotH + 4);

  // At most about one point per CSS pixel: long runs are subsampled, not averaged.
  const stride = Math.max(1, Math.floor(steps / plotW));
  for (const s of series) {
    if (s.values.length === 0) continue;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.setLineDash(s.dashed ? [5, 3] : []);
    ctx.beginPath();
    for (let i = 0; i < s.values.length; i += stride) {
      if (i === 0) ctx.moveTo(x(i), y(s.values[i]!));
      else ctx.lineTo(x(i), y(s.values[i]!));
    }
    const last = s.values.length - 1;
    ctx.lineTo(x(last), y(s.values[last]!));
    ctx.stroke();
  }
  ctx.setLineDash([]);
}
