// PSNR, SSIM and their set summary: hand-computed cases, an independent direct-sum SSIM, properties,
// and the identical-image rule.

import { describe, expect, it } from 'vitest';
import { toPixels8 } from '../../gan/metrics/pixels.ts';
import { psnr8 } from '../../gan/metrics/psnr.ts';
import { compareImages } from '../../gan/metrics/quality.ts';
import { ssim8, ssimPlane, SSIM_KERNEL_1D } from '../../gan/metrics/ssim.ts';
import { Rng } from './random.ts';

/** The [-1, 1] value that saves as pixel p. */
const fromPixel = (p: number) => p / 127.5 - 1;

/** SSIM written directly from the definition: 2-D window weights, explicit sums at each position. */
function ssimDirect(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number): number {
  const r = 5;
  const g = (i: number) => Math.exp(-(i * i) / (2 * 1.5 * 1.5));
  let norm = 0;
  for (let i = -r; i <= r; i++) for (let j = -r; j <= r; j++) norm += g(i) * g(j);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let total = 0;
  let count = 0;
  for (let y = r; y < h - r; y++) {
    for (let x = r; x < w - r; x++) {
      let ma = 0, mb = 0;
      for (let i = -r; i <= r; i++) for (let j = -r; j <= r; j++) {
        const wt = (g(i) * g(j)) / norm;
        ma += wt * a[(y + i) * w + x + j]!;
        mb += wt * b[(y + i) * w + x + j]!;
      }
      let va = 0, vb = 0, cab = 0;
      for (let i = -r; i <= r; i++) for (let j = -r; j <= r; j++) {
        const wt = (g(i) * g(j)) / norm;
        const da = a[(y + i) * w + x + j]! - ma;
        const db = b[(y + i) * w + x + j]! - mb;
        va += wt * da * da;
        vb += wt * db * db;
        cab += wt * da * db;
      }
      total += ((2 * ma * mb + c1) * (2 * cab + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      count++;
    }
  }
  return total / count;
}

function randomPixels(n: number, rng: Rng): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * 256));
}

describe('toPixels8', () => {
  it('maps -1 -> 0, 1 -> 255, rounds halves up, clamps, and rejects NaN', () => {
    // 0 -> 127.5 exactly, a half: rounds up to 128.
    expect(Array.from(toPixels8([-1, 1, 0, fromPixel(17), -3, 2, fromPixel(17.49), fromPixel(17.51)]))).toEqual([0, 255, 128, 17, 0, 255, 17, 18]);
    expect(() => toPixels8([0, NaN])).toThrow(/pixel 1 is NaN/);
  });
});

describe('PSNR', () => {
  it('matches hand-computed cases', () => {
    // One pixel of four off by 255: MSE = 255^2 / 4, PSNR = 10 log10(4) = 6.0206 dB.
    expect(psnr8(Uint8Array.from([0, 0, 0, 0]), Uint8Array.from([0, 0, 0, 255]))).toBeCloseTo(10 * Math.log10(4), 12);
    // Every pixel off by 1: MSE = 1, PSNR = 20 log10(255) = 48.1308 dB.
    expect(psnr8(Uint8Array.from([10, 20, 30]), Uint8Array.from([11, 19, 31]))).toBeCloseTo(48.1308036086791, 12);
    // Off by 2 and 0 over two pixels: MSE = 2, PSNR = 10 log10(255^2 / 2).
    expect(psnr8(Uint8Array.from([100, 7]), Uint8Array.from([102, 7]))).toBeCloseTo(10 * Math.log10(65025 / 2), 12);
    expect(psnr8(Uint8Array.from([1, 2]), Uint8Array.from([1, 2]))).toBe(Infinity);
  });
});

