// Seeded, resumable batch order.

import { describe, expect, it } from 'vitest';
import { BatchOrder, epochPermutation } from '../../gan/data/batches.ts';

describe('epochPermutation', () => {
  it('is a permutation, fixed by (seed, epoch), different across epochs and seeds', () => {
    const p = epochPermutation(1000, 42, 3);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(epochPermutation(1000, 42, 3)).toEqual(p);
    const same = (a: Uint32Array, b: Uint32Array) => a.every((v, i) => v === b[i]);
    expect(same(epochPermutation(1000, 42, 4), p)).toBe(false);
    expect(same(epochPermutation(1000, 43, 3), p)).toBe(false);
    expect(Array.from(epochPermutation(1000, 42, 3)).some((v, i) => v !== i)).toBe(true);
  });

  it('puts each element first about equally often (chi-square over 4000 epochs, n = 8)', () => {
    const n = 8;
    const epochs = 4000;
    const counts = new Array(n).fill(0);
    for (let e = 0; e < epochs; e++) counts[epochPermutation(n, 7, e)[0]!]++;
    const expected = epochs / n;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 7 degrees of freedom: P(chi2 > 24.3) = 0.001.
    expect(chi2).toBeLessThan(24.3);
  });
});

describe('BatchOrder', () => {
  it('covers every example once per epoch with dropLast=false, full batches with dropLast=true', () => {
    const all = new BatchOrder({ n: 10, batchSize: 4, seed: 1, dropLast: false });
    expect(all.batchesPerEpoch).toBe(3);
    const seen = [0, 1, 2].flatMap((p) => Array.from(all.batchAt({ epoch: 0, position: p }).indices));
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(all.batchAt({ epoch: 0, position: 2 }).indices.length).toBe(2);
    const full = new BatchOrder({ n: 10, batchSize: 4, seed: 1 });
    expect(full.batchesPerEpoch).toBe(2);
    expect(() => full.batchAt({ epoch: 0, position: 2 })).toThrow(/outside 0..1/);
    expect(() => new BatchOrder({ n: 3, batchSize: 4, seed: 1 })).toThrow(/larger than the dataset/);
  });

  it('resumes from (epoch, position) with exactly the batches of an uninterrupted run', () => {
    const order = new BatchOrder({ n: 50, batchSize: 8, seed: 99 });
    const run = order.batches();
    const straight = Array.from({ length: 20 }, () => run.next().value!);
    expect(straight[6]!.epoch).toBe(1); // 6 batches per epoch
    expect(straight[6]!.position).toBe(0);
    const resumedOrder = new BatchOrder({ n: 50, batchSize: 8, seed: 99 }); // a fresh process
    const from = resumedOrder.cursorAt(9);
    expect(from).toEqual({ epoch: 1, position: 3 });
    expect(resumedOrder.stepOf(from)).toBe(9);
    const resumed = resumedOrder.batches(from);
    for (let s = 9; s < 20; s++) expect(resumed.next().value).toEqual(straight[s]);
  });
});
