// Float64 CPU references for the neural-network ops, written from their definitions (PyTorch's
// documented semantics), independent of the GPU kernels.

/** The flat indices of each channel of an [N, C, ...] tensor. */
function channelIndices(shape: readonly number[]): number[][] {
  const [n, c] = shape as [number, number];
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const out: number[][] = Array.from({ length: c }, () => []);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let s = 0; s < inner; s++) out[k]!.push((b * c + k) * inner + s);
  return out;
}

export interface BnStats {
  mean: Float64Array;
  /** Biased variance (normalisation). */
  variance: Float64Array;
  /** Unbiased variance (running update). */
  unbiased: Float64Array;
}

export function bnStats(x: Float64Array, shape: readonly number[]): BnStats {
  const chans = channelIndices(shape);
  const mean = new Float64Array(chans.length);
  const variance = new Float64Array(chans.length);
  const unbiased = new Float64Array(chans.length);
  chans.forEach((idx, c) => {
    const m = idx.reduce((s, i) => s + x[i]!, 0) / idx.length;
    const q = idx.reduce((s, i) => s + (x[i]! - m) ** 2, 0);
    mean[c] = m;
    variance[c] = q / idx.length;
    unbiased[c] = q / (idx.length - 1);
  });
  return { mean, variance, unbiased };
}

/** (x - mean) / sqrt(var + eps) * w + b per channel. */
export function bnApply(x: Float64Array, shape: readonly number[], mean: ArrayLike<number>, variance: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  channelIndices(shape).forEach((idx, c) => {
    for (const i of idx) out[i] = ((x[i]! - mean[c]!) / Math.sqrt(variance[c]! + eps)) * w[c]! + b[c]!;
  });
  return out;
}

export function logSoftmax(x: Float64Array, classes: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / classes; r++) {
    const row = x.subarray(r * classes, (r + 1) * classes);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    row.forEach((v, j) => (out[r * classes + j] = v - lse));
  }
  return out;
}

export interface Pool2dGeometry {
  shape: [number, number, number, number];
  k: [number, number];
  s: [number, number];
  p: [number, number];
}

export function pool2d(kind: 'max' | 'avg', x: Float64Array, g: Pool2dGeometry, includePad = true): { y: Float64Array; shape: number[] } {
  const [n, c, h, w] = g.shape;
  const oh = Math.floor((h + 2 * g.p[0] - g.k[0]) / g.s[0]) + 1;
  const ow = Math.floor((w + 2 * g.p[1] - g.k[1]) / g.s[1]) + 1;
  const y = new Float64Array(n * c * oh * ow);
  for (let pl = 0; pl < n * c; pl++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let acc = 0;
        let cnt = 0;
        for (let a = 0; a < g.k[0]; a++)
          for (let b = 0; b < g.k[1]; b++) {
            const ih = i * g.s[0] - g.p[0] + a;
            const iw = j * g.s[1] - g.p[1] + b;
            if (ih < 0 || iw < 0 || ih >= h || iw >= w) continue;
            const v = x[pl * h * w + ih * w + iw]!;
            best = Math.max(best, v);
            acc += v;
            cnt++;
          }
        y[(pl * oh + i) * ow + j] = kind === 'max' ? best : acc / (includePad ? g.k[0] * g.k[1] : cnt);
      }
  return { y, shape: [n, c, oh, ow] };
}

/** conv2d over NCHW with weight [O, C, KH, KW]; padding [top, bottom, left, right]. */
export function conv2d(x: ArrayLike<number>, xs: readonly number[], w: ArrayLike<number>, ws: readonly number[], b: ArrayLike<number> | null, stride: [number, number], pad: [number, number, number, number]): { y: Float64Array; shape: number[] } {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [o, , kh, kw] = ws as [number, number, number, number];
  const oh = Math.floor((h + pad[0] + pad[1] - kh) / stride[0]) + 1;
  const ow = Math.floor((wd + pad[2] + pad[3] - kw) / stride[1]) + 1;
  const y = new Float64Array(n * o * oh * ow);
  for (let bn = 0; bn < n; bn++)
    for (let oc = 0; oc < o; oc++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = b ? b[oc]! : 0;
          for (let ic = 0; ic < c; ic++)
            for (let a = 0; a < kh; a++)
              for (let q = 0; q < kw; q++) {
                const ih = i * stride[0] - pad[0] + a;
                const iw = j * stride[1] - pad[2] + q;
                if (ih < 0 || iw < 0 || ih >= h || iw >= wd) continue;
                s += x[((bn * c + ic) * h + ih) * wd + iw]! * w[((oc * c + ic) * kh + a) * kw + q]!;
              }
          y[((bn * o + oc) * oh + i) * ow + j] = s;
        }
  return { y, shape: [n, o, oh, ow] };
}

