// Running one GEMM of the generator in shaders/matmul.ts: operand storage from the tensors' encodings,
// the plan (tile, split-K, quire width), the parameter block, the code tables, the dispatches and the
// op counts. matmul.ts and conv.ts describe their products as GemmCalls (index maps and strides);
// nothing here knows about matrices or images.

import { decodeToF32Bits } from '../../formats/codec.ts';
import type { Format, Rounding } from '../../formats/descriptor.ts';
import type { BindingValues, ParamValues } from '../../shaders/kernel.ts';
import type { Binding } from '../kernels/cache.ts';
import { planGemm, quireLimbs, quireOperand, roundsThroughOdd, type GemmPlan, type TileName } from '../../shaders/matmul-plan.ts';
import { chooseQuireMethod, isSliced, type QuireMethod } from '../../shaders/quire-plan.ts';
import { SUBGROUP_MATRIX_FEATURE } from '../device/gpu.ts';
import { buildSlicedQuire } from './quire-sliced.ts';
import type { Gpu } from '../device/gpu.ts';
import type { TensorRole } from '../record/schema.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { UNARY, binaryRaw } from './elementwise-raw.ts';
import { countIn, fusable, type FusedRounding } from './round.ts';
import {
  GEMM_PARAMS,
  gemmGrid,
  gemmKernel,
  gemmReduceGrid,
  gemmReduceKernel,
  sharedBytes,
  type ActivationName,
  type GemmBinding,
  type GemmKernel,
  type GemmSpec,
  type OperandSpec,
  type OperandStorage,
} from '../../shaders/matmul.ts';
import type { OperandMap, OutputMap } from '../../shaders/matmul-maps.ts';
import type { QuireOperand } from '../../shaders/matmul-quire.ts';

/** An operand as the GEMM sees it: X(z, r, k) for its free index r and the reduction index k. */
export interface OperandView {
  t: Tensor;
  map: OperandMap;
  /** Strided / ksplit maps: element offset = base + z*sz + r*sr + k*sk, or with ksplit
   *  base + z*sz + r*sr + (k / kd)*sk2 + (k % kd)*sk. */
  base?: number;
  sz?: number;
  sr?: number;
  sk?: number;
  kd?: number;
  sk2?: number;
  role: TensorRole;
}

/** Convolution geometry for the conv maps (see shaders/matmul-maps.ts). */
export interface ConvGeometry {
  n: number;
  ci: number;
  hi: number;
  wi: number;
  co: number;
  ho: number;
  wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
}

export interface GemmEpilogue {
  bias?: Tensor | undefined;
  activation?: ActivationName | undefined;
  slope?: number | undefined;
  output?: { format: Format; rounding?: Rounding | undefined; seed?: number | undefined } | undefined;
}

export interface GemmCall extends GemmEpilogue {
  op: string;
  a: OperandView;
  b: OperandView;
  m: number;
  n: number;
  k: number;
  batch: number;
  geometry?: ConvGeometry;
  outShape: readonly number[];
  outMap: OutputMap;
  /** nchw output: pixels per image (the n index is image * pixels + pixel). */
  pixels?: number;
  biasAxis?: 'row' | 'col';
  /** Also return the activation's output before quantization (for the activation's backward). */
  aux?: boolean;
  /** The layer the output rounding's conversion is counted in (default: the current one): a
   *  quantizer's backward fused into a gradient GEMM belongs to the quantizer's layer. */
  outputLayer?: string | undefined;
  accumulate?: 'f32' | 'quire';
  /** How a quire is computed (shaders/quire-plan.ts); default: chosen for the device and shape. */
  quireMethod?: QuireMethod | undefined;
  tile?: TileName | undefined;
  /** Multiply-accumulates to count (a convolution's true taps; default m*n*k*batch). */
  macs?: number;
  outRole: TensorRole;
}

export interface GemmResult {
  out: Tensor;
  /** The pre-quantization activation output, when asked for. */
  aux: Tensor | null;
  plan: GemmPlan;
  spec: GemmSpec;
  /** How the quire was computed (quire accumulation only). */
  quireMethod?: QuireMethod;
}

/** Workgroups that keep the device busy: about two per compute unit of a large GPU, or one per CPU
 *  core of a software adapter, which runs a workgroup per thread and prefers fewer, larger tiles
 *  (WebGPU reports neither, so these are estimates; without navigator, 4 cores). */
export function parallelism(gpu: Gpu): number {
  if (!gpu.adapter.software) return 256;
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 4;
}

