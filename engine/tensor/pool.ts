// A size-bucketed pool of GPU storage buffers. Tensors take buffers from it and give them back on
// dispose; a returned buffer becomes reusable only once the queue has finished every submission that
// may still read or write it (tracked by a submission serial), so neither a later kernel nor a
// queue.writeBuffer upload can race with earlier work. Freed bytes above the cap are destroyed.

const MIN_BUCKET = 256;

/** Buckets: 256 B, then 2^k times 1, 1.25, 1.5, 1.75 — at most 25% waste, few distinct sizes. */
export function bucketSize(bytes: number): number {
  if (bytes <= MIN_BUCKET) return MIN_BUCKET;
  const p = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) {
    const s = Math.ceil((p * f) / 16) * 16;
    if (s >= bytes) return s;
  }
  return 2 * p;
}

export interface PoolStats {
  /** Bytes of buffers handed out and not yet returned. */
  bytesInUse: number;
  /** Bytes of every live GPU buffer the pool owns: in use, pending reuse, and free. */
  bytesAllocated: number;
  /** Buffers created since the pool was made (a steady training loop stops creating them). */
  buffersCreated: number;
  /** Returned buffers waiting for the queue to finish with them. */
  pendingBuffers: number;
}

export interface PoolOptions {
  /** Most bytes kept in free lists; more than that is destroyed on return. Default 1 GiB. */
  freeCapBytes?: number;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pending: { buffer: GPUBuffer; serial: number }[] = [];
  private freeBytes = 0;
  private stats: PoolStats = { bytesInUse: 0, bytesAllocated: 0, buffersCreated: 0, pendingBuffers: 0 };
  private readonly cap: number;
  private readonly usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

  constructor(
    private readonly device: GPUDevice,
    /** Serial of the last submission that may use a buffer released now. */
    private readonly currentSerial: () => number,
    /** Highest submission serial the queue has finished. */
    private readonly completedSerial: () => number,
    options: PoolOptions = {},
  ) {
    this.cap = options.freeCapBytes ?? 1 << 30;
  }

  /** A storage buffer of at least `bytes` bytes (its contents are undefined). */
  acquire(bytes: number, label: string): GPUBuffer {
    const size = bucketSize(bytes);
    this.reclaim();
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.freeBytes -= size;
      buffer.label = label;
    } else {
      buffer = this.device.createBuffer({ label, size, usage: this.usage });
      this.stats.bytesAllocated += size;
      this.stats.buffersCreated++;
    }
    this.stats.bytesInUse += size;
    return buffer;
  }

  /** Gives a buffer back. It is reused after the current submission has completed on the queue. */
  release(buffer: GPUBuffer): void {
    this.stats.bytesInUse -= buffer.size;
    this.pending.push({ buffer, serial: this.currentSerial() });
  }

  /** Moves buffers whose last possible use has completed to the free lists (or destroys them). */
  private reclaim(): void {
    if (this.pending.length === 0) return;
    const done = this.completedSerial();
    const still: typeof this.pending = [];
    for (const p of this.pending) {
      if (p.serial > done) {
        still.push(p);
        continue;
      }
      const size = p.buffer.size;
      if (this.freeBytes + size > this.cap) {
        p.buffer.destroy();
        this.stats.bytesAllocated -= size;
        continue;
      }
      let list = this.free.get(size);
      if (!list) this.free.set(size, (list = []));
      list.push(p.buffer);
      this.freeBytes += size;
    }
    this.pending = still;
  }

  report(): PoolStats {
    this.reclaim();
    return { ...this.stats, pendingBuffers: this.pending.length };
  }

  /** Destroys every free buffer (in-use and pending ones stay). */
  trim(): void {
    this.reclaim();
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.bytesAllocated -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
    this.freeBytes = 0;
  }
}
