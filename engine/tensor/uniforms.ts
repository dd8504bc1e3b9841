// Kernel parameters (shapes, strides, scales) go into uniform slots sub-allocated from 64 KiB chunks.
// The CPU fills a chunk while a submission is recorded and uploads it once, just before that
// submission. The next submission may fill the same chunk again: its upload is queued after the
// earlier submission, and the queue runs them in order. So the k-th dispatch of every submission
// that repeats the same ops gets the same slot (the runtime can reuse its bind groups), and one
// writeBuffer per 64 KiB of parameters replaces one createBuffer per dispatch.

const CHUNK_BYTES = 64 * 1024;

interface Chunk {
  buffer: GPUBuffer;
  data: Uint8Array;
  used: number;
}

export interface UniformSlot {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export class UniformArena {
  private readonly align: number;
  private active: Chunk[] = [];
  /** Chunks free for the submission being recorded, the first to take last. */
  private spare: Chunk[] = [];

  constructor(private readonly device: GPUDevice) {
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

  /** Uploads the chunks written for the next submission; call right before queue.submit. */
  upload(queue: GPUQueue): void {
    for (const c of this.active) queue.writeBuffer(c.buffer, 0, c.data.buffer, c.data.byteOffset, c.used);
    // Free for the next submission, in the same order.
    this.spare.push(...this.active.reverse());
    this.active = [];
  }

  private takeChunk(): Chunk {
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
    };
  }

  /** GPU bytes held by the arena (for memory reports). */
  get bytesAllocated(): number {
    return (this.active.length + this.spare.length) * CHUNK_BYTES;
  }
}
