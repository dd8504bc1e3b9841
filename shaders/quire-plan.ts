// Which exact-quire method a GEMM uses, and the sliced quire's sizes (pure; the adapter enters as
// plain values). Methods:
//   mac                             the per-product quire of the GEMM generator (shaders/matmul.ts,
//                                   shaders/matmul-quire.ts): every product added into a multi-word
//                                   accumulator; any operand lattice of at most 16 bits
//   sliced                          the residue method of shaders/quire-sliced.ts with the plain
//                                   WGSL integer GEMM (dot4I8Packed)
//   sliced-subgroup-matrix          the same with the subgroup-matrix GEMM, K slices staged in
//                                   workgroup memory (tensor cores)
//   sliced-subgroup-matrix-storage  ... fragments loaded straight from storage (for comparison)
// All give the same bits. Choice, unless a call forces one: a device opened with subgroup matrices
// runs every sliceable quire GEMM on them (that is what asking for them means); a software adapter
// keeps `mac` (its integer work is what a CPU does well, and the sliced path adds passes); on other
// hardware, `sliced` from SLICED_MIN_OUTPUTS outputs on. Sliceable: both operands' integers span at
// most QUIRE_POW_SPAN bits (8-bit formats: p8e2 spans 49, e4m3 19, e5m2 34; fp16 41) and the
// moduli tables cover the worst case.

import type { QuireOperand } from './matmul-quire.ts';
import { moduliNeeded, QUIRE_COVER, QUIRE_MODULI_COUNT, QUIRE_POW_SPAN, quireBitsNeeded } from './quire-crt.ts';
import type { Dot4Inner, SubgroupMatrixInner } from './quire-residue-gemm.ts';
import { operandSpan, QUIRE_K_ALIGN, QUIRE_K_CHUNK } from './quire-sliced.ts';
import type { SubgroupMatrixConfig, SubgroupMatrixConventions } from './subgroup-matrix.ts';

export const QUIRE_METHODS = ['mac', 'sliced', 'sliced-subgroup-matrix', 'sliced-subgroup-matrix-storage'] as const;
export type QuireMethod = (typeof QUIRE_METHODS)[number];

/** Outputs from which hardware adapters use the sliced quire by default. A first setting, not
 *  measured: the sliced path costs five passes more than `mac`, which small products may not repay. */
export const SLICED_MIN_OUTPUTS = 128 * 128;

export function isSliced(m: QuireMethod): boolean {
  return m !== 'mac';
}

export function usesSubgroupMatrix(m: QuireMethod): boolean {
  return m === 'sliced-subgroup-matrix' || m === 'sliced-subgroup-matrix-storage';
}

/** The most moduli a product of these operands over K can need (the buffers hold that many), or a
 *  sentence saying why the operands cannot be sliced. */
export function slicedModuli(qa: QuireOperand, qb: QuireOperand, k: number): number | string {
  const wa = operandSpan(qa);
  const wb = operandSpan(qb);
  if (wa > QUIRE_POW_SPAN || wb > QUIRE_POW_SPAN) {
    return `operand integers span up to ${Math.max(wa, wb)} bits; the sliced quire takes at most ${QUIRE_POW_SPAN} (8-bit formats, fp16)`;
  }
  const n = moduliNeeded(quireBitsNeeded(wa, wb, k));
  if (n === null) return `a reduction of ${k} needs more than the ${QUIRE_MODULI_COUNT} moduli (${QUIRE_COVER[QUIRE_MODULI_COUNT]} bits) the tables hold`;
  return n;
}

export interface QuireChoice {
  /** The call's choice, if it forces one. */
  forced?: QuireMethod | undefined;
  qa: QuireOperand;
  qb: QuireOperand;
  k: number;
  outputs: number;
  software: boolean;
  /** The device was opened with subgroup matrices. */
  subgroupMatrix: boolean;
}

