// PSNR of 8-bit images, peak 255 (the paper's deployment metric, docs/method.md section 7.2):
//   PSNR = 10 log10(255^2 / MSE), MSE over all pixels (all channels) of one image.
// Identical images have MSE 0 and an infinite PSNR: they are reported as Infinity here and counted
// separately by the set summary (gan/metrics/quality.ts), never averaged. Browser-safe.

export const PSNR_PEAK = 255;

/** PSNR in dB of two 8-bit images of the same size (Infinity when identical). */
export function psnr8(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`PSNR: image sizes differ or are empty (${a.length} and ${b.length})`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  if (se === 0) return Infinity;
  return 10 * Math.log10((PSNR_PEAK * PSNR_PEAK * a.length) / se);
}
