// The residue number system of the sliced quire against BigInt arithmetic: the moduli, the bound
// that sizes them, the tables the GPU reads, and the reconstruction the combine kernel performs.

import { describe, expect, it } from 'vitest';
import { parseFormat } from '../../formats/descriptor.ts';
import { quireOperand } from '../../shaders/matmul-plan.ts';
import {
  fromResidues,
  moduliNeeded,
  moduliProduct,
  QUIRE_COVER,
  QUIRE_CRT_WORDS,
  QUIRE_MODULI,
  QUIRE_MODULI_COUNT,
  QUIRE_POW_SPAN,
  QUIRE_TABLE_OFFSETS,
  quireBitsNeeded,
  quireTables,
  symmetricResidue,
} from '../../shaders/quire-crt.ts';
import { chooseQuireMethod, slicedModuli, slicedSizes } from '../../shaders/quire-plan.ts';
import { operandSpan } from '../../shaders/quire-sliced.ts';

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

function randomBig(bits: number, r: () => number): bigint {
  let x = 0n;
  for (let i = 0; i < bits; i += 16) x = (x << 16n) | BigInt(Math.floor(r() * 65536));
  return x & ((1n << BigInt(bits)) - 1n);
}

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('moduli', () => {
  it('are pairwise coprime, at most 256, largest first', () => {
    expect(QUIRE_MODULI).toHaveLength(QUIRE_MODULI_COUNT);
    expect(QUIRE_MODULI[0]).toBe(256);
    for (let i = 0; i < QUIRE_MODULI.length; i++) {
      expect(QUIRE_MODULI[i]).toBeLessThanOrEqual(256);
      if (i > 0) expect(QUIRE_MODULI[i]).toBeLessThan(QUIRE_MODULI[i - 1]!);
      for (let j = 0; j < i; j++) expect(gcd(QUIRE_MODULI[i]!, QUIRE_MODULI[j]!)).toBe(1);
    }
  });

  it('cover floor(log2 M_n) bits, and the product of two residue sums of 2^16 terms fits an i32', () => {
    for (let n = 0; n <= QUIRE_MODULI_COUNT; n++) {
      const M = moduliProduct(n);
      expect(2n ** BigInt(QUIRE_COVER[n]!) <= M && M < 2n ** BigInt(QUIRE_COVER[n]! + 1)).toBe(true);
    }
    // Symmetric residues are i8; 2^16 products of two of them stay below 2^31.
    for (const m of QUIRE_MODULI) {
      const lo = symmetricResidue(BigInt(Math.floor(m / 2)), m);
      const hi = symmetricResidue(BigInt(Math.ceil(m / 2) - 1), m);
      expect(Math.min(lo, hi)).toBeGreaterThanOrEqual(-128);
      expect(Math.max(lo, hi)).toBeLessThanOrEqual(127);
    }
    expect(2 ** 16 * 128 * 128).toBeLessThan(2 ** 31);
  });

  it('the bound: |C| <= K (2^wa - 1)(2^wb - 1) is recovered by the moduli the bits call for', () => {
    for (const [wa, wb, k] of [
      [1, 1, 1],
      [25, 25, 4096],
      [49, 49, 4096],
      [49, 49, 2 ** 32],
      [64, 64, 2 ** 32],
      [3, 60, 7],
    ]) {
      const n = moduliNeeded(quireBitsNeeded(wa!, wb!, k!))!;
      const worst = BigInt(k!) * (2n ** BigInt(wa!) - 1n) * (2n ** BigInt(wb!) - 1n);
      expect(2n * worst < moduliProduct(n)).toBe(true);
    }
    // The bench's p8e2 operands (|v| <= 1: rows of 2^-24 .. 1, 25 bits) at K = 4096: 8 moduli.
    expect(moduliNeeded(quireBitsNeeded(25, 25, 4096))).toBe(8);
  });
});

