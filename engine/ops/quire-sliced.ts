// Running the sliced exact quire (shaders/quire-sliced.ts) for a GEMM that engine/ops/gemm.ts
// planned with quire accumulation: the temporaries, the parameter block, and the dispatches in order
// (stats of A and B, plan, residues of A and B, one integer GEMM per modulus the buffers hold,
// combine). Nothing is read back: the plan's modulus count lives on the GPU and the GEMMs beyond it
// exit at once. The result is the per-product quire's, bit for bit (test/engine/quire-sliced.test.ts,
// and `posit-gan bench quire --check` on a GPU).

import type { BindingValues, ParamValues } from '../../shaders/kernel.ts';
import type { GEMM_PARAMS, GemmSpec } from '../../shaders/matmul.ts';
import type { QuireOperand } from '../../shaders/matmul-quire.ts';
import { quireTables } from '../../shaders/quire-crt.ts';
import { dot4Inner, slicedModuli, slicedSizes, subgroupMatrixInner, usesSubgroupMatrix, type QuireMethod } from '../../shaders/quire-plan.ts';
import {
  residueGemmGrid,
  residueGemmKernel,
  residueGemmSharedBytes,
  residueGemmTile,
  type ResidueGemmInner,
  type SubgroupMatrixInner,
} from '../../shaders/quire-residue-gemm.ts';
import {
  QUIRE_PLAN_KERNEL,
  quireCombineGrid,
  quireCombineKernel,
  quireResidueGrid,
  quireResidueKernel,
  quireStatsGrid,
  quireStatsKernel,
  SLICED_PARAMS,
  type SlicedKernel,
  type SlicedOperand,
} from '../../shaders/quire-sliced.ts';
import { SUBGROUP_MATRIX_FEATURE, type Gpu } from '../device/gpu.ts';
import { describeConfig } from '../device/subgroup-matrix.ts';
import type { Binding } from '../kernels/cache.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';

/** One recorded dispatch of a GEMM's plan (gemm.ts GemmDispatch). */
export interface SlicedDispatch {
  label: string;
  record(rt: Runtime): void;
}

// The constant tables (shaders/quire-crt.ts), uploaded once per runtime.
const tables = new WeakMap<Runtime, GPUBuffer>();

function tablesBuffer(rt: Runtime): GPUBuffer {
  let b = tables.get(rt);
  if (!b) tables.set(rt, (b = rt.gpu.upload(quireTables(), 'quire-tables')));
  return b;
}

/** A stand-in for the subgroup-matrix GEMM: its variant and a kernel for it. Tests use one to run
 *  the generated subgroup-matrix kernel, its builtins emulated in plain WGSL, on adapters without
 *  subgroup matrices (test/engine/subgroup-matrix-emulation.ts); nothing else sets it. */
export interface SubgroupMatrixStandIn {
  inner: SubgroupMatrixInner;
  kernel(inner: SubgroupMatrixInner): SlicedKernel;
}
let standIn: SubgroupMatrixStandIn | null = null;

/** Sets (or, with null, removes) the stand-in for the subgroup-matrix GEMM. */
export function standInForSubgroupMatrix(s: SubgroupMatrixStandIn | null): void {
  standIn = s;
}

/** The integer GEMM variant a method runs on this device; throws, naming the problem and the fix,
 *  when the device cannot run it. */
export function residueInner(gpu: Gpu, method: QuireMethod, staging?: 'workgroup' | 'storage'): ResidueGemmInner {
  if (!usesSubgroupMatrix(method)) return dot4Inner(gpu.adapter.software);
  if (!gpu.features.has(SUBGROUP_MATRIX_FEATURE)) {
    throw new Error(
      `quire method '${method}' runs on subgroup matrices, but this device was opened without them: open it with ` +
        '--subgroup-matrix (GpuOptions.subgroupMatrix), which needs an adapter offering chromium-experimental-subgroup-matrix',
    );
  }
  const sm = gpu.subgroupMatrix;
  if (!sm?.int8) throw new Error(`the tensor-core quire cannot run on ${gpu.adapter.description}: ${sm?.problem ?? 'its subgroup matrices were not probed'}`);
  const size = gpu.adapter.subgroupMaxSize!;
  return subgroupMatrixInner(sm.int8.config, size, sm.int8.conventions, staging ?? (method === 'sliced-subgroup-matrix-storage' ? 'storage' : 'workgroup'), gpu.limits.maxComputeWorkgroupStorageSize);
}

/** A description of the method for messages and benchmark tables. */
export function describeInner(gpu: Gpu, inner: ResidueGemmInner): string {
  if (inner.kind === 'dot4') return `dot4I8Packed, ${inner.bm}x${inner.bn} tile`;
  const c = gpu.subgroupMatrix?.int8;
  return `subgroup matrices ${c ? describeConfig(c.config) : ''}, ${inner.staging} staging`;
}

export interface SlicedCall {
  op: string;
  a: Tensor;
  b: Tensor;
  m: number;
  n: number;
  k: number;
  batch: number;
  qa: QuireOperand;
  qb: QuireOperand;
  out: Tensor;
  aux: Tensor | null;
  bias?: Tensor | undefined;
  /** The per-product quire GEMM's spec (operands, quire width, epilogue) and parameter block. */
  spec: GemmSpec;
  params: ParamValues<typeof GEMM_PARAMS.table>;
  /** 8-bit code tables of the operands (gemm.ts lutBuffer), by operand. */
  lut: { a?: GPUBuffer; b?: GPUBuffer };
  method: QuireMethod;
}

