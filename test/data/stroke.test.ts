// Stroke thickness (ink area over skeleton length) on synthetic strokes of known width: bars along the
// axes (exact), diagonal bands (exact: 2k + 1 pixel diagonals are (2k + 1) / sqrt 2 wide), rings (within
// the chain-code bias); and the skeleton's own properties (one pixel wide, inside the ink, connected).

import { describe, expect, it } from 'vitest';
import { inkMask, measureMask, skeletonLength, strokeThicknesses, zhangSuenThin } from '../../gan/data/stroke.ts';

const SIZE = 64;

/** A w x L bar, horizontal or vertical, in a SIZE x SIZE mask. */
function bar(w: number, L: number, vertical = false): Uint8Array {
  const m = new Uint8Array(SIZE * SIZE);
  const r0 = 32 - Math.floor(w / 2);
  const c0 = 32 - Math.floor(L / 2);
  for (let a = r0; a < r0 + w; a++) for (let b = c0; b < c0 + L; b++) m[vertical ? b * SIZE + a : a * SIZE + b] = 1;
  return m;
}

/** The 2k + 1 pixel diagonals around the main diagonal (|c - r| <= k), over `len` pixels along it. */
function diagonalBand(k: number, len: number): Uint8Array {
  const m = new Uint8Array(SIZE * SIZE);
  for (let r = 0; r < SIZE; r++) for (let c = 0; c < SIZE; c++) if (Math.abs(c - r) <= k && Math.abs(c + r - SIZE) < len) m[r * SIZE + c] = 1;
  return m;
}

/** Pixels whose centre is within w / 2 of a circle of radius R. */
function ring(w: number, R: number): Uint8Array {
  const m = new Uint8Array(SIZE * SIZE);
  const c0 = (SIZE - 1) / 2;
  for (let r = 0; r < SIZE; r++) for (let c = 0; c < SIZE; c++) if (Math.abs(Math.hypot(c - c0, r - c0) - R) < w / 2) m[r * SIZE + c] = 1;
  return m;
}

function components(mask: Uint8Array, h: number, w: number): number {
  const seen = new Uint8Array(mask.length);
  let count = 0;
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || seen[s]) continue;
    count++;
    const stack = [s];
    seen[s] = 1;
    while (stack.length) {
      const i = stack.pop()!;
      const r = Math.floor(i / w);
      const c = i % w;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const rr = r + dr;
          const cc = c + dc;
          const j = rr * w + cc;
          if (rr >= 0 && rr < h && cc >= 0 && cc < w && mask[j] && !seen[j]) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
  }
  return count;
}

/** Checks a skeleton against its ink: inside it, one pixel wide (no full 2 x 2 block), same components. */
function expectSkeletonOf(mask: Uint8Array, h: number, w: number): Uint8Array {
  const sk = zhangSuenThin(mask, h, w);
  let outside = 0;
  for (let i = 0; i < sk.length; i++) if (sk[i] && !mask[i]) outside++;
  let blocks = 0;
  for (let r = 0; r + 1 < h; r++) {
    for (let c = 0; c + 1 < w; c++) if (sk[r * w + c]! + sk[r * w + c + 1]! + sk[(r + 1) * w + c]! + sk[(r + 1) * w + c + 1]! === 4) blocks++;
  }
  expect({ outside, blocks }).toEqual({ outside: 0, blocks: 0 });
  expect(components(sk, h, w)).toBe(components(mask, h, w));
  return sk;
}

describe('Zhang-Suen skeleton', () => {
  it('leaves a one-pixel line as it is, and thins a bar to its centre line', () => {
    const line = bar(1, 30);
    expect(Array.from(zhangSuenThin(line, SIZE, SIZE))).toEqual(Array.from(line));
    const sk = expectSkeletonOf(bar(5, 30), SIZE, SIZE);
    // Every skeleton pixel of a horizontal 5-pixel bar (rows 30..34) is on its middle row.
    for (let i = 0; i < sk.length; i++) if (sk[i]) expect(Math.floor(i / SIZE)).toBe(32);
  });

  it('keeps rings closed, bands and crossed bars connected, one pixel wide', () => {
    for (const w of [2, 3, 5]) {
      const sk = expectSkeletonOf(ring(w, 15), SIZE, SIZE);
      // A closed curve has no free ends.
      expect(skeletonLength(sk, SIZE, SIZE).ends).toBe(0);
      expectSkeletonOf(diagonalBand(w, 40), SIZE, SIZE);
    }
    const cross = bar(3, 40).map((v, i) => v | bar(4, 40, true)[i]!);
    const sk = expectSkeletonOf(cross, SIZE, SIZE);
    expect(skeletonLength(sk, SIZE, SIZE).ends).toBe(4);
  });
});

describe('stroke thickness = ink area / skeleton length', () => {
  it('measures bars along either axis at their width, short or long', () => {
    for (const w of [2, 3, 4, 5, 6]) {
      for (const L of [12, 20, 40]) {
        expect(measureMask(bar(w, L), SIZE, SIZE).thickness).toBeCloseTo(w, 6);
        expect(measureMask(bar(w, L, true), SIZE, SIZE).thickness).toBeCloseTo(w, 6);
      }
    }
    // A one-pixel line of length L: the end correction makes it ~1 (exactly 1 as L grows).
    for (const L of [12, 40]) expect(measureMask(bar(1, L), SIZE, SIZE).thickness).toBeGreaterThan(1 - 1 / L);
  });

  it('measures diagonal bands at their perpendicular width (2k + 1) / sqrt 2, not sqrt 2 times more', () => {
    for (const k of [1, 2, 3, 4]) {
      const width = (2 * k + 1) / Math.SQRT2;
      const t = measureMask(diagonalBand(k, 40), SIZE, SIZE).thickness;
      expect(Math.abs(t / width - 1), `k = ${k}: measured ${t}, width ${width}`).toBeLessThan(0.04);
    }
  });

  it('measures rings at their width within the chain-code bias, increasing with the width', () => {
    let previous = 0;
    for (const w of [1, 2, 3, 4, 5, 6]) {
      const t = measureMask(ring(w, 20), SIZE, SIZE).thickness;
      expect(Math.abs(t / w - 1), `ring of width ${w}: measured ${t}`).toBeLessThan(0.1);
      expect(t).toBeGreaterThan(previous);
      previous = t;
    }
  });

  it('is 0 for an empty image and reads 8-bit images at the half-intensity threshold', () => {
    expect(measureMask(new Uint8Array(784), 28, 28)).toEqual({ area: 0, length: 0, thickness: 0 });
    // Two 28 x 28 images: a 3-pixel bar at 200 with a faint (100) halo row, and a 2-pixel bar at 128.
    const px = new Uint8Array(2 * 784);
    for (let c = 4; c < 24; c++) {
      for (const r of [10, 11, 12]) px[r * 28 + c] = 200;
      px[13 * 28 + c] = 100;
      for (const r of [5, 6]) px[784 + r * 28 + c] = 128;
    }
    expect(Array.from(inkMask(px, 0, 28, 28)).reduce((a, b) => a + b, 0)).toBe(60);
    const t = strokeThicknesses(px, 2, 28, 28);
    expect(t[0]).toBeCloseTo(3, 6);
    expect(t[1]).toBeCloseTo(2, 6);
  });
});
