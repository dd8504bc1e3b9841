// Image grid layout: tile placement, borders, empty cells, RGB interleaving.

import { describe, expect, it } from 'vitest';
import { gridLayout, imageGrid } from '../../gan/io/image-grid.ts';

describe('gridLayout', () => {
  it('is as square as possible by default and honours rows/cols', () => {
    expect(gridLayout(10)).toEqual({ rows: 3, cols: 4 });
    expect(gridLayout(16)).toEqual({ rows: 4, cols: 4 });
    expect(gridLayout(10, { rows: 2 })).toEqual({ rows: 2, cols: 5 });
    expect(gridLayout(100, { cols: 10 })).toEqual({ rows: 10, cols: 10 });
    expect(() => gridLayout(10, { rows: 2, cols: 4 })).toThrow(/cannot hold 10/);
  });
});

describe('imageGrid', () => {
  it('places image i at row floor(i / cols), column i % cols, inside a border', () => {
    // Three 2 x 3 gray images, each constant: pixel value 10 * (i + 1) (x = p / 127.5 - 1).
    const [h, w] = [2, 3];
    const images = new Float32Array(3 * h * w).map((_, k) => (10 * (Math.floor(k / (h * w)) + 1)) / 127.5 - 1);
    const g = imageGrid(images, 3, { channels: 1, height: h, width: w }, { cols: 2, border: 1, borderValue: 200 });
    expect([g.width, g.height, g.channels]).toEqual([2 * 3 + 3, 2 * 2 + 3, 1]);
    const at = (x: number, y: number) => g.data[y * g.width + x];
    const rows = Array.from({ length: g.height }, (_, y) => Array.from({ length: g.width }, (_, x) => at(x, y)));
    const B = 200;
    expect(rows).toEqual([
      [B, B, B, B, B, B, B, B, B],
      [B, 10, 10, 10, B, 20, 20, 20, B],
      [B, 10, 10, 10, B, 20, 20, 20, B],
      [B, B, B, B, B, B, B, B, B],
      [B, 30, 30, 30, B, B, B, B, B], // the empty fourth cell is border-coloured
      [B, 30, 30, 30, B, B, B, B, B],
      [B, B, B, B, B, B, B, B, B],
    ]);
  });

  it('interleaves RGB channels and keeps pixel positions', () => {
    // One 1 x 2 RGB image: channel planes R = [0, 255], G = [255, 0], B = [128, 128].
    const img = Float32Array.from([-1, 1, 1, -1, 0, 0]);
    const g = imageGrid(img, 1, { channels: 3, height: 1, width: 2 }, { border: 0 });
    expect(Array.from(g.data)).toEqual([0, 255, 128, 255, 0, 128]);
  });

  it('rejects a size mismatch', () => {
    expect(() => imageGrid(new Float32Array(5), 1, { channels: 1, height: 2, width: 3 })).toThrow(/5 values for 1 images/);
  });
});
