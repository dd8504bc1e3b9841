// The one GPU device wrapper the engine uses, in Node (dawn.node) and in the browser (navigator.gpu).
// It owns the adapter choice, the features and limits we ask for, and error reporting: device loss,
// uncaptured validation / out-of-memory errors and shader compile errors all end up as exceptions
// thrown at the next point where the caller waits on the GPU (`sync`, `read`), never as silence.

import type { SubgroupMatrixConfig } from '../../shaders/subgroup-matrix.ts';
import { DeviceLostError, GpuOperationError, NoAdapterError, ShaderCompileError } from './errors.ts';
import { guard } from './guard.ts';
import { probeSubgroupMatrix, subgroupMatrixConfigs, type SubgroupMatrixSupport } from './subgroup-matrix.ts';

export type AdapterPreference = 'auto' | 'hardware' | 'software';

export interface GpuOptions {
  /** 'auto' (default): the best adapter, software accepted with a notice; 'hardware': refuse a
   *  software adapter; 'software': ask for the fallback (software) adapter. */
  adapter?: AdapterPreference;
  /** Node only: pick the adapter whose name contains this string (Dawn's `adapter=` flag). */
  adapterName?: string;
  /** Node only: Dawn backend (vulkan, metal, d3d12, d3d11, opengl, opengles, null). */
  backend?: string;
  /** Node only: raw Dawn flags, e.g. 'enable-dawn-features=disable_robustness'. */
  dawnFlags?: string[];
  /** Opt in to chromium-experimental-subgroup-matrix (tensor cores; needs allow_unsafe_apis in Dawn):
   *  exact-quire GEMMs of 8-bit operands then run on subgroup matrices (engine/ops/quire-sliced.ts).
   *  Without the feature, opening the device fails and says so. */
  subgroupMatrix?: boolean;
  /** Where one-line notices go (software adapter in use). Default: stderr / console.warn. */
  notice?: (line: string) => void;
}

/** Optional features the engine uses when present. */
export const USEFUL_FEATURES = ['timestamp-query', 'subgroups', 'shader-f16'] as const;
export const SUBGROUP_MATRIX_FEATURE = 'chromium-experimental-subgroup-matrix';

/** Limits that matter for compute; we ask for the adapter's maximum of each. */
export const COMPUTE_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'maxBindingsPerBindGroup',
  'minStorageBufferOffsetAlignment',
  'minUniformBufferOffsetAlignment',
] as const;
export type ComputeLimit = (typeof COMPUTE_LIMITS)[number];

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU implementations (lavapipe/llvmpipe, SwiftShader, WARP). */
  software: boolean;
  /** 'node (dawn.node)' or 'browser'. */
  runtime: string;
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  /** Subgroup matrix configurations (only when the adapter offers the feature). */
  subgroupMatrixConfigs?: SubgroupMatrixConfig[];
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|warp|software/i;

export function describeAdapter(adapter: GPUAdapter, runtime: string): AdapterDescription {
  const info = adapter.info as GPUAdapterInfo & {
    isFallbackAdapter?: boolean;
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
  };
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const software = info.isFallbackAdapter === true || SOFTWARE_NAMES.test(text);
  const d: AdapterDescription = {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    device: info.device || '',
    description: info.description || info.device || info.vendor || 'unknown adapter',
    software,
    runtime,
  };
  if (typeof info.subgroupMinSize === 'number') d.subgroupMinSize = info.subgroupMinSize;
  if (typeof info.subgroupMaxSize === 'number') d.subgroupMaxSize = info.subgroupMaxSize;
  const configs = subgroupMatrixConfigs(info);
  if (configs.length) d.subgroupMatrixConfigs = configs;
  return d;
}

