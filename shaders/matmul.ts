// The one GEMM kernel generator: C[z, m, n] = epilogue(sum_k A(z, m, k) * B(z, k, n)). Every matmul,
// linear layer, convolution, transposed convolution and their backward passes is this kernel with a
// choice of operand storage, index maps (shaders/matmul-maps.ts), accumulator, epilogue and tile.
//
// Structure (one workgroup per BM x BN output tile, z = batch * K-splits):
//   1. 8-bit code tables (256 float32 bit patterns, built on the CPU from the TS codec) are copied into
//      workgroup memory.
//   2. Per load slot, the operand's row part of the index map is evaluated once (conv pixel divisions
//      happen here, not per k).
//   3. K loop over BK-deep slices, double buffered with a register prefetch: a slice is stored to
//      shared memory, then the next is read from global memory (and decoded: table lookup for 8-bit
//      codes, the generated codec for 16/32-bit codes) while the stored one is multiplied, so the
//      loads overlap the arithmetic and there is one workgroup barrier per slice.
//   4. Each thread accumulates TM x TN outputs in registers: f32 sums, or exact quires
//      (shaders/matmul-quire.ts).
//   5. Epilogue: the exponent-bias scale 2^scale_exp (one exact ldexp of the sum, not per element),
//      bias add (per row or per column), activation, optional auxiliary store of the pre-quantization
//      value (for backward), quantization to the output format through the generated encoder and
//      decoder (stochastic rounding draws random(seed, output index)), written through the output map.
//   With K split over workgroups (split-K), each slice writes raw partial sums and a second kernel from
//   this file (gemmReduceKernel) adds them and runs the same epilogue.
// Staging 'direct' (software adapters, small outputs) replaces 2-3 with a plain K loop in which each
// thread reads the TM + TN operands its outputs need straight from the buffers (decoded the same way;
// 8-bit tables still in workgroup memory), with no barrier in the loop.
//
// Thread layout: THX = BN/TN by THY = BM/TM threads. A thread owns rows {ty + i*THY} and columns
// {tx + j*THX} (conflict-free scalar reads of the shared tiles, coalesced stores), or, staged with
// TM/TN a multiple of 4, 4-wide blocks {(g*THY + ty)*4 + c} read as vec4 from a vec4-typed shared tile.
// Shared tiles are k-major: tile[kk][r].

import type { Format, Rounding } from '../formats/descriptor.ts';
import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { u32, wgsl } from './wgsl.ts';
import { codecLibrary, decoderBitsName, encoderName, type CodecNeeds } from './codecs/index.ts';
import { PHASE_WGSL, operandMapWgsl, outputMapWgsl, usesPhase, type OperandMap, type OutputMap } from './matmul-maps.ts';
import { quirePrepWgsl, quireWgsl, type QuireOperand } from './matmul-quire.ts';

/** How an operand's elements are stored: float32, or packed codes in 8/16/32-bit containers. */
export type OperandStorage = 'f32' | 'code8' | 'code16' | 'code32';

export interface OperandSpec {
  storage: OperandStorage;
  /** The code format (packed storage only). */
  format?: Format;
  map: OperandMap;
  /** Load order: consecutive threads walk along k (true) or along the free index (false); chosen so
   *  that they read consecutive memory. */
  kFastest: boolean;
  /** Loads of 4 consecutive elements along the fast direction: the strided map with a fast stride of
   *  1, offsets that are multiples of 4 and a fast extent that is a multiple of 4 (gemm.ts checks). */
  vector: boolean;
  /** Quire mode: where the operand's lattice lies. */
  quire?: QuireOperand;
}

export interface TileConfig {
  /** Output rows and columns per workgroup, and the depth of one K slice (shared staging). */
  bm: number;
  bn: number;
  bk: number;
  /** Outputs per thread along rows and columns. */
  tm: number;
  tn: number;
  /** 'shared' (default): K slices staged in workgroup memory, double buffered. 'direct': each thread
   *  reads its own operands from global memory, no barriers in the K loop (for software adapters,
   *  where workgroup memory is ordinary memory and barriers are expensive). */
  staging?: 'shared' | 'direct';
}

export type ActivationName = 'none' | 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid';

export interface EpilogueSpec {
  bias: 'none' | 'row' | 'col';
  activation: ActivationName;
  /** WGSL expression of the activation in `a` (and `p0`, the leaky slope). */
  activationExpr?: string;
  output: { format: Format; rounding: Rounding } | null;
  /** Also store the activation's output before quantization (what backward differentiates). */
  aux: boolean;
  out: OutputMap;
}

