// conv2d and convTranspose2d (NCHW activations, PyTorch weight layouts, no groups) with the fused
// epilogue and autograd. Each is an implicit GEMM of the one kernel generator (shaders/matmul.ts):
// output channels are the GEMM rows, (image, pixel) pairs the columns, (channel, kh, kw) taps the
// reduction; the index maps of shaders/matmul-maps.ts read the images in place (no im2col matrix).
//
// With "the conv" meaning a convolution from an input [N, Ci, Hi, Wi] to an output [N, Co, Ho, Wo]:
//   conv2d forward            rows Co, cols N*Ho*Wo, k Ci*KH*KW   A = weights,  B = im2col(x)
//   conv2d input gradient     rows Ci, cols N*Hi*Wi, k Co*KH*KW   A = weights with channel axes
//                                                                  swapped (ksplit), B = col2im(g)
//   conv2d weight gradient    rows Co, cols Ci*KH*KW, k N*Ho*Wo   A = g (ksplit), B = im2col_t(x)
// A transposed convolution is the conv whose input is its output: its forward pass is the input-
// gradient GEMM, its input gradient the forward GEMM, its weight gradient the weight-gradient GEMM
// with the roles of the two images exchanged. Bias is per output channel (a GEMM row).
// With a stride > 1 (and no dilation) the input-gradient GEMM runs once per stride phase (the
// pixels whose (pixel + pad) mod stride agree, z of the GEMM), each a dense convolution over only
// the taps that reach those pixels; with dilation, one col2im GEMM visits every tap and skips those
// the stride does not reach. Op counts record the true multiply-accumulates.

import { needsGrad, record } from '../autograd/tape.ts';
import { backwardTile } from '../../shaders/matmul-plan.ts';
import type { TensorRole } from '../record/schema.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { activationGrad, checkEpilogue, epilogueFields, gemm, gradRole, roundedOutput, type ConvGeometry, type GemmCall } from './gemm.ts';
import type { Epilogue, MatmulOptions } from './matmul.ts';
import { sum } from './reduce.ts';

