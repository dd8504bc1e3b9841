// What a device's subgroup matrices (chromium-experimental-subgroup-matrix) can do for the engine:
// its configurations, and, for the 8-bit integer one the tensor-core quire uses (i8 x i8 -> i32),
// how this Dawn spells loads and stores (shaders/subgroup-matrix.ts: the builtins' form and the
// units of 8-bit offsets and strides changed between Dawn versions). The form is not guessed: a
// probe multiplies one fragment pair with each known convention, loading from a storage buffer and
// from workgroup memory at a nonzero offset with a stride wider than the fragment (which tells the
// units apart), and keeps the first convention whose result equals the CPU's integer product.
// Runs once when a device is opened with subgroup matrices (engine/device/gpu.ts).

import {
  load8,
  store32,
  SUBGROUP_MATRIX_CONVENTIONS,
  SUBGROUP_MATRIX_ENABLES,
  type SubgroupMatrixConfig,
  type SubgroupMatrixConventions,
} from '../../shaders/subgroup-matrix.ts';
import { guard } from './guard.ts';

export interface SubgroupMatrixSupport {
  /** Every configuration the adapter reports. */
  configs: SubgroupMatrixConfig[];
  /** The i8 x i8 -> i32 configuration and the conventions that reproduced the CPU's product, or
   *  null (then `problem` says why). */
  int8: { config: SubgroupMatrixConfig; conventions: SubgroupMatrixConventions } | null;
  problem?: string;
}

/** The adapter's configurations as plain objects (GPUAdapterInfo.subgroupMatrixConfigs). */
export function subgroupMatrixConfigs(info: unknown): SubgroupMatrixConfig[] {
  const list = (info as { subgroupMatrixConfigs?: ArrayLike<SubgroupMatrixConfig> }).subgroupMatrixConfigs;
  if (!list) return [];
  return Array.from(list, (c) => ({ componentType: String(c.componentType), resultComponentType: String(c.resultComponentType), M: c.M, N: c.N, K: c.K }));
}

/** The configuration the integer quire path uses: i8 x i8 -> i32, M16 N16 K32 when offered. */
export function int8Config(configs: readonly SubgroupMatrixConfig[]): SubgroupMatrixConfig | undefined {
  const int8 = configs.filter((c) => c.componentType === 'i8' && c.resultComponentType === 'i32' && c.K % 4 === 0 && 64 % c.K === 0);
  return int8.find((c) => c.M === 16 && c.N === 16 && c.K === 32) ?? int8[0];
}

export function describeConfig(c: SubgroupMatrixConfig): string {
  return `${c.componentType} x ${c.componentType} -> ${c.resultComponentType}, M${c.M} N${c.N} K${c.K}`;
}

/** The probe's data layout (bytes): A row-major at OA with row stride SA, B column-major at OB with
 *  column stride SB; strides wider than K and offsets past 0 so that every unit mistake shows. */
function layout(c: SubgroupMatrixConfig) {
  const SA = c.K + 32;
  const SB = c.K + 64;
  const OA = 64;
  const OB = OA + c.M * SA + 32;
  const bytes = Math.ceil((OB + c.N * SB + 64) / 16) * 16;
  return { SA, SB, OA, OB, bytes };
}

export function probeSource(c: SubgroupMatrixConfig, cv: SubgroupMatrixConventions, subgroupSize: number): string {
  const L = layout(c);
  const words = L.bytes / 4;
  const u = (x: number) => `${x}u`;
  return `${SUBGROUP_MATRIX_ENABLES}
@group(0) @binding(0) var<storage, read> src: array<i32>;
@group(0) @binding(1) var<storage, read_write> dst: array<i32>;
var<workgroup> sh: array<i32, ${words}>;
alias LeftT = subgroup_matrix_left<i8, ${c.K}, ${c.M}>;
alias RightT = subgroup_matrix_right<i8, ${c.N}, ${c.K}>;
alias ResultT = subgroup_matrix_result<i32, ${c.N}, ${c.M}>;

@compute @workgroup_size(${subgroupSize})
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var i = lid; i < ${u(words)}; i += ${u(subgroupSize)}) { sh[i] = src[i]; }
  workgroupBarrier();
  let a = ${load8(cv, 'LeftT', '&src', u(L.OA), false, u(L.SA))};
  let b = ${load8(cv, 'RightT', '&src', u(L.OB), true, u(L.SB))};
  let c = subgroupMatrixMultiplyAccumulate(a, b, ResultT());
  ${store32(cv, '&dst', '0u', 'c', false, u(c.N))};
  let a2 = ${load8(cv, 'LeftT', '&sh', u(L.OA), false, u(L.SA))};
  let b2 = ${load8(cv, 'RightT', '&sh', u(L.OB), true, u(L.SB))};
  let c2 = subgroupMatrixMultiplyAccumulate(a2, b2, ResultT());
  ${store32(cv, '&dst', u(c.M * c.N), 'c2', false, u(c.N))};
}
`;
}