const ACTIVATION_FN = { relu: 'relu', leaky_relu: 'leaky_relu', tanh: 'tanh', sigmoid: 'sigmoid' } as const;

/** Checks the epilogue options of a product with `n` outputs per bias element axis. */
/** The GemmCall fields of a layer's fused epilogue, from the options matmul and conv take. */
export function epilogueFields(
  o: GemmEpilogue & Pick<GemmCall, 'accumulate' | 'quireMethod' | 'tile'>,
  biasAxis: 'row' | 'col',
  aux: boolean,
  outRole: TensorRole,
): Pick<GemmCall, keyof GemmEpilogue | 'biasAxis' | 'aux' | 'accumulate' | 'quireMethod' | 'tile' | 'outRole'> {
  return { bias: o.bias, biasAxis, activation: o.activation, slope: o.slope, output: o.output, aux, accumulate: o.accumulate, quireMethod: o.quireMethod, tile: o.tile, outRole };
}

export function checkEpilogue(op: string, o: GemmEpilogue, n: number, axis: string): void {
  if (o.bias) {
    if (!o.bias.isF32) throw new Error(`${op}: bias ${o.bias} must be float32, not packed codes`);
    if (o.bias.rank !== 1 || o.bias.shape[0] !== n) throw new Error(`${op}: bias must be [${n}] (one per output ${axis}), got [${o.bias.shape.join(', ')}]`);
  }
  const act = o.activation ?? 'none';
  if (act !== 'none' && !(act in ACTIVATION_FN)) throw new Error(`${op}: unknown activation '${act}' (none, relu, leaky_relu, tanh, sigmoid)`);
  if (o.slope !== undefined && !(o.slope >= 0)) {
    throw new Error(`${op}: leaky_relu slope ${o.slope} must be >= 0 (backward reads the derivative from the output's sign)`);
  }
  const out = o.output;
  if (out) {
    if (!out.format || typeof out.format !== 'object' || !('family' in out.format)) throw new Error(`${op}: output.format must be a parsed Format (parseFormat)`);
    const r = out.rounding ?? 'nearest';
    if (r !== 'nearest' && r !== 'stochastic') throw new Error(`${op}: output rounding '${String(r)}' must be 'nearest' or 'stochastic'`);
    if (r === 'stochastic' && out.seed === undefined) throw new Error(`${op}: stochastic output rounding needs a seed`);
    if (out.seed !== undefined && !(Number.isInteger(out.seed) && out.seed >= 0 && out.seed <= 0xffffffff)) throw new Error(`${op}: seed ${out.seed} must be a u32`);
  }
}

/** The gradient before the activation: g * act'(.), read from the activation's output y (relu and
 *  leaky relu with slope >= 0 keep the sign of their input; tanh' = 1 - y^2, sigmoid' = y(1 - y)). */
export function activationGrad(g: Tensor, y: Tensor, act: ActivationName, slope = 0.01): Tensor {
  switch (act) {
    case 'none':
      return g;
    case 'relu':
      return binaryRaw(g, y, 'relu_grad');
    case 'leaky_relu':
      return binaryRaw(g, y, 'leaky_relu_grad', [slope]);
    case 'tanh':
      return binaryRaw(g, y, 'tanh_grad');
    case 'sigmoid':
      return binaryRaw(g, y, 'sigmoid_grad');
  }
}

/** The epilogue field that rounds a gradient GEMM's result as autograd asks (engine/ops/round.ts):
 *  the epilogue's rounding of the f32 sum is the quantize kernel's, and it counts the same conversion. */
export function roundedOutput(r: FusedRounding | null | undefined): Pick<GemmCall, 'output' | 'outputLayer'> {
  const f = fusable(r);
  return f ? { output: { format: f.format, rounding: f.rounding }, outputLayer: f.layer } : {};
}

/** Role of the gradient of a tensor with role r (for op counts). */
export function gradRole(r: TensorRole): TensorRole {
  return r === 'weights' ? 'gradients' : 'errors';
}

function storageOf(t: Tensor): OperandStorage {
  if (!t.encoding) return 'f32';
  const bits = t.encoding.format.bits;
  return bits <= 8 ? 'code8' : bits <= 16 ? 'code16' : 'code32';
}

/** The lattice the quire reads an operand on: packed codes are decoded without their bias (the bias
 *  is the epilogue's scale); float32 tensors must carry the lattice their values lie on. */
