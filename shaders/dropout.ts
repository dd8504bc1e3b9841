// Dropout with a counter-based mask: element i is kept iff random(seed, counter + i) >= threshold
// (threshold = round(p * 2^32)), and kept elements are scaled by 1 / (1 - p). The mask is never
// stored: the backward pass runs this same kernel on the gradient with the same (seed, counter), so
// it drops exactly the elements the forward pass dropped. A variant per output rounding (a quantizer
// fused into the kernel, shaders/round.ts).

import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { ROUND_PARAM_FIELDS, roundedBits, roundKey, roundLibrary, type RoundSpec } from './round.ts';
import { wgsl } from './wgsl.ts';
import { RNG_WGSL } from './rng.ts';

export const DROPOUT_WORKGROUP = 256;

export const DROPOUT_PARAMS = new ParamLayout(
  paramTable([['count', 'u32'], ['seed', 'u32'], ['counter', 'u32'], ['threshold', 'u32'], ['scale', 'f32'], ['grid_x', 'u32'], ...ROUND_PARAM_FIELDS]),
);

export type DropoutKernel = KernelVariant<typeof DROPOUT_PARAMS.table, 'src' | 'dst'>;

/** The dropout kernel (forward and backward alike): src -> dst, its result rounded to `round` (null:
 *  float32). A rounded result is stored as the decoder's bit pattern. */
export const dropoutKernel = memoByKey(
  (round: RoundSpec | null, key): DropoutKernel =>
    kernelVariant({
      label: 'dropout',
      key,
      params: DROPOUT_PARAMS,
      bindings: bindingTable([['src', 'read', 'array<f32>'], ['dst', 'read_write', round ? 'array<u32>' : 'array<f32>']]),
      source: (header) => wgsl`
${round ? roundLibrary(round) : RNG_WGSL}
${header}

@compute @workgroup_size(${DROPOUT_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * P.grid_x * ${DROPOUT_WORKGROUP}u;
  if (i >= P.count) { return; }
  let keep = pg_random(P.seed, P.counter + i) >= P.threshold;
#if ${!!round}
  dst[i] = ${roundedBits(round, 'select(0.0, src[i] * P.scale, keep)', 'i')};
#else
  dst[i] = select(0.0, src[i] * P.scale, keep);
#endif
}
`,
    }),
  (round) => `dropout|${roundKey(round)}`,
);

/** The dropout kernel without rounding. */
export const DROPOUT_KERNEL = dropoutKernel(null);

/** One thread per element. */
export function dropoutGrid(count: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(count / DROPOUT_WORKGROUP));
}
