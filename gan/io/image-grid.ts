// Tiles N images into one picture with a border around every tile: the sample grids written during
// training and by `sample`. Images are NCHW in [-1, 1] (generator outputs), mapped to 8-bit pixels
// as they are saved (gan/metrics/pixels.ts); 1 channel gives a grayscale, 3 an RGB picture.
// Browser-safe.

import { toPixels8 } from '../metrics/pixels.ts';
import type { RasterImage } from './png.ts';

export interface GridOptions {
  /** Tiles per row; default ceil(sqrt(n)), or ceil(n / rows) when rows is given. */
  cols?: number;
  /** Rows; default ceil(n / cols). */
  rows?: number;
  /** Border width in pixels around and between tiles (default 2). */
  border?: number;
  /** Border (and empty cell) gray level 0..255 (default 128, apart from MNIST's black and white). */
  borderValue?: number;
}

export interface ImageShape {
  channels: 1 | 3;
  height: number;
  width: number;
}

/** The grid layout for n tiles: explicit cols/rows win, else as square as possible. */
export function gridLayout(n: number, options: Pick<GridOptions, 'cols' | 'rows'> = {}): { rows: number; cols: number } {
  if (!Number.isInteger(n) || n < 1) throw new Error(`image grid: need at least one image, got ${n}`);
  const cols = options.cols ?? (options.rows ? Math.ceil(n / options.rows) : Math.ceil(Math.sqrt(n)));
  const rows = options.rows ?? Math.ceil(n / cols);
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || rows * cols < n) {
    throw new Error(`image grid: ${rows} rows x ${cols} columns cannot hold ${n} images`);
  }
  return { rows, cols };
}

/** Tiles images [n, C, H, W] into a RasterImage, row by row (image i at row floor(i / cols)). */
export function imageGrid(images: ArrayLike<number>, n: number, shape: ImageShape, options: GridOptions = {}): RasterImage {
  const { channels: c, height: h, width: w } = shape;
  if (images.length !== n * c * h * w) throw new Error(`image grid: ${images.length} values for ${n} images of ${c} x ${h} x ${w}`);
  const { rows, cols } = gridLayout(n, options);
  const border = options.border ?? 2;
  const fill = options.borderValue ?? 128;
  if (!Number.isInteger(border) || border < 0) throw new Error(`image grid: border ${border} must be a non-negative integer`);
  if (!Number.isInteger(fill) || fill < 0 || fill > 255) throw new Error(`image grid: borderValue ${fill} must be in 0..255`);
  const width = cols * w + (cols + 1) * border;
  const height = rows * h + (rows + 1) * border;
  const data = new Uint8Array(width * height * c).fill(fill);
  const px = toPixels8(images);
  for (let i = 0; i < n; i++) {
    const top = border + Math.floor(i / cols) * (h + border);
    const left = border + (i % cols) * (w + border);
    for (let ch = 0; ch < c; ch++) {
      const plane = (i * c + ch) * h * w;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) data[((top + y) * width + left + x) * c + ch] = px[plane + y * w + x]!;
      }
    }
  }
  return { width, height, channels: c, data };
}
