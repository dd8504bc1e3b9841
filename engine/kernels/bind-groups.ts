// Bind groups reused across dispatches. Creating one is a native call that cost about 16 us on an
// H200's host (a quarter of a cgan training step); a training step repeats the same kernels on the
// same buffers and uniform slots every iteration (BufferPool and UniformArena hand them out in a
// fixed order), so after the first iterations every bind group is found here.
// Keyed by the kernel and, per binding, the buffer's identity, offset and size. Dropped whole when the
// pool destroys buffers, and when it grows past its capacity (a workload that never repeats).

import type { Gpu } from '../device/gpu.ts';
import { bindGroup, type Binding, type Kernel } from './cache.ts';

export interface BindGroupStats {
  hits: number;
  misses: number;
  size: number;
}

export class BindGroupCache {
  private readonly groups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly gpu: Gpu,
    private readonly capacity = 1 << 14,
  ) {}

  /** Bind group 0 of `k` with the given buffers at bindings 0, 1, 2, ... */
  get(k: Kernel, bindings: readonly Binding[]): GPUBindGroup {
    let key = String(k.id);
    for (const b of bindings) {
      key += 'buffer' in b ? `|${this.idOf(b.buffer)}:${b.offset ?? 0}:${b.size ?? ''}` : `|${this.idOf(b)}`;
    }
    const hit = this.groups.get(key);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    if (this.groups.size >= this.capacity) this.groups.clear();
    const group = bindGroup(this.gpu, k, bindings);
    this.groups.set(key, group);
    return group;
  }

  /** Forgets every bind group (their buffers may be about to be destroyed). */
  clear(): void {
    this.groups.clear();
  }

  stats(): BindGroupStats {
    return { hits: this.hits, misses: this.misses, size: this.groups.size };
  }

  private idOf(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) this.bufferIds.set(buffer, (id = this.nextBufferId++));
    return id;
  }
}
