// A tensor on the GPU: a shape, a storage buffer from the runtime's pool, and how the buffer encodes
// values — float32, or packed codes of a number format with an exponent bias (see
// docs/number-formats.md for the packing). Tensors are contiguous, row-major (NCHW for images);
// `view` reshapes without copying by sharing the storage (reference counted). Lifetime is explicit:
// `dispose()`, or a runtime scope that disposes what it created.

import { codesPerWord, type Format } from '../../formats/descriptor.ts';
import type { Disposable, Runtime } from '../runtime.ts';
import type { GradNode } from '../autograd/tape.ts';

/** Packed codes of `format`; a code c stands for decode(c) * 2^-bias. */
export interface Encoding {
  readonly format: Format;
  readonly bias: number;
}

class Storage {
  refs = 1;
  constructor(
    readonly buffer: GPUBuffer,
    readonly bytes: number,
  ) {}
}

let nextId = 1;

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid tensor shape [${shape.join(', ')}]: dimensions must be non-negative integers`);
    n *= d;
  }
  return n;
}

/** Bytes needed to store `count` values with an encoding (null: float32). */
export function storageBytes(count: number, encoding: Encoding | null): number {
  if (!encoding) return count * 4;
  return Math.ceil(count / codesPerWord(encoding.format)) * 4;
}

export class Tensor implements Disposable {
  readonly id = nextId++;
  readonly size: number;
  requiresGrad = false;
  /** Accumulated gradient (leaf tensors that require grad). */
  grad: Tensor | null = null;
  /** How this tensor was computed, for backward (null for leaves and under noGrad). */
  node: GradNode | null = null;
  /** Optional name (parameters), used in errors and op counts. */
  name: string | undefined;
  /** For float32 tensors whose values were quantized: the format whose lattice they lie on (times
   *  2^-latticeBias). Set by the op that quantized them; read by op counting (a MAC on p8e2 values
   *  counts as a p8e2 MAC) and by the lattice checks. null: plain float32 values. */
  lattice: Format | null = null;
  latticeBias = 0;
  private store: Storage | null;

  private constructor(
    readonly rt: Runtime,
    readonly shape: readonly number[],
    store: Storage,
    readonly encoding: Encoding | null,
  ) {
    this.size = shapeSize(shape);
    this.store = store;
    rt.track(this);
  }

  /** A new tensor with undefined contents. */
  static empty(rt: Runtime, shape: readonly number[], encoding: Encoding | null = null, label = 'tensor'): Tensor {
    const bytes = Math.max(4, storageBytes(shapeSize(shape), encoding));
    return new Tensor(rt, [...shape], new Storage(rt.pool.acquire(bytes, label), bytes), encoding);
  }

  /** A new tensor whose buffer may be written with queue.writeBuffer now (see BufferPool). */
  private static forUpload(rt: Runtime, shape: readonly number[], encoding: Encoding | null, label: string): Tensor {
    const bytes = Math.max(4, storageBytes(shapeSize(shape), encoding));
    return new Tensor(rt, [...shape], new Storage(rt.pool.acquire(bytes, label, true), bytes), encoding);
  }

  /** A float32 tensor holding `data` (uploaded now). Rejects NaN/Inf unless allowed. */
  static fromArray(rt: Runtime, data: ArrayLike<number>, shape: readonly number[], label = 'tensor'): Tensor {
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new Error(`tensor data has ${data.length} values but shape [${shape.join(', ')}] needs ${n}`);
    }
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    const t = Tensor.forUpload(rt, shape, null, label);
    if (n > 0) rt.device.queue.writeBuffer(t.buffer, 0, f.buffer, f.byteOffset, f.byteLength);
    return t;
  }

  /** A tensor of packed codes (as produced by the TS codec's packCodes). */
  static fromPackedCodes(rt: Runtime, words: Uint32Array, shape: readonly number[], encoding: Encoding, label = 'codes'): Tensor {
    const need = storageBytes(shapeSize(shape), encoding) / 4;
    if (words.length !== need) throw new Error(`packed tensor needs ${need} words for shape [${shape.join(', ')}], got ${words.length}`);
    const t = Tensor.forUpload(rt, shape, encoding, label);
    if (words.length) rt.device.queue.writeBuffer(t.buffer, 0, words.buffer, words.byteOffset, words.byteLength);
    return t;
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.store === null;
  }

  get buffer(): GPUBuffer {
    if (!this.store) throw new Error(`tensor${this.name ? ` '${this.name}'` : ''} #${this.id} [${this.shape.join(', ')}] was used after dispose()`);
    return this.store.buffer;
  }

  /** Bytes of this tensor's data in its buffer (the buffer itself may be larger). */
  get bytes(): number {
    return storageBytes(this.size, this.encoding);
  }

  get isF32(): boolean {
    return this.encoding === null;
  }

  /** The format name its values are counted in: the encoding, the lattice, or fp32. */
  get valueFormat(): string {
    return this.encoding?.format.name ?? this.lattice?.name ?? 'fp32';
  }

  /** Bits per value in that format (what hardware storing it natively would move). */
  get valueBits(): number {
    return this.encoding?.format.bits ?? this.lattice?.bits ?? 32;
  }

  /** The same data under another shape of the same size (no copy; shares the storage). */
  view(shape: readonly number[]): Tensor {
    const s = this.store;
    if (!s) void this.buffer; // throws the used-after-dispose error
    const n = shapeSize(shape);
    if (n !== this.size) throw new Error(`cannot view [${this.shape.join(', ')}] (${this.size} values) as [${shape.join(', ')}] (${n})`);
    s!.refs++;
    const v = new Tensor(this.rt, [...shape], s!, this.encoding);
    v.lattice = this.lattice;
    v.latticeBias = this.latticeBias;
    return v;
  }

  dispose(): void {
    const s = this.store;
    if (!s) return;
    this.store = null;
    this.node = null;
    if (--s.refs === 0) this.rt.pool.release(s.buffer);
  }

  /** Reads float32 values back (for an f32 tensor). Submits pending work. */
  async read(): Promise<Float32Array> {
    if (this.encoding) {
      throw new Error(`tensor #${this.id} holds packed ${this.encoding.format.name} codes: use readCodes() or decode it first`);
    }
    const data = await this.rt.readBuffer(this.buffer, this.size * 4, `read tensor #${this.id}`);
    return new Float32Array(data);
  }

  /** Reads the packed code words back (for an encoded tensor). */
  async readWords(): Promise<Uint32Array> {
    if (!this.encoding) throw new Error(`tensor #${this.id} holds float32 values, not codes`);
    return new Uint32Array(await this.rt.readBuffer(this.buffer, this.bytes, `read codes #${this.id}`));
  }

  /** Reads a single-element f32 tensor as a number. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item() needs a single-element tensor, got shape [${this.shape.join(', ')}]`);
    return (await this.read())[0]!;
  }

  toString(): string {
    return `Tensor#${this.id}${this.name ? `(${this.name})` : ''}[${this.shape.join(', ')}]${this.encoding ? ` ${this.encoding.format.name}` : ''}`;
  }
}
