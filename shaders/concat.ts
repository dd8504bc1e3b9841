// Concatenation of two tensors along one axis. The output index splits into (outer, j, inner) around
// the axis; j < la reads the first operand, otherwise the second. Sizes travel as parameters.

import { wgsl } from './wgsl.ts';

export const CONCAT_WORKGROUP = 256;

export function concatShader(): string {
  return wgsl`
struct Params { count: u32, inner: u32, la: u32, lb: u32, grid_x: u32, _p0: u32, _p1: u32, _p2: u32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(${CONCAT_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * P.grid_x * ${CONCAT_WORKGROUP}u;
  if (i >= P.count) { return; }
  let len = P.la + P.lb;
  let inner = i % P.inner;
  let j = (i / P.inner) % len;
  let outer = i / (P.inner * len);
  if (j < P.la) {
    out[i] = a[(outer * P.la + j) * P.inner + inner];
  } else {
    out[i] = b[(outer * P.lb + (j - P.la)) * P.inner + inner];
  }
}
`;
}
