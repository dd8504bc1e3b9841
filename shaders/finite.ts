// Counts the non-finite values (NaN, +-inf) of float32 tensors by their bit patterns (WGSL float
// arithmetic may assume there are none, so the test is on the exponent field), adding the count to
// out[0]. One workgroup scans up to `inputs` tensors (one binding each, unrolled: WGSL cannot index
// bindings), so checking a network's gradients before an optimizer update takes a few dispatches,
// not one per tensor. An unused input has count 0.

import { wgsl } from '../engine/kernels/wgsl.ts';

export const FINITE_WORKGROUP = 256;

export function nonFiniteShader(inputs: number): string {
  if (!Number.isInteger(inputs) || inputs < 1) throw new RangeError(`nonFiniteShader: inputs must be a positive integer, got ${inputs}`);
  const ids = Array.from({ length: inputs }, (_, j) => j);
  const count = (j: number) => `P.count[${j >> 2}][${j & 3}]`;
  return wgsl`
struct Params { count: array<vec4<u32>, ${Math.ceil(inputs / 4)}> };
@group(0) @binding(0) var<uniform> P: Params;
${ids.map((j) => `@group(0) @binding(${j + 1}) var<storage, read> x${j}: array<u32>;`).join('\n')}
@group(0) @binding(${inputs + 1}) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<u32, ${FINITE_WORKGROUP}>;

@compute @workgroup_size(${FINITE_WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  var n = 0u;
${ids
  .map(
    (j) => `  for (var i = lid; i < ${count(j)}; i = i + ${FINITE_WORKGROUP}u) {
    if ((x${j}[i] & 0x7f800000u) == 0x7f800000u) { n = n + 1u; }
  }`,
  )
  .join('\n')}
  partial[lid] = n;
  workgroupBarrier();
  for (var s = ${FINITE_WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] = partial[lid] + partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[0] = out[0] + f32(partial[0]); }
}
`;
}
