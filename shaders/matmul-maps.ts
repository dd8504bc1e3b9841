// Index maps of the GEMM generator (shaders/matmul.ts): where an operand element lives in its buffer,
// and where an output element goes. The GEMM is C[z, m, n] = sum_k A(z, m, k) * B(z, k, n); each
// operand is seen as X(z, r, k) with r its free index (m for A, n for B).
//
// A map is split into a row part, evaluated once per tile row before the K loop (the costly
// divisions of a conv pixel index happen there), and an element part per k. The row part returns a
// vec4<i32>: x = base element offset, y / z = map-specific origins, w = 1 when the row exists.
// The element part returns the element offset, or -1 for an implicit zero (conv padding, or a
// position that a strided convolution skips).
//
// Maps (the conv ones read the geometry P.g_*: a convolution from an input [Nb, g_ci, g_hi, g_wi] to
// an output [Nb, g_co, g_ho, g_wo] with a g_kh x g_kw kernel, stride g_sh/g_sw, dilation g_dh/g_dw,
// top/left padding g_pt/g_pl; bottom/right padding only shape g_ho/g_wo):
//   strided   base + z*sz + r*sr + k*sk                    (matmul, transposes, conv weights)
//   ksplit    base + z*sz + r*sr + (k / kd)*sk2 + (k % kd)*sk
//                                                         (k runs over two tensor axes: weights read
//                                                          with the channel axes swapped, an output
//                                                          gradient summed over images and pixels)
//   im2col    r = (image, out row, out col), k = (in channel, kh, kw) -> input element
//             (implicit GEMM of the forward convolution; no im2col matrix is materialised)
//   im2col_t  r = (in channel, kh, kw), k = (image, out row, out col) -> input element
//             (the weight gradient: the same taps with the roles of r and k exchanged)
//   col2im    r = (image, in row, in col), k = (out channel, kh, kw) -> output element that the tap
//             reaches, or -1 when (in + pad - tap) is not a multiple of the stride or out of range
//             (the input gradient and the transposed convolution's forward pass, at stride 1 or
//             with dilation)
//   col2im_phase, weights_phase
//             col2im without the skipped taps, for stride > 1 and dilation 1: the input pixels split
//             into stride_h * stride_w phases by (in + pad) mod stride, z = the phase. In phase
//             (ph, pw) only the taps kh = ph + sh*jh, kw = pw + sw*jw reach a pixel, and they reach
//             it from output row oh = i - jh + c_h (i: the pixel's row within its phase), so the phase
//             is a dense convolution: r = (image, i, j), k = (out channel, jh, jw). Phases differ in
//             size by at most one row / column / tap: rows and k beyond a phase's own extents read as
//             zeros (k beyond it has out channel >= g_co) and its outputs there are not stored.
// Output maps:
//   dense       (z*M + m)*N + n
//   nchw        m = channel, n = (image, pixel): (image*M + m)*c_pix + pixel
//   nchw_phase  m = channel, n = (image, i, j) of phase z: the pixel (h0 + sh*i, w0 + sw*j);
//               out_off is PHASE_NONE for n beyond the phase

import { wgsl } from './wgsl.ts';

export type OperandMap = 'strided' | 'ksplit' | 'im2col' | 'im2col_t' | 'col2im' | 'col2im_phase' | 'weights_phase';
export type OutputMap = 'dense' | 'nchw' | 'nchw_phase';

/** Whether a kernel with these maps needs `phase(z)` (PHASE_WGSL). */
export function usesPhase(maps: readonly (OperandMap | OutputMap)[]): boolean {
  return maps.some((m) => m === 'col2im_phase' || m === 'weights_phase' || m === 'nchw_phase');
}

