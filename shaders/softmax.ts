// Row-wise log-softmax and softmax cross-entropy over the last axis of a [rows, classes] view, one
// thread per row (classifier heads are narrow: 10 classes for the LeNet used by FID).
//   log_softmax        y[r, j] = x[r, j] - max_r - log(sum_j exp(x[r, j] - max_r))
//   log_softmax_grad   gx[r, j] = g[r, j] - exp(y[r, j]) * sum_j g[r, j]
//   xent               loss[r] = logsumexp_r - x[r, label_r]
//   xent_grad          gx[r, j] = g[r] * (softmax(x)[r, j] - [j == label_r])
// Labels are float32 integers; one that is not an integer in [0, classes) gives NaN (the host checks
// labels it holds on the CPU first).

import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { wgsl } from './wgsl.ts';

export const SOFTMAX_WORKGROUP = 64;

export type SoftmaxPass = 'log_softmax' | 'log_softmax_grad' | 'xent' | 'xent_grad';

export const SOFTMAX_PARAMS = new ParamLayout(paramTable([['rows', 'u32'], ['classes', 'u32'], ['grid_x', 'u32']]));

/** Bindings: x (y for log_softmax_grad), then labels (xent passes), then g (gradient passes), then out. */
export type SoftmaxKernel = KernelVariant<typeof SOFTMAX_PARAMS.table, 'x' | 'out', 'labels' | 'g'>;

export const softmaxKernel = memoByKey((pass: SoftmaxPass, key): SoftmaxKernel => {
  const xent = pass === 'xent' || pass === 'xent_grad';
  const grad = pass === 'log_softmax_grad' || pass === 'xent_grad';
  return kernelVariant({
    label: `softmax:${pass}`,
    key,
    params: SOFTMAX_PARAMS,
    bindings: bindingTable([
      ['x', 'read', 'array<f32>'],
      ...(xent ? [['labels', 'read', 'array<f32>'] as const] : []),
      ...(grad ? [['g', 'read', 'array<f32>'] as const] : []),
      ['out', 'read_write', 'array<f32>'],
    ]),
    source: (header) => wgsl`
${header}

@compute @workgroup_size(${SOFTMAX_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x + gid.y * P.grid_x * ${SOFTMAX_WORKGROUP}u;
  if (r >= P.rows) { return; }
  let base = r * P.classes;
#if ${pass === 'log_softmax_grad'}
  var gs = 0.0;
  for (var j = 0u; j < P.classes; j = j + 1u) { gs = gs + g[base + j]; }
  for (var j = 0u; j < P.classes; j = j + 1u) { out[base + j] = g[base + j] - exp(x[base + j]) * gs; }
#else
  var m = x[base];
  for (var j = 1u; j < P.classes; j = j + 1u) { m = max(m, x[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < P.classes; j = j + 1u) { s = s + exp(x[base + j] - m); }
  let lse = m + log(s);
#if ${xent}
  let lf = labels[r];
  let valid = lf >= 0.0 && lf < f32(P.classes) && lf == floor(lf);
  let label = select(0u, u32(lf), valid);
  // A run-time value: WGSL rejects a NaN constant expression.
  let nan_bits = 0x7fc00000u;
  let nan = bitcast<f32>(nan_bits);
#endif
#if ${pass === 'log_softmax'}
  for (var j = 0u; j < P.classes; j = j + 1u) { out[base + j] = x[base + j] - lse; }
#elif ${pass === 'xent'}
  out[r] = select(nan, lse - x[base + label], valid);
#else
  for (var j = 0u; j < P.classes; j = j + 1u) {
    let p = exp(x[base + j] - lse);
    out[base + j] = select(nan, g[r] * (p - select(0.0, 1.0, j == label)), valid);
  }
#endif
#endif
}
`,
  });
}, (pass) => pass);

/** One thread per row. */
export function softmaxGrid(rows: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(rows / SOFTMAX_WORKGROUP));
}
