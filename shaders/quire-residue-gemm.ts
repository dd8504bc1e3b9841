// The integer GEMM of the sliced quire (shaders/quire-sliced.ts, step 4): for one modulus l,
//   g[l][chunk][z][i][j] = sum over the chunk's k of res_a[l][z][i][k] * res_b[l][z][j][k]
// with i8 residues packed 4 per u32 along k (both operands k-contiguous: A row-major, B by
// columns) and i32 sums, exact for chunks of at most 2^16 (|residue| <= 128). Everything around it
// (residues, chunking, plan, combine) is shared; only the inner loop differs between the variants:
//   'dot4'             plain WGSL: dot4I8Packed (4 products and their sum per instruction; DP4A
//                      on NVIDIA) on K slices staged in workgroup memory, double buffered with a
//                      register prefetch, one barrier per slice; each thread owns TM x TN sums
//                      (rows ty + i * THY, columns tx + j * THX).
//   'subgroup-matrix'  chromium_experimental_subgroup_matrix with the device's i8 x i8 -> i32
//                      configuration (e.g. M16 N16 K32): each subgroup owns FR x FC result
//                      fragments and multiplies-accumulates them in K steps, loading its left
//                      (row-major) and right (column-major) fragments either from the K slice the
//                      workgroup staged in workgroup memory ('workgroup') or straight from the
//                      storage buffers ('storage'). All offsets derive from the workgroup and
//                      subgroup ids (uniform per subgroup, as the builtins require); result
//                      fragments are stored whole, so the output is padded to the workgroup tile
//                      (mp x np) and rows / columns past M / N hold sums of padding that the
//                      combine never reads. Workgroup staging zero-fills rows past M / N.
// Every dispatch handles one modulus (P.modulus) and exits at once when the plan needs fewer.

import { bindingTable, kernelVariant, memoByKey, type GridLimits } from './kernel.ts';
import { QUIRE_K_CHUNK, SLICED_PARAMS, type SlicedKernel } from './quire-sliced.ts';
import { conventionsKey, load8, store32, SUBGROUP_MATRIX_ENABLES, type SubgroupMatrixConventions } from './subgroup-matrix.ts';
import { u32, wgsl } from './wgsl.ts';

export interface Dot4Inner {
  kind: 'dot4';
  /** Workgroup tile and thread tile (outputs). */
  bm: number;
  bn: number;
  tm: number;
  tn: number;
}

export interface SubgroupMatrixInner {
  kind: 'subgroup-matrix';
  /** The i8 configuration: fragment rows (M), columns (N) and depth (K). */
  cm: number;
  cn: number;
  ck: number;
  /** Invocations per subgroup (the device's fixed subgroup size). */
  subgroupSize: number;
  /** Subgroups per workgroup along rows and columns, fragments per subgroup along each. */
  sgRows: number;
  sgCols: number;
  fragRows: number;
  fragCols: number;
  /** Bytes of k per staged slice (a multiple of ck dividing 64). */
  sliceBytes: number;
  staging: 'workgroup' | 'storage';
  conventions: SubgroupMatrixConventions;
}

export type ResidueGemmInner = Dot4Inner | SubgroupMatrixInner;

/** K words per exact chunk. */
const CHUNK_WORDS = QUIRE_K_CHUNK / 4;
/** K words per dot4 slice. */
const DOT4_SLICE_WORDS = 8;

/** The output tile of a workgroup (the padding of g). */
export function residueGemmTile(inner: ResidueGemmInner): { bm: number; bn: number } {
  if (inner.kind === 'dot4') return { bm: inner.bm, bn: inner.bn };
  return { bm: inner.sgRows * inner.fragRows * inner.cm, bn: inner.sgCols * inner.fragCols * inner.cn };
}

/** Workgroup memory the variant declares, in bytes. */
export function residueGemmSharedBytes(inner: ResidueGemmInner): number {
  if (inner.kind === 'dot4') return 2 * DOT4_SLICE_WORDS * (inner.bm + inner.bn) * 4;
  if (inner.staging === 'storage') return 0;
  const { bm, bn } = residueGemmTile(inner);
  return (bm + bn) * inner.sliceBytes;
}

export function residueGemmKey(inner: ResidueGemmInner): string {
  if (inner.kind === 'dot4') return `dot4,${inner.bm},${inner.bn},${inner.tm},${inner.tn}`;
  const i = inner;
  return ['sm', i.cm, i.cn, i.ck, i.subgroupSize, i.sgRows, i.sgCols, i.fragRows, i.fragCols, i.sliceBytes, i.staging, conventionsKey(i.conventions)].join(',');
}