describe('SSIM', () => {
  it('uses a normalised 11-tap Gaussian with sigma 1.5', () => {
    expect(SSIM_KERNEL_1D.length).toBe(11);
    expect(SSIM_KERNEL_1D.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 15);
    expect(SSIM_KERNEL_1D[5]! / SSIM_KERNEL_1D[6]!).toBeCloseTo(Math.exp(1 / (2 * 2.25)), 14);
  });

  it('is 1 for an image with itself', () => {
    const rng = new Rng(3);
    const a = randomPixels(28 * 28, rng);
    expect(ssimPlane(a, a, 28, 28)).toBe(1);
  });

  it('matches a hand-computed case: constant images 100 and 110 (variances 0)', () => {
    // SSIM = (2 * 100 * 110 + C1) / (100^2 + 110^2 + C1) with C1 = 2.55^2; the contrast term is C2/C2
    // (up to the ~1e-12 rounding of E[x^2] - mu^2 in the variances).
    const c1 = 2.55 ** 2;
    const expected = (2 * 100 * 110 + c1) / (100 ** 2 + 110 ** 2 + c1);
    expect(ssimPlane(new Uint8Array(13 * 12).fill(100), new Uint8Array(13 * 12).fill(110), 13, 12)).toBeCloseTo(expected, 12);
  });

  it('equals a direct implementation of the definition on random images (valid region only)', () => {
    const rng = new Rng(9);
    const [h, w] = [17, 23];
    const a = randomPixels(h * w, rng);
    const b = Uint8Array.from(a, (v) => Math.min(255, Math.max(0, v + Math.round((rng.uniform() - 0.5) * 80))));
    expect(Math.abs(ssimPlane(a, b, h, w) - ssimDirect(a, b, h, w))).toBeLessThan(1e-12);
  });

  it('a constant offset leaves only the luminance term', () => {
    // b = a + 40 (no clipping): sigma_b = sigma_a and sigma_ab = sigma_a^2, so each window's SSIM is
    // (2 mu (mu + 40) + C1) / (mu^2 + (mu + 40)^2 + C1), below 1.
    const rng = new Rng(4);
    const a = Uint8Array.from({ length: 11 * 11 }, () => 50 + Math.floor(rng.uniform() * 100));
    const b = a.map((v) => v + 40);
    let mu = 0;
    for (let i = 0; i < 11; i++) for (let j = 0; j < 11; j++) mu += SSIM_KERNEL_1D[i]! * SSIM_KERNEL_1D[j]! * a[i * 11 + j]!;
    const c1 = 2.55 ** 2;
    expect(ssimPlane(a, b, 11, 11)).toBeCloseTo((2 * mu * (mu + 40) + c1) / (mu * mu + (mu + 40) ** 2 + c1), 12);
  });

  it('averages channels and refuses images smaller than the window', () => {
    const rng = new Rng(5);
    const a = randomPixels(2 * 12 * 12, rng);
    const b = randomPixels(2 * 12 * 12, rng);
    const per = [0, 1].map((c) => ssimPlane(a.subarray(c * 144, (c + 1) * 144), b.subarray(c * 144, (c + 1) * 144), 12, 12));
    expect(ssim8(a, b, 2, 12, 12)).toBeCloseTo((per[0]! + per[1]!) / 2, 15);
    expect(() => ssimPlane(new Uint8Array(100), new Uint8Array(100), 10, 10)).toThrow(/at least 11 x 11/);
  });
});

describe('compareImages', () => {
  it('counts identical images apart, averages PSNR over the rest and SSIM over all', () => {
    const shape = { channels: 1, height: 12, width: 12 };
    const size = 144;
    const ref = new Float32Array(3 * size).map((_, i) => fromPixel(i % 256));
    const test = Float32Array.from(ref);
    test[size + 5] = fromPixel((size + 5) % 256 + 1); // image 1: one pixel off by 1 -> MSE 1/144
    for (let i = 2 * size; i < 3 * size; i++) test[i] = fromPixel(Math.min(255, (i % 256) + 2)); // image 2
    const s = compareImages(ref, test, 3, shape);
    expect(s.n).toBe(3);
    expect(s.identical).toBe(1);
    expect(s.psnr[0]).toBe(Infinity);
    expect(s.psnr[1]).toBeCloseTo(10 * Math.log10(65025 * 144), 10);
    expect(s.meanPsnr).toBeCloseTo((s.psnr[1]! + s.psnr[2]!) / 2, 12);
    expect(s.ssim[0]).toBe(1);
    expect(s.meanSsim).toBeCloseTo((1 + s.ssim[1]! + s.ssim[2]!) / 3, 15);
    expect(compareImages(ref, ref, 3, shape).meanPsnr).toBeNull();
    expect(() => compareImages(ref, test, 2, shape)).toThrow(/for 2 images/);
  });
});