export type AccumulatorSpec = { kind: 'f32' } | { kind: 'quire'; limbs: number; lsb: number };

export interface GemmSpec {
  a: OperandSpec;
  b: OperandSpec;
  tile: TileConfig;
  acc: AccumulatorSpec;
  /** A split-K slice: raw f32 partial sums to a dense [splits * batch, M, N] buffer, no epilogue. */
  partial: boolean;
  epilogue: EpilogueSpec;
}

/** Kernel parameters: one uniform block shared by every variant (see engine/ops/gemm.ts). */
export const GEMM_PARAMS = new ParamLayout(
  paramTable([
    ['m', 'u32'], ['n', 'u32'], ['k', 'u32'], ['batch', 'u32'],
    ['k_per_split', 'u32'], ['splits', 'u32'], ['scale_exp', 'i32'], ['slope', 'f32'],
    ['seed', 'u32'], ['grid_x', 'u32'], ['c_pix', 'u32'], ['tm', 'u32'], ['tn', 'u32'],
    ['a_base', 'u32'], ['a_sz', 'u32'], ['a_sr', 'u32'], ['a_sk', 'u32'], ['a_kd', 'u32'], ['a_sk2', 'u32'],
    ['b_base', 'u32'], ['b_sz', 'u32'], ['b_sr', 'u32'], ['b_sk', 'u32'], ['b_kd', 'u32'], ['b_sk2', 'u32'],
    ['g_n', 'u32'], ['g_ci', 'u32'], ['g_hi', 'u32'], ['g_wi', 'u32'], ['g_co', 'u32'], ['g_ho', 'u32'], ['g_wo', 'u32'],
    ['g_kh', 'u32'], ['g_kw', 'u32'], ['g_sh', 'u32'], ['g_sw', 'u32'], ['g_dh', 'u32'], ['g_dw', 'u32'],
    ['g_pt', 'u32'], ['g_pl', 'u32'],
  ]),
);

/** Storage bindings (WGSL variables buf_<name>): the main kernel reads a and b and writes out (raw
 *  partial sums when split over K); the split-K reduction reads partial and writes out. Both may
 *  read bias and write aux (the epilogue), and the main kernel reads lut0 / lut1 (8-bit code tables,
 *  one per distinct code8 format, in the order of a then b). */
export type GemmBinding = 'a' | 'b' | 'partial' | 'out' | 'bias' | 'aux' | 'lut0' | 'lut1';
export type GemmKernel = KernelVariant<typeof GEMM_PARAMS.table, 'out', Exclude<GemmBinding, 'out'>>;

/** Threads of the split-K reduction kernel's workgroup. */
export const REDUCE_WORKGROUP = 256;

/** Workgroup memory a tile configuration needs, in bytes (double-buffered tiles and code tables). */
export function sharedBytes(spec: Pick<GemmSpec, 'a' | 'b' | 'tile'>): number {
  const { bm, bn, bk, staging } = spec.tile;
  return (staging === 'direct' ? 0 : 2 * bk * (bm + bn) * 4) + lutFormats(spec).length * 256 * 4;
}

/** The distinct 8-bit code formats whose tables the kernel loads (operands sharing a format share one). */
function lutFormats(spec: Pick<GemmSpec, 'a' | 'b'>): string[] {
  const names = [spec.a, spec.b].filter((o) => o.storage === 'code8').map((o) => o.format!.name);
  return [...new Set(names)];
}

function checkSpec(s: GemmSpec): void {
  const { bm, bn, bk, tm, tn } = s.tile;
  if (bm % tm || bn % tn) throw new Error(`tile ${bm}x${bn} is not a multiple of the thread tile ${tm}x${tn}`);
  for (const [name, o, br] of [['a', s.a, bm], ['b', s.b, bn]] as const) {
    if (o.storage !== 'f32' && !o.format) throw new Error(`operand ${name}: packed storage needs its format`);
    if (o.vector && ((o.kFastest ? bk : br) % 4 || o.map !== 'strided')) {
      throw new Error(`operand ${name}: vector loads need the strided map and a tile side that is a multiple of 4`);
    }
    if (s.acc.kind === 'quire' && !o.quire) throw new Error(`operand ${name}: quire accumulation needs the operand's lattice`);
  }
  if (s.acc.kind === 'quire' && s.partial) throw new Error('a quire cannot be split over K (it would round the partial sums)');
}