function check(inner: ResidueGemmInner): void {
  if (inner.kind === 'dot4') {
    const { bm, bn, tm, tn } = inner;
    if (bm % tm || bn % tn) throw new Error(`residue GEMM: tile ${bm}x${bn} is not a multiple of the thread tile ${tm}x${tn}`);
    return;
  }
  const i = inner;
  if (i.sliceBytes % i.ck || 64 % i.sliceBytes || i.ck % 4) {
    throw new Error(`residue GEMM: a slice of ${i.sliceBytes} bytes must be a multiple of the fragment depth ${i.ck} (itself a multiple of 4) and divide 64`);
  }
}

/** The residue GEMM of an inner-loop variant (memoized by residueGemmKey). */
export const residueGemmKernel = memoByKey((inner: ResidueGemmInner, key): SlicedKernel => {
  check(inner);
  return inner.kind === 'dot4' ? dot4Kernel(inner, key) : subgroupMatrixKernel(inner, key);
}, residueGemmKey);

/** Workgroups of one modulus's dispatch: the output tiles, z = batch * chunks. */
export function residueGemmGrid(s: { m: number; n: number; batch: number }, chunks: number, inner: ResidueGemmInner, limits: GridLimits): [number, number, number] {
  const { bm, bn } = residueGemmTile(inner);
  const g: [number, number, number] = [Math.ceil(s.n / bn), Math.ceil(s.m / bm), s.batch * chunks];
  const max = limits.maxComputeWorkgroupsPerDimension;
  if (g.some((x) => x > max)) throw new RangeError(`the quire's residue GEMM of a ${s.batch} x ${s.m} x ${s.n} output needs [${g}] workgroups, over the device's ${max} per dimension`);
  return g;
}

// ---- plain WGSL ------------------------------------------------------------------------------------