describe('tables and reconstruction', () => {
  const t = quireTables();
  const o = QUIRE_TABLE_OFFSETS;
  it('hold 2^e mod m, Garner weights and inverses, M_n and floor(M_n / 2)', () => {
    QUIRE_MODULI.forEach((m, l) => {
      expect(t[o.mod + l]).toBe(m);
      for (let e = 0; e < QUIRE_POW_SPAN; e++) expect(t[o.pow + l * QUIRE_POW_SPAN + e]).toBe(Number(2n ** BigInt(e) % BigInt(m)));
      expect((t[o.inv + l]! * Number(moduliProduct(l) % BigInt(m))) % m).toBe(1 % m);
      for (let p = 0; p < l; p++) expect(t[o.gar + l * QUIRE_MODULI_COUNT + p]).toBe(Number(moduliProduct(p) % BigInt(m)));
    });
    const wide = (at: number) => {
      let x = 0n;
      for (let i = QUIRE_CRT_WORDS - 1; i >= 0; i--) x = (x << 32n) | BigInt(t[at + i]!);
      return x;
    };
    for (let n = 0; n <= QUIRE_MODULI_COUNT; n++) {
      expect(wide(o.prod + n * QUIRE_CRT_WORDS)).toBe(moduliProduct(n));
      expect(wide(o.half + n * QUIRE_CRT_WORDS)).toBe(moduliProduct(n) / 2n);
      expect(t[o.cover + n]).toBe(QUIRE_COVER[n]);
    }
  });

  it('recover any C with |C| < M_n / 2 from its residues (the combine kernel, step for step)', () => {
    const r = rng(7);
    for (const n of [1, 2, 3, 8, 14, QUIRE_MODULI_COUNT]) {
      const M = moduliProduct(n);
      const half = (M - 1n) / 2n;
      const samples = [0n, 1n, -1n, half, -half, ...Array.from({ length: 40 }, () => randomBig(QUIRE_COVER[n]! - 1, r) * (r() < 0.5 ? -1n : 1n))];
      for (const c of samples) {
        // Residues as the GPU has them: symmetric, or any representative (the chunk sums).
        const residues = QUIRE_MODULI.slice(0, n).map((m) => symmetricResidue(c, m) + (r() < 0.5 ? 0 : 3 * m));
        expect(fromResidues(residues, n)).toBe(c);
      }
    }
  });
});

describe('planning the sliced quire', () => {
  const P8 = parseFormat('p8e2');
  const P16 = parseFormat('p16e2');
  const q8 = quireOperand(P8, 0, 'p8e2');
  it('spans and moduli of the formats', () => {
    expect(operandSpan(q8)).toBe(49);
    expect(operandSpan(quireOperand(parseFormat('e4m3'), 0, 'e4m3'))).toBeLessThanOrEqual(20);
    expect(slicedModuli(q8, q8, 4096)).toBe(15);
    expect(slicedModuli(quireOperand(P16, 0, 'p16e2'), q8, 16)).toMatch(/span up to \d+ bits/);
  });
  it('chooses: forced wins, subgroup matrices when the device has them, mac on software adapters and small outputs', () => {
    const base = { qa: q8, qb: q8, k: 4096, outputs: 4096 * 4096, software: false, subgroupMatrix: false };
    expect(chooseQuireMethod(base)).toBe('sliced');
    expect(chooseQuireMethod({ ...base, subgroupMatrix: true })).toBe('sliced-subgroup-matrix');
    expect(chooseQuireMethod({ ...base, software: true })).toBe('mac');
    expect(chooseQuireMethod({ ...base, outputs: 64 })).toBe('mac');
    expect(chooseQuireMethod({ ...base, software: true, forced: 'sliced' })).toBe('sliced');
    const q16 = quireOperand(P16, 0, 'p16e2');
    expect(chooseQuireMethod({ ...base, qa: q16, subgroupMatrix: true })).toBe('mac');
    expect(() => chooseQuireMethod({ ...base, qa: q16, forced: 'sliced' })).toThrow(/quire method 'sliced': operand integers span/);
  });
  it('sizes: K padded to 64, chunks of 2^16, outputs padded to the tile only when asked', () => {
    const s = slicedSizes({ m: 37, n: 21, k: 70000, batch: 2 }, { bm: 32, bn: 16 }, true, 5);
    expect(s).toMatchObject({ kp: 70016, chunks: 2, mp: 64, np: 32 });
    expect(s.slabA).toBe((2 * 37 * 70016) / 4);
    expect(s.g).toBe(5 * 2 * 2 * 64 * 32);
    expect(slicedSizes({ m: 37, n: 21, k: 3, batch: 1 }, { bm: 32, bn: 16 }, false, 1)).toMatchObject({ kp: 64, chunks: 1, mp: 37, np: 21 });
  });
});