/** The geometry of stride phase z = ph * g_sw + pw (see the header). */
export const PHASE_WGSL = wgsl`
const PHASE_NONE = 0xffffffffu;
struct Phase { ph: u32, pw: u32, h0: u32, w0: u32, hp: u32, wp: u32, khp: u32, kwp: u32, ch: i32, cw: i32 }

fn phase(z: u32) -> Phase {
  let ph = z / P.g_sw;
  let pw = z % P.g_sw;
  // First pixel whose (pixel + pad) mod stride is the phase.
  let h0 = (ph + P.g_sh - P.g_pt % P.g_sh) % P.g_sh;
  let w0 = (pw + P.g_sw - P.g_pl % P.g_sw) % P.g_sw;
  let hp = select(0u, (P.g_hi - h0 + P.g_sh - 1u) / P.g_sh, h0 < P.g_hi);
  let wp = select(0u, (P.g_wi - w0 + P.g_sw - 1u) / P.g_sw, w0 < P.g_wi);
  let khp = select(0u, (P.g_kh - ph + P.g_sh - 1u) / P.g_sh, ph < P.g_kh);
  let kwp = select(0u, (P.g_kw - pw + P.g_sw - 1u) / P.g_sw, pw < P.g_kw);
  // oh = (h0 + sh*i + pt - ph - sh*jh) / sh = i - jh + ch, exact since h0 + pt = ph (mod sh).
  let ch = i32((h0 + P.g_pt - ph) / P.g_sh);
  let cw = i32((w0 + P.g_pl - pw) / P.g_sw);
  return Phase(ph, pw, h0, w0, hp, wp, khp, kwp, ch, cw);
}`;

/** WGSL of `<p>_row(z, r) -> vec4<i32>` and `<p>_at(z, ri, k) -> i32` for operand prefix p ('a' | 'b')
 *  with `rows` the name of its free extent (P.m or P.n). */
