// The sliced exact quire: the same result as the per-product quire of the GEMM generator
// (shaders/matmul.ts with shaders/matmul-quire.ts; bit for bit, NaR included), computed with 8-bit
// integer matrix products, which plain WGSL runs as 4-way integer dot products and subgroup
// matrices (tensor cores) run natively. This module holds every kernel of the method except the
// integer GEMM itself (shaders/quire-residue-gemm.ts); engine/ops/quire-sliced.ts runs them.
//
// Method (an Ozaki-style scheme, in its residue form). Every operand value is a lattice value
// s * 2^(pos + lsb_x) (the quire's prep word: an integer significand s < 2^16, a position pos >= 0;
// shaders/matmul-quire.ts); with t = pos + ctz(s) and s' = s >> ctz(s) it is s' * 2^(t + lsb_x).
//   1. stats, per row of A (and per column of B), over the whole reduction: lo = min t, hi = max
//      top-bit position, and the "not exact" flag (NaR, off the lattice). Relative to its row the
//      value is the integer X = +-s' * 2^(t - lo), |X| < 2^w with w = hi - lo + 1: the alignment is
//      chosen from the data, so a row of values near each other needs few bits whatever their
//      magnitude (a row of maxpos is w = 1).
//   2. plan (one workgroup): wA = max w over A's rows, wB over B's columns; the exact product
//      C = sum_k X_ik Y_kj satisfies |C| < 2^(wA + wB + ceil(log2 K)) (shaders/quire-crt.ts), and
//      the first n moduli with floor(log2 M_n) >= wA + wB + ceil(log2 K) + 1 determine it. n is
//      computed on the GPU: no read-back; the dispatches for moduli beyond n exit at once.
//   3. residues: for each modulus m_l (l < n) every X as its symmetric residue mod m_l, an i8,
//      packed 4 per u32 along k, K padded with zeros to a multiple of 64.
//   4. per modulus, the integer GEMM R_A(l) R_B(l)^T in i32 (exact: |residue| <= 128, so one
//      K chunk of at most 2^16 sums to at most 2^30; longer K is split into chunks whose results
//      the combine adds modulo m_l).
//   5. combine, per output: the residues of C (the chunk sums reduced mod m_l), Garner's
//      mixed-radix digits, C as a multi-word integer, mapped to (-M_n/2, M_n/2]; C * 2^(loA + loB)
//      is then exactly the dot product in the quire's fixed point (lsb = lsb_a + lsb_b), placed
//      into a quire word array with the flag of the row and the column, and handed to the GEMM
//      generator's own epilogue (store_quire: quire_round once, bias, activation, output format,
//      output map), so everything after the exact sum is literally the per-product quire's code.
// Exactness on every input: each step is integer arithmetic without overflow (the bounds above);
// zeros and flagged elements contribute 0 to C; a flagged row or column sets the flag that makes
// quire_round return NaN, as the per-product quire does for any NaR / off-lattice element of the
// row or column; the quire is the per-product path's width, which holds any sum of K products.
//
// Why residues rather than bit slices: splitting each integer (w bits and a sign) into i8 digits
// of base 256 needs S = ceil((w + 1) / 8) digits per operand and S_A * S_B digit-pair GEMMs; the
// residues need about (wA + wB + log2 K + 1) / 7.95, linear in the bits instead of quadratic. At
// K = 4096: rows spanning 2^-24 .. 1 (w = 25, the `bench quire` data): 8 GEMMs against 16; the
// widest p8e2 rows (maxpos and minpos together, w = 49): 15 against 49; normal(0, 1) data
// (w = 15 or 16: the row's smallest element sets lo): 6 against 4 or 9. Digits win only for rows
// narrower than 16 bits (1 GEMM against 4 at w <= 7), which posit rows of thousands of elements
// rarely are; a per-product choice between the two is possible (the GEMM is the same) but not done.
//
// Buffers (u32 words unless said): info_a [batch * M][2] = (lo, (hi + 1) | flag << 31), 0xffffffff
// / 0 for a row without a nonzero element; info_b [batch * N][2] likewise per column of B;
// plan [4] = (n, overflow, wA, wB); res_a [max moduli][batch * M][kp / 4] packed i8 (res_b with
// N); g [max moduli][chunks][batch][mp][np] i32 (the GEMM's tile pads mp and np); tables
// (shaders/quire-crt.ts).