function quireLattice(t: Tensor, op: string, which: string): QuireOperand & { msb: number } {
  const what = `${op}: operand ${which} ${t}`;
  if (t.encoding) return quireOperand(t.encoding.format, 0, what);
  if (t.lattice) return quireOperand(t.lattice, t.latticeBias, what);
  throw new Error(
    `${what} holds plain float32 values; quire accumulation needs both operands on a lattice of at most 16 bits ` +
      '(packed codes, or float32 values quantized to a format: tensor.lattice)',
  );
}

/** Loads along the operand's contiguous direction; 4-wide when the layout allows (aligned, unit stride)
 *  and the tile stages slices in workgroup memory. */
function operandSpec(v: OperandView, rows: number, k: number, plan: GemmPlan, quire: QuireOperand | undefined): OperandSpec {
  const kPerSplit = plan.kPerSplit;
  const storage = storageOf(v.t);
  const strided = v.map === 'strided' || v.map === 'ksplit';
  let kFastest: boolean;
  if (strided) kFastest = v.sk === 1 || v.sr !== 1;
  else kFastest = v.map === 'im2col_t';
  const aligned = (...xs: (number | undefined)[]) => xs.every((x) => (x ?? 0) % 4 === 0);
  const vector =
    plan.config.staging !== 'direct' &&
    v.map === 'strided' &&
    aligned(v.base, v.sz) &&
    (kFastest ? v.sk === 1 && aligned(v.sr, k, kPerSplit) : v.sr === 1 && aligned(v.sk, rows));
  const spec: OperandSpec = { storage, map: v.map, kFastest, vector };
  if (v.t.encoding) spec.format = v.t.encoding.format;
  if (quire) spec.quire = quire;
  return spec;
}

// 8-bit code tables: float32 bits of every code's value (unbiased), built once per format per runtime.
const luts = new WeakMap<Runtime, Map<string, GPUBuffer>>();

export function lutBuffer(rt: Runtime, f: Format): GPUBuffer {
  let m = luts.get(rt);
  if (!m) luts.set(rt, (m = new Map()));
  let buf = m.get(f.name);
  if (!buf) {
    const words = new Uint32Array(256);
    for (let c = 0; c < 2 ** f.bits; c++) words[c] = decodeToF32Bits(f, c);
    m.set(f.name, (buf = rt.gpu.upload(words, `lut:${f.name}`)));
  }
  return buf;
}

function valueBits(t: Tensor): number {
  return t.encoding?.format.bits ?? t.lattice?.bits ?? 32;
}

/** One dispatch of a GEMM (a benchmark replays it inside timed passes): `record` runs it through
 *  rt.run. Pipeline labels: gemm:<op>, gemm-reduce:<op>, quire-*:<op> (the sliced quire). */
export interface GemmDispatch {
  label: string;
  record(rt: Runtime): void;
}

function gemmDispatch(
  kernel: GemmKernel,
  params: ParamValues<typeof GEMM_PARAMS.table>,
  buffers: BindingValues<GemmKernel, Binding>,
  groups: [number, number, number],
  label: string,
): GemmDispatch {
  return { label, record: (rt) => rt.run(kernel, params, buffers, groups, label) };
}

export interface PreparedGemm extends GemmResult {
  dispatches: GemmDispatch[];
  /** Frees the temporaries (split-K partial sums) once the dispatches are recorded. */
  release(): void;
}

