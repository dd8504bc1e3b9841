// 2-D index maps over NCHW planes, forward and backward, one source: reflection padding (PyTorch's
// ReflectionPad2d) and nearest-neighbour upsampling by integer factors (Upsample(mode='nearest')).
// Every output value is a copy of one input value: output row i of a plane reads input row
//   reflect   r(i - top, h), with r(j) = -j below 0 and 2(h - 1) - j from h on (the edge is not
//             repeated; a single reflection suffices because each pad is below the input size)
//   nearest   floor(i / fh)
// and likewise for columns.
//   forward   one thread per output element: the copy.
//   backward  one thread per input element, summing the gradients of the outputs that copied it (no
//             atomics, so the result does not depend on thread scheduling). Per axis those are, for
//             reflect, at most three rows: j + top itself, top - j (mirrored by the top pad, for
//             1 <= j <= top) and top + 2(h - 1) - j (by the bottom pad, for h - 1 - bottom <= j <= h - 2),
//             which are distinct; for nearest, the fh rows j fh .. j fh + fh - 1.

import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { wgsl } from './wgsl.ts';

export const RESAMPLE_WORKGROUP = 256;

export interface ResampleSpec {
  kind: 'reflect' | 'nearest';
  pass: 'forward' | 'backward';
}

/** Input plane h x w, output plane oh x ow; reflect reads top / left (the pads before each axis),
 *  nearest the factors fh / fw (the other kind's fields are given as 0). */
export const RESAMPLE_PARAMS = new ParamLayout(
  paramTable([
    ['count', 'u32'], ['grid_x', 'u32'], ['h', 'u32'], ['w', 'u32'],
    ['oh', 'u32'], ['ow', 'u32'], ['top', 'u32'], ['left', 'u32'],
    ['fh', 'u32'], ['fw', 'u32'],
  ]),
);

/** Bindings: forward x -> y; backward g -> gx. */
export type ResampleKernel = KernelVariant<typeof RESAMPLE_PARAMS.table, never, 'x' | 'y' | 'g' | 'gx'>;

export function resampleKey(s: ResampleSpec): string {
  return `${s.kind}|${s.pass}`;
}

export const resampleKernel = memoByKey((s: ResampleSpec, key): ResampleKernel => {
  const reflect = s.kind === 'reflect';
  const fwd = s.pass === 'forward';
  return kernelVariant({
    label: `resample:${key}`,
    key,
    params: RESAMPLE_PARAMS,
    bindings: bindingTable<'x' | 'y' | 'g' | 'gx'>(fwd ? [['x', 'read', 'array<f32>'], ['y', 'read_write', 'array<f32>']] : [['g', 'read', 'array<f32>'], ['gx', 'read_write', 'array<f32>']]),
    source: (header) => wgsl`
${header}

// The input index that (unpadded) output index j copies along an axis of size n.
fn reflect(j: i32, n: i32) -> i32 {
  if (j < 0) { return -j; }
  if (j >= n) { return 2 * (n - 1) - j; }
  return j;
}

// Candidate k (0..2) of the output indices that copy input index j along an axis of size n with
// before / after padded entries, or -1 when there is none.
fn mirror(k: i32, j: i32, n: i32, before: i32, after: i32) -> i32 {
  if (k == 0) { return j + before; }
  if (k == 1) { return select(-1, before - j, j >= 1 && j <= before); }
  return select(-1, before + 2 * (n - 1) - j, j <= n - 2 && j >= n - 1 - after);
}

@compute @workgroup_size(${RESAMPLE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * P.grid_x * ${RESAMPLE_WORKGROUP}u;
  if (i >= P.count) { return; }
#if ${fwd}
  let plane = i / (P.oh * P.ow);
  let r = (i / P.ow) % P.oh;
  let c = i % P.ow;
#if ${reflect}
  let ih = u32(reflect(i32(r) - i32(P.top), i32(P.h)));
  let iw = u32(reflect(i32(c) - i32(P.left), i32(P.w)));
#else
  let ih = r / P.fh;
  let iw = c / P.fw;
#endif
  y[i] = x[(plane * P.h + ih) * P.w + iw];
#else
  let plane = i / (P.h * P.w);
  let ih = (i / P.w) % P.h;
  let iw = i % P.w;
  let obase = plane * P.oh * P.ow;
  var acc = 0.0;
#if ${reflect}
  let H = i32(P.h);
  let W = i32(P.w);
  let bottom = i32(P.oh) - H - i32(P.top);
  let right = i32(P.ow) - W - i32(P.left);
  for (var a = 0; a < 3; a = a + 1) {
    let r = mirror(a, i32(ih), H, i32(P.top), bottom);
    if (r < 0) { continue; }
    for (var b = 0; b < 3; b = b + 1) {
      let c = mirror(b, i32(iw), W, i32(P.left), right);
      if (c < 0) { continue; }
      acc = acc + g[obase + u32(r) * P.ow + u32(c)];
    }
  }
#else
  for (var a = 0u; a < P.fh; a = a + 1u) {
    let row = obase + (ih * P.fh + a) * P.ow + iw * P.fw;
    for (var b = 0u; b < P.fw; b = b + 1u) {
      acc = acc + g[row + b];
    }
  }
#endif
  gx[i] = acc;
#endif
}
`,
  });
}, resampleKey);

/** One thread per element: of the output (forward), of the input (backward). */
export function resampleGrid(count: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(count / RESAMPLE_WORKGROUP));
}