/** The method (see the header); a forced sliced method on operands that cannot be sliced throws. */
export function chooseQuireMethod(c: QuireChoice): QuireMethod {
  const moduli = slicedModuli(c.qa, c.qb, c.k);
  if (c.forced) {
    if (isSliced(c.forced) && typeof moduli === 'string') throw new Error(`quire method '${c.forced}': ${moduli}; use 'mac'`);
    return c.forced;
  }
  if (typeof moduli === 'string') return 'mac';
  if (c.subgroupMatrix) return 'sliced-subgroup-matrix';
  if (c.software || c.outputs < SLICED_MIN_OUTPUTS) return 'mac';
  return 'sliced';
}

/** The plain GEMM's tile: 128 x 128 (8 x 8 per thread) on a GPU, 32 x 32 (4 x 4) on a software
 *  adapter (tests, where a big tile only adds padding work). */
export function dot4Inner(software: boolean): Dot4Inner {
  return software ? { kind: 'dot4', bm: 32, bn: 32, tm: 4, tn: 4 } : { kind: 'dot4', bm: 128, bn: 128, tm: 8, tn: 8 };
}

/**
 * The subgroup-matrix GEMM for a configuration: 2 x 2 subgroups of about 64 x 64 outputs each
 * (4 x 4 fragments of 16 x 16: the shape of the 75 TOPS int8 kernel in issue 14, with a 128 x 128
 * workgroup tile staging 64-byte K slices, 16 KiB of workgroup memory). A smaller slice when the
 * device has less workgroup memory.
 */
export function subgroupMatrixInner(
  config: SubgroupMatrixConfig,
  subgroupSize: number,
  conventions: SubgroupMatrixConventions,
  staging: 'workgroup' | 'storage',
  maxWorkgroupBytes: number,
): SubgroupMatrixInner {
  const fragRows = Math.max(1, Math.floor(64 / config.M));
  const fragCols = Math.max(1, Math.floor(64 / config.N));
  const bm = 2 * fragRows * config.M;
  const bn = 2 * fragCols * config.N;
  let sliceBytes = 64;
  while (staging === 'workgroup' && sliceBytes > config.K && (bm + bn) * sliceBytes > maxWorkgroupBytes) sliceBytes /= 2;
  if (staging === 'workgroup' && (bm + bn) * sliceBytes > maxWorkgroupBytes) {
    throw new Error(`the tensor-core quire's ${bm} x ${bn} tile needs ${(bm + bn) * sliceBytes} bytes of workgroup memory; this device has ${maxWorkgroupBytes}`);
  }
  return { kind: 'subgroup-matrix', cm: config.M, cn: config.N, ck: config.K, subgroupSize, sgRows: 2, sgCols: 2, fragRows, fragCols, sliceBytes, staging, conventions };
}

/** Sizes of the sliced quire's buffers for a product (words, per the layouts in quire-sliced.ts). */
export function slicedSizes(s: { m: number; n: number; k: number; batch: number }, tile: { bm: number; bn: number }, padOutput: boolean, maxModuli: number) {
  const kp = Math.ceil(Math.max(1, s.k) / QUIRE_K_ALIGN) * QUIRE_K_ALIGN;
  const chunks = Math.ceil(kp / QUIRE_K_CHUNK);
  const mp = padOutput ? Math.ceil(s.m / tile.bm) * tile.bm : s.m;
  const np = padOutput ? Math.ceil(s.n / tile.bn) * tile.bn : s.n;
  const slabA = (s.batch * s.m * kp) / 4;
  const slabB = (s.batch * s.n * kp) / 4;
  const slabG = chunks * s.batch * mp * np;
  // With whole-fragment loads (padOutput), a tile's rows past the last one are read too: one tile of
  // rows more keeps those reads inside the buffer (Dawn may clamp a fragment load that leaves it).
  const tail = padOutput ? ((Math.max(tile.bm, tile.bn) * kp) / 4) : 0;
  return { kp, chunks, mp, np, slabA, slabB, slabG, resA: maxModuli * slabA + tail, resB: maxModuli * slabB + tail, g: maxModuli * slabG };
}