export function operandMapWgsl(p: 'a' | 'b', map: OperandMap, rows: string): string {
  const valid = `select(0, 1, r < ${rows})`;
  switch (map) {
    case 'strided':
    case 'ksplit':
      return wgsl`
fn ${p}_row(z: u32, r: u32) -> vec4<i32> {
  return vec4<i32>(i32(P.${p}_base + z * P.${p}_sz + r * P.${p}_sr), 0, 0, ${valid});
}
fn ${p}_at(z: u32, ri: vec4<i32>, k: u32) -> i32 {
#if ${map === 'strided'}
  return ri.x + i32(k * P.${p}_sk);
#else
  return ri.x + i32((k / P.${p}_kd) * P.${p}_sk2 + (k % P.${p}_kd) * P.${p}_sk);
#endif
}`;
    case 'im2col':
      return wgsl`
fn ${p}_row(z: u32, r: u32) -> vec4<i32> {
  let pix = P.g_ho * P.g_wo;
  let img = r / pix;
  let q = r % pix;
  let oh = q / P.g_wo;
  let ow = q % P.g_wo;
  return vec4<i32>(i32(img * P.g_ci * P.g_hi * P.g_wi), i32(oh * P.g_sh) - i32(P.g_pt), i32(ow * P.g_sw) - i32(P.g_pl), ${valid});
}
fn ${p}_at(z: u32, ri: vec4<i32>, k: u32) -> i32 {
  let taps = P.g_kh * P.g_kw;
  let c = k / taps;
  let t = k % taps;
  let h = ri.y + i32((t / P.g_kw) * P.g_dh);
  let w = ri.z + i32((t % P.g_kw) * P.g_dw);
  if (h < 0 || w < 0 || h >= i32(P.g_hi) || w >= i32(P.g_wi)) { return -1; }
  return ri.x + (i32(c * P.g_hi) + h) * i32(P.g_wi) + w;
}`;
    case 'im2col_t':
      return wgsl`
fn ${p}_row(z: u32, r: u32) -> vec4<i32> {
  let taps = P.g_kh * P.g_kw;
  let c = r / taps;
  let t = r % taps;
  return vec4<i32>(i32(c * P.g_hi * P.g_wi), i32((t / P.g_kw) * P.g_dh) - i32(P.g_pt), i32((t % P.g_kw) * P.g_dw) - i32(P.g_pl), ${valid});
}
fn ${p}_at(z: u32, ri: vec4<i32>, k: u32) -> i32 {
  let pix = P.g_ho * P.g_wo;
  let img = k / pix;
  let q = k % pix;
  let h = ri.y + i32((q / P.g_wo) * P.g_sh);
  let w = ri.z + i32((q % P.g_wo) * P.g_sw);
  if (h < 0 || w < 0 || h >= i32(P.g_hi) || w >= i32(P.g_wi)) { return -1; }
  return ri.x + i32(img * P.g_ci * P.g_hi * P.g_wi) + h * i32(P.g_wi) + w;
}`;
    case 'col2im':
      return wgsl`
fn ${p}_row(z: u32, r: u32) -> vec4<i32> {
  let pix = P.g_hi * P.g_wi;
  let img = r / pix;
  let q = r % pix;
  return vec4<i32>(i32(img * P.g_co * P.g_ho * P.g_wo), i32(q / P.g_wi + P.g_pt), i32(q % P.g_wi + P.g_pl), ${valid});
}
fn ${p}_at(z: u32, ri: vec4<i32>, k: u32) -> i32 {
  let taps = P.g_kh * P.g_kw;
  let c = k / taps;
  let t = k % taps;
  let th = ri.y - i32((t / P.g_kw) * P.g_dh);
  let tw = ri.z - i32((t % P.g_kw) * P.g_dw);
  if (th < 0 || tw < 0) { return -1; }
  let oh = u32(th) / P.g_sh;
  let ow = u32(tw) / P.g_sw;
  if (oh * P.g_sh != u32(th) || ow * P.g_sw != u32(tw) || oh >= P.g_ho || ow >= P.g_wo) { return -1; }
  return ri.x + i32((c * P.g_ho + oh) * P.g_wo + ow);
}`;
    case 'col2im_phase':
      return wgsl`
fn ${p}_row(z: u32, r: u32) -> vec4<i32> {
  let f = phase(z);
  let pix = f.hp * f.wp;
  let img = r / max(pix, 1u);
  let q = r % max(pix, 1u);
  return vec4<i32>(i32(img * P.g_co * P.g_ho * P.g_wo), i32(q / max(f.wp, 1u)) + f.ch, i32(q % max(f.wp, 1u)) + f.cw, select(0, 1, r < P.g_n * pix));
}
fn ${p}_at(z: u32, ri: vec4<i32>, k: u32) -> i32 {
  let f = phase(z);
  let taps = f.khp * f.kwp;
  if (taps == 0u || k / taps >= P.g_co) { return -1; }
  let t = k % taps;
  let oh = ri.y - i32(t / f.kwp);
  let ow = ri.z - i32(t % f.kwp);
  if (oh < 0 || ow < 0 || oh >= i32(P.g_ho) || ow >= i32(P.g_wo)) { return -1; }
  return ri.x + i32(((k / taps) * P.g_ho + u32(oh)) * P.g_wo + u32(ow));
}`;
    case 'weights_phase':
      return wgsl`
fn ${p}_row(z: u32, r: u32) -> vec4<i32> {
  return vec4<i32>(i32(r * P.g_kh * P.g_kw), 0, 0, ${valid});
}
fn ${p}_at(z: u32, ri: vec4<i32>, k: u32) -> i32 {
  let f = phase(z);
  let taps = f.khp * f.kwp;
  if (taps == 0u || k / taps >= P.g_co) { return -1; }
  let c = k / taps;
  let t = k % taps;
  let kh = f.ph + P.g_sh * (t / f.kwp);
  let kw = f.pw + P.g_sw * (t % f.kwp);
  return ri.x + i32(c * P.g_ci * P.g_kh * P.g_kw + kh * P.g_kw + kw);
}`;
  }
}

/** WGSL of `out_off(z, m, n) -> u32` (PHASE_NONE: not an output of this phase). */
export function outputMapWgsl(map: OutputMap): string {
  switch (map) {
    case 'dense':
      return `
fn out_off(z: u32, m: u32, n: u32) -> u32 {
  return (z * P.m + m) * P.n + n;
}`;
    case 'nchw':
      return `
fn out_off(z: u32, m: u32, n: u32) -> u32 {
  return ((n / P.c_pix) * P.m + m) * P.c_pix + n % P.c_pix;
}`;
    case 'nchw_phase':
      return `
fn out_off(z: u32, m: u32, n: u32) -> u32 {
  let f = phase(z);
  let pix = f.hp * f.wp;
  if (n >= P.g_n * pix) { return PHASE_NONE; }
  let q = n % pix;
  return ((n / pix) * P.m + m) * P.g_hi * P.g_wi + (f.h0 + P.g_sh * (q / f.wp)) * P.g_wi + f.w0 + P.g_sw * (q % f.wp);
}`;
  }
}
