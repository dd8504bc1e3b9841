// Pipeline cache and dispatch helpers. Pipelines are keyed by their generated WGSL source, so a
// variant is compiled once per device however many ops use it. Compile errors are reported with the
// numbered source (see Gpu.shaderModule); validation errors name the pipeline label.

import type { Gpu } from '../device/gpu.ts';

export interface Kernel {
  /** Unique per compiled pipeline (bind-group cache keys). */
  readonly id: number;
  readonly label: string;
  readonly code: string;
  readonly pipeline: GPUComputePipeline;
  /** Bind group 0's layout, fetched once: every dispatch binds against it. */
  readonly layout: GPUBindGroupLayout;
}

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

const caches = new WeakMap<Gpu, Map<string, Kernel>>();
let nextKernelId = 1;

/** The compute pipeline for `code` (entry point `main`), compiled on first use. */
export function kernel(gpu: Gpu, label: string, code: string): Kernel {
  let cache = caches.get(gpu);
  if (!cache) caches.set(gpu, (cache = new Map()));
  const hit = cache.get(code);
  if (hit) return hit;
  const module = gpu.shaderModule(code, label);
  const pipeline = gpu.device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
  const k = { id: nextKernelId++, label, code, pipeline, layout: pipeline.getBindGroupLayout(0) };
  cache.set(code, k);
  return k;
}

/** Number of pipelines compiled so far on this device (for tests and diagnostics). */
export function kernelCount(gpu: Gpu): number {
  return caches.get(gpu)?.size ?? 0;
}

/** Bind group 0 with the given buffers at bindings 0, 1, 2, ... */
export function bindGroup(gpu: Gpu, k: Kernel, bindings: readonly Binding[]): GPUBindGroup {
  return gpu.device.createBindGroup({
    label: k.label,
    layout: k.layout,
    entries: bindings.map((b, i) => ({
      binding: i,
      resource: 'buffer' in b && !(b instanceof GPUBuffer) ? b : { buffer: b as GPUBuffer },
    })),
  });
}

/** Splits a 1-D workgroup count over x and y when it exceeds the per-dimension limit. Kernels
 *  recover the linear id as wid.x + wid.y * num_workgroups.x. */
export function grid1d(gpu: Gpu, workgroups: number): [number, number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups <= max) return [Math.max(1, workgroups), 1, 1];
  const y = Math.ceil(workgroups / max);
  if (y > max) throw new Error(`dispatch of ${workgroups} workgroups exceeds the device's 2-D grid (${max}^2)`);
  return [Math.ceil(workgroups / y), y, 1];
}

/** Records one dispatch into a compute pass. */
export function dispatch(
  pass: GPUComputePassEncoder,
  gpu: Gpu,
  k: Kernel,
  bindings: readonly Binding[],
  workgroups: readonly [number, number?, number?],
): void {
  pass.setPipeline(k.pipeline);
  pass.setBindGroup(0, bindGroup(gpu, k, bindings));
  pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
}

/** Encodes and submits a single compute pass built by `record`. */
export function submitPass(gpu: Gpu, label: string, record: (pass: GPUComputePassEncoder) => void): void {
  const enc = gpu.device.createCommandEncoder({ label });
  const pass = enc.beginComputePass({ label });
  record(pass);
  pass.end();
  gpu.device.queue.submit([enc.finish()]);
}

/** A uniform buffer holding the given 32-bit words (u32/i32/f32 by the caller's choice of view). */
export function uniformBuffer(gpu: Gpu, label: string, words: ArrayBufferView): GPUBuffer {
  const size = Math.max(16, Math.ceil(words.byteLength / 16) * 16);
  const buf = gpu.device.createBuffer({ label, size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, mappedAtCreation: true });
  new Uint8Array(buf.getMappedRange()).set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
  buf.unmap();
  return buf;
}