interface Operand {
  p: 'a' | 'b';
  spec: OperandSpec;
  /** Tile side along the free index, the thread tile along it, threads along it. */
  br: number;
  tr: number;
  th: number;
  /** Width of a shared-tile read in the compute loop (4: vec4 blocks, 1: scalars). */
  vr: number;
  lut: string | null;
}

/** The GEMM kernel of a spec (memoized by gemmKey). */
export const gemmKernel = memoByKey(
  (s: GemmSpec, key): GemmKernel => kernelVariant({ label: 'gemm', key, params: GEMM_PARAMS, ...gemmSource(s), prefix: 'buf_' }),
  gemmKey,
);

function gemmSource(s: GemmSpec) {
  checkSpec(s);
  const { bm, bn, bk, tm, tn } = s.tile;
  const quire = s.acc.kind === 'quire';
  const direct = s.tile.staging === 'direct';
  const thx = bn / tn;
  const thy = bm / tm;
  const threads = thx * thy;
  const luts = lutFormats(s);
  const op = (p: 'a' | 'b'): Operand => {
    const spec = s[p];
    const br = p === 'a' ? bm : bn;
    const tr = p === 'a' ? tm : tn;
    return {
      p,
      spec,
      br,
      tr,
      th: br / tr,
      vr: !quire && !direct && tr % 4 === 0 ? 4 : 1,
      lut: spec.storage === 'code8' ? `lut${luts.indexOf(spec.format!.name)}` : null,
    };
  };
  const A = op('a');
  const B = op('b');
  const T = quire ? 'u32' : 'f32';

  const names: GemmBinding[] = ['a', 'b', 'out'];
  if (!s.partial && s.epilogue.bias !== 'none') names.push('bias');
  if (!s.partial && s.epilogue.aux) names.push('aux');
  luts.forEach((_, i) => names.push(`lut${i}` as GemmBinding));
  const bindings = bindingTable(
    names.map((name) => {
      if (name === 'a' || name === 'b') return [name, 'read', `array<${bufferElement(s[name])}>`] as const;
      if (name === 'out' || name === 'aux') return [name, 'read_write', 'array<f32>'] as const;
      if (name === 'bias') return [name, 'read', 'array<f32>'] as const;
      return [name, 'read', 'array<u32, 256>'] as const;
    }),
  );
  const lutShared = luts.map((_, i) => `var<workgroup> sh_lut${i}: array<u32, 256>;`).join('\n');

  const shared = (o: Operand) =>
    o.vr === 4
      ? `var<workgroup> sh_${o.p}: array<vec4<f32>, ${(2 * bk * o.br) / 4}>;`
      : `var<workgroup> sh_${o.p}: array<${T}, ${2 * bk * o.br}>;`;

  const source = (header: string) => wgsl`
${header}
${lutShared}
${direct ? '' : shared(A)}
${direct ? '' : shared(B)}
${libraryWgsl(s, { operands: true, epilogue: !s.partial })}
${usesPhase([s.a.map, s.b.map, s.epilogue.out]) ? PHASE_WGSL : ''}
${operandMapWgsl('a', s.a.map, 'P.m')}
${operandMapWgsl('b', s.b.map, 'P.n')}
${elementReader(A, quire)}
${elementReader(B, quire)}
${s.acc.kind === 'quire' ? [quirePrepWgsl('a', s.a.quire!), quirePrepWgsl('b', s.b.quire!), quireWgsl(s.acc.limbs, s.acc.lsb)].join('\n') : ''}
${s.partial ? partialStoreWgsl() : epilogueWgsl(s.epilogue, s.acc)}

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tx = lid % ${u32(thx)};
  let ty = lid / ${u32(thx)};
  let tile_m = wid.y * ${u32(bm)};
  let tile_n = wid.x * ${u32(bn)};
  let split = wid.z % P.splits;
  let z = wid.z / P.splits;
  let k_begin = split * P.k_per_split;
  let k_end = min(P.k, k_begin + P.k_per_split);
${luts.map((_, l) => `  for (var i = lid; i < 256u; i += ${u32(threads)}) { sh_lut${l}[i] = buf_lut${l}[i]; }`).join('\n')}
#if ${luts.length > 0}
  workgroupBarrier();
#endif
${direct ? directLoop(A, B, tm, tn, quire) : sharedLoop(A, B, bk, threads, tm, tn, quire)}
${stores(A, B, tm, tn, quire, s.partial)}
}
`;
  return { bindings, source };
}

