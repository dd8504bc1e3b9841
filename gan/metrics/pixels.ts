// Generator outputs as the 8-bit pixels they would be saved as: round((x + 1) * 127.5), clamped to
// 0..255 (x = -1 -> 0, x = 1 -> 255; halves round up, as Math.round does). The metrics (PSNR, SSIM)
// and the image writers all use this one mapping. Browser-safe.

/** 8-bit pixels of values in [-1, 1]. NaN is an error (a NaN image is a bug, not a black pixel). */
export function toPixels8(x: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (Number.isNaN(v)) throw new Error(`pixel ${i} is NaN: the image holds non-numbers`);
    out[i] = Math.min(255, Math.max(0, Math.round((v + 1) * 127.5)));
  }
  return out;
}
