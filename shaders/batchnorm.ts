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
// and, in training, two passes that do the work of two in one dispatch, for channels small enough
// that one workgroup sweeping a channel costs less than a second dispatch (engine/ops/batchnorm.ts):
//   stats_apply one workgroup per channel: stats, then apply over the channel
//   grad        one workgroup per channel: grad_stats, then grad_input over the channel
// Their arithmetic is the separate passes' expression for expression (the statistics each thread
// uses are the values the separate passes store and read back), so they give the same bits.
// apply, grad_input and the fused passes may round their result to a format (a quantizer fused into
// the kernel, shaders/round.ts); the rounded result is stored as the decoder's bit pattern.
// Instance normalisation runs these passes too, on a view whose channels are the (sample, channel)
// planes (engine/ops/batchnorm.ts, instanceNorm).

import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { ROUND_PARAM_FIELDS, roundedBits, roundKey, roundLibrary, type RoundSpec } from './round.ts';
import { wgsl } from './wgsl.ts';

export const BN_WORKGROUP = 64;
export const BN_ELEMENT_WORKGROUP = 256;

export type BatchNormPass = 'stats' | 'apply' | 'grad_stats' | 'grad_input' | 'stats_apply' | 'grad';

export interface BatchNormSpec {
  pass: BatchNormPass;
  /** Batch statistics (true) or running statistics (false); the fused passes are for training. */
  train: boolean;
  /** stats pass in training: update the running buffers. */
  updateRunning?: boolean;
  /** apply / grad_input (fused or not): round the result (y or gx) to a format. */
  round?: RoundSpec | null;
}

/** Whether a pass runs one workgroup per channel (the others: one thread per element). */
export function perChannelPass(pass: BatchNormPass): boolean {
  return pass !== 'apply' && pass !== 'grad_input';
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
    ...ROUND_PARAM_FIELDS,
  ]),
);

type BnBinding = 'x' | 'y' | 'g' | 'gx' | 'saved' | 'weight' | 'bias' | 'running_mean' | 'running_var' | 'gw' | 'gb';
/** Bindings by pass (in binding order):
 *    stats, train    x, saved, [running_mean, running_var when updating them]
 *    stats, eval     running_mean, running_var, saved
 *    apply           x, saved, weight, bias, y
 *    grad_stats      g, x, saved, gw, gb
 *    grad_input      train: g, x, saved, weight, gw, gb, gx; eval: g, saved, weight, gx
 *    stats_apply     x, saved, [running_mean, running_var], weight, bias, y
 *    grad            g, x, saved, weight, gw, gb, gx
 *  ('auto' layouts drop unused bindings, so each variant declares only what it reads). A rounded
 *  result (y, gx) is bound as u32 words. */
export type BatchNormKernel = KernelVariant<typeof BN_PARAMS.table, never, BnBinding>;

const R = (name: BnBinding) => [name, 'read', 'array<f32>'] as const;
const W = (name: BnBinding) => [name, 'read_write', 'array<f32>'] as const;

function bindingsOf(s: BatchNormSpec) {
  // The result a pass may round.
  const out = (name: 'y' | 'gx') => [name, 'read_write', s.round ? 'array<u32>' : 'array<f32>'] as const;
  const running = s.updateRunning ? [W('running_mean'), W('running_var')] : [];
  switch (s.pass) {
    case 'stats':
      if (!s.train) return bindingTable([R('running_mean'), R('running_var'), W('saved')]);
      return bindingTable([R('x'), W('saved'), ...running]);
    case 'apply':
      return bindingTable([R('x'), R('saved'), R('weight'), R('bias'), out('y')]);
    case 'grad_stats':
      return bindingTable([R('g'), R('x'), R('saved'), W('gw'), W('gb')]);
    case 'grad_input':
      return bindingTable(s.train ? [R('g'), R('x'), R('saved'), R('weight'), R('gw'), R('gb'), out('gx')] : [R('g'), R('saved'), R('weight'), out('gx')]);
    case 'stats_apply':
      return bindingTable([R('x'), W('saved'), ...running, R('weight'), R('bias'), out('y')]);
    case 'grad':
      return bindingTable([R('g'), R('x'), R('saved'), R('weight'), W('gw'), W('gb'), out('gx')]);
  }
}

