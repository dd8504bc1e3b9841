// The counter-based generator against a BigInt transcription of docs/number-formats.md (every
// operation mod 2^32 spelled out), so Math.imul / >>> 0 slips in rng.ts cannot hide.

import { describe, expect, it } from 'vitest';
import { pcg, random, randomStream } from '../../formats/rng.ts';
import { lcg, mismatches } from './cases.ts';

const M = 1n << 32n;
function pcgRef(v: number): number {
  const s = (BigInt(v) * 747796405n + 2891336453n) % M;
  const w = (((s >> ((s >> 28n) + 4n)) ^ s) * 277803737n) % M;
  return Number((w >> 22n) ^ w);
}
const randomRef = (seed: number, counter: number): number => pcgRef(Number((BigInt(pcgRef(counter)) + BigInt(pcgRef(seed))) % M));

describe('pcg / random', () => {
  it('equal the definition (BigInt mod 2^32) on edge and random arguments', () => {
    const rand = lcg(3);
    const vs = [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 12345];
    for (let i = 0; i < 20000; i++) vs.push(rand.next().value);
    expect(mismatches(vs, (v) => (pcg(v) === pcgRef(v) ? undefined : `pcg(${v}) = ${pcg(v)}, expected ${pcgRef(v)}`))).toEqual([]);
    const pairs = vs.slice(0, 2000).map((v, i) => [vs[vs.length - 1 - i]!, v] as const);
    expect(mismatches(pairs, ([s, c]) => (random(s, c) === randomRef(s, c) ? undefined : `random(${s}, ${c})`))).toEqual([]);
    // randomStream(s) is random(s, ·) with pcg(s) hoisted.
    const streams = new Map<number, (c: number) => number>();
    const stream = (s: number) => streams.get(s) ?? streams.set(s, randomStream(s)).get(s)!;
    expect(mismatches(pairs, ([s, c]) => (stream(s)(c) === randomRef(s, c) ? undefined : `randomStream(${s})(${c})`))).toEqual([]);
  });

  it('returns u32 values whose bits are balanced (each bit set with frequency 1/2 within 5 sigma)', () => {
    const N = 20000;
    const ones = new Array<number>(32).fill(0);
    for (let i = 0; i < N; i++) {
      const r = random(42, i);
      expect(Number.isInteger(r) && r >= 0 && r < 2 ** 32).toBe(true);
      for (let b = 0; b < 32; b++) ones[b]! += (r >>> b) & 1;
    }
    for (const c of ones) expect(Math.abs(c / N - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / N));
  });
});
