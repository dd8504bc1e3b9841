// CycleGAN's image history as index choices (gan/train/image-pool.ts), against the authors'
// ImagePool.query written out over image identities: fill phase, then for each new image with
// probability 1/2 an earlier one from a random slot (which the new one takes), replacements earlier in
// the same batch seen by later images. Same random draws on both sides: this checks the bookkeeping.

import { describe, expect, it } from 'vitest';
import { random, randomStream } from '../../formats/rng.ts';
import { poolChoices } from '../../gan/train/image-pool.ts';

/** The reference's query over image ids: returns the ids the discriminator sees. */
function referenceQuery(pool: number[], capacity: number, ids: number[], seed: number, step: number): number[] {
  const draw = randomStream(random(seed, step));
  return ids.map((id, i) => {
    if (pool.length < capacity) {
      pool.push(id);
      return id;
    }
    if (draw(2 * i) / 2 ** 32 < 0.5) {
      const j = Math.floor((draw(2 * i + 1) / 2 ** 32) * capacity);
      const old = pool[j]!;
      pool[j] = id;
      return old;
    }
    return id;
  });
}

describe('image pool choices', () => {
  it('match the reference query step by step, through the fill phase and after, for several capacities and batches', () => {
    for (const [capacity, batch] of [[50, 8], [5, 4], [3, 7], [1, 1]] as const) {
      const pool: number[] = [];
      let buffer: number[] = Array.from({ length: capacity }, () => -1); // ids held by the slots
      let filled = 0;
      let nextId = 0;
      for (let step = 0; step < 40; step++) {
        const ids = Array.from({ length: batch }, () => nextId++);
        const want = referenceQuery(pool, capacity, ids, 7, step);
        const c = poolChoices(capacity, filled, 7, step, batch);
        const rowId = (r: number) => (r < capacity ? buffer[r]! : ids[r - capacity]!);
        expect(Array.from(c.out, rowId), `capacity ${capacity} batch ${batch} step ${step}`).toEqual(want);
        buffer = Array.from(c.next, rowId);
        filled = c.filled;
        expect(buffer.slice(0, filled)).toEqual(pool);
      }
      expect(filled).toBe(capacity);
    }
  });

  it('returns every new image while filling, and about half of them once full', () => {
    const first = poolChoices(50, 0, 1, 0, 8);
    expect(Array.from(first.out)).toEqual([50, 51, 52, 53, 54, 55, 56, 57]);
    expect(first.filled).toBe(8);
    let fresh = 0;
    let total = 0;
    for (let step = 0; step < 200; step++) {
      const c = poolChoices(50, 50, 1, step, 16);
      fresh += c.out.filter((r) => r >= 50).length;
      total += 16;
    }
    expect(fresh / total).toBeGreaterThan(0.45);
    expect(fresh / total).toBeLessThan(0.55);
  });
});