/** Plans a GEMM, allocates its output and builds its dispatches without recording them. */
export function prepareGemm(c: GemmCall): PreparedGemm {
  const rt = c.a.t.rt;
  const quire = (c.accumulate ?? 'f32') === 'quire';
  const activation = c.activation ?? 'none';
  // Quantizing float32 results to fp32 changes nothing: no encoder is generated for it.
  const output = c.output && c.output.format.name !== 'fp32' ? { format: c.output.format, rounding: c.output.rounding ?? 'nearest' } : null;
  const plan = planGemm({ m: c.m, n: c.n, k: c.k, batch: c.batch }, { quire, parallelism: parallelism(rt.gpu), software: rt.gpu.adapter.software, tile: c.tile });

  let acc: GemmSpec['acc'] = { kind: 'f32' };
  let qa: (QuireOperand & { msb: number }) | undefined;
  let qb: (QuireOperand & { msb: number }) | undefined;
  let quireMethod: QuireMethod | undefined;
  if (quire) {
    qa = quireLattice(c.a.t, c.op, 'a');
    qb = quireLattice(c.b.t, c.op, 'b');
    quireMethod = chooseQuireMethod({
      forced: c.quireMethod,
      qa,
      qb,
      k: c.k,
      outputs: c.m * c.n * c.batch,
      software: rt.gpu.adapter.software,
      subgroupMatrix: rt.gpu.features.has(SUBGROUP_MATRIX_FEATURE),
    });
    const q = quireLimbs(qa, qb, c.k);
    acc = { kind: 'quire', limbs: q.limbs, lsb: q.lsb };
    if (output && !roundsThroughOdd(output.format)) {
      throw new Error(`${c.op}: a quire rounds once to formats whose rounding boundaries have at most 23 significant bits; ${output.format.name} has more`);
    }
  }
  const spec: GemmSpec = {
    a: operandSpec(c.a, c.m, c.k, plan, qa),
    b: operandSpec(c.b, c.n, c.k, plan, qb),
    tile: plan.config,
    acc,
    partial: plan.splits > 1,
    epilogue: {
      bias: c.bias ? (c.biasAxis ?? 'col') : 'none',
      activation,
      output,
      aux: !!c.aux,
      out: c.outMap,
    },
  };
  if (activation !== 'none') spec.epilogue.activationExpr = UNARY[activation].expr;
  const maxShared = rt.gpu.limits.maxComputeWorkgroupStorageSize;
  if (sharedBytes(spec) > maxShared) {
    throw new Error(`${c.op}: tile '${plan.tile}' needs ${sharedBytes(spec)} bytes of workgroup memory; this device has ${maxShared}`);
  }
  const out = Tensor.empty(rt, c.outShape, null, c.op);
  const aux = c.aux ? Tensor.empty(rt, c.outShape, null, `${c.op}:aux`) : null;
  if (output) out.lattice = output.format;
  const temps: Tensor[] = [];
  let dispatches: GemmDispatch[] = [];
  if (c.m * c.n * c.batch > 0) {
    dispatches =
      quireMethod && isSliced(quireMethod)
        ? buildSlicedQuire(rt, { ...c, a: c.a.t, b: c.b.t, qa: qa!, qb: qb!, out, aux, spec, params: params(c, plan, 0), lut: sliceLuts(rt, spec), method: quireMethod }, temps)
        : build(rt, c, spec, plan, out, aux, temps);
  }
  const result: PreparedGemm = { out, aux, plan, spec, dispatches, release: () => temps.forEach((t) => t.dispose()) };
  if (quireMethod) result.quireMethod = quireMethod;
  return result;
}

/** The 8-bit code table of each code8 operand, for the sliced quire's per-operand kernels. */
function sliceLuts(rt: Runtime, spec: GemmSpec): { a?: GPUBuffer; b?: GPUBuffer } {
  const lut: { a?: GPUBuffer; b?: GPUBuffer } = {};
  for (const p of ['a', 'b'] as const) if (spec[p].storage === 'code8') lut[p] = lutBuffer(rt, spec[p].format!);
  return lut;
}

/** Runs one GEMM: records its dispatches into the runtime's command encoder and counts its ops. */
export function gemm(c: GemmCall): GemmResult {
  const p = prepareGemm(c);
  const rt = c.a.t.rt;
  for (const d of p.dispatches) d.record(rt);
  p.release();
  count(rt, c, p.spec, p.out, p.aux, c.m * c.n * c.batch);
  const r: GemmResult = { out: p.out, aux: p.aux, plan: p.plan, spec: p.spec };
  if (p.quireMethod) r.quireMethod = p.quireMethod;
  return r;
}

const NO_GEOMETRY: ConvGeometry = { n: 0, ci: 0, hi: 0, wi: 0, co: 0, ho: 0, wo: 0, kh: 0, kw: 0, sh: 0, sw: 0, dh: 0, dw: 0, pt: 0, pl: 0 };

function params(c: GemmCall, plan: GemmPlan, gridX: number): ParamValues<typeof GEMM_PARAMS.table> {
  const g = c.geometry ?? NO_GEOMETRY;
  const { a, b } = c;
  return {
    m: c.m,
    n: c.n,
    k: c.k,
    batch: c.batch,
    k_per_split: plan.kPerSplit,
    splits: plan.splits,
    scale_exp: -((a.t.encoding?.bias ?? 0) + (b.t.encoding?.bias ?? 0)),
    slope: c.slope ?? 0.01,
    seed: c.output?.seed ?? 0,
    grid_x: gridX,
    c_pix: c.pixels ?? 1,
    tm: plan.config.tm,
    tn: plan.config.tn,
    a_base: a.base ?? 0, a_sz: a.sz ?? 0, a_sr: a.sr ?? 0, a_sk: a.sk ?? 0, a_kd: a.kd ?? 1, a_sk2: a.sk2 ?? 0,
    b_base: b.base ?? 0, b_sz: b.sz ?? 0, b_sr: b.sr ?? 0, b_sk: b.sk ?? 0, b_kd: b.kd ?? 1, b_sk2: b.sk2 ?? 0,
    g_n: g.n, g_ci: g.ci, g_hi: g.hi, g_wi: g.wi, g_co: g.co, g_ho: g.ho, g_wo: g.wo,
    g_kh: g.kh, g_kw: g.kw, g_sh: g.sh, g_sw: g.sw, g_dh: g.dh, g_dw: g.dw, g_pt: g.pt, g_pl: g.pl,
  };
}

