// Kernel parameters (shapes, strides, scales) go into uniform slots sub-allocated from 64 KiB chunks.
// The CPU fills a chunk while a submission is recorded and uploads it once, just before that
// submission; a chunk is reused only after the queue has finished the submission that read it. This
// replaces one createBuffer per dispatch with one writeBuffer per 64 KiB of parameters.

const CHUNK_BYTES = 64 * 1024;

interface Chunk {
  buffer: GPUBuffer;
  data: Uint8Array;
  used: number;
  serial: number;
}

export interface UniformSlot {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export class UniformArena {
  private readonly align: number;
  private active: Chunk[] = [];
  private spare: Chunk[] = [];
  private inFlight: Chunk[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly completedSerial: () => number,
  ) {
    this.align = Math.max(16, device.limits.minUniformBufferOffsetAlignment);
  }

  /** Copies `words` into a fresh slot and returns its binding. Words are 32-bit (u32/i32/f32 views). */
  slot(words: ArrayBufferView): UniformSlot {
    const size = Math.max(16, Math.ceil(words.byteLength / 16) * 16);
    if (size > CHUNK_BYTES) throw new Error(`kernel parameters of ${size} bytes exceed a uniform chunk`);
    let chunk = this.active[this.active.length - 1];
    if (!chunk || chunk.used + size > CHUNK_BYTES) {
      chunk = this.takeChunk();
      this.active.push(chunk);
    }
    const offset = chunk.used;
    chunk.data.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength), offset);
    chunk.used = Math.ceil((offset + size) / this.align) * this.align;
    return { buffer: chunk.buffer, offset, size };
  }

  /** Uploads the chunks written for submission `serial`; call right before queue.submit. */
  upload(queue: GPUQueue, serial: number): void {
    for (const c of this.active) {
      queue.writeBuffer(c.buffer, 0, c.data.buffer, c.data.byteOffset, c.used);
      c.serial = serial;
      this.inFlight.push(c);
    }
    this.active = [];
  }

  private takeChunk(): Chunk {
    const done = this.completedSerial();
    const ready = this.inFlight.filter((c) => c.serial <= done);
    if (ready.length) {
      this.inFlight = this.inFlight.filter((c) => c.serial > done);
      this.spare.push(...ready);
    }
    const c = this.spare.pop();
    if (c) {
      c.used = 0;
      return c;
    }
    return {
      buffer: this.device.createBuffer({
        label: 'uniform-chunk',
        size: CHUNK_BYTES,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      }),
      data: new Uint8Array(CHUNK_BYTES),
      used: 0,
      serial: 0,
    };
  }

  /** GPU bytes held by the arena (for memory reports). */
  get bytesAllocated(): number {
    return (this.active.length + this.spare.length + this.inFlight.length) * CHUNK_BYTES;
  }
}
