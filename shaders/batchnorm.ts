// Batch normalisation kernels, one source for the four passes. The input is viewed as [N, C, S]
// (S = H*W for images, 1 for [N, C]); channel c owns the M = N*S elements n*C*S + c*S + s.
//   stats       one workgroup per channel. train: mean and biased variance in two passes over the
//               channel (centred second pass, no E[x^2]-E[x]^2 cancellation), then, when running
//               buffers are bound, the running update with the unbiased variance (PyTorch). eval:
//               copies the running mean and 1/sqrt(running var + eps). Writes saved = [mean | invstd].
//   apply       one thread per element: y = (x - mean) * invstd * w + b.
//   grad_stats  one workgroup per channel: sum(g) -> gb, sum(g * xhat) -> gw.
//   grad_input  one thread per element: train  gx = w * invstd * (g - (gb + xhat * gw) / M)
//                                        eval   gx = w * invstd * g   (the statistics are constants)
// Instance normalisation runs these passes too, on a view whose channels are the (sample, channel)
// planes (engine/ops/batchnorm.ts, instanceNorm).

import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { wgsl } from './wgsl.ts';

export const BN_WORKGROUP = 64;
export const BN_ELEMENT_WORKGROUP = 256;

export type BatchNormPass = 'stats' | 'apply' | 'grad_stats' | 'grad_input';

export interface BatchNormSpec {
  pass: BatchNormPass;
  /** Batch statistics (true) or running statistics (false). */
  train: boolean;
  /** stats pass in training: update the running buffers. */
  updateRunning?: boolean;
}

export const BN_PARAMS = new ParamLayout(
  paramTable([
    ['channels', 'u32'],
    ['inner', 'u32'],
    ['per_channel', 'u32'],
    ['count', 'u32'],
    ['grid_x', 'u32'],
    ['eps', 'f32'],
    ['momentum', 'f32'],
    ['unbias', 'f32'],
  ]),
);

type BnBinding = 'x' | 'y' | 'g' | 'gx' | 'saved' | 'weight' | 'bias' | 'running_mean' | 'running_var' | 'gw' | 'gb';
/** Bindings by pass (in binding order):
 *    stats, train    x, saved, [running_mean, running_var when updating them]
 *    stats, eval     running_mean, running_var, saved
 *    apply           x, saved, weight, bias, y
 *    grad_stats      g, x, saved, gw, gb
 *    grad_input      train: g, x, saved, weight, gw, gb, gx; eval: g, saved, weight, gx
 *  ('auto' layouts drop unused bindings, so each variant declares only what it reads). */
export type BatchNormKernel = KernelVariant<typeof BN_PARAMS.table, never, BnBinding>;

const R = (name: BnBinding) => [name, 'read', 'array<f32>'] as const;
const W = (name: BnBinding) => [name, 'read_write', 'array<f32>'] as const;

function bindingsOf(s: BatchNormSpec) {
  switch (s.pass) {
    case 'stats':
      if (!s.train) return bindingTable([R('running_mean'), R('running_var'), W('saved')]);
      return bindingTable([R('x'), W('saved'), ...(s.updateRunning ? [W('running_mean'), W('running_var')] : [])]);
    case 'apply':
      return bindingTable([R('x'), R('saved'), R('weight'), R('bias'), W('y')]);
    case 'grad_stats':
      return bindingTable([R('g'), R('x'), R('saved'), W('gw'), W('gb')]);
    case 'grad_input':
      return bindingTable(s.train ? [R('g'), R('x'), R('saved'), R('weight'), R('gw'), R('gb'), W('gx')] : [R('g'), R('saved'), R('weight'), W('gx')]);
  }
}

export function batchNormKey(s: BatchNormSpec): string {
  return `${s.pass}|${s.train}|${s.updateRunning ?? false}`;
}

export const batchNormKernel = memoByKey(
  (s: BatchNormSpec, key): BatchNormKernel =>
    kernelVariant({ label: `batchnorm:${s.pass}`, key, params: BN_PARAMS, bindings: bindingsOf(s), source: (header) => batchNormSource(s, header) }),
  batchNormKey,
);

/** The stats and grad_stats passes: a workgroup per channel; apply and grad_input: a thread per element. */
export function batchNormGrid(pass: BatchNormPass, sizes: { channels: number; count: number }, limits: GridLimits): [number, number, number] {
  const perChannel = pass === 'stats' || pass === 'grad_stats';
  return grid1d(limits, perChannel ? sizes.channels : Math.ceil(sizes.count / BN_ELEMENT_WORKGROUP));
}

