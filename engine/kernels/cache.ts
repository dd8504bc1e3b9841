// Pipeline cache and bind groups. Pipelines are keyed by their generated WGSL source, so a variant is
// compiled once per device however many ops use it. Compile errors are reported with the numbered
// source (see Gpu.shaderModule); validation errors name the pipeline label. Dispatching is the
// Runtime's (engine/runtime.ts: uniform arena, bind-group cache).

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