import type { Format } from '../formats/descriptor.ts';
import { codecLibrary } from './codecs/index.ts';
import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { PHASE_WGSL, operandMapWgsl, usesPhase } from './matmul-maps.ts';
import { quirePrepWgsl, quireWgsl, type QuireOperand } from './matmul-quire.ts';
import { epilogueWgsl, GEMM_PARAMS, gemmKey, libraryWgsl, operandBitsReaderWgsl, type GemmSpec, type OperandSpec } from './matmul.ts';
import { QUIRE_CRT_WORDS, QUIRE_MODULI_COUNT, QUIRE_POW_SPAN, QUIRE_TABLE_OFFSETS } from './quire-crt.ts';
import { u32, wgsl } from './wgsl.ts';

/** Reduction length per exact i32 chunk of the residue GEMM. */
export const QUIRE_K_CHUNK = 1 << 16;
/** The residue matrices' k extent is padded to a multiple of this (bytes: 16 u32 words). */
export const QUIRE_K_ALIGN = 64;

/** The GEMM's parameters (operand maps, epilogue) and the sliced quire's own. */
export const SLICED_PARAMS = new ParamLayout(
  paramTable([
    ...GEMM_PARAMS.table,
    // k padded to QUIRE_K_ALIGN (bytes of packed i8), chunks of QUIRE_K_CHUNK, the padded GEMM
    // output extents, words per modulus of res_a / res_b / g, the modulus of a GEMM dispatch,
    // ceil(log2 K), and the moduli the buffers hold.
    ['kp', 'u32'], ['chunks', 'u32'], ['mp', 'u32'], ['np', 'u32'],
    ['slab_a', 'u32'], ['slab_b', 'u32'], ['slab_g', 'u32'], ['modulus', 'u32'], ['klog', 'u32'], ['max_moduli', 'u32'],
  ] as const),
);

export type SlicedKernel = KernelVariant<typeof SLICED_PARAMS.table, string>;

/** An operand of the sliced quire: which one, how it is stored and read, its lattice. */
export interface SlicedOperand {
  p: 'a' | 'b';
  spec: OperandSpec & { quire: QuireOperand };
}

/** Integers of a row span at most this many bits for the operand (positions 0 .. maxPos, frac
 *  fraction bits above): the tables cover 2^e for e below QUIRE_POW_SPAN. */
export function operandSpan(q: QuireOperand): number {
  return q.maxPos + q.frac + 1;
}

const STATS_THREADS = 64;
const RESIDUE_THREADS = 256;
const PLAN_THREADS = 256;
/** The combine's workgroup: 16 x 16 outputs. */
export const COMBINE_TILE = 16;

function operandKey(o: SlicedOperand): string {
  const q = o.spec.quire;
  return [o.p, o.spec.storage, o.spec.format?.name ?? '', o.spec.map, q.frac, q.lsb, q.maxPos].join(',');
}

/** What reading an operand element needs: the code table copy, codecs, maps. */
function operandReading(o: SlicedOperand, threads: number) {
  const code8 = o.spec.storage === 'code8';
  const needs = o.spec.storage === 'code16' || o.spec.storage === 'code32' ? [{ format: o.spec.format as Format }] : [];
  const rows = o.p === 'a' ? 'P.m' : 'P.n';
  return {
    code8,
    rows,
    decls: wgsl`
#if ${code8}
var<workgroup> sh_lut0: array<u32, 256>;
#endif`,
    library: wgsl`
${codecLibrary(needs)}
${usesPhase([o.spec.map]) ? PHASE_WGSL : ''}
${operandMapWgsl(o.p, o.spec.map, rows)}
${operandBitsReaderWgsl(o.p, o.spec, code8 ? 'lut0' : null)}
${quirePrepWgsl(o.p, o.spec.quire)}`,
    copyLut: code8 ? `  for (var i = lid; i < 256u; i += ${u32(threads)}) { sh_lut0[i] = buf_lut0[i]; }\n  workgroupBarrier();` : '',
    bindings: [[o.p, 'read', 'array<u32>'] as const, ...(code8 ? [['lut0', 'read', 'array<u32, 256>'] as const] : [])],
  };
}