/** A short, file-name-safe name for the adapter: used in result file names (bench JSON). */
export function adapterSlug(a: AdapterDescription): string {
  const base = a.software ? a.description.split(/[:(]/)[0]! : `${a.vendor}-${a.description || a.device}`;
  return base
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
}

export class Gpu {
  readonly features: ReadonlySet<string>;
  readonly limits: Readonly<Record<ComputeLimit, number>>;
  /** What the device's subgroup matrices can do, when it was opened with them (openGpu probes it). */
  subgroupMatrix: SubgroupMatrixSupport | null = null;
  private lost: DeviceLostError | undefined;
  private pendingErrors: Error[] = [];
  private destroyed = false;
  /** Mappable staging buffers for read(), by size. */
  private readonly staging = new Map<number, GPUBuffer[]>();

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    /** The object that owns the native WebGPU instance (dawn.node's create() result). dawn.node
     *  crashes at random if it is garbage-collected while a device lives, so we hold it here. */
    private readonly instanceKeepAlive: unknown,
  ) {
    this.features = new Set([...device.features] as string[]);
    const limits = {} as Record<ComputeLimit, number>;
    for (const k of COMPUTE_LIMITS) limits[k] = (device.limits as unknown as Record<string, number>)[k] ?? 0;
    this.limits = limits;
    void device.lost.then((info) => {
      if (this.destroyed && info.reason === 'destroyed') return;
      this.lost = new DeviceLostError(info.reason, info.message);
    });
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.pendingErrors.push(toOperationError(e, 'a GPU command (uncaptured)'));
    });
  }

  get hasTimestamps(): boolean {
    return this.features.has('timestamp-query');
  }
  get hasSubgroups(): boolean {
    return this.features.has('subgroups');
  }
  get hasF16(): boolean {
    return this.features.has('shader-f16');
  }
  get instance(): unknown {
    return this.instanceKeepAlive;
  }

  /** Throws the first recorded problem (device loss, uncaptured or compile error), if any. */
  check(): void {
    if (this.lost) throw this.lost;
    const e = this.pendingErrors.shift();
    if (e) {
      this.pendingErrors = [];
      throw e;
    }
  }

  /** Records an error found asynchronously (e.g. a shader's compilation info) for the next check(). */
  report(e: Error): void {
    this.pendingErrors.push(e);
  }

  /** Waits until the queue has finished all submitted work, then reports any error. */
  async sync(what = 'queue work'): Promise<void> {
    this.check();
    await guard(this.device.queue.onSubmittedWorkDone(), what);
    // Uncaptured errors and compilation diagnostics arrive as tasks: let them land before checking.
    await new Promise((r) => setTimeout(r, 0));
    this.check();
  }

  /** Runs `fn` inside validation and out-of-memory error scopes and throws what they caught. */
  async scoped<T>(op: string, fn: () => T | Promise<T>, wgsl?: string): Promise<T> {
    this.check();
    this.device.pushErrorScope('internal');
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    // The scopes are popped whatever fn did; an error they caught explains more than fn's own
    // (which is usually its consequence), so it is the one thrown.
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await fn() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const validation = await guard(this.device.popErrorScope(), `${op}: validation scope`);
    const oom = await guard(this.device.popErrorScope(), `${op}: out-of-memory scope`);
    const internal = await guard(this.device.popErrorScope(), `${op}: internal scope`);
    const e = validation ?? oom ?? internal;
    if (e) throw toOperationError(e, op, wgsl);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Copies `size` bytes of `buffer` from `offset` back to the CPU. The buffer needs COPY_SRC. */
  async read(buffer: GPUBuffer, offset = 0, size = buffer.size - offset, what = 'read back'): Promise<ArrayBuffer> {
    this.check();
    const aligned = Math.ceil(size / 4) * 4;
    // Staging buffers up to 1 MiB are kept per size (a training step reads the same few small sizes
    // every time, and creating and destroying one per read costs two native calls); concurrent reads
    // take their own.
    const bucket = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(4, aligned))));
    const spare = this.staging.get(bucket);
    const staging =
      spare?.pop() ??
      this.device.createBuffer({ label: `staging:${bucket}`, size: bucket, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    let reusable = false;
    try {
      const enc = this.device.createCommandEncoder({ label: `read:${what}` });
      if (aligned > 0) enc.copyBufferToBuffer(buffer, offset, staging, 0, aligned);
      this.device.queue.submit([enc.finish()]);
      await guard(staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, aligned)), what);
      const out = staging.getMappedRange(0, Math.max(4, aligned)).slice(0, size);
      staging.unmap();
      this.check();
      reusable = true;
      return out;
    } catch (e) {
      this.check();
      throw e;
    } finally {
      if (!reusable) staging.destroy();
      else {
        const list = this.staging.get(bucket) ?? [];
        if (list.length < 4 && bucket <= 1 << 20) {
          list.push(staging);
          this.staging.set(bucket, list);
        } else staging.destroy();
      }
    }
  }

  /** Creates a storage buffer holding `data` (padded to a multiple of 4 bytes). */
  upload(data: ArrayBufferView, label: string, extraUsage = 0): GPUBuffer {
    const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
    const buf = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
      mappedAtCreation: true,
    });
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    return buf;
  }

  /** Compiles a WGSL module; compile errors are reported with the numbered source at the next check. */
  shaderModule(code: string, label: string): GPUShaderModule {
    const module = this.device.createShaderModule({ code, label });
    void module.getCompilationInfo().then((info) => {
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length > 0) {
        const text = errors.map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
        this.pendingErrors.unshift(new ShaderCompileError(label, text, code));
      }
    });
    return module;
  }

  /** Compiles a WGSL module and waits for its diagnostics: throws ShaderCompileError on failure. */
  async compileChecked(code: string, label: string): Promise<GPUShaderModule> {
    const module = this.device.createShaderModule({ code, label });
    const info = await guard(module.getCompilationInfo(), `compile ${label}`);
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) {
      const text = errors.map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
      throw new ShaderCompileError(label, text, code);
    }
    return module;
  }

  destroy(): void {
    this.destroyed = true;
    this.device.destroy();
  }
}

