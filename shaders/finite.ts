// Counts the non-finite values (NaN, +-inf) of float32 tensors by their bit patterns (WGSL float
// arithmetic may assume there are none, so the test is on the exponent field). Two kernels:
//   nonFiniteKernel(inputs): many workgroups stride over up to `inputs` tensors (one binding each,
//     unrolled: WGSL cannot index bindings) and add their workgroup's count to an atomic u32;
//   NON_FINITE_TOTAL: one invocation turns the atomic count into the float32 result.
// A single workgroup scanning a 400k-element gradient took half a millisecond on an H200; spreading
// the scan over the GPU makes the check before an optimizer update cost microseconds.

import { bindingTable, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { wgsl } from './wgsl.ts';

export const FINITE_WORKGROUP = 256;
/** Elements each invocation checks per tensor before the grid would need to grow. */
export const FINITE_PER_INVOCATION = 8;

/** Element counts of the inputs, one u32 each (unused inputs: 0). */
function finiteParams(inputs: number) {
  return new ParamLayout(paramTable([['count', 'u32[]', Math.ceil(inputs / 4) * 4]]));
}

export type InputBinding = `x${number}`;
/** Bindings: x0 .. x<inputs-1> (u32 words of float32 tensors), then total (the atomic counter). */
export type NonFiniteKernel = KernelVariant<ReturnType<typeof finiteParams>['table'], 'total', InputBinding>;

/** Binding name of input j. */
export function inputBinding(j: number): InputBinding {
  return `x${j}`;
}

export const nonFiniteKernel = memoByKey((inputs: number, key): NonFiniteKernel => {
  if (!Number.isInteger(inputs) || inputs < 1) throw new RangeError(`nonFiniteKernel: inputs must be a positive integer, got ${inputs}`);
  const ids = Array.from({ length: inputs }, (_, j) => j);
  const count = (j: number) => `P.count[${j >> 2}][${j & 3}]`;
  return kernelVariant({
    label: `nonfinite:${inputs}`,
    key,
    params: finiteParams(inputs),
    bindings: bindingTable<InputBinding | 'total'>([...ids.map((j) => [inputBinding(j), 'read', 'array<u32>'] as const), ['total', 'read_write', 'array<atomic<u32>>']]),
    source: (header) => wgsl`
${header}

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
`,
  });
}, String);

/** Workgroups of a scan whose largest input has `largest` elements: one x dimension only (the kernel
 *  strides by num_workgroups.x), more elements per invocation beyond the per-dimension limit. */
export function nonFiniteGrid(largest: number, limits: GridLimits): [number, number, number] {
  return [Math.max(1, Math.min(Math.ceil(largest / (FINITE_WORKGROUP * FINITE_PER_INVOCATION)), limits.maxComputeWorkgroupsPerDimension)), 1, 1];
}

/** out[0] = the atomic count as float32 (exact up to 2^24). No parameters; one invocation. */
export const NON_FINITE_TOTAL = kernelVariant({
  label: 'nonfinite:total',
  key: 'total',
  params: null,
  bindings: bindingTable([['total', 'read', 'array<u32>'], ['out', 'read_write', 'array<f32>']]),
  source: (header) => wgsl`
${header}

@compute @workgroup_size(1)
fn main() {
  out[0] = f32(total[0]);
}
`,
});