/** Step 1: lo, hi + 1 and the flag of every row of the operand (one workgroup per row). */
export const quireStatsKernel = memoByKey(
  (o: SlicedOperand, key): SlicedKernel => {
    const r = operandReading(o, STATS_THREADS);
    const p = o.p;
    const bindings = bindingTable([...r.bindings, ['info', 'read_write', 'array<u32>']]);
    const source = (header: string) => wgsl`
${header}
${r.decls}
var<workgroup> red_lo: array<u32, ${STATS_THREADS}>;
var<workgroup> red_hi: array<u32, ${STATS_THREADS}>;
var<workgroup> red_flag: array<u32, ${STATS_THREADS}>;
${r.library}

@compute @workgroup_size(${STATS_THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
${r.copyLut}
  let row = wid.x + wid.y * P.grid_x;
  let rows = ${r.rows};
  var lo = 0xffffffffu;
  var hi1 = 0u;
  var flag = 0u;
  if (row < P.batch * rows) {
    let z = row / rows;
    let ri = ${p}_row(z, row % rows);
    if (ri.w != 0) {
      for (var k = lid; k < P.k; k += ${u32(STATS_THREADS)}) {
        let off = ${p}_at(z, ri, k);
        if (off < 0) { continue; }
        let w = ${p}_qprep(${p}_elem(u32(off)));
        flag = flag | (w & 0x40000000u);
        let s = w & 0xffffu;
        if (s != 0u) {
          let pos = (w >> 16u) & 0x3fffu;
          lo = min(lo, pos + countTrailingZeros(s));
          hi1 = max(hi1, pos + 32u - countLeadingZeros(s));
        }
      }
    }
  }
  red_lo[lid] = lo;
  red_hi[lid] = hi1;
  red_flag[lid] = flag;
  for (var h = ${u32(STATS_THREADS / 2)}; h > 0u; h = h >> 1u) {
    workgroupBarrier();
    if (lid < h) {
      red_lo[lid] = min(red_lo[lid], red_lo[lid + h]);
      red_hi[lid] = max(red_hi[lid], red_hi[lid + h]);
      red_flag[lid] = red_flag[lid] | red_flag[lid + h];
    }
  }
  if (lid == 0u && row < P.batch * rows) {
    buf_info[2u * row] = red_lo[0];
    buf_info[2u * row + 1u] = red_hi[0] | select(0u, 0x80000000u, red_flag[0] != 0u);
  }
}
`;
    return kernelVariant({ label: `quire-stats-${p}`, key, params: SLICED_PARAMS, bindings, source, prefix: 'buf_' });
  },
  (o: SlicedOperand) => `stats|${operandKey(o)}`,
);

