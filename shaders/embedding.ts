// Embedding lookup and its deterministic backward (WGSL has no float atomics, and atomics would make
// the summation order, hence the result, vary from run to run):
//   gather   one thread per output element (b, d): out[b, d] = table[idx[b], d]
//   scatter  one thread per table element (v, d): grad[v, d] = sum over b with idx[b] == v of g[b, d],
//            summed in batch order
// Indices are float32 integers (exact up to 2^24). An index that is not an integer in [0, V) gives
// NaN (gather) and is ignored by scatter; the host checks indices it holds on the CPU first.

import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { ROUND_PARAM_FIELDS, roundedBits, roundKey, roundLibrary, type RoundSpec } from './round.ts';
import { wgsl } from './wgsl.ts';

export const EMBEDDING_WORKGROUP = 256;

export type EmbeddingPass = 'gather' | 'scatter';

export const EMBEDDING_PARAMS = new ParamLayout(paramTable([['rows', 'u32'], ['dim', 'u32'], ['batch', 'u32'], ['count', 'u32'], ['grid_x', 'u32'], ...ROUND_PARAM_FIELDS]));

export interface EmbeddingSpec {
  pass: EmbeddingPass;
  /** gather: round the picked values to a format (a layer's output quantizer fused, shaders/round.ts);
   *  the result is then stored as the decoder's bit pattern. */
  round?: RoundSpec | null;
}

export type EmbeddingKernel = KernelVariant<typeof EMBEDDING_PARAMS.table, 'idx' | 'src' | 'dst'>;

/** gather: table (src) rows to dst; scatter: the gradient (src) summed into table rows (dst). */
export const embeddingKernel = memoByKey(
  ({ pass, round }: EmbeddingSpec, key): EmbeddingKernel =>
    kernelVariant({
      label: `embedding:${pass}`,
      key,
      params: EMBEDDING_PARAMS,
      bindings: bindingTable([['idx', 'read', 'array<f32>'], ['src', 'read', 'array<f32>'], ['dst', 'read_write', round ? 'array<u32>' : 'array<f32>']]),
      source: (header) => wgsl`
${roundLibrary(round)}
${header}

// The row an index names, or rows (out of range) when it is not a valid row number.
fn row_of(v: f32) -> u32 {
  if (!(v >= 0.0 && v < f32(P.rows) && v == floor(v))) { return P.rows; }
  return u32(v);
}

@compute @workgroup_size(${EMBEDDING_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * P.grid_x * ${EMBEDDING_WORKGROUP}u;
  if (i >= P.count) { return; }
  let d = i % P.dim;
#if ${pass === 'gather'}
  let r = row_of(idx[i / P.dim]);
  if (r >= P.rows) {
    // A run-time value: WGSL rejects a NaN constant expression.
    let nan_bits = 0x7fc00000u;
#if ${!!round}
    dst[i] = ${roundedBits(round, 'bitcast<f32>(nan_bits)', 'i')};
  } else {
    dst[i] = ${roundedBits(round, 'src[r * P.dim + d]', 'i')};
  }
#else
    dst[i] = bitcast<f32>(nan_bits);
  } else {
    dst[i] = src[r * P.dim + d];
  }
#endif
#else
  let v = i / P.dim;
  var acc = 0.0;
  for (var b = 0u; b < P.batch; b = b + 1u) {
    if (row_of(idx[b]) == v) { acc = acc + src[b * P.dim + d]; }
  }
  dst[i] = acc;
#endif
}
`,
    }),
  (s) => `${s.pass}|${roundKey(s.round)}`,
);

/** One thread per element of dst. */
export function embeddingGrid(count: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(count / EMBEDDING_WORKGROUP));
}