/** Probe data: i8 values covering both ends of the range, and the product the CPU expects. */
export function probeData(c: SubgroupMatrixConfig): { src: Uint8Array; want: Int32Array } {
  const L = layout(c);
  const src = new Uint8Array(L.bytes);
  let s = 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  // Fill everything (gaps too) with random bytes: reading a wrong place gives a wrong product.
  for (let i = 0; i < src.length; i++) src[i] = next() & 0xff;
  // Extremes inside the fragments.
  src[L.OA] = 0x80;
  src[L.OB] = 0x80;
  src[L.OA + 1] = 0x7f;
  const i8 = (b: number) => (b << 24) >> 24;
  const a = (r: number, k: number) => i8(src[L.OA + r * L.SA + k]!);
  const b = (k: number, col: number) => i8(src[L.OB + col * L.SB + k]!);
  const want = new Int32Array(c.M * c.N);
  for (let r = 0; r < c.M; r++)
    for (let col = 0; col < c.N; col++) {
      let sum = 0;
      for (let k = 0; k < c.K; k++) sum += a(r, k) * b(k, col);
      want[r * c.N + col] = sum;
    }
  return { src, want };
}

/** Compiles and runs one probe shader on (src -> dst); the product, or why it failed. */
export async function runProbe(device: GPUDevice, code: string, src: Uint8Array, outWords: number): Promise<Int32Array | string> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code, label: 'subgroup-matrix-probe' });
  const info = await guard(module.getCompilationInfo(), 'subgroup-matrix probe: compile');
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    await device.popErrorScope();
    return errors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ');
  }
  let pipeline: GPUComputePipeline;
  try {
    pipeline = await guard(device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: 'subgroup-matrix-probe' }), 'subgroup-matrix probe: pipeline');
  } catch (e) {
    await device.popErrorScope();
    return (e as Error).message;
  }
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const input = device.createBuffer({ size: src.byteLength, usage, mappedAtCreation: true });
  new Uint8Array(input.getMappedRange()).set(src);
  input.unmap();
  const output = device.createBuffer({ size: outWords * 4, usage });
  const staging = device.createBuffer({ size: outWords * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: input } }, { binding: 1, resource: { buffer: output } }] }));
    pass.dispatchWorkgroups(1);
    pass.end();
    enc.copyBufferToBuffer(output, 0, staging, 0, outWords * 4);
    device.queue.submit([enc.finish()]);
    const err = await device.popErrorScope();
    if (err) return err.message;
    await guard(staging.mapAsync(GPUMapMode.READ), 'subgroup-matrix probe: read back');
    const got = new Int32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    return got;
  } finally {
    input.destroy();
    output.destroy();
    staging.destroy();
  }
}

/**
 * Finds the i8 configuration and the load / store conventions of this device (see the header).
 * `subgroupSize`: the device's subgroup size (it must be fixed: min = max).
 */
export async function probeSubgroupMatrix(device: GPUDevice, configs: SubgroupMatrixConfig[], subgroupSize: number | undefined): Promise<SubgroupMatrixSupport> {
  const config = int8Config(configs);
  if (!config) {
    return { configs, int8: null, problem: `the adapter offers no i8 x i8 -> i32 subgroup matrix configuration (it offers: ${configs.map(describeConfig).join('; ') || 'none'})` };
  }
  if (!subgroupSize) return { configs, int8: null, problem: 'the adapter does not report a fixed subgroup size (subgroupMinSize = subgroupMaxSize), which the tensor-core kernels assume' };
  const { src, want } = probeData(config);
  const outWords = 2 * config.M * config.N;
  const tried: string[] = [];
  for (const cv of SUBGROUP_MATRIX_CONVENTIONS) {
    const r = await runProbe(device, probeSource(config, cv, subgroupSize), src, outWords);
    const name = `${cv.dialect} form, offsets in ${cv.offsetUnit}s, strides in ${cv.strideUnit}s`;
    if (typeof r === 'string') {
      tried.push(`${name}: ${r.slice(0, 300)}`);
      continue;
    }
    const ok = want.every((v, i) => r[i] === v && r[i + want.length] === v);
    if (ok) return { configs, int8: { config, conventions: cv } };
    tried.push(`${name}: ran, but the product differs from the CPU's`);
  }
  return {
    configs,
    int8: null,
    problem: `no known form of subgroupMatrixLoad / subgroupMatrixStore reproduced an exact ${describeConfig(config)} product on this device:\n  ${tried.join('\n  ')}`,
  };
}