function dispatch(kernel: SlicedKernel, params: ParamValues<typeof SLICED_PARAMS.table>, buffers: Record<string, Binding | undefined>, groups: [number, number, number], label: string): SlicedDispatch {
  const named = buffers as BindingValues<SlicedKernel, Binding>;
  return { label, record: (rt) => rt.run(kernel, params, named, groups, label) };
}

/** The dispatches of a sliced quire GEMM; its temporaries go to `temps` (freed after recording). */
export function buildSlicedQuire(rt: Runtime, c: SlicedCall, temps: Tensor[]): SlicedDispatch[] {
  const gpu = rt.gpu;
  const maxModuli = slicedModuli(c.qa, c.qb, c.k);
  if (typeof maxModuli === 'string') throw new Error(`${c.op}: the sliced quire cannot take these operands: ${maxModuli}`);
  const useStandIn = standIn !== null && usesSubgroupMatrix(c.method);
  const inner = useStandIn ? standIn!.inner : residueInner(gpu, c.method);
  const shared = residueGemmSharedBytes(inner);
  if (shared > gpu.limits.maxComputeWorkgroupStorageSize) {
    throw new Error(`${c.op}: the quire's residue GEMM needs ${shared} bytes of workgroup memory; this device has ${gpu.limits.maxComputeWorkgroupStorageSize}`);
  }
  const tile = residueGemmTile(inner);
  const z = c.batch;
  const sz = slicedSizes(c, tile, inner.kind !== 'dot4', maxModuli);
  const limit = gpu.limits.maxStorageBufferBindingSize;
  const temp = (words: number, label: string) => {
    if (words * 4 > limit) {
      throw new Error(
        `${c.op}: the sliced quire needs a ${Math.ceil((words * 4) / 2 ** 20)} MiB buffer (${label}) for a ${z} x ${c.m} x ${c.n} x ${c.k} product; ` +
          `the device binds at most ${Math.floor(limit / 2 ** 20)} MiB. Split the product, or use quire method 'mac'.`,
      );
    }
    const t = Tensor.empty(rt, [Math.max(4, words)], null, `${c.op}:${label}`);
    temps.push(t);
    return t.buffer;
  };
  const infoA = temp(2 * z * c.m, 'quire-info-a');
  const infoB = temp(2 * z * c.n, 'quire-info-b');
  const plan = temp(4, 'quire-plan');
  const resA = temp(sz.resA, 'quire-res-a');
  const resB = temp(sz.resB, 'quire-res-b');
  const g = temp(sz.g, 'quire-g');
  const tab = tablesBuffer(rt);

  const params = (extra: { gridX?: number; modulus?: number } = {}): ParamValues<typeof SLICED_PARAMS.table> => ({
    ...c.params,
    grid_x: extra.gridX ?? 0,
    tm: inner.kind === 'dot4' ? inner.tm : 0,
    tn: inner.kind === 'dot4' ? inner.tn : 0,
    kp: sz.kp,
    chunks: sz.chunks,
    mp: sz.mp,
    np: sz.np,
    slab_a: sz.slabA,
    slab_b: sz.slabB,
    slab_g: sz.slabG,
    modulus: extra.modulus ?? 0,
    klog: Math.ceil(Math.log2(Math.max(1, c.k))),
    max_moduli: maxModuli,
  });
  const operand = (p: 'a' | 'b'): SlicedOperand => ({ p, spec: { ...c.spec[p], quire: p === 'a' ? c.qa : c.qb } });
  const limits = gpu.limits;
  const out: SlicedDispatch[] = [];
  for (const p of ['a', 'b'] as const) {
    const rows = z * (p === 'a' ? c.m : c.n);
    const grid = quireStatsGrid(rows, limits);
    const o = operand(p);
    out.push(dispatch(quireStatsKernel(o), params({ gridX: grid[0] }), { [p]: c[p].buffer, lut0: c.lut[p], info: p === 'a' ? infoA : infoB }, grid, `quire-stats:${c.op}`));
  }
  out.push(dispatch(QUIRE_PLAN_KERNEL, params(), { info_a: infoA, info_b: infoB, tables: tab, plan }, [1, 1, 1], `quire-plan:${c.op}`));
  for (const p of ['a', 'b'] as const) {
    const words = (z * (p === 'a' ? c.m : c.n) * sz.kp) / 4;
    const grid = quireResidueGrid(words, limits);
    out.push(
      dispatch(
        quireResidueKernel(operand(p)),
        params({ gridX: grid[0] }),
        { [p]: c[p].buffer, lut0: c.lut[p], info: p === 'a' ? infoA : infoB, plan, tables: tab, res: p === 'a' ? resA : resB },
        grid,
        `quire-residues:${c.op}`,
      ),
    );
  }
  const gemmGroups = residueGemmGrid(c, sz.chunks, inner, limits);
  const gemmKernel = useStandIn ? standIn!.kernel(standIn!.inner) : residueGemmKernel(inner);
  for (let l = 0; l < maxModuli; l++) {
    out.push(dispatch(gemmKernel, params({ modulus: l }), { res_a: resA, res_b: resB, plan, g }, gemmGroups, `quire-gemm:${c.op}`));
  }
  out.push(
    dispatch(
      quireCombineKernel(c.spec),
      params(),
      { g, info_a: infoA, info_b: infoB, plan, tables: tab, out: c.out.buffer, bias: c.bias?.buffer, aux: c.aux?.buffer },
      quireCombineGrid(c, limits),
      `quire-combine:${c.op}`,
    ),
  );
  return out;
}