/** The split-K reduction: sums the partial slices of each output and runs the epilogue. */
export const gemmReduceKernel = memoByKey((s: GemmSpec, key): GemmKernel => {
  if (s.acc.kind !== 'f32') throw new Error('split-K is for f32 accumulation only');
  const names: GemmBinding[] = ['partial', 'out'];
  if (s.epilogue.bias !== 'none') names.push('bias');
  if (s.epilogue.aux) names.push('aux');
  const bindings = bindingTable(names.map((name) => [name, name === 'partial' || name === 'bias' ? 'read' : 'read_write', 'array<f32>'] as const));
  const source = (header: string) => wgsl`
${header}
${libraryWgsl(s, { operands: false, epilogue: true })}
${usesPhase([s.epilogue.out]) ? PHASE_WGSL : ''}
${epilogueWgsl(s.epilogue, s.acc)}

@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * P.grid_x) * ${u32(REDUCE_WORKGROUP)} + lid;
  let per = P.m * P.n;
  let total = per * P.batch;
  if (i >= total) { return; }
  var sum = 0.0;
  for (var sp = 0u; sp < P.splits; sp++) {
    sum = sum + buf_partial[sp * total + i];
  }
  store_out(i / per, (i % per) / P.n, i % P.n, sum);
}
`;
  return kernelVariant({ label: 'gemm-reduce', key, params: GEMM_PARAMS, bindings, source, prefix: 'buf_' });
}, gemmKey);

/** Workgroups of the main kernel: a BM x BN output tile per workgroup, z = batch * K-splits. */
export function gemmGrid(s: { m: number; n: number; batch: number }, tile: TileConfig, splits: number, limits: GridLimits): [number, number, number] {
  const groups: [number, number, number] = [Math.ceil(s.n / tile.bn), Math.ceil(s.m / tile.bm), s.batch * splits];
  const max = limits.maxComputeWorkgroupsPerDimension;
  if (groups.some((g) => g > max)) {
    throw new RangeError(`a ${s.batch} x ${s.m} x ${s.n} output needs [${groups}] workgroups of ${tile.bm} x ${tile.bn}, over the device's ${max} per dimension`);
  }
  return groups;
}

/** Workgroups of the split-K reduction: a thread per output. */
export function gemmReduceGrid(outputs: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(outputs / REDUCE_WORKGROUP));
}

// The spec determines the generated source. Its key is built field by field (JSON.stringify of a spec
// took about 5 us, for every GEMM of every step); the mapped types make the compiler reject a key
// that misses a field added to the spec later. Formats are named canonically, so a name stands for one.
type KeyOf<T> = { [K in keyof Required<T>]: string | number | boolean };
function operandKey(o: OperandSpec): string {
  const q = o.quire;
  const k: KeyOf<OperandSpec> = { storage: o.storage, format: o.format?.name ?? '', map: o.map, kFastest: o.kFastest, vector: o.vector, quire: q ? `${q.frac},${q.lsb},${q.maxPos}` : '' };
  return Object.values(k).join(',');
}

/** The cache key of a GEMM spec (main and split-K reduction kernels alike). */
export function gemmKey(s: GemmSpec): string {
  const t = s.tile;
  const e = s.epilogue;
  const tile: KeyOf<TileConfig> = { bm: t.bm, bn: t.bn, bk: t.bk, tm: t.tm, tn: t.tn, staging: t.staging ?? 'shared' };
  const epilogue: KeyOf<EpilogueSpec> = {
    bias: e.bias,
    activation: e.activation,
    activationExpr: e.activationExpr ?? '',
    output: e.output ? `${e.output.format.name},${e.output.rounding}` : '',
    aux: e.aux,
    out: e.out,
  };
  const key: KeyOf<GemmSpec> = {
    a: operandKey(s.a),
    b: operandKey(s.b),
    tile: Object.values(tile).join(','),
    acc: s.acc.kind === 'quire' ? `quire,${s.acc.limbs},${s.acc.lsb}` : s.acc.kind,
    partial: s.partial,
    epilogue: Object.values(epilogue).join(','),
  };
  return Object.values(key).join('|');
}

// ---- pieces ------------------------------------------------------------------------------------