function dot4Kernel(t: Dot4Inner, key: string): SlicedKernel {
  const { bm, bn, tm, tn } = t;
  const thx = bn / tn;
  const thy = bm / tm;
  const threads = thx * thy;
  const S = DOT4_SLICE_WORDS;
  const bindings = bindingTable([
    ['res_a', 'read', 'array<vec4<u32>>'],
    ['res_b', 'read', 'array<vec4<u32>>'],
    ['plan', 'read', 'array<u32>'],
    ['g', 'read_write', 'array<i32>'],
  ]);
  // Load slots: a unit is 4 words (a vec4) of one row; S / 4 units per row and slice.
  const slots = (br: number) => Math.ceil((br * S) / 4 / threads);
  const units = (br: number) => (br * S) / 4;
  const slotLines = (br: number, f: (s: number, guarded: boolean) => string) =>
    Array.from({ length: slots(br) }, (_, s) => f(s, units(br) % threads !== 0 && (s + 1) * threads > units(br))).join('\n');
  const geometry = (p: 'a' | 'b', br: number, tile: string, rows: string) =>
    slotLines(br, (s) => {
      const u = `(lid + ${u32(s * threads)})`;
      return `  let lr_${p}${s} = ${u} / ${u32(S / 4)};
  let lw_${p}${s} = (${u} % ${u32(S / 4)}) * 4u;
  let ok_${p}${s} = ${u} < ${u32(units(br))} && ${tile} + lr_${p}${s} < ${rows};
  let base_${p}${s} = P.modulus * P.slab_${p} + (z * ${rows} + ${tile} + lr_${p}${s}) * kw;
  var ld_${p}${s} = vec4<u32>(0u);`;
    });
  const fetch = (p: 'a' | 'b', br: number, w: string) =>
    slotLines(br, (s) => `    ld_${p}${s} = select(vec4<u32>(0u), buf_res_${p}[(base_${p}${s} + ${w} + lw_${p}${s}) / 4u], ok_${p}${s});`);
  const stash = (p: 'a' | 'b', br: number) =>
    slotLines(br, (s, guarded) => {
      const body = [0, 1, 2, 3].map((c) => `sh_${p}[cur * ${u32(S * br)} + (lw_${p}${s} + ${u32(c)}) * ${u32(br)} + lr_${p}${s}] = ld_${p}${s}[${c}];`).join(' ');
      return guarded ? `    if (lid + ${u32(s * threads)} < ${u32(units(br))}) { ${body} }` : `    ${body}`;
    });
  const reads = (p: 'a' | 'b', n: number, th: number, br: number, own: string) =>
    Array.from({ length: n }, (_, i) => `      let ${p}${i} = sh_${p}[cur * ${u32(S * br)} + kk * ${u32(br)} + ${u32(i * th)} + ${own}];`).join('\n');
  const accs: string[] = [];
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) accs.push(`acc_${i}_${j}`);
  const macs = accs.map((a) => {
    const [, i, j] = a.split('_');
    return `      ${a} = ${a} + dot4I8Packed(a${i}, b${j});`;
  });
  const source = (header: string) => wgsl`
${header}
var<workgroup> sh_a: array<u32, ${2 * S * bm}>;
var<workgroup> sh_b: array<u32, ${2 * S * bn}>;

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (P.modulus >= buf_plan[0]) { return; }
  let tx = lid % ${u32(thx)};
  let ty = lid / ${u32(thx)};
  let tile_m = wid.y * ${u32(bm)};
  let tile_n = wid.x * ${u32(bn)};
  let chunk = wid.z % P.chunks;
  let z = wid.z / P.chunks;
  let kw = P.kp / 4u;
  let w_begin = chunk * ${u32(CHUNK_WORDS)};
  let w_end = min(kw, w_begin + ${u32(CHUNK_WORDS)});
${geometry('a', bm, 'tile_m', 'P.m')}
${geometry('b', bn, 'tile_n', 'P.n')}
${accs.map((a) => `  var ${a} = 0i;`).join('\n')}
  var w0 = w_begin;
  var cur = 0u;
${fetch('a', bm, 'w0')}
${fetch('b', bn, 'w0')}
  loop {
${stash('a', bm)}
${stash('b', bn)}
    // One barrier per slice: the buffer written above was last read two slices ago.
    workgroupBarrier();
    let w_next = w0 + ${u32(S)};
    if (w_next < w_end) {
${fetch('a', bm, 'w_next')}
${fetch('b', bn, 'w_next')}
    }
    for (var kk = 0u; kk < ${u32(S)}; kk++) {
${reads('a', tm, thy, bm, 'ty')}
${reads('b', tn, thx, bn, 'tx')}
${macs.join('\n')}
    }
    cur = cur ^ 1u;
    w0 = w_next;
    if (w0 >= w_end) { break; }
  }
  // Rolled store loop (bounds from the uniforms, as the GEMM generator's epilogue: see stores()).
  var accs = array<i32, ${tm * tn}>(${accs.join(', ')});
  let g0 = P.modulus * P.slab_g + (chunk * P.batch + z) * P.mp * P.np;
  for (var i = 0u; i < P.tm; i++) {
    for (var j = 0u; j < P.tn; j++) {
      let m = tile_m + ty + i * ${u32(thy)};
      let n = tile_n + tx + j * ${u32(thx)};
      if (m < P.m && n < P.n) { buf_g[g0 + m * P.np + n] = accs[i * P.tn + j]; }
    }
  }
}
`;
  return kernelVariant({ label: 'quire-residue-gemm-dot4', key, params: SLICED_PARAMS, bindings, source, prefix: 'buf_' });
}

// ---- subgroup matrices --------------------------------------------------------------------------

