// The exact-quire rows of `posit-gan bench speed` (issue 14: "quire" rows, variants `p8e2-quire` on
// plain WGSL and `p8e2-quire-subgroup-matrix` on the tensor-core path, each against our f32 kernel at
// the same n). The quire GEMM work fills in `quireRows`; until it does, it measures nothing and says
// so, and the speed result carries that note instead of a row.

import type { Gpu } from '../../engine/device/gpu.ts';
import type { Runtime } from '../../engine/runtime.ts';
import type { SpeedRound } from './speed-rows.ts';

export interface QuireContext {
  gpu: Gpu;
  rt: Runtime;
  /** GEMM sizes n (n x n x n products). */
  sizes: readonly number[];
  reps: number;
  warmup: number;
  /** Our f32 kernel's rate (TFLOP/s) at each size in this round, the quire rows' peer. */
  f32: ReadonlyMap<number, number>;
}

/** One round of quire measurements (none yet) and a note on what was (not) measured. */
export async function quireRows(_ctx: QuireContext): Promise<{ rounds: SpeedRound[]; note: string }> {
  return {
    rounds: [],
    note: 'no quire rows: quireRows (gan/bench/speed-quire.ts) is the hook for the exact-quire GEMM rows (p8e2-quire, p8e2-quire-subgroup-matrix against posit-gan f32), which the quire work fills in',
  };
}