/** The K loop with shared-memory staging: load slots, double-buffered slices, one barrier each. */
function sharedLoop(A: Operand, B: Operand, bk: number, threads: number, tm: number, tn: number, quire: boolean): string {
  const accVars: string[] = [];
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) accVars.push(`acc_${i}_${j}`);
  return wgsl`
${loadSlots(A, bk, threads, 'tile_m')}
${loadSlots(B, bk, threads, 'tile_n')}
#if ${quire}
${accVars.map((v) => `  var ${v}: Quire;`).join('\n')}
#else
${accVars.map((v) => `  var ${v} = 0.0;`).join('\n')}
#endif
  var k0 = k_begin;
  var cur = 0u;
${fetch(A, bk, threads, 'k0')}
${fetch(B, bk, threads, 'k0')}
  loop {
${stash(A, bk, threads, 'cur')}
${stash(B, bk, threads, 'cur')}
    // One barrier per slice: the buffer written above was last read two slices ago, before every
    // thread passed the previous barrier.
    workgroupBarrier();
    let k_next = k0 + ${u32(bk)};
    if (k_next < k_end) {
${fetch(A, bk, threads, 'k_next')}
${fetch(B, bk, threads, 'k_next')}
    }
    for (var kk = 0u; kk < ${u32(bk)}; kk++) {
${sharedReads(A, bk, 'ty')}
${sharedReads(B, bk, 'tx')}
${macs(tm, tn, quire)}
    }
    cur = cur ^ 1u;
    k0 = k_next;
    if (k0 >= k_end) { break; }
  }
`;
}

/** The K loop with direct operand reads: each thread reads the TM + TN operands its outputs need. */
function directLoop(A: Operand, B: Operand, tm: number, tn: number, quire: boolean): string {
  const lines: string[] = [];
  const own = (o: Operand, i: number, t: string) => `${u32(i * o.th)} + ${t}`;
  for (let i = 0; i < tm; i++) lines.push(`  let ri_a${i} = a_row(z, tile_m + ${own(A, i, 'ty')});`);
  for (let j = 0; j < tn; j++) lines.push(`  let ri_b${j} = b_row(z, tile_n + ${own(B, j, 'tx')});`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) lines.push(quire ? `  var acc_${i}_${j}: Quire;` : `  var acc_${i}_${j} = 0.0;`);
  const read = (o: Operand, i: number) => `    var ${o.p}${i} = ${zeroOf(o, false)};
    if (ri_${o.p}${i}.w != 0) {
      let off = ${o.p}_at(z, ri_${o.p}${i}, k);
      if (off >= 0) { ${o.p}${i} = ${prep(o, `${o.p}_elem(u32(off))`, false)}; }
    }`;
  lines.push('  for (var k = k_begin; k < k_end; k++) {');
  for (let i = 0; i < tm; i++) lines.push(read(A, i));
  for (let j = 0; j < tn; j++) lines.push(read(B, j));
  lines.push(macs(tm, tn, quire));
  lines.push('  }');
  return lines.join('\n');
}

function bufferElement(o: OperandSpec): string {
  if (!o.vector) return o.storage === 'f32' ? 'f32' : 'u32';
  switch (o.storage) {
    case 'f32':
      return 'vec4<f32>';
    case 'code8':
      return 'u32';
    case 'code16':
      return 'vec2<u32>';
    case 'code32':
      return 'vec4<u32>';
  }
}

/** Codecs (decoders of 16/32-bit operands where the kernel reads them; the output encoder/decoder
 *  where it runs the epilogue) and the quire's helpers. */
export function libraryWgsl(s: GemmSpec, uses: { operands: boolean; epilogue: boolean }): string {
  const needs: CodecNeeds[] = [];
  if (uses.operands) for (const o of [s.a, s.b]) if (o.storage === 'code16' || o.storage === 'code32') needs.push({ format: o.format! });
  const out = uses.epilogue ? s.epilogue.output : null;
  if (out) needs.push({ format: out.format, encoders: [out.rounding] });
  if (needs.length === 0 && s.acc.kind !== 'quire') return '';
  return codecLibrary(needs);
}