export function batchNormKey(s: BatchNormSpec): string {
  return `${s.pass}|${s.train}|${s.updateRunning ?? false}|${roundKey(s.round)}`;
}

export const batchNormKernel = memoByKey(
  (s: BatchNormSpec, key): BatchNormKernel =>
    kernelVariant({ label: `batchnorm:${s.pass}`, key, params: BN_PARAMS, bindings: bindingsOf(s), source: (header) => batchNormSource(s, header) }),
  batchNormKey,
);

/** The per-channel passes: a workgroup per channel; apply and grad_input: a thread per element. */
export function batchNormGrid(pass: BatchNormPass, sizes: { channels: number; count: number }, limits: GridLimits): [number, number, number] {
  return grid1d(limits, perChannelPass(pass) ? sizes.channels : Math.ceil(sizes.count / BN_ELEMENT_WORKGROUP));
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

// The apply and grad_input expressions, element k of channel c (the fused passes use the same ones,
// with the statistics and channel sums in registers instead of read back).
const applyExpr = (k: string, mean: string, invstd: string) => `(x[${k}] - ${mean}) * ${invstd} * weight[c] + bias[c]`;
const gradInputExpr = (k: string, mean: string, invstd: string, gb: string, gw: string) =>
  `weight[c] * ${invstd} * (g[${k}] - (${gb} + (x[${k}] - ${mean}) * ${invstd} * ${gw}) / f32(P.per_channel))`;
const store = (s: BatchNormSpec, name: string, k: string, v: string) => `${name}[${k}] = ${s.round ? roundedBits(s.round, v, k) : v};`;

function batchNormSource(s: BatchNormSpec, header: string): string {
  switch (s.pass) {
    case 'stats':
    case 'stats_apply':
      return s.train ? trainStats(s, header) : wgsl`
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
${roundLibrary(s.round)}
${header}

${ELEMENT_ENTRY}
  ${store(s, 'y', 'i', applyExpr('i', 'saved[c]', 'saved[P.channels + c]'))}
}
`;
    case 'grad_stats':
    case 'grad':
      return wgsl`
${roundLibrary(s.round)}
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
#if ${s.pass === 'grad'}
  for (var r = lid; r < P.per_channel; r = r + ${BN_WORKGROUP}u) {
    let k = at(c, r);
    ${store(s, 'gx', 'k', gradInputExpr('k', 'mean', 'invstd', 'tg', 'tgx'))}
  }
#endif
}
`;
    case 'grad_input': {
      // Evaluation reads neither x nor the channel sums (see bindingsOf).
      return wgsl`
${roundLibrary(s.round)}
${header}

${ELEMENT_ENTRY}
  let invstd = saved[P.channels + c];
#if ${s.train}
  ${store(s, 'gx', 'i', gradInputExpr('i', 'saved[c]', 'invstd', 'gb[c]', 'gw[c]'))}
#else
  ${store(s, 'gx', 'i', 'weight[c] * invstd * g[i]')}
#endif
}
`;
    }
  }
}

function trainStats(s: BatchNormSpec, header: string): string {
  const updateRunning = s.updateRunning ?? false;
  return wgsl`
${roundLibrary(s.round)}
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
  let invstd = inverseSqrt(biased + P.eps);
  if (lid == 0u) {
    saved[c] = mean;
    saved[P.channels + c] = invstd;
#if ${updateRunning}
    running_mean[c] = (1.0 - P.momentum) * running_mean[c] + P.momentum * mean;
    running_var[c] = (1.0 - P.momentum) * running_var[c] + P.momentum * biased * P.unbias;
#endif
  }
#if ${s.pass === 'stats_apply'}
  for (var r = lid; r < P.per_channel; r = r + ${BN_WORKGROUP}u) {
    let k = at(c, r);
    ${store(s, 'y', 'k', applyExpr('k', 'mean', 'invstd'))}
  }
#endif
}
`;
}
