// Counts the non-finite values (NaN, +-inf) of float32 tensors by their bit patterns (WGSL float
// arithmetic may assume there are none, so the test is on the exponent field). Two kernels:
//   nonFiniteShader(inputs): many workgroups stride over up to `inputs` tensors (one binding each,
//     unrolled: WGSL cannot index bindings) and add their workgroup's count to an atomic u32;
//   nonFiniteTotalShader: one invocation turns the atomic count into the float32 result.
// A single workgroup scanning a 400k-element gradient took half a millisecond on an H200; spreading
// the scan over the GPU makes the check before an optimizer update cost microseconds.

import { wgsl } from './wgsl.ts';

export const FINITE_WORKGROUP = 256;
/** Elements each invocation checks per tensor before the grid would need to grow. */
export const FINITE_PER_INVOCATION = 8;

export function nonFiniteShader(inputs: number): string {
  if (!Number.isInteger(inputs) || inputs < 1) throw new RangeError(`nonFiniteShader: inputs must be a positive integer, got ${inputs}`);
  const ids = Array.from({ length: inputs }, (_, j) => j);
  const count = (j: number) => `P.count[${j >> 2}][${j & 3}]`;
  return wgsl`
struct Params { count: array<vec4<u32>, ${Math.ceil(inputs / 4)}> };
@group(0) @binding(0) var<uniform> P: Params;
${ids.map((j) => `@group(0) @binding(${j + 1}) var<storage, read> x${j}: array<u32>;`).join('\n')}
@group(0) @binding(${inputs + 1}) var<storage, read_write> total: array<atomic<u32>>;

var<workgroup> partial: array<u32, ${FINITE_WORKGROUP}>;

@compute @workgroup_size(${FINITE_WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * ${FINITE_WORKGROUP}u;
  let first = wid.x * ${FINITE_WORKGROUP}u + lid;
  var n = 0u;
${ids
  .map(
    (j) => `  for (var i = first; i < ${count(j)}; i = i + stride) {
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
  if (lid == 0u && partial[0] > 0u) { atomicAdd(&total[0], partial[0]); }
}
`;
}

/** out[0] = the atomic count as float32 (exact up to 2^24). */
export function nonFiniteTotalShader(): string {
  return wgsl`
@group(0) @binding(0) var<storage, read> total: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(1)
fn main() {
  out[0] = f32(total[0]);
}
`;
}
