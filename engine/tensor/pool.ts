// A size-bucketed pool of GPU storage buffers. Tensors take buffers from it and give them back on
// dispose. Reuse follows WebGPU's ordering rules rather than GPU completion:
//   - a kernel's output may take a buffer released a moment ago, even one that kernels recorded
//     earlier in the same, not yet submitted, encoder still read: the encoder runs them in order;
//   - an upload (queue.writeBuffer) takes effect on the queue before the encoder being recorded is
//     submitted, so it may only take a buffer whose last use has been submitted already;
//   - so may destroy(), for the same reason.
// Free buffers are handed out lowest-id first. Reuse therefore depends only on the sequence of
// acquires, releases and submits, never on how fast the GPU is: a training step that repeats the
// same ops gets the same buffers every time, and the runtime can reuse its bind groups.
// Freed bytes above the cap are destroyed.

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
  /** Bytes of every live GPU buffer the pool owns: in use and free. */
  bytesAllocated: number;
  /** Buffers created since the pool was made (a steady training loop stops creating them). */
  buffersCreated: number;
  /** Free buffers whose last use is still in the encoder being recorded (not yet uploadable). */
  pendingBuffers: number;
}

export interface PoolOptions {
  /** Most bytes kept in free lists; more than that is destroyed once submitted. Default 1 GiB. */
  freeCapBytes?: number;
}

interface FreeBuffer {
  buffer: GPUBuffer;
  id: number;
  /** Serial of the last submission that may use it. */
  lastUse: number;
}

export class BufferPool {
  /** Free buffers per bucket size, highest id first (so pop() takes the lowest). */
  private readonly free = new Map<number, FreeBuffer[]>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private freeBytes = 0;
  private stats = { bytesInUse: 0, bytesAllocated: 0, buffersCreated: 0 };
  private readonly cap: number;
  private readonly usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

  constructor(
    private readonly device: GPUDevice,
    /** Serial of the last submission that may use a buffer released now. */
    private readonly currentSerial: () => number,
    /** Serial of the last submission handed to the queue. */
    private readonly submittedSerial: () => number,
    /** Called before the pool destroys buffers (holders of bind groups drop theirs). */
    private readonly onDestroy: () => void = () => {},
    options: PoolOptions = {},
  ) {
    this.cap = options.freeCapBytes ?? 1 << 30;
  }

  /**
   * A storage buffer of at least `bytes` bytes (its contents are undefined). `forUpload`: the caller
   * will write it with queue.writeBuffer before recording any use of it.
   */
  acquire(bytes: number, label: string, forUpload = false): GPUBuffer {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    let taken: FreeBuffer | undefined;
    if (list?.length) {
      if (!forUpload) taken = list.pop();
      else {
        const submitted = this.submittedSerial();
        for (let i = list.length - 1; i >= 0; i--) {
          if (list[i]!.lastUse <= submitted) {
            taken = list.splice(i, 1)[0];
            break;
          }
        }
      }
    }
    let buffer: GPUBuffer;
    if (taken) {
      // It keeps the label it was created with: relabelling is a native call on every acquire.
      buffer = taken.buffer;
      this.freeBytes -= size;
    } else {
      buffer = this.device.createBuffer({ label, size, usage: this.usage });
      this.ids.set(buffer, this.nextId++);
      this.stats.bytesAllocated += size;
      this.stats.buffersCreated++;
    }
    this.stats.bytesInUse += size;
    return buffer;
  }

  /** Gives a buffer back (free for kernels at once, for uploads once its last use is submitted). */
  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    const id = this.ids.get(buffer);
    if (id === undefined) throw new Error(`buffer '${buffer.label}' was not made by this pool`);
    this.stats.bytesInUse -= size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    // Keep the list sorted by id, highest first.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.id > id) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, { buffer, id, lastUse: this.currentSerial() });
    this.freeBytes += size;
    if (this.freeBytes > this.cap) this.shrink(this.cap);
  }

  /** Destroys free buffers (highest ids first, submitted ones only) until at most `keep` bytes are free. */
  private shrink(keep: number): void {
    const submitted = this.submittedSerial();
    let notified = false;
    for (const [size, list] of this.free) {
      for (let i = 0; i < list.length && this.freeBytes > keep; ) {
        const f = list[i]!;
        if (f.lastUse > submitted) {
          i++;
          continue;
        }
        if (!notified) {
          this.onDestroy();
          notified = true;
        }
        f.buffer.destroy();
        list.splice(i, 1);
        this.freeBytes -= size;
        this.stats.bytesAllocated -= size;
      }
    }
  }

  report(): PoolStats {
    const submitted = this.submittedSerial();
    let pending = 0;
    for (const list of this.free.values()) for (const f of list) if (f.lastUse > submitted) pending++;
    return { ...this.stats, pendingBuffers: pending };
  }

  /** Destroys every free buffer whose last use has been submitted (in-use ones stay). */
  trim(): void {
    this.shrink(0);
  }
}