/** Transposed conv over NCHW with weight [C, O, KH, KW], symmetric padding, output padding. */
export function convTranspose2d(x: ArrayLike<number>, xs: readonly number[], w: ArrayLike<number>, ws: readonly number[], b: ArrayLike<number> | null, stride: [number, number], pad: [number, number], outPad: [number, number]): { y: Float64Array; shape: number[] } {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [, o, kh, kw] = ws as [number, number, number, number];
  const oh = (h - 1) * stride[0] - 2 * pad[0] + kh + outPad[0];
  const ow = (wd - 1) * stride[1] - 2 * pad[1] + kw + outPad[1];
  const y = new Float64Array(n * o * oh * ow);
  for (let bn = 0; bn < n; bn++)
    for (let oc = 0; oc < o; oc++) for (let k = 0; k < oh * ow; k++) y[(bn * o + oc) * oh * ow + k] = b ? b[oc]! : 0;
  for (let bn = 0; bn < n; bn++)
    for (let ic = 0; ic < c; ic++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < wd; j++)
          for (let oc = 0; oc < o; oc++)
            for (let a = 0; a < kh; a++)
              for (let q = 0; q < kw; q++) {
                const yh = i * stride[0] - pad[0] + a;
                const yw = j * stride[1] - pad[1] + q;
                if (yh < 0 || yw < 0 || yh >= oh || yw >= ow) continue;
                y[((bn * o + oc) * oh + yh) * ow + yw]! += x[((bn * c + ic) * h + i) * wd + j]! * w[((ic * o + oc) * kh + a) * kw + q]!;
              }
  return { y, shape: [n, o, oh, ow] };
}

/** Instance normalisation of [N, C, ...]: each (sample, channel) plane by its own mean and biased
 *  variance, then weight[c] and bias[c] (null: 1 and 0). */
export function instanceNorm(x: Float64Array, shape: readonly number[], w: ArrayLike<number> | null, b: ArrayLike<number> | null, eps: number): Float64Array {
  const [n, c] = shape as [number, number];
  const s = shape.slice(2).reduce((a, v) => a * v, 1);
  const out = new Float64Array(x.length);
  for (let p = 0; p < n * c; p++) {
    const plane = x.subarray(p * s, (p + 1) * s);
    const m = plane.reduce((a, v) => a + v, 0) / s;
    const v = plane.reduce((a, u) => a + (u - m) ** 2, 0) / s;
    const k = p % c;
    for (let i = 0; i < s; i++) out[p * s + i] = ((plane[i]! - m) / Math.sqrt(v + eps)) * (w ? w[k]! : 1) + (b ? b[k]! : 0);
  }
  return out;
}

/** ReflectionPad2d of [N, C, H, W] by [left, right, top, bottom] (each below the padded size): the
 *  border is mirrored without repeating the edge, as PyTorch. */
export function reflectionPad2d(x: Float64Array, shape: readonly number[], pad: readonly [number, number, number, number]): { y: Float64Array; shape: number[] } {
  const [n, c, h, w] = shape as [number, number, number, number];
  const [l, r, t, b] = pad;
  const oh = h + t + b;
  const ow = w + l + r;
  const reflect = (j: number, size: number) => (j < 0 ? -j : j >= size ? 2 * (size - 1) - j : j);
  const y = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) y[(p * oh + i) * ow + j] = x[(p * h + reflect(i - t, h)) * w + reflect(j - l, w)]!;
  return { y, shape: [n, c, oh, ow] };
}

/** Nearest-neighbour upsampling of [N, C, H, W] by integer factors: out[i, j] = x[floor(i / fh), floor(j / fw)]. */
export function upsampleNearest(x: Float64Array, shape: readonly number[], fh: number, fw: number): { y: Float64Array; shape: number[] } {
  const [n, c, h, w] = shape as [number, number, number, number];
  const [oh, ow] = [h * fh, w * fw];
  const y = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) y[(p * oh + i) * ow + j] = x[(p * h + Math.floor(i / fh)) * w + Math.floor(j / fw)]!;
  return { y, shape: [n, c, oh, ow] };
}

/** PixelShuffle(r) of [N, C r^2, H, W] to [N, C, H r, W r]: out[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w]. */
export function pixelShuffle(x: Float64Array, shape: readonly number[], r: number): { y: Float64Array; shape: number[] } {
  const [n, cr, h, w] = shape as [number, number, number, number];
  const c = cr / (r * r);
  const y = new Float64Array(x.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let i = 0; i < h * r; i++)
        for (let j = 0; j < w * r; j++) {
          const src = (((b * cr + k * r * r + (i % r) * r + (j % r)) * h + Math.floor(i / r)) * w + Math.floor(j / r));
          y[((b * c + k) * h * r + i) * w * r + j] = x[src]!;
        }
  return { y, shape: [n, c, h * r, w * r] };
}
