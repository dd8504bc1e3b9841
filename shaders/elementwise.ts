// Elementwise kernels, generated from one source: a unary or binary expression applied per element,
// with NumPy broadcasting through per-operand strides (a stride of 0 repeats a dimension).
// Tensors are contiguous; up to MAX_RANK dimensions.

import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { ROUND_PARAM_FIELDS, roundedBits, roundKey, roundLibrary, type RoundSpec } from './round.ts';
import { u32, wgsl } from './wgsl.ts';

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
  /** Round the result to a format in this kernel (shaders/round.ts): a quantizer fused into it. */
  round?: RoundSpec | null;
}

const OPERANDS = ['a', 'b', 'c'] as const;

/** Parameters: the element count, the output's rank and shape, 4 f32 expression parameters, the
 *  stochastic stream of a fused rounding, and per operand its element offset (`base`, one slot each)
 *  and its MAX_RANK strides (`strides`, operand j at j * MAX_RANK). */
function elementwiseParams(arity: number) {
  return new ParamLayout(
    paramTable([
      ['count', 'u32'],
      ['rank', 'u32'],
      ['grid_x', 'u32'],
      ['p0', 'f32'],
      ['p1', 'f32'],
      ['p2', 'f32'],
      ['p3', 'f32'],
      ...ROUND_PARAM_FIELDS,
      ['base', 'u32[]', 4],
      ['shape', 'u32[]', MAX_RANK],
      ['strides', 'u32[]', arity * MAX_RANK],
    ]),
  );
}

export type ElementwiseParams = ReturnType<typeof elementwiseParams>['table'];
/** Bindings: the operands in_a, in_b, in_c (as many as the arity; the expression reads them as a, b,
 *  c) and out. */
export type ElementwiseKernel = KernelVariant<ElementwiseParams, 'out', OperandBinding>;
export type OperandBinding = 'in_a' | 'in_b' | 'in_c';
export const OPERAND_BINDINGS: readonly OperandBinding[] = ['in_a', 'in_b', 'in_c'];

/** The spec's cache key (it determines the source). */
export function elementwiseKey(s: ElementwiseSpec): string {
  return `${s.arity}|${s.broadcast}|${s.expr}|${s.helpers ?? ''}|${roundKey(s.round)}`;
}

export const elementwiseKernel = memoByKey((s: ElementwiseSpec, key): ElementwiseKernel => {
  const names = OPERANDS.slice(0, s.arity);
  const V = MAX_RANK / 4;
  return kernelVariant({
    label: `ew:${s.expr}`,
    key,
    params: elementwiseParams(s.arity),
    // A rounded result is stored as the decoder's bit pattern (u32), as the quantize kernel stores it.
    bindings: bindingTable([...OPERAND_BINDINGS.slice(0, s.arity).map((n) => [n, 'read', 'array<f32>'] as const), ['out', 'read_write', s.round ? 'array<u32>' : 'array<f32>']]),
    source: (header) => wgsl`
${roundLibrary(s.round)}
${header}

${s.helpers ?? ''}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * P.grid_x * ${WORKGROUP}u;
  if (i >= P.count) { return; }
  let p0 = P.p0; let p1 = P.p1; let p2 = P.p2; let p3 = P.p3;
#if ${s.broadcast}
${names.map((n, i) => `  var off_${n} = P.base[0u][${i}];`).join('\n')}
  var rem = i;
  for (var d = i32(P.rank) - 1; d >= 0; d = d - 1) {
    let ud = u32(d);
    let extent = P.shape[ud / 4u][ud % 4u];
    let k = rem % extent;
    rem = rem / extent;
${names.map((n, j) => `    off_${n} = off_${n} + k * P.strides[${u32(j * V)} + ud / 4u][ud % 4u];`).join('\n')}
  }
${names.map((n) => `  let ${n} = in_${n}[off_${n}];`).join('\n')}
#else
${names.map((n) => `  let ${n} = in_${n}[i];`).join('\n')}
#endif
#if ${!!s.round}
  out[i] = ${roundedBits(s.round, `(${s.expr})`, 'i')};
#else
  out[i] = ${s.expr};
#endif
}
`,
  });
}, elementwiseKey);

/** One thread per output element. */
export function elementwiseGrid(count: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(count / WORKGROUP));
}