/** `<p>_elem(off)`: the element at an offset as f32 (or its bits in quire mode), and `<p>_elem4`. */
function elementReader(o: Operand, quire: boolean): string {
  const { p, spec } = o;
  const ret = quire ? 'u32' : 'f32';
  const fromBits = (bits: string) => (quire ? bits : `bitcast<f32>(${bits})`);
  const fromF32 = (v: string) => (quire ? `bitcast<u32>(${v})` : v);
  const dec = spec.format && spec.storage !== 'code8' ? decoderBitsName(spec.format) : '';
  const decode = (code: string) => (spec.storage === 'code8' ? fromBits(`sh_${o.lut}[${code}]`) : fromBits(`${dec}(${code}, 0)`));
  if (!spec.vector) {
    let body: string;
    switch (spec.storage) {
      case 'f32':
        body = `return ${fromF32(`buf_${p}[off]`)};`;
        break;
      case 'code8':
        body = `return ${decode(`(buf_${p}[off >> 2u] >> ((off & 3u) << 3u)) & 0xffu`)};`;
        break;
      case 'code16':
        body = `return ${decode(`(buf_${p}[off >> 1u] >> ((off & 1u) << 4u)) & 0xffffu`)};`;
        break;
      case 'code32':
        body = `return ${decode(`buf_${p}[off]`)};`;
        break;
    }
    return `fn ${p}_elem(off: u32) -> ${ret} {\n  ${body}\n}`;
  }
  const v = quire ? 'vec4<u32>' : 'vec4<f32>';
  let body: string;
  switch (spec.storage) {
    case 'f32':
      body = quire ? `return bitcast<vec4<u32>>(buf_${p}[off >> 2u]);` : `return buf_${p}[off >> 2u];`;
      break;
    case 'code8':
      body = `let w = buf_${p}[off >> 2u];\n  return ${v}(${[0, 8, 16, 24].map((sh) => decode(`(w >> ${sh}u) & 0xffu`)).join(', ')});`;
      break;
    case 'code16':
      body = `let w = buf_${p}[off >> 2u];\n  return ${v}(${['w.x & 0xffffu', 'w.x >> 16u', 'w.y & 0xffffu', 'w.y >> 16u'].map(decode).join(', ')});`;
      break;
    case 'code32':
      body = `let w = buf_${p}[off >> 2u];\n  return ${v}(${['w.x', 'w.y', 'w.z', 'w.w'].map(decode).join(', ')});`;
      break;
  }
  return `fn ${p}_elem4(off: u32) -> ${v} {\n  ${body}\n}`;
}

/** `<p>_elem(off) -> u32`: an operand element's float32 bits, read one at a time (8-bit codes through
 *  the table in workgroup memory sh_<lut>). For kernels outside this file that read GEMM operands
 *  (the sliced quire, shaders/quire-sliced.ts). */
export function operandBitsReaderWgsl(p: 'a' | 'b', spec: OperandSpec, lut: string | null): string {
  return elementReader({ p, spec: { ...spec, vector: false }, br: 0, tr: 0, th: 0, vr: 1, lut }, true);
}

/** Geometry of the load slots: unit u = lid + slot*threads, 4 elements per unit with vector loads. */
function slotGeometry(o: Operand, bk: number, threads: number) {
  const w = o.spec.vector ? 4 : 1;
  const units = (bk * o.br) / w;
  const slots = Math.ceil(units / threads);
  const fast = (o.spec.kFastest ? bk : o.br) / w;
  return { w, units, slots, guarded: units % threads !== 0, fast };
}

/** Per slot: its tile-local k and row (kk_<p><s>, rr_<p><s>) and the row part of the map (ri_). */
function loadSlots(o: Operand, bk: number, threads: number, tileBase: string): string {
  const g = slotGeometry(o, bk, threads);
  const lines: string[] = [];
  for (let s = 0; s < g.slots; s++) {
    const u = `(lid + ${u32(s * threads)})`;
    const along = `(${u} % ${u32(g.fast)}) * ${u32(g.w)}`;
    const across = `${u} / ${u32(g.fast)}`;
    const [kk, rr] = o.spec.kFastest ? [along, across] : [across, along];
    lines.push(`  let kk_${o.p}${s} = ${kk};`);
    lines.push(`  let rr_${o.p}${s} = ${rr};`);
    const row = `${o.p}_row(z, ${tileBase} + rr_${o.p}${s})`;
    // Units past the tile (when threads do not divide it) read nothing: mark their row invalid.
    lines.push(g.guarded ? `  let ri_${o.p}${s} = select(vec4<i32>(0), ${row}, ${u} < ${u32(g.units)});` : `  let ri_${o.p}${s} = ${row};`);
    lines.push(`  var ld_${o.p}${s} = ${zeroOf(o, o.spec.vector)};`);
  }
  return lines.join('\n');
}