export interface Conv2dOptions extends Epilogue {
  stride?: number | readonly [number, number];
  /** Symmetric, per axis [h, w], or asymmetric [top, bottom, left, right]. */
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
  dilation?: number | readonly [number, number];
  accumulate?: 'f32' | 'quire';
  /** How the quire is computed (MatmulOptions.quireMethod). */
  quireMethod?: MatmulOptions['quireMethod'];
  roles?: { x?: TensorRole; w?: TensorRole; out?: TensorRole };
  /** Force a tile configuration for the convolution's GEMMs, gradients included (benchmarks, tests). */
  tile?: MatmulOptions['tile'];
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: number | readonly [number, number];
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function pair(op: string, name: string, v: number | readonly number[] | undefined, dflt: number, min: number): [number, number] {
  const p = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v.length === 2 ? [v[0]!, v[1]!] : null;
  if (!p || p.some((x) => !Number.isInteger(x) || x < min)) {
    throw new Error(`${op}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as [number, number];
}

/** [top, bottom, left, right]. */
function padding(op: string, v: Conv2dOptions['padding']): [number, number, number, number] {
  if (typeof v === 'object' && v.length === 4) {
    if (v.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`${op}: padding ${JSON.stringify(v)} must be non-negative integers`);
    return [...v] as [number, number, number, number];
  }
  const [h, w] = pair(op, 'padding (a number, [h, w] or [top, bottom, left, right])', v, 0, 0);
  return [h, h, w, w];
}

interface Common {
  stride: [number, number];
  dilation: [number, number];
  pad: [number, number, number, number];
  kh: number;
  kw: number;
}

function common(op: string, x: Tensor, w: Tensor, o: Conv2dOptions): Common {
  if (x.rank !== 4) throw new Error(`${op}: input must be NCHW [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (w.rank !== 4) throw new Error(`${op}: weight must be 4-D, got ${shapeStr(w.shape)}`);
  return {
    stride: pair(op, 'stride', o.stride, 1, 1),
    dilation: pair(op, 'dilation', o.dilation, 1, 1),
    pad: padding(op, o.padding),
    kh: w.shape[2]!,
    kw: w.shape[3]!,
  };
}

function geometry(c: Common, inp: readonly number[], out: readonly number[]): ConvGeometry {
  return {
    n: inp[0]!,
    ci: inp[1]!,
    hi: inp[2]!,
    wi: inp[3]!,
    co: out[1]!,
    ho: out[2]!,
    wo: out[3]!,
    kh: c.kh,
    kw: c.kw,
    sh: c.stride[0],
    sw: c.stride[1],
    dh: c.dilation[0],
    dw: c.dilation[1],
    pt: c.pad[0],
    pl: c.pad[2],
  };
}

/** x [N, C, H, W] convolved with w [O, C, KH, KW]: [N, O, Ho, Wo]. */
export function conv2d(x: Tensor, w: Tensor, o: Conv2dOptions = {}): Tensor {
  return run(conv2dPlan(x, w, o));
}

/** x [N, C, H, W] with w [C, O, KH, KW]: [N, O, OH, OW] with
 *  OH = (H - 1) * stride - top - bottom + dilation * (KH - 1) + outputPadding + 1. */
export function convTranspose2d(x: Tensor, w: Tensor, o: ConvTranspose2dOptions = {}): Tensor {
  return run(convTranspose2dPlan(x, w, o));
}

/** The forward GEMM of conv2d(x, w, o), unrun (benchmarks time its dispatches: gemm.ts prepareGemm). */
export function conv2dGemm(x: Tensor, w: Tensor, o: Conv2dOptions = {}): GemmCall {
  return conv2dPlan(x, w, o).forwardCall(false);
}

/** The forward GEMM of convTranspose2d(x, w, o), unrun. */
export function convTranspose2dGemm(x: Tensor, w: Tensor, o: ConvTranspose2dOptions = {}): GemmCall {
  return convTranspose2dPlan(x, w, o).forwardCall(false);
}

function conv2dPlan(x: Tensor, w: Tensor, o: Conv2dOptions): ConvPlan {
  const op = 'conv2d';
  const c = common(op, x, w, o);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const O = w.shape[0]!;
  if (w.shape[1] !== C) throw new Error(`${op}: weight ${shapeStr(w.shape)} expects ${w.shape[1]} input channels, input ${shapeStr(x.shape)} has ${C}`);
  const Ho = Math.floor((H + c.pad[0] + c.pad[1] - c.dilation[0] * (c.kh - 1) - 1) / c.stride[0]) + 1;
  const Wo = Math.floor((W + c.pad[2] + c.pad[3] - c.dilation[1] * (c.kw - 1) - 1) / c.stride[1]) + 1;
  if (Ho < 1 || Wo < 1) throw new Error(`${op}: kernel ${shapeStr(w.shape)} (dilated) does not fit input ${shapeStr(x.shape)} with padding ${shapeStr(c.pad)}`);
  return plan(op, x, w, o, c, [N, C, H, W], [N, O, Ho, Wo], false);
}

function convTranspose2dPlan(x: Tensor, w: Tensor, o: ConvTranspose2dOptions): ConvPlan {
  const op = 'convTranspose2d';
  const c = common(op, x, w, o);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const O = w.shape[1]!;
  if (w.shape[0] !== C) throw new Error(`${op}: weight ${shapeStr(w.shape)} expects ${w.shape[0]} input channels, input ${shapeStr(x.shape)} has ${C}`);
  const op2 = pair(op, 'outputPadding', o.outputPadding, 0, 0);
  for (const a of [0, 1]) {
    if (op2[a]! >= Math.max(c.stride[a]!, c.dilation[a]!)) {
      throw new Error(`${op}: output padding ${op2[a]} must be smaller than the stride or the dilation (${c.stride[a]}, ${c.dilation[a]})`);
    }
  }
  const OH = (H - 1) * c.stride[0] - c.pad[0] - c.pad[1] + c.dilation[0] * (c.kh - 1) + op2[0] + 1;
  const OW = (W - 1) * c.stride[1] - c.pad[2] - c.pad[3] + c.dilation[1] * (c.kw - 1) + op2[1] + 1;
  if (OH < 1 || OW < 1) throw new Error(`${op}: padding ${shapeStr(c.pad)} leaves no output for input ${shapeStr(x.shape)} and weight ${shapeStr(w.shape)}`);
  return plan(op, x, w, o, c, [N, O, OH, OW], [N, C, H, W], true);
}

interface ConvPlan {
  op: string;
  x: Tensor;
  w: Tensor;
  o: Conv2dOptions;
  /** The op's forward GEMM (with the epilogue; aux: also keep the pre-quantization activation). */
  forwardCall(aux: boolean): GemmCall;
  /** Its input and weight gradient GEMMs for an upstream gradient g (after the activation). */
  inputGradCall(g: Tensor): GemmCall;
  weightGradCall(g: Tensor): GemmCall;
}

/**
 * The three GEMMs of a convolution from `inp` [N, Ci, Hi, Wi] to `out` [N, Co, Ho, Wo] (weights
 * [Co, Ci, KH, KW]). transposed: the op's input x is the conv's output and its result the conv's input.
 */
function plan(
  op: string,
  x: Tensor,
  w: Tensor,
  o: Conv2dOptions,
  c: Common,
  inp: readonly number[],
  out: readonly number[],
  transposed: boolean,
): ConvPlan {
  const [N, Ci, Hi, Wi] = inp as [number, number, number, number];
  const [, Co, Ho, Wo] = out as [number, number, number, number];
  const taps = c.kh * c.kw;
  const g = geometry(c, inp, out);
  const macs = N * Co * Ho * Wo * Ci * taps;
  const roles = { x: o.roles?.x ?? 'activations', w: o.roles?.w ?? 'weights', out: o.roles?.out ?? 'activations' } as const;
  checkEpilogue(op, o, transposed ? Ci : Co, 'channel');
  const epilogue = (aux: boolean) => epilogueFields(o, 'row', aux, roles.out);
  // The GEMM that produces the conv's output from its input (conv2d forward; convTranspose2d dx).
  const toOutput = (img: Tensor, imgRole: TensorRole, outRole: TensorRole): GemmCall => ({
    op: transposed ? `${op}:dx` : op,
    a: { t: w, map: 'strided', sr: Ci * taps, sk: 1, role: roles.w },
    b: { t: img, map: 'im2col', role: imgRole },
    m: Co,
    n: N * Ho * Wo,
    k: Ci * taps,
    batch: 1,
    geometry: g,
    outShape: out,
    outMap: 'nchw',
    pixels: Ho * Wo,
    macs,
    outRole,
  });
  // The GEMM that produces the conv's input from its output (conv2d dx; convTranspose2d forward).
  // With a stride and no dilation, one GEMM per stride phase (z) visits only the taps that reach.
  const [sh, sw] = c.stride;
  const phased = c.dilation[0] === 1 && c.dilation[1] === 1 && sh * sw > 1;
  const toInput = (img: Tensor, imgRole: TensorRole, outRole: TensorRole): GemmCall => ({
    op: transposed ? op : `${op}:dx`,
    ...(phased
      ? {
          a: { t: w, map: 'weights_phase', role: roles.w },
          b: { t: img, map: 'col2im_phase', role: imgRole },
          n: N * Math.ceil(Hi / sh) * Math.ceil(Wi / sw),
          k: Co * Math.ceil(c.kh / sh) * Math.ceil(c.kw / sw),
          batch: sh * sw,
          outMap: 'nchw_phase',
        }
      : {
          a: { t: w, map: 'ksplit', sr: taps, kd: taps, sk: 1, sk2: Ci * taps, role: roles.w },
          b: { t: img, map: 'col2im', role: imgRole },
          n: N * Hi * Wi,
          k: Co * taps,
          batch: 1,
          outMap: 'nchw',
          pixels: Hi * Wi,
        }),
    m: Ci,
    geometry: g,
    outShape: inp,
    macs,
    outRole,
  });
  // dW[co, ci, tap] = sum over images and output pixels of dy[co] * x[ci, tap-shifted pixel].
  const weightGrad = (dy: Tensor, dyRole: TensorRole, xin: Tensor, xRole: TensorRole): GemmCall => ({
    op: `${op}:dw`,
    a: { t: dy, map: 'ksplit', sr: Ho * Wo, kd: Ho * Wo, sk: 1, sk2: Co * Ho * Wo, role: dyRole },
    b: { t: xin, map: 'im2col_t', role: xRole },
    m: Co,
    n: Ci * taps,
    k: N * Ho * Wo,
    batch: 1,
    geometry: g,
    outShape: w.shape,
    outMap: 'dense',
    macs,
    outRole: gradRole(roles.w),
  });
  const errors = 'errors' as const;
  return {
    op,
    x,
    w,
    o,
    forwardCall: (aux) => ({ ...(transposed ? toInput(x, roles.x, roles.out) : toOutput(x, roles.x, roles.out)), ...epilogue(aux) }),
    inputGradCall: (gz) => ({ ...(transposed ? toOutput(gz, errors, gradRole(roles.x)) : toInput(gz, errors, gradRole(roles.x))), tile: backwardTile(o.tile) }),
    weightGradCall: (gz) => ({ ...(transposed ? weightGrad(x, roles.x, gz, errors) : weightGrad(gz, errors, x, roles.x)), tile: backwardTile(o.tile) }),
  };
}

/** Runs a convolution's forward GEMM and records its backward. */
function run(p: ConvPlan): Tensor {
  const { x, w, o } = p;
  const activation = o.activation ?? 'none';
  const inputs = o.bias ? [x, w, o.bias] : [x, w];
  const grad = needsGrad(inputs);
  const res = gemm(p.forwardCall(grad && activation !== 'none' && !!o.output));
  const y = res.out;
  if (!grad) {
    res.aux?.dispose();
    return y;
  }
  return record(y, p.op, inputs, (gOut, r) => {
    const gz = activationGrad(gOut, res.aux ?? y, activation, o.slope);
    // The input gradient may round to what autograd asks of it in the GEMM's epilogue.
    const dx = x.requiresGrad ? gemm({ ...p.inputGradCall(gz), ...roundedOutput(r[0]) }).out : null;
    const dw = w.requiresGrad ? gemm(p.weightGradCall(gz)).out : null;
    const db = o.bias?.requiresGrad ? sum(gz, [0, 2, 3]) : null;
    if (gz !== gOut) gz.dispose();
    return [dx, dw, db];
  });
}
