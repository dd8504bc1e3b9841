// Concatenation of two tensors along one axis. The output index splits into (outer, j, inner) around
// the axis; j < la reads the first operand, otherwise the second. Sizes travel as parameters.

import { bindingTable, grid1d, kernelVariant, ParamLayout, paramTable, type GridLimits } from './kernel.ts';
import { wgsl } from './wgsl.ts';

export const CONCAT_WORKGROUP = 256;

export const CONCAT_PARAMS = new ParamLayout(paramTable([['count', 'u32'], ['inner', 'u32'], ['la', 'u32'], ['lb', 'u32'], ['grid_x', 'u32']]));

/** out = [a | b] along the axis. */
export const CONCAT_KERNEL = kernelVariant({
  label: 'concat',
  key: 'concat',
  params: CONCAT_PARAMS,
  bindings: bindingTable([['a', 'read', 'array<f32>'], ['b', 'read', 'array<f32>'], ['out', 'read_write', 'array<f32>']]),
  source: (header) => wgsl`
${header}

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
`,
});

/** One thread per output element. */
export function concatGrid(count: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(count / CONCAT_WORKGROUP));
}