/** Reads the slice starting at k0 into the prefetch registers. */
function fetch(o: Operand, bk: number, threads: number, k0: string): string {
  const g = slotGeometry(o, bk, threads);
  const lines: string[] = [];
  for (let s = 0; s < g.slots; s++) {
    const ri = `ri_${o.p}${s}`;
    const k = `${k0} + kk_${o.p}${s}`;
    const read = o.spec.vector ? `${o.p}_elem4(u32(${o.p}_at(z, ${ri}, ${k})))` : `${o.p}_elem(u32(off))`;
    if (o.spec.vector) {
      // One check for the group of 4: along k, K and k_end are multiples of 4; along rows, the 4
      // rows share k, and the row count is a multiple of 4 (so the first row's validity holds for all).
      lines.push(`    if (${ri}.w != 0 && ${k} < k_end) { ld_${o.p}${s} = ${prep(o, read, true)}; } else { ld_${o.p}${s} = ${zeroOf(o, true)}; }`);
    } else {
      lines.push(`    {
      var v = ${zeroOf(o, false)};
      if (${ri}.w != 0 && ${k} < k_end) {
        let off = ${o.p}_at(z, ${ri}, ${k});
        if (off >= 0) { v = ${prep(o, read, false)}; }
      }
      ld_${o.p}${s} = v;
    }`);
    }
  }
  return lines.join('\n');
}

function zeroOf(o: Operand, vector: boolean): string {
  if (vector) return o.spec.quire ? 'vec4<u32>(0u)' : 'vec4<f32>(0.0)';
  return o.spec.quire ? '0u' : '0.0';
}

function prep(o: Operand, read: string, vector: boolean): string {
  if (!o.spec.quire) return read;
  return `${o.p}_qprep${vector ? '4' : ''}(${read})`;
}

/** Stores the prefetch registers into shared buffer `buf` (0 or 1). */
function stash(o: Operand, bk: number, threads: number, buf: string): string {
  const g = slotGeometry(o, bk, threads);
  const half = bk * o.br;
  const lines: string[] = [];
  const at = (kk: string, rr: string) => `${buf} * ${u32(half)} + (${kk}) * ${u32(o.br)} + ${rr}`;
  const scalarStore = (kk: string, rr: string, v: string) =>
    o.vr === 4 ? `sh_${o.p}[(${at(kk, rr)}) / 4u][(${rr}) % 4u] = ${v};` : `sh_${o.p}[${at(kk, rr)}] = ${v};`;
  for (let s = 0; s < g.slots; s++) {
    const kk = `kk_${o.p}${s}`;
    const rr = `rr_${o.p}${s}`;
    const v = `ld_${o.p}${s}`;
    let body: string;
    if (!o.spec.vector) body = scalarStore(kk, rr, v);
    else if (o.spec.kFastest) body = [0, 1, 2, 3].map((c) => scalarStore(`${kk} + ${c}u`, rr, `${v}[${c}]`)).join(' ');
    else if (o.vr === 4) body = `sh_${o.p}[(${at(kk, rr)}) / 4u] = ${v};`;
    else body = [0, 1, 2, 3].map((c) => scalarStore(kk, `${rr} + ${c}u`, `${v}[${c}]`)).join(' ');
    lines.push(g.guarded ? `    if (lid + ${u32(s * threads)} < ${u32(g.units)}) { ${body} }` : `    ${body}`);
  }
  return lines.join('\n');
}

/** Reads a thread's TM (or TN) operand values for slice row kk from the current shared buffer. */
function sharedReads(o: Operand, bk: number, t: string): string {
  const half = bk * o.br;
  const lines: string[] = [];
  if (o.vr === 4) {
    for (let g = 0; g < o.tr / 4; g++) {
      lines.push(`      let ${o.p}v${g} = sh_${o.p}[(cur * ${u32(half)} + kk * ${u32(o.br)}) / 4u + ${u32(g * o.th)} + ${t}];`);
    }
    for (let i = 0; i < o.tr; i++) lines.push(`      let ${o.p}${i} = ${o.p}v${Math.floor(i / 4)}[${i % 4}];`);
  } else {
    for (let i = 0; i < o.tr; i++) lines.push(`      let ${o.p}${i} = sh_${o.p}[cur * ${u32(half)} + kk * ${u32(o.br)} + ${u32(i * o.th)} + ${t}];`);
  }
  return lines.join('\n');
}