/** Step 2: the widest row of A and column of B, and the moduli the product needs (one workgroup). */
export const QUIRE_PLAN_KERNEL: SlicedKernel = (() => {
  const bindings = bindingTable([
    ['info_a', 'read', 'array<u32>'],
    ['info_b', 'read', 'array<u32>'],
    ['tables', 'read', 'array<u32>'],
    ['plan', 'read_write', 'array<u32>'],
  ]);
  const source = (header: string) => wgsl`
${header}
var<workgroup> red_a: array<u32, ${PLAN_THREADS}>;
var<workgroup> red_b: array<u32, ${PLAN_THREADS}>;

fn width(info: u32, lo: u32) -> u32 {
  let h = info & 0x7fffffffu;
  return select(0u, h - lo, h != 0u);
}

@compute @workgroup_size(${PLAN_THREADS})
fn main(@builtin(local_invocation_index) lid: u32) {
  var wa = 0u;
  for (var i = lid; i < P.batch * P.m; i += ${u32(PLAN_THREADS)}) { wa = max(wa, width(buf_info_a[2u * i + 1u], buf_info_a[2u * i])); }
  var wb = 0u;
  for (var i = lid; i < P.batch * P.n; i += ${u32(PLAN_THREADS)}) { wb = max(wb, width(buf_info_b[2u * i + 1u], buf_info_b[2u * i])); }
  red_a[lid] = wa;
  red_b[lid] = wb;
  for (var h = ${u32(PLAN_THREADS / 2)}; h > 0u; h = h >> 1u) {
    workgroupBarrier();
    if (lid < h) {
      red_a[lid] = max(red_a[lid], red_a[lid + h]);
      red_b[lid] = max(red_b[lid], red_b[lid + h]);
    }
  }
  if (lid == 0u) {
    let wa_all = red_a[0];
    let wb_all = red_b[0];
    // An operand without a nonzero element: C = 0, which one modulus represents.
    var needed = 1u;
    var overflow = 0u;
    if (wa_all != 0u && wb_all != 0u) {
      let bits = wa_all + wb_all + P.klog + 1u;
      needed = 0u;
      for (var n = 1u; n <= P.max_moduli; n++) {
        if (buf_tables[${u32(QUIRE_TABLE_OFFSETS.cover)} + n] >= bits) { needed = n; break; }
      }
      // Cannot happen when the host sized the buffers from the formats; if it does, the outputs
      // become NaN rather than wrong.
      if (needed == 0u) { needed = P.max_moduli; overflow = 1u; }
    }
    buf_plan[0] = needed;
    buf_plan[1] = overflow;
    buf_plan[2] = wa_all;
    buf_plan[3] = wb_all;
  }
}
`;
  return kernelVariant({ label: 'quire-plan', key: 'plan', params: SLICED_PARAMS, bindings, source, prefix: 'buf_' });
})();

/** Step 3: the symmetric i8 residues of every row's integers for each modulus the plan needs, 4
 *  per u32 along k (a thread per word), zeros in the k padding. */
export const quireResidueKernel = memoByKey(
  (o: SlicedOperand, key): SlicedKernel => {
    const r = operandReading(o, RESIDUE_THREADS);
    const p = o.p;
    const T = QUIRE_TABLE_OFFSETS;
    const bindings = bindingTable([...r.bindings, ['info', 'read', 'array<u32>'], ['plan', 'read', 'array<u32>'], ['tables', 'read', 'array<u32>'], ['res', 'read_write', 'array<u32>']]);
    const source = (header: string) => wgsl`
${header}
${r.decls}
${r.library}

@compute @workgroup_size(${RESIDUE_THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
${r.copyLut}
  let rows = ${r.rows};
  let kw = P.kp / 4u;
  let id = (wid.x + wid.y * P.grid_x) * ${u32(RESIDUE_THREADS)} + lid;
  if (id >= P.batch * rows * kw) { return; }
  let row = id / kw;
  let w = id % kw;
  let z = row / rows;
  let lo = buf_info[2u * row];
  let ri = ${p}_row(z, row % rows);
  // The four elements as (odd significand, exponent relative to the row, sign); 0: a zero.
  var sig = vec4<u32>(0u);
  var ex = vec4<u32>(0u);
  var neg = vec4<bool>(false);
  for (var c = 0u; c < 4u; c++) {
    let k = 4u * w + c;
    if (k >= P.k || ri.w == 0) { continue; }
    let off = ${p}_at(z, ri, k);
    if (off < 0) { continue; }
    let q = ${p}_qprep(${p}_elem(u32(off)));
    let s = q & 0xffffu;
    if (s == 0u) { continue; }
    let tz = countTrailingZeros(s);
    sig[c] = s >> tz;
    ex[c] = ((q >> 16u) & 0x3fffu) + tz - lo;
    neg[c] = (q >> 31u) != 0u;
  }
  let needed = buf_plan[0];
  for (var l = 0u; l < needed; l++) {
    let m = buf_tables[${u32(T.mod)} + l];
    var word = 0u;
    for (var c = 0u; c < 4u; c++) {
      if (sig[c] == 0u) { continue; }
      var res = ((sig[c] % m) * buf_tables[${u32(T.pow)} + l * ${u32(QUIRE_POW_SPAN)} + ex[c]]) % m;
      if (neg[c] && res != 0u) { res = m - res; }
      // Symmetric range [-floor(m/2), ceil(m/2) - 1]: an i8 for every m <= 256.
      let v = select(i32(res), i32(res) - i32(m), res >= (m + 1u) / 2u);
      word = word | ((u32(v) & 0xffu) << (8u * c));
    }
    buf_res[l * P.slab_${p} + id] = word;
  }
}
`;
    return kernelVariant({ label: `quire-residues-${p}`, key, params: SLICED_PARAMS, bindings, source, prefix: 'buf_' });
  },
  (o: SlicedOperand) => `residues|${operandKey(o)}`,
);

