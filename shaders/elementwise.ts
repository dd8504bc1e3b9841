// Elementwise kernels, generated from one source: a unary or binary expression applied per element,
// with NumPy broadcasting through per-operand strides (a stride of 0 repeats a dimension).
// Tensors are contiguous; up to MAX_RANK dimensions.

import { wgsl } from './wgsl.ts';

export const MAX_RANK = 8;
export const WORKGROUP = 256;

export interface ElementwiseSpec {
  /** Number of tensor operands read (0 to 3; 0 fills with an expression of the parameters). */
  arity: 0 | 1 | 2 | 3;
  /** WGSL expression of the result, in terms of a, b, c (f32) and p0..p3 (f32 parameters). */
  expr: string;
  /** Whether operands may broadcast (strided indexing); false: every operand has the output's size. */
  broadcast: boolean;
  /** Extra WGSL functions the expression calls. */
  helpers?: string;
}

/** Parameters: count, rank, grid width, 4 f32 params, per-operand base offsets, then the output
 *  shape and per-operand strides as vec4 arrays. */
export function elementwiseShader(s: ElementwiseSpec): string {
  const names = ['a', 'b', 'c'].slice(0, s.arity);
  const V = MAX_RANK / 4;
  return wgsl`
struct Params {
  count: u32,
  rank: u32,
  grid_x: u32,
  _pad: u32,
  p0: f32, p1: f32, p2: f32, p3: f32,
  base: vec4<u32>,
  shape: array<vec4<u32>, ${V}>,
${names.map((n) => `  stride_${n}: array<vec4<u32>, ${V}>,`).join('\n')}
};
@group(0) @binding(0) var<uniform> P: Params;
${names.map((n, i) => `@group(0) @binding(${i + 1}) var<storage, read> in_${n}: array<f32>;`).join('\n')}
@group(0) @binding(${s.arity + 1}) var<storage, read_write> out: array<f32>;

${s.helpers ?? ''}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * P.grid_x * ${WORKGROUP}u;
  if (i >= P.count) { return; }
  let p0 = P.p0; let p1 = P.p1; let p2 = P.p2; let p3 = P.p3;
#if ${s.broadcast}
${names.map((n, i) => `  var off_${n} = P.base[${i}];`).join('\n')}
  var rem = i;
  for (var d = i32(P.rank) - 1; d >= 0; d = d - 1) {
    let ud = u32(d);
    let extent = P.shape[ud / 4u][ud % 4u];
    let k = rem % extent;
    rem = rem / extent;
${names.map((n) => `    off_${n} = off_${n} + k * P.stride_${n}[ud / 4u][ud % 4u];`).join('\n')}
  }
${names.map((n) => `  let ${n} = in_${n}[off_${n}];`).join('\n')}
#else
${names.map((n) => `  let ${n} = in_${n}[i];`).join('\n')}
#endif
  out[i] = ${s.expr};
}
`;
}
