// 2-D max and average pooling over NCHW, forward and backward, one source. Windows start at
// oh * stride - pad; padded positions are skipped by max and, for average, counted in the divisor
// when count_include_pad (PyTorch's default) is set.
//   forward   one thread per output element. max also stores, per output, the in-plane index
//             ih * W + iw of the first maximum (raw u32 words), which its backward reads.
//   backward  one thread per input element, summing over the outputs whose windows contain it (no
//             atomics, so results do not depend on thread scheduling).

import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { wgsl } from './wgsl.ts';

export const POOL_WORKGROUP = 256;

export interface PoolSpec {
  kind: 'max' | 'avg';
  pass: 'forward' | 'backward';
}

export const POOL_PARAMS = new ParamLayout(
  paramTable([
    ['count', 'u32'], ['grid_x', 'u32'], ['h', 'u32'], ['w', 'u32'],
    ['oh', 'u32'], ['ow', 'u32'], ['kh', 'i32'], ['kw', 'i32'],
    ['sh', 'i32'], ['sw', 'i32'], ['ph', 'i32'], ['pw', 'i32'],
    ['include_pad', 'u32'],
  ]),
);

/** Bindings: forward x -> y (max also writes arg); backward g (max also reads arg) -> gx. */
export type PoolKernel = KernelVariant<typeof POOL_PARAMS.table, never, 'x' | 'y' | 'g' | 'gx' | 'arg'>;

export function poolKey(s: PoolSpec): string {
  return `${s.kind}|${s.pass}`;
}

export const poolKernel = memoByKey((s: PoolSpec, key): PoolKernel => {
  const max = s.kind === 'max';
  const fwd = s.pass === 'forward';
  const arg = [['arg', fwd ? 'read_write' : 'read', 'array<u32>'] as const];
  return kernelVariant({
    label: `pool:${key}`,
    key,
    params: POOL_PARAMS,
    bindings: bindingTable<'x' | 'y' | 'g' | 'gx' | 'arg'>(
      fwd
        ? [['x', 'read', 'array<f32>'], ['y', 'read_write', 'array<f32>'], ...(max ? arg : [])]
        : [['g', 'read', 'array<f32>'], ...(max ? arg : []), ['gx', 'read_write', 'array<f32>']],
    ),
    source: (header) => wgsl`
${header}

// The averaging divisor of output (oh, ow).
fn divisor(oh: i32, ow: i32) -> f32 {
  if (P.include_pad == 1u) { return f32(P.kh * P.kw); }
  let h0 = oh * P.sh - P.ph;
  let w0 = ow * P.sw - P.pw;
  let nh = min(h0 + P.kh, i32(P.h)) - max(h0, 0);
  let nw = min(w0 + P.kw, i32(P.w)) - max(w0, 0);
  return f32(nh * nw);
}

@compute @workgroup_size(${POOL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * P.grid_x * ${POOL_WORKGROUP}u;
  if (i >= P.count) { return; }
  let H = i32(P.h);
  let W = i32(P.w);
#if ${fwd}
  let plane = i / (P.oh * P.ow);
  let oh = i32((i / P.ow) % P.oh);
  let ow = i32(i % P.ow);
  let base = plane * P.h * P.w;
  let h0 = oh * P.sh - P.ph;
  let w0 = ow * P.sw - P.pw;
#if ${max}
  var best = 0.0;
  var at = 0xffffffffu;
#else
  var acc = 0.0;
#endif
  for (var kh = 0; kh < P.kh; kh = kh + 1) {
    let ih = h0 + kh;
    if (ih < 0 || ih >= H) { continue; }
    for (var kw = 0; kw < P.kw; kw = kw + 1) {
      let iw = w0 + kw;
      if (iw < 0 || iw >= W) { continue; }
      let k = u32(ih * W + iw);
      let v = x[base + k];
#if ${max}
      if (at == 0xffffffffu || v > best) { best = v; at = k; }
#else
      acc = acc + v;
#endif
    }
  }
#if ${max}
  y[i] = best;
  arg[i] = at;
#else
  y[i] = acc / divisor(oh, ow);
#endif
#else
  let plane = i / (P.h * P.w);
  let ih = i32((i / P.w) % P.h);
  let iw = i32(i % P.w);
  let k = u32(ih * W + iw);
  let obase = plane * P.oh * P.ow;
  // Outputs whose window [o * s - p, o * s - p + kernel) contains the input position.
  let oh_lo = max(0, (ih + P.ph - P.kh + P.sh) / P.sh);
  let oh_hi = min(i32(P.oh) - 1, (ih + P.ph) / P.sh);
  let ow_lo = max(0, (iw + P.pw - P.kw + P.sw) / P.sw);
  let ow_hi = min(i32(P.ow) - 1, (iw + P.pw) / P.sw);
  var acc = 0.0;
  for (var oh = oh_lo; oh <= oh_hi; oh = oh + 1) {
    for (var ow = ow_lo; ow <= ow_hi; ow = ow + 1) {
      let o = obase + u32(oh * i32(P.ow) + ow);
#if ${max}
      if (arg[o] == k) { acc = acc + g[o]; }
#else
      acc = acc + g[o] / divisor(oh, ow);
#endif
    }
  }
  gx[i] = acc;
#endif
}
`,
  });
}, poolKey);

/** One thread per element: of the output (forward), of the input (backward). */
export function poolGrid(count: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(count / POOL_WORKGROUP));
}
