// Counts the non-finite values (NaN, +-inf) of a float32 tensor by their bit patterns (WGSL float
// arithmetic may assume there are none, so the test is on the exponent field), adding the count to
// out[slot]. One workgroup per tensor slice; used to detect overflow before an optimizer update.

import { wgsl } from '../engine/kernels/wgsl.ts';

export const FINITE_WORKGROUP = 256;

export function nonFiniteShader(): string {
  return wgsl`
struct Params { count: u32, slot: u32, _p0: u32, _p1: u32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<u32, ${FINITE_WORKGROUP}>;

@compute @workgroup_size(${FINITE_WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  var n = 0u;
  for (var i = lid; i < P.count; i = i + ${FINITE_WORKGROUP}u) {
    if ((x[i] & 0x7f800000u) == 0x7f800000u) { n = n + 1u; }
  }
  partial[lid] = n;
  workgroupBarrier();
  for (var s = ${FINITE_WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] = partial[lid] + partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[P.slot] = out[P.slot] + f32(partial[0]); }
}
`;
}
