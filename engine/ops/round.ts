// Quantizers fused into the kernel that produces their input (shaders/round.ts). The quantizer op
// (engine/quant/quantizer.ts) passes a tensor that already lies on its target lattice through without
// a pass of its own, so a producer that rounds its result in the same kernel removes the pass:
//   forward   a layer's output rounding (LayerHook.outputRounding, asked before the layer runs), given
//             to the op that computes the output (elementwise, batch norm, dropout, embedding)
//   backward  the rounding a quantizer's backward will apply to a gradient (GradNode.gradRound), given
//             by autograd to the rule that produces that gradient when it is its only contribution
//             (engine/autograd/tape.ts); the rule's kernel rounds its result
// The arithmetic is the quantizer's: the same codec on the same float32 bits, counted as the same
// conversion (from the producer's value format to the target). Only the memory the producer writes
// changes: it writes lattice values (counted in the format's bits) instead of float32 that a separate
// pass would then round.

import type { RoundSpec } from '../../shaders/round.ts';
import type { Format } from '../../formats/descriptor.ts';
import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';

export type { RoundSpec } from '../../shaders/round.ts';

/** A rounding to fuse, with the layer its conversion is counted in when that is not the current one
 *  (a backward rounding belongs to the quantizer's layer, not to the rule that fuses it). */
export type FusedRounding = RoundSpec & { readonly layer?: string | undefined };

/**
 * The rounding a producer should fuse, or null when there is nothing to fuse: no rounding asked, a
 * float32 target (the quantizer op runs its own pass for it), or a result that would already lie on
 * the target lattice (`lattice`: what the producer's result carries unrounded; the quantizer would
 * pass it through uncounted).
 */
export function fusable(r: FusedRounding | null | undefined, lattice: Format | null = null): FusedRounding | null {
  if (!r || r.format.name === 'fp32') return null;
  if (lattice && lattice.name === r.format.name) return null;
  return r;
}

/** The kernel parameters of a fused rounding over `count` outputs: the stochastic stream reserves
 *  its counters now, where the quantizer's own pass would have reserved them. */
export function roundParams(rt: Runtime, r: RoundSpec | null, count: number): { round_seed: number; round_counter: number } {
  if (r?.rounding !== 'stochastic') return { round_seed: 0, round_counter: 0 };
  return { round_seed: rt.randomSeed, round_counter: rt.nextCounter(count) };
}

/** Marks `out` as rounded to `r` (its lattice) and counts the conversion from `from` (the value
 *  format the unrounded result would have had), as the quantizer op counts it, in r's layer. */
export function markRounded(out: Tensor, r: FusedRounding | null, from: string): void {
  if (!r) return;
  out.lattice = r.format;
  out.latticeBias = 0;
  countIn(out.rt, r.layer, () => out.rt.count({ kind: 'convert', from, to: r.format.name, rounding: r.rounding, count: out.size }));
}

/** Runs `fn` (op counting) with the runtime's layer set to `layer` (undefined: the current one). */
export function countIn(rt: Runtime, layer: string | undefined, fn: () => void): void {
  if (layer === undefined) return fn();
  const was = rt.layer;
  rt.layer = layer;
  try {
    fn();
  } finally {
    rt.layer = was;
  }
}