function macs(tm: number, tn: number, quire: boolean): string {
  const lines: string[] = [];
  for (let i = 0; i < tm; i++) {
    for (let j = 0; j < tn; j++) {
      lines.push(quire ? `      quire_mac(&acc_${i}_${j}, a${i}, b${j});` : `      acc_${i}_${j} = acc_${i}_${j} + a${i} * b${j};`);
    }
  }
  return lines.join('\n');
}

/**
 * The epilogue over a thread's TM x TN outputs, as a loop whose bounds are the uniforms P.tm / P.tn
 * (equal to the tile's): with compile-time bounds lavapipe's LLVM unrolls it, inlining the epilogue
 * (codecs included) TM*TN times, which made pipelines 2-5x slower to compile. It runs once per
 * thread, after the K loop, so the rolled loop costs nothing measurable.
 */
function stores(A: Operand, B: Operand, tm: number, tn: number, quire: boolean, partial: boolean): string {
  const names: string[] = [];
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) names.push(`acc_${i}_${j}`);
  const owned = (o: Operand, i: string, t: string) =>
    o.vr === 4 ? `((${i} / 4u) * ${u32(o.th)} + ${t}) * 4u + ${i} % 4u` : `${i} * ${u32(o.th)} + ${t}`;
  const call = partial ? 'store_partial' : quire ? 'store_quire' : 'store_out';
  return `  var accs = array<${quire ? 'Quire' : 'f32'}, ${tm * tn}>(${names.join(', ')});
  for (var i = 0u; i < P.tm; i++) {
    for (var j = 0u; j < P.tn; j++) {
      let m = tile_m + ${owned(A, 'i', 'ty')};
      let n = tile_n + ${owned(B, 'j', 'tx')};
      if (m < P.m && n < P.n) { ${call}(${partial ? 'split * P.batch + z' : 'z'}, m, n, accs[i * P.tn + j]); }
    }
  }`;
}

function partialStoreWgsl(): string {
  return `
fn store_partial(zs: u32, m: u32, n: u32, acc: f32) {
  buf_out[(zs * P.m + m) * P.n + n] = acc;
}`;
}

/** store_out(z, m, n, sum) for f32 sums, and store_quire for quires; both through the output map. */
export function epilogueWgsl(e: EpilogueSpec, acc: AccumulatorSpec): string {
  const quire = acc.kind === 'quire';
  const out = e.output;
  const enc = out ? encoderName(out.format, out.rounding) : '';
  const decBits = out ? decoderBitsName(out.format) : '';
  const random = out?.rounding === 'stochastic' ? 'pg_random(P.seed, off)' : '0u';
  const act = e.activation !== 'none';
  if (act && !e.activationExpr) throw new Error(`activation ${e.activation} needs its WGSL expression`);
  // A quire with nothing between the sum and the output format rounds once, straight to the format.
  const direct = quire && out !== null && e.bias === 'none' && !act;
  return wgsl`
${outputMapWgsl(e.out)}
#if ${act}
fn act(a: f32) -> f32 {
  let p0 = P.slope;
  return ${e.activationExpr ?? ''};
}
#endif

fn store_out(z: u32, m: u32, n: u32, sum: f32) {
#if ${quire}
  var v = sum;
#else
  var v = ldexp(sum, P.scale_exp);
#endif
#if ${e.bias === 'row'}
  v = v + buf_bias[m];
#elif ${e.bias === 'col'}
  v = v + buf_bias[n];
#endif
#if ${act}
  v = act(v);
#endif
  let off = out_off(z, m, n);
#if ${e.out === 'nchw_phase'}
  if (off == PHASE_NONE) { return; }
#endif
#if ${e.aux}
  buf_aux[off] = v;
#endif
#if ${out !== null}
  v = bitcast<f32>(${decBits}(${enc}(bitcast<u32>(v), 0, ${random}), 0));
#endif
  buf_out[off] = v;
}
#if ${quire}

fn store_quire(z: u32, m: u32, n: u32, q: Quire) {
#if ${direct}
  let off = out_off(z, m, n);
#if ${e.out === 'nchw_phase'}
  if (off == PHASE_NONE) { return; }
#endif
  buf_out[off] = bitcast<f32>(${decBits}(${enc}(quire_round(q, true), 0, ${random}), 0));
#else
  store_out(z, m, n, bitcast<f32>(quire_round(q, false)));
#endif
}
#endif`;
}
