// WGSL for the fast posit tanh (docs/method.md section 4). The semantics, and why the arithmetic is exact,
// are documented in formats/fast-tanh.ts, the TypeScript reference this must match bit for
// bit. Step 1 (the p16e0 code of 2x) is the shared generated codec `enc_p16e0_nearest` with exponent
// bias t = 1; everything after it is integer arithmetic on the code, and the only float operations
// turn the final fixed-point code into an f32 (an exact int conversion and a multiply by 2^-14).

import { parseFormat } from '../formats/descriptor.ts';
import { FAST_TANH_DELTA_UNITS, FAST_TANH_THETA_UNITS, P16E0_MAXPOS, P16E0_ONE } from '../formats/fast-tanh.ts';
import { bindingTable, grid1d, kernelVariant, memoByKey, type GridLimits } from './kernel.ts';
import { f32, u32, wgsl } from './wgsl.ts';
import { codecLibrary, encoderName, type CodecNeeds } from './codecs/index.ts';

const P16E0 = parseFormat('p16e0');

/** The codecs fastTanhWgsl needs: pass them to codecLibrary together with a kernel's own needs. */
export const FAST_TANH_CODECS: readonly CodecNeeds[] = [{ format: P16E0, encoders: ['nearest'], decoder: false }];

/** Name of the generated tanh function for a variant: `fast_tanh` (corrected) or `fast_tanh_plain`. */
export function fastTanhFnName(corrected: boolean): string {
  return corrected ? 'fast_tanh' : 'fast_tanh_plain';
}

/**
 * `fn <name>_code(x: f32) -> u32` (the p16e0 code, NaR for NaN) and `fn <name>(x: f32) -> f32` for
 * one variant. The module must also contain codecLibrary(FAST_TANH_CODECS) (once); the two variants
 * can live side by side.
 */
export function fastTanhWgsl(corrected: boolean): string {
  const name = fastTanhFnName(corrected);
  return wgsl`
fn ${name}_code(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  // +-inf saturates to +-maxpos (tanh(+-inf) = +-1); the codec would give NaR.
  var p = ${encoderName(P16E0, 'nearest')}(b, 1, 0u);
  if ((b & 0x7fffffffu) == 0x7f800000u) { p = select(${u32(P16E0_MAXPOS)}, ${u32(0x10000 - P16E0_MAXPOS)}, (b >> 31u) == 1u); }
  if (p == 0x8000u) { return 0x8000u; }
  let s = ((p ^ 0x8000u) & 0xffffu) >> 2u;
  var t = 2 * i32(s) - ${P16E0_ONE};
#if ${corrected}
  if (t >= ${FAST_TANH_THETA_UNITS}) {
    t = min(t + ${FAST_TANH_DELTA_UNITS}, ${P16E0_ONE});
  } else if (t <= -${FAST_TANH_THETA_UNITS}) {
    t = max(t - ${FAST_TANH_DELTA_UNITS}, -${P16E0_ONE});
  }
#endif
  return u32(t) & 0xffffu;
}

fn ${name}(x: f32) -> f32 {
  let c = ${name}_code(x);
  // NaR -> the quiet NaN 0x7fc00000, built from c because WGSL rejects a constant NaN.
  if (c == 0x8000u) { return bitcast<f32>(0x7f800000u | (c << 7u)); }
  // Sign-extend the 16-bit code: on [-1, 1] it is the fixed-point number code / 2^14.
  return f32((i32(c) << 16u) >> 16u) * ${f32(1 / P16E0_ONE)};
}`;
}

/** Threads of the standalone kernel's workgroup. */
export const FAST_TANH_WORKGROUP = 256;

/** A compute kernel applying one variant elementwise to all of src (its length from arrayLength), for
 *  testing the function on its own: bindings src -> dst (f32 arrays), no parameters. (The graph op
 *  engine/ops/fast-tanh.ts runs fastTanhWgsl through the elementwise kernel instead.) */
export const fastTanhKernel = memoByKey(
  (corrected: boolean, key) =>
    kernelVariant({
      label: `fast-tanh:${key}`,
      key,
      params: null,
      bindings: bindingTable([['src', 'read', 'array<f32>'], ['dst', 'read_write', 'array<f32>']]),
      source: (header) => wgsl`
${header}
${codecLibrary(FAST_TANH_CODECS)}
${fastTanhWgsl(corrected)}

@compute @workgroup_size(${FAST_TANH_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${FAST_TANH_WORKGROUP}u + lid;
  if (i >= arrayLength(&src)) { return; }
  dst[i] = ${fastTanhFnName(corrected)}(src[i]);
}`,
    }),
  (corrected) => (corrected ? 'corrected' : 'plain'),
);

/** One thread per element. */
export function fastTanhGrid(count: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(count / FAST_TANH_WORKGROUP));
}