function toOperationError(e: GPUError, op: string, wgsl?: string): GpuOperationError {
  const kind =
    (globalThis as { GPUOutOfMemoryError?: unknown }).GPUOutOfMemoryError !== undefined &&
    e instanceof GPUOutOfMemoryError
      ? 'out-of-memory'
      : (globalThis as { GPUInternalError?: unknown }).GPUInternalError !== undefined && e instanceof GPUInternalError
        ? 'internal'
        : 'validation';
  return new GpuOperationError(kind, op, e.message, wgsl);
}

/**
 * Requests an adapter and a device from a WebGPU entry point (navigator.gpu or dawn.node's create()).
 * `noAdapterHelp` is appended to the error when none is found: it names what to install.
 */
export async function openGpu(
  entry: GPU,
  keepAlive: unknown,
  runtime: string,
  options: GpuOptions,
  noAdapterHelp: string,
): Promise<Gpu> {
  const pref = options.adapter ?? 'auto';
  let adapter: GPUAdapter | null;
  try {
    adapter = await guard(
      entry.requestAdapter({ powerPreference: 'high-performance', forceFallbackAdapter: pref === 'software' }),
      'requestAdapter',
    );
  } catch (e) {
    throw new NoAdapterError(`No WebGPU adapter: ${(e as Error).message}\n${noAdapterHelp}`);
  }
  if (!adapter) throw new NoAdapterError(`No WebGPU adapter was found.\n${noAdapterHelp}`);
  const description = describeAdapter(adapter, runtime);
  if (pref === 'hardware' && description.software) {
    throw new NoAdapterError(
      `Only a software adapter is available (${description.description}), but a hardware adapter was required ` +
        '(--adapter hardware). Install the GPU vendor driver with Vulkan support, or allow software with --adapter auto.',
    );
  }
  const wanted: string[] = USEFUL_FEATURES.filter((f) => adapter!.features.has(f));
  if (options.subgroupMatrix) {
    if (!adapter.features.has(SUBGROUP_MATRIX_FEATURE)) {
      throw new NoAdapterError(
        `Subgroup matrices (tensor cores) were requested (--subgroup-matrix) but the adapter (${description.description}) does not ` +
          `offer '${SUBGROUP_MATRIX_FEATURE}', so nothing would run on them. Dawn offers the feature only with its unsafe APIs ` +
          `allowed (in Node: --dawn-flag enable-dawn-features=allow_unsafe_apis, which --subgroup-matrix adds itself) and only ` +
          `where the driver has cooperative matrices (Vulkan VK_KHR_cooperative_matrix, Metal on Apple7+). ` +
          `\`posit-gan info --dawn-flag enable-dawn-features=allow_unsafe_apis\` lists what the adapter offers; without ` +
          `--subgroup-matrix the exact quire runs in plain WGSL.`,
      );
    }
    wanted.push(SUBGROUP_MATRIX_FEATURE);
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of COMPUTE_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const device = await guard(
    adapter.requestDevice({
      requiredFeatures: wanted as GPUFeatureName[],
      requiredLimits,
      label: 'posit-gan',
    }),
    'requestDevice',
  );
  if (description.software) {
    const say = options.notice ?? ((l: string) => console.warn(l));
    say(`posit-gan: using a software WebGPU adapter (${description.description}); expect CPU speed.`);
  }
  const gpu = new Gpu(device, description, keepAlive);
  if (options.subgroupMatrix) {
    const fixed = description.subgroupMinSize === description.subgroupMaxSize ? description.subgroupMaxSize : undefined;
    gpu.subgroupMatrix = await probeSubgroupMatrix(device, description.subgroupMatrixConfigs ?? [], fixed);
  }
  return gpu;
}