function build(rt: Runtime, c: GemmCall, spec: GemmSpec, plan: GemmPlan, out: Tensor, aux: Tensor | null, temps: Tensor[]): GemmDispatch[] {
  let groups: [number, number, number];
  try {
    groups = gemmGrid(c, plan.config, plan.splits, rt.gpu.limits);
  } catch (e) {
    throw new Error(`${c.op}: tile '${plan.tile}': ${(e as Error).message}`, { cause: e });
  }
  // Code tables lut<i>, in the generator's order (distinct code8 formats of a, then b).
  const lutFormats = [...new Map([spec.a, spec.b].filter((o) => o.storage === 'code8').map((o) => [o.format!.name, o.format!])).values()];
  const shared: Partial<Record<GemmBinding, Binding>> = { out: out.buffer, bias: c.bias?.buffer, aux: aux?.buffer };
  lutFormats.forEach((f, i) => (shared[`lut${i}` as GemmBinding] = lutBuffer(rt, f)));
  const main = gemmKernel(spec);
  const operands = { ...shared, a: c.a.t.buffer, b: c.b.t.buffer } as BindingValues<GemmKernel, Binding>;
  if (plan.splits === 1) return [gemmDispatch(main, params(c, plan, 0), operands, groups, `gemm:${c.op}`)];
  const partial = Tensor.empty(rt, [plan.splits * c.batch * c.m * c.n], null, `${c.op}:partial`);
  temps.push(partial);
  const grid = gemmReduceGrid(c.batch * c.m * c.n, rt.gpu.limits);
  return [
    gemmDispatch(main, params(c, plan, 0), { ...operands, out: partial.buffer }, groups, `gemm:${c.op}`),
    gemmDispatch(gemmReduceKernel(spec), params(c, plan, grid[0]), { ...shared, partial: partial.buffer } as BindingValues<GemmKernel, Binding>, grid, `gemm-reduce:${c.op}`),
  ];
}

function count(rt: Runtime, c: GemmCall, spec: GemmSpec, out: Tensor, aux: Tensor | null, outputs: number): void {
  if (!rt.recorder) return;
  const quire = spec.acc.kind === 'quire';
  rt.count({ kind: 'mac', a: c.a.t.valueFormat, b: c.b.t.valueFormat, acc: quire ? 'quire' : 'fp32', count: c.macs ?? c.m * c.n * c.k * c.batch });
  const e = spec.epilogue;
  const direct = quire && e.output !== null && e.bias === 'none' && e.activation === 'none';
  if (spec.acc.kind === 'quire') {
    rt.count({ kind: 'quire_round', format: direct ? e.output!.format.name : 'fp32', quireBits: spec.acc.limbs * 32, count: outputs });
  }
  // A K split over workgroups (plan.splits > 1) adds no op of its own: the K MACs per output already
  // include every accumulation, and counting the slices' final sums would make the counts depend on
  // the adapter (the planner splits by its parallelism).
  if (e.bias !== 'none') rt.count({ kind: 'add', format: 'fp32', count: outputs });
  if (e.activation !== 'none') rt.count({ kind: 'activation', fn: ACTIVATION_FN[e.activation], format: 'fp32', fast: false, count: outputs });
  if (e.output && !direct) countIn(rt, c.outputLayer, () => rt.count({ kind: 'convert', from: 'fp32', to: e.output!.format.name, rounding: e.output!.rounding, count: outputs }));
  for (const o of [c.a, c.b]) rt.count({ kind: 'memory', direction: 'read', role: o.role, format: o.t.valueFormat, bits: o.t.size * valueBits(o.t) });
  if (c.bias) rt.count({ kind: 'memory', direction: 'read', role: 'weights', format: c.bias.valueFormat, bits: c.bias.size * valueBits(c.bias) });
  rt.count({ kind: 'memory', direction: 'write', role: c.outRole, format: out.valueFormat, bits: out.size * valueBits(out) });
  if (aux) rt.count({ kind: 'memory', direction: 'write', role: c.outRole, format: 'fp32', bits: aux.size * 32 });
}
