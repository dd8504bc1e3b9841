// Sum reduction: one workgroup per output element; its threads stride over the reduced elements
// (a mixed-radix walk over up to MAX_RANK reduced dimensions), then combine in workgroup memory.
// Output element o reads from base(o) + offset(r), where kept and reduced dimensions each have their
// own shape and strides, so any set of axes can be reduced without a transpose.

import { bindingTable, grid1d, kernelVariant, ParamLayout, paramTable, type GridLimits } from './kernel.ts';
import { wgsl } from './wgsl.ts';
import { MAX_RANK } from './elementwise.ts';

export const REDUCE_WORKGROUP = 64;

export const REDUCE_PARAMS = new ParamLayout(
  paramTable([
    ['out_count', 'u32'],
    ['red_count', 'u32'],
    ['kept_rank', 'u32'],
    ['red_rank', 'u32'],
    ['grid_x', 'u32'],
    ['scale', 'f32'],
    ['kept_shape', 'u32[]', MAX_RANK],
    ['kept_stride', 'u32[]', MAX_RANK],
    ['red_shape', 'u32[]', MAX_RANK],
    ['red_stride', 'u32[]', MAX_RANK],
  ]),
);

/** out[o] = scale * sum over the reduced dimensions of src. */
export const REDUCE_KERNEL = kernelVariant({
  label: 'sum',
  key: 'sum',
  params: REDUCE_PARAMS,
  bindings: bindingTable([['src', 'read', 'array<f32>'], ['out', 'read_write', 'array<f32>']]),
  source: (header) => wgsl`
${header}

var<workgroup> partial: array<f32, ${REDUCE_WORKGROUP}>;

@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * P.grid_x;
  // Uniform control flow: every thread of a workgroup shares o, so the early exit is uniform.
  if (o >= P.out_count) { return; }
  var base = 0u;
  var rem = o;
  for (var d = i32(P.kept_rank) - 1; d >= 0; d = d - 1) {
    let ud = u32(d);
    let extent = P.kept_shape[ud / 4u][ud % 4u];
    base = base + (rem % extent) * P.kept_stride[ud / 4u][ud % 4u];
    rem = rem / extent;
  }
  var acc = 0.0;
  for (var r = lid; r < P.red_count; r = r + ${REDUCE_WORKGROUP}u) {
    var off = base;
    var q = r;
    for (var d = i32(P.red_rank) - 1; d >= 0; d = d - 1) {
      let ud = u32(d);
      let extent = P.red_shape[ud / 4u][ud % 4u];
      off = off + (q % extent) * P.red_stride[ud / 4u][ud % 4u];
      q = q / extent;
    }
    acc = acc + src[off];
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = ${REDUCE_WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] = partial[lid] + partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[o] = partial[0] * P.scale; }
}
`,
});

/** One workgroup per output element. */
export function reduceGrid(outputs: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, outputs);
}
