// Dropout with a counter-based mask: element i is kept iff random(seed, counter + i) >= threshold
// (threshold = round(p * 2^32)), and kept elements are scaled by 1 / (1 - p). The mask is never
// stored: the backward pass runs this same kernel on the gradient with the same (seed, counter), so
// it drops exactly the elements the forward pass dropped.

import { wgsl } from './wgsl.ts';
import { RNG_WGSL } from './rng.ts';

export const DROPOUT_WORKGROUP = 256;

export function dropoutShader(): string {
  return wgsl`
struct Params { count: u32, seed: u32, counter: u32, threshold: u32, scale: f32, grid_x: u32, _p0: u32, _p1: u32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

${RNG_WGSL}

@compute @workgroup_size(${DROPOUT_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * P.grid_x * ${DROPOUT_WORKGROUP}u;
  if (i >= P.count) { return; }
  let keep = pg_random(P.seed, P.counter + i) >= P.threshold;
  dst[i] = select(0.0, src[i] * P.scale, keep);
}
`;
}
