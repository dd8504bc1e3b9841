// Images in [-1, 1] drawn on a canvas as a grid, one canvas pixel per image pixel (CSS scales it up
// with pixelated rendering), with the 8-bit mapping the metrics and PNG writers use.

import { toPixels8 } from '../../gan/metrics/pixels.ts';

const GAP = 1;

/** Draws n single-channel images [n, 1, h, w] as `rows` x `columns` (row-major) on `canvas`. */
export function drawGrid(canvas: HTMLCanvasElement, images: Float32Array, shape: readonly [number, number, number], columns: number): void {
  const [c, h, w] = shape;
  if (c !== 1) throw new Error(`drawGrid: ${c}-channel images are not supported (MNIST has 1)`);
  const size = h * w;
  const n = images.length / size;
  const rows = Math.ceil(n / columns);
  const width = columns * (w + GAP) - GAP;
  const height = rows * (h + GAP) - GAP;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const px = toPixels8(images);
  const out = new ImageData(width, height);
  // Gaps are opaque dark grey so that the black backgrounds of neighbouring images stay apart.
  for (let o = 0; o < out.data.length; o += 4) {
    out.data[o] = out.data[o + 1] = out.data[o + 2] = 96;
    out.data[o + 3] = 255;
  }
  for (let i = 0; i < n; i++) {
    const x0 = (i % columns) * (w + GAP);
    const y0 = Math.floor(i / columns) * (h + GAP);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = px[i * size + y * w + x]!;
        const o = ((y0 + y) * width + x0 + x) * 4;
        out.data[o] = out.data[o + 1] = out.data[o + 2] = v;
      }
    }
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  ctx.putImageData(out, 0, 0);
}