function subgroupMatrixKernel(t: SubgroupMatrixInner, key: string): SlicedKernel {
  const { cm, cn, ck, fragRows: FR, fragCols: FC, sgRows, sgCols, sliceBytes: SB, conventions: cv } = t;
  const { bm, bn } = residueGemmTile(t);
  const threads = sgRows * sgCols * t.subgroupSize;
  const staged = t.staging === 'workgroup';
  const elem = staged ? 'array<vec4<i32>>' : 'array<i32>';
  const bindings = bindingTable([
    ['res_a', 'read', elem],
    ['res_b', 'read', elem],
    ['plan', 'read', 'array<u32>'],
    ['g', 'read_write', 'array<i32>'],
  ]);
  const SW = SB / 4;
  // Cooperative copy of a slice (rows x SW words, 4 words per unit) into row-major workgroup memory.
  const copy = (p: 'a' | 'b', br: number, tile: string, rows: string) => {
    const units = (br * SW) / 4;
    const lines: string[] = [];
    for (let s = 0; s * threads < units; s++) {
      const u = `(lid + ${u32(s * threads)})`;
      const guard = units % threads !== 0 && (s + 1) * threads > units;
      lines.push(`    {
      let u = ${u};
      let r = u / ${u32(SW / 4)};
      let wq = (u % ${u32(SW / 4)}) * 4u;
      var v = vec4<i32>(0);
      if (${guard ? `u < ${u32(units)} && ` : ''}${tile} + r < ${rows}) { v = buf_res_${p}[(P.modulus * P.slab_${p} + (z * ${rows} + ${tile} + r) * kw + w0 + wq) / 4u]; }
      ${guard ? `if (u < ${u32(units)}) { ` : ''}sh_${p}[r * ${u32(SW)} + wq] = v.x; sh_${p}[r * ${u32(SW)} + wq + 1u] = v.y; sh_${p}[r * ${u32(SW)} + wq + 2u] = v.z; sh_${p}[r * ${u32(SW)} + wq + 3u] = v.w;${guard ? ' }' : ''}
    }`);
    }
    return lines.join('\n');
  };
  // Fragment loads: the left one row-major (rows of A, k along a row), the right one column-major
  // (columns of B, k along a column): offsets and strides in bytes, converted by load8.
  const leftAt = (i: number, kk: string) =>
    staged
      ? load8(cv, 'LeftT', '&sh_a', `(rm + ${u32(i * cm)}) * ${u32(SB)} + ${kk}`, false, `${u32(SB)}`)
      : load8(cv, 'LeftT', '&buf_res_a', `(P.modulus * P.slab_a + (z * P.m + tile_m + rm + ${u32(i * cm)}) * kw + w0) * 4u + ${kk}`, false, 'P.kp');
  const rightAt = (j: number, kk: string) =>
    staged
      ? load8(cv, 'RightT', '&sh_b', `(rn + ${u32(j * cn)}) * ${u32(SB)} + ${kk}`, true, `${u32(SB)}`)
      : load8(cv, 'RightT', '&buf_res_b', `(P.modulus * P.slab_b + (z * P.n + tile_n + rn + ${u32(j * cn)}) * kw + w0) * 4u + ${kk}`, true, 'P.kp');
  const accs: string[] = [];
  for (let i = 0; i < FR; i++) for (let j = 0; j < FC; j++) accs.push(`acc_${i}_${j}`);
  const step = (kk: string) => [
    ...Array.from({ length: FR }, (_, i) => `      let l${i} = ${leftAt(i, kk)};`),
    ...Array.from({ length: FC }, (_, j) => `      let r${j} = ${rightAt(j, kk)};`),
    ...accs.map((a) => {
      const [, i, j] = a.split('_');
      return `      ${a} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, ${a});`;
    }),
  ];
  const stores = accs.map((a) => {
    const [, i, j] = a.split('_');
    return `  ${store32(cv, '&buf_g', `g0 + (tile_m + rm + ${u32(Number(i) * cm)}) * P.np + tile_n + rn + ${u32(Number(j) * cn)}`, a, false, 'P.np')};`;
  });
  const source = (header: string) => wgsl`
${SUBGROUP_MATRIX_ENABLES}
${header}
alias LeftT = subgroup_matrix_left<i8, ${ck}, ${cm}>;
alias RightT = subgroup_matrix_right<i8, ${cn}, ${ck}>;
alias ResultT = subgroup_matrix_result<i32, ${cn}, ${cm}>;
#if ${staged}
var<workgroup> sh_a: array<i32, ${bm * SW}>;
var<workgroup> sh_b: array<i32, ${bn * SW}>;
#endif

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32) {
  if (P.modulus >= buf_plan[0]) { return; }
  let tile_m = wid.y * ${u32(bm)};
  let tile_n = wid.x * ${u32(bn)};
  let chunk = wid.z % P.chunks;
  let z = wid.z / P.chunks;
  let kw = P.kp / 4u;
  let w_begin = chunk * ${u32(CHUNK_WORDS)};
  let w_end = min(kw, w_begin + ${u32(CHUNK_WORDS)});
  // This subgroup's block of fragments within the workgroup tile.
  let rm = (sg / ${u32(sgCols)}) * ${u32(FR * cm)};
  let rn = (sg % ${u32(sgCols)}) * ${u32(FC * cn)};
${accs.map((a) => `  var ${a} = ResultT();`).join('\n')}
  for (var w0 = w_begin; w0 < w_end; w0 += ${u32(SW)}) {
#if ${staged}
    workgroupBarrier();
${copy('a', bm, 'tile_m', 'P.m')}
${copy('b', bn, 'tile_n', 'P.n')}
    workgroupBarrier();
#endif
    for (var kk = 0u; kk < ${u32(SB)}; kk += ${u32(ck)}) {
${step('kk').join('\n')}
    }
  }
  let g0 = P.modulus * P.slab_g + (chunk * P.batch + z) * P.mp * P.np;
${stores.join('\n')}
}
`;
  return kernelVariant({ label: `quire-residue-gemm-sm-${t.staging}`, key, params: SLICED_PARAMS, bindings, source, prefix: 'buf_' });
}