// Element r (0..M-1) of channel c.
const CHANNEL_INDEX = `fn at(c: u32, r: u32) -> u32 {
  return (r / P.inner) * P.channels * P.inner + c * P.inner + r % P.inner;
}`;

// Tree reduction of one value per thread over the workgroup (every thread gets the total).
function reducer(name: string): string {
  return `var<workgroup> ${name}_part: array<f32, ${BN_WORKGROUP}>;
fn ${name}_sum(v: f32, lid: u32) -> f32 {
  ${name}_part[lid] = v;
  workgroupBarrier();
  for (var s = ${BN_WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { ${name}_part[lid] = ${name}_part[lid] + ${name}_part[lid + s]; }
    workgroupBarrier();
  }
  let total = ${name}_part[0];
  workgroupBarrier();
  return total;
}`;
}

const CHANNEL_ENTRY = `@compute @workgroup_size(${BN_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * P.grid_x;
  // Every thread of a workgroup shares c, so this exit is uniform.
  if (c >= P.channels) { return; }`;

const ELEMENT_ENTRY = `@compute @workgroup_size(${BN_ELEMENT_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * P.grid_x * ${BN_ELEMENT_WORKGROUP}u;
  if (i >= P.count) { return; }
  let c = (i / P.inner) % P.channels;`;

function batchNormSource(s: BatchNormSpec, header: string): string {
  switch (s.pass) {
    case 'stats':
      return s.train ? trainStats(s.updateRunning ?? false, header) : wgsl`
${header}

${CHANNEL_ENTRY}
  if (lid == 0u) {
    saved[c] = running_mean[c];
    saved[P.channels + c] = inverseSqrt(running_var[c] + P.eps);
  }
}
`;
    case 'apply':
      return wgsl`
${header}

${ELEMENT_ENTRY}
  y[i] = (x[i] - saved[c]) * saved[P.channels + c] * weight[c] + bias[c];
}
`;
    case 'grad_stats':
      return wgsl`
${header}

${CHANNEL_INDEX}
${reducer('a')}
${reducer('b')}

${CHANNEL_ENTRY}
  let mean = saved[c];
  let invstd = saved[P.channels + c];
  var sg = 0.0;
  var sgx = 0.0;
  for (var r = lid; r < P.per_channel; r = r + ${BN_WORKGROUP}u) {
    let k = at(c, r);
    sg = sg + g[k];
    sgx = sgx + g[k] * (x[k] - mean) * invstd;
  }
  let tg = a_sum(sg, lid);
  let tgx = b_sum(sgx, lid);
  if (lid == 0u) {
    gb[c] = tg;
    gw[c] = tgx;
  }
}
`;
    case 'grad_input': {
      // Evaluation reads neither x nor the channel sums (see bindingsOf).
      return wgsl`
${header}

${ELEMENT_ENTRY}
  let invstd = saved[P.channels + c];
#if ${s.train}
  let xhat = (x[i] - saved[c]) * invstd;
  gx[i] = weight[c] * invstd * (g[i] - (gb[c] + xhat * gw[c]) / f32(P.per_channel));
#else
  gx[i] = weight[c] * invstd * g[i];
#endif
}
`;
    }
  }
}

function trainStats(updateRunning: boolean, header: string): string {
  return wgsl`
${header}

${CHANNEL_INDEX}
${reducer('a')}

${CHANNEL_ENTRY}
  let m = f32(P.per_channel);
  var s = 0.0;
  for (var r = lid; r < P.per_channel; r = r + ${BN_WORKGROUP}u) { s = s + x[at(c, r)]; }
  let mean = a_sum(s, lid) / m;
  var q = 0.0;
  for (var r = lid; r < P.per_channel; r = r + ${BN_WORKGROUP}u) {
    let d = x[at(c, r)] - mean;
    q = q + d * d;
  }
  let biased = a_sum(q, lid) / m;
  if (lid == 0u) {
    saved[c] = mean;
    saved[P.channels + c] = inverseSqrt(biased + P.eps);
#if ${updateRunning}
    running_mean[c] = (1.0 - P.momentum) * running_mean[c] + P.momentum * mean;
    running_var[c] = (1.0 - P.momentum) * running_var[c] + P.momentum * biased * P.unbias;
#endif
  }
}
`;
}
