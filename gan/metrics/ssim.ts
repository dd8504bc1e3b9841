// SSIM of 8-bit images as in Wang et al. (2004) and the paper's deployment evaluation: an 11 x 11
// Gaussian window with sigma 1.5 (normalised to sum 1), K1 = 0.01, K2 = 0.03, L = 255, computed at
// every position where the window fits inside the image (the "valid" region, no padding), and the
// mean of that SSIM map. Local statistics are the window-weighted mean, variance and covariance
// (weights sum to 1, no n/(n-1) correction), in float64. Multi-channel images: the mean over channels
// of each channel's SSIM. Browser-safe.

export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
export const SSIM_K1 = 0.01;
export const SSIM_K2 = 0.03;
export const SSIM_L = 255;

const C1 = (SSIM_K1 * SSIM_L) ** 2;
const C2 = (SSIM_K2 * SSIM_L) ** 2;

/** The normalised 1-D Gaussian; the 2-D window is its outer product (separable, also sums to 1). */
export const SSIM_KERNEL_1D: Float64Array = (() => {
  const r = (SSIM_WINDOW - 1) / 2;
  const g = Float64Array.from({ length: SSIM_WINDOW }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * SSIM_SIGMA ** 2)));
  const sum = g.reduce((s, v) => s + v, 0);
  return g.map((v) => v / sum);
})();

/** Valid-region separable filtering of a plane by SSIM_KERNEL_1D, rows then columns. */
function filterValid(src: Float64Array, h: number, w: number): Float64Array {
  const k = SSIM_KERNEL_1D;
  const ow = w - SSIM_WINDOW + 1;
  const oh = h - SSIM_WINDOW + 1;
  const rows = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < SSIM_WINDOW; t++) s += k[t]! * src[y * w + x + t]!;
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < SSIM_WINDOW; t++) s += k[t]! * rows[(y + t) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Mean SSIM of one plane (8-bit values, h x w row-major). */
export function ssimPlane(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number): number {
  if (h < SSIM_WINDOW || w < SSIM_WINDOW) {
    throw new Error(`SSIM needs images of at least ${SSIM_WINDOW} x ${SSIM_WINDOW} pixels, got ${h} x ${w}`);
  }
  if (a.length !== h * w || b.length !== h * w) throw new Error(`SSIM: planes of ${a.length} and ${b.length} values, expected ${h * w}`);
  const n = h * w;
  const fa = new Float64Array(n);
  const fb = new Float64Array(n);
  const faa = new Float64Array(n);
  const fbb = new Float64Array(n);
  const fab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    fa[i] = x;
    fb[i] = y;
    faa[i] = x * x;
    fbb[i] = y * y;
    fab[i] = x * y;
  }
  const mx = filterValid(fa, h, w);
  const my = filterValid(fb, h, w);
  const exx = filterValid(faa, h, w);
  const eyy = filterValid(fbb, h, w);
  const exy = filterValid(fab, h, w);
  let sum = 0;
  for (let i = 0; i < mx.length; i++) {
    const ux = mx[i]!;
    const uy = my[i]!;
    const vx = exx[i]! - ux * ux;
    const vy = eyy[i]! - uy * uy;
    const cxy = exy[i]! - ux * uy;
    sum += ((2 * ux * uy + C1) * (2 * cxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
  }
  return sum / mx.length;
}

/** Mean SSIM of two 8-bit images [channels, h, w]: the mean over channels of ssimPlane. */
export function ssim8(a: Uint8Array, b: Uint8Array, channels: number, h: number, w: number): number {
  const plane = h * w;
  if (a.length !== channels * plane || b.length !== channels * plane) {
    throw new Error(`SSIM: images of ${a.length} and ${b.length} values, expected ${channels} x ${h} x ${w}`);
  }
  let s = 0;
  for (let c = 0; c < channels; c++) s += ssimPlane(a.subarray(c * plane, (c + 1) * plane), b.subarray(c * plane, (c + 1) * plane), h, w);
  return s / channels;
}
