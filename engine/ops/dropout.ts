// Dropout (inverted: kept elements scaled by 1 / (1 - p)) with a seeded counter-based mask, so the
// same (seed, counter) gives the same mask on every run and the backward pass recomputes it rather
// than storing it (shaders/dropout.ts). Callers advance `counter` by x.size per call (the Dropout
// module does) so that successive calls draw fresh masks.

import { dropoutGrid, dropoutKernel } from '../../shaders/dropout.ts';
import { record } from '../autograd/tape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { full, requireF32 } from './elementwise-raw.ts';
import { fusable, markRounded, roundParams, type FusedRounding } from './round.ts';

export interface DropoutOptions {
  /** u32 seed of the mask. */
  seed: number;
  /** u32 counter of element 0; element i draws random(seed, counter + i) (mod 2^32). */
  counter?: number;
  /** Off: the identity (evaluation). */
  training: boolean;
  /** Round the result to a format in the same kernel (a layer's output quantizer, engine/ops/round.ts). */
  round?: FusedRounding | null;
}

function checkU32(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`dropout: ${what} must be a u32, got ${v}`);
  return v;
}

/** The threshold on the u32 random number below which an element is dropped: floor(p * 2^32), so
 *  the drop probability is p to within 2^-32 (and below 1 for every p < 1). */
export function dropThreshold(p: number): number {
  return Math.floor(p * 2 ** 32);
}

function mask(x: Tensor, p: number, seed: number, counter: number, round: FusedRounding | null | undefined): Tensor {
  const rt = x.rt;
  const out = Tensor.empty(rt, x.shape, null, 'dropout');
  const r = fusable(round);
  if (out.size === 0) {
    markRounded(out, r, 'fp32');
    return out;
  }
  const grid = dropoutGrid(x.size, rt.gpu.limits);
  const params = { count: x.size, seed, counter, threshold: dropThreshold(p), scale: 1 / (1 - p), grid_x: grid[0], ...roundParams(rt, r, x.size) };
  rt.run(dropoutKernel(r), params, { src: x.buffer, dst: out.buffer }, grid);
  markRounded(out, r, 'fp32');
  // Per element: the 32-bit random draw compared with the threshold (recorded as an fp32 max, which
  // the hardware model costs as a 32-bit comparator; the schema has no integer kinds) and the scaling
  // (a mul in x's format); the integer hash behind the draw has no op kind. Memory: x read, the
  // result written.
  if (rt.recorder) {
    const role = rt.activationRole;
    rt.count({ kind: 'max', format: 'fp32', count: x.size });
    rt.count({ kind: 'mul', format: x.valueFormat, count: x.size });
    rt.count({ kind: 'memory', direction: 'read', role, format: x.valueFormat, bits: x.size * x.valueBits });
    rt.count({ kind: 'memory', direction: 'write', role, format: out.valueFormat, bits: out.size * out.valueBits });
  }
  return out;
}

export function dropout(x: Tensor, p: number, o: DropoutOptions): Tensor {
  requireF32('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: probability must lie in [0, 1], got ${p}`);
  const seed = checkU32('seed', o.seed);
  const counter = checkU32('counter', o.counter ?? 0);
  if (!o.training || p === 0) return record(x.view(x.shape), 'dropout', [x], (g) => [g], { view: true });
  // p = 1 drops everything (the scale 1 / (1 - p) would be infinite): zeros, and a zero gradient.
  if (p === 1) return record(full(x.rt, x.shape, 0), 'dropout', [x], () => [full(x.rt, x.shape, 0)]);
  return record(mask(x, p, seed, counter, o.round), 'dropout', [x], (g, r) => [mask(g, p, seed, counter, r[0])]);
}
