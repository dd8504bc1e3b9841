// Low-resolution inputs for super-resolution: each factor x factor block of an image averaged to one
// pixel (a box filter; ESRGAN's data is bicubic-downsampled, which needs a resampling kernel this
// stand-in does without: the box filter is exact, simple and keeps [-1, 1]).

/** Images [n, 1, h, w] to [n, 1, h / factor, w / factor]. */
export function boxDownsample(images: ArrayLike<number>, n: number, h: number, w: number, factor: number): Float32Array {
  if (!Number.isInteger(factor) || factor < 1 || h % factor !== 0 || w % factor !== 0) {
    throw new Error(`boxDownsample: ${h}x${w} images do not divide by the factor ${factor}`);
  }
  if (images.length !== n * h * w) throw new Error(`boxDownsample: ${images.length} values are not ${n} images of ${h}x${w}`);
  const oh = h / factor;
  const ow = w / factor;
  const out = new Float32Array(n * oh * ow);
  const k = 1 / (factor * factor);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let s = 0;
        for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) s += images[i * h * w + (y * factor + dy) * w + x * factor + dx]!;
        out[i * oh * ow + y * ow + x] = s * k;
      }
    }
  }
  return out;
}

/** Nearest-neighbour enlargement by `factor` (to show a low-resolution image beside its upscaled one). */
export function nearestUpsample(images: ArrayLike<number>, n: number, h: number, w: number, factor: number): Float32Array {
  const oh = h * factor;
  const ow = w * factor;
  const out = new Float32Array(n * oh * ow);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) out[i * oh * ow + y * ow + x] = images[i * h * w + Math.floor(y / factor) * w + Math.floor(x / factor)]!;
  }
  return out;
}