/** Step 5: C from its residues, placed in a quire, through the GEMM generator's epilogue. The
 *  spec is the per-product quire GEMM's (its epilogue and quire width); a thread per output. */
export const quireCombineKernel = memoByKey(
  (s: GemmSpec, key): SlicedKernel => {
    const acc = s.acc;
    if (acc.kind !== 'quire') throw new Error('quireCombineKernel: the spec must accumulate in a quire');
    const L = acc.limbs;
    const T = QUIRE_TABLE_OFFSETS;
    const R = QUIRE_MODULI_COUNT;
    const W = QUIRE_CRT_WORDS;
    const e = s.epilogue;
    const names: [string, 'read' | 'read_write', string][] = [
      ['g', 'read', 'array<i32>'],
      ['info_a', 'read', 'array<u32>'],
      ['info_b', 'read', 'array<u32>'],
      ['plan', 'read', 'array<u32>'],
      ['tables', 'read', 'array<u32>'],
      ['out', 'read_write', 'array<f32>'],
    ];
    if (e.bias !== 'none') names.push(['bias', 'read', 'array<f32>']);
    if (e.aux) names.push(['aux', 'read_write', 'array<f32>']);
    const bindings = bindingTable(names);
    const source = (header: string) => wgsl`
${header}
${libraryWgsl(s, { operands: false, epilogue: true })}
${usesPhase([e.out]) ? PHASE_WGSL : ''}
${quireWgsl(L, acc.lsb)}
${epilogueWgsl(e, s.acc)}

alias Wide = array<u32, ${W}>;

// The wide integers use their low nw words: enough for M_n (the callers' n), the rest stays 0.
// x = x * m + v (m <= 256, v < 256): 16-bit halves keep every partial product below 2^25.
fn wide_mad(x: ptr<function, Wide>, m: u32, v: u32, nw: u32) {
  var carry = v;
  for (var i = 0u; i < nw; i++) {
    let lo = ((*x)[i] & 0xffffu) * m + carry;
    let hi = ((*x)[i] >> 16u) * m + (lo >> 16u);
    (*x)[i] = (lo & 0xffffu) | (hi << 16u);
    carry = hi >> 16u;
  }
}

// The table's integer at word offset t, compared with x: x > table?
fn wide_greater(x: ptr<function, Wide>, t: u32, nw: u32) -> bool {
  for (var i = i32(nw) - 1; i >= 0; i--) {
    let a = (*x)[i];
    let b = buf_tables[t + u32(i)];
    if (a != b) { return a > b; }
  }
  return false;
}

// x = x - table (two's complement over the nw words).
fn wide_sub(x: ptr<function, Wide>, t: u32, nw: u32) {
  var borrow = 0u;
  for (var i = 0u; i < nw; i++) {
    let a = (*x)[i];
    let b = buf_tables[t + i];
    let d = a - b - borrow;
    borrow = select(0u, 1u, a < b || (a == b && borrow == 1u));
    (*x)[i] = d;
  }
}

// 32 bits of x, sign-extended (fill) from nw words, starting at bit b (zeros below bit 0).
fn wide_bits(x: ptr<function, Wide>, b: i32, fill: u32, nw: u32) -> u32 {
  if (b <= -32) { return 0u; }
  if (b < 0) { return (*x)[0] << u32(-b); }
  let w = u32(b) >> 5u;
  let o = u32(b) & 31u;
  let lo = select(fill, (*x)[min(w, ${u32(W - 1)})], w < nw);
  let hi = select(fill, (*x)[min(w + 1u, ${u32(W - 1)})], w + 1u < nw);
  return select((lo >> o) | (hi << (32u - o)), lo, o == 0u);
}

@compute @workgroup_size(${COMBINE_TILE}, ${COMBINE_TILE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y;
  let j = gid.x;
  let z = gid.z;
  if (i >= P.m || j >= P.n) { return; }
  let ia = 2u * (z * P.m + i);
  let ib = 2u * (z * P.n + j);
  let hia = buf_info_a[ia + 1u];
  let hib = buf_info_b[ib + 1u];
  var q: Quire;
  let flagged = ((hia | hib) >> 31u) != 0u || buf_plan[1] != 0u;
  q[${u32(L)}] = select(0u, 0x40000000u, flagged);
  if ((hia & 0x7fffffffu) != 0u && (hib & 0x7fffffffu) != 0u && !flagged) {
    let n = buf_plan[0];
    // Residues of C (chunk sums reduced mod m) and Garner's digits.
    var v: array<u32, ${R}>;
    for (var l = 0u; l < n; l++) {
      let m = buf_tables[${u32(T.mod)} + l];
      var r = 0u;
      for (var c = 0u; c < P.chunks; c++) {
        var t = buf_g[l * P.slab_g + ((c * P.batch + z) * P.mp + i) * P.np + j] % i32(m);
        if (t < 0) { t = t + i32(m); }
        r = r + u32(t);
      }
      var acc = 0u;
      for (var p = 0u; p < l; p++) { acc = acc + v[p] * buf_tables[${u32(T.gar)} + l * ${u32(R)} + p]; }
      let d = (r % m + m - acc % m) % m;
      v[l] = (d * buf_tables[${u32(T.inv)} + l]) % m;
    }
    // C mod M_n = sum v_l M_l (Horner, from the top digit), then the symmetric representative.
    // M_n < 2^(cover + 1), and |C| < 2^cover takes cover + 1 bits with its sign: nw words hold both.
    let nw = min(${u32(W)}, (buf_tables[${u32(T.cover)} + n] + 1u) / 32u + 1u);
    var x: Wide;
    for (var l = n; l > 0u; l--) { wide_mad(&x, buf_tables[${u32(T.mod)} + l - 1u], v[l - 1u], nw); }
    var fill = 0u;
    if (wide_greater(&x, ${u32(T.half)} + n * ${u32(W)}, nw)) {
      wide_sub(&x, ${u32(T.prod)} + n * ${u32(W)}, nw);
      fill = 0xffffffffu;
    }
    // The quire holds C * 2^(loA + loB) (two's complement, sign-extended to its top limb).
    let sh = i32(buf_info_a[ia] + buf_info_b[ib]);
    for (var l = 0; l < ${L}; l++) { q[l] = wide_bits(&x, 32 * l - sh, fill, nw); }
  }
  store_quire(z, i, j, q);
}
`;
    return kernelVariant({ label: 'quire-combine', key, params: SLICED_PARAMS, bindings, source, prefix: 'buf_' });
  },
  (s: GemmSpec) => `combine|${gemmKey(s)}`,
);

// ---- grids ----------------------------------------------------------------------------------------

/** Stats: a workgroup per row (batch * rows). */
export function quireStatsGrid(rows: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, rows);
}

/** Residues: a thread per packed word (batch * rows * kp / 4). */
export function quireResidueGrid(words: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(words / RESIDUE_THREADS));
}

/** Combine: a thread per output, 16 x 16 per workgroup, z the batch. */
export function quireCombineGrid(s: { m: number; n: number; batch: number }, limits: GridLimits): [number, number, number] {
  const g: [number, number, number] = [Math.ceil(s.n / COMBINE_TILE), Math.ceil(s.m / COMBINE_TILE), s.batch];
  const max = limits.maxComputeWorkgroupsPerDimension;
  if (g.some((x) => x > max)) throw new RangeError(`the quire combine of a ${s.batch} x ${s.m} x ${s.n} output needs [${g}] workgroups, over the device's ${max} per dimension`);
  return g;
}
