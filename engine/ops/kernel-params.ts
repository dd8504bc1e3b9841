// Building kernel parameter blocks: 32-bit words laid out as the WGSL `Params` structs expect.

export class ParamWriter {
  private readonly words: number[] = [];
  private readonly kinds: ('u' | 'i' | 'f')[] = [];

  u32(...v: number[]): this {
    for (const x of v) {
      if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new Error(`kernel parameter ${x} is not a u32`);
      this.words.push(x);
      this.kinds.push('u');
    }
    return this;
  }

  i32(...v: number[]): this {
    for (const x of v) {
      if (!Number.isInteger(x) || x < -0x80000000 || x > 0x7fffffff) throw new Error(`kernel parameter ${x} is not an i32`);
      this.words.push(x);
      this.kinds.push('i');
    }
    return this;
  }

  f32(...v: number[]): this {
    for (const x of v) {
      this.words.push(x);
      this.kinds.push('f');
    }
    return this;
  }

  /** Pads with zero words to a multiple of `n` words (vec4 alignment is 4). */
  align(n: number): this {
    while (this.words.length % n) this.u32(0);
    return this;
  }

  /** `values` padded with zeros to `length` u32 words (an array<vec4<u32>, length/4>). */
  u32Array(values: readonly number[], length: number): this {
    if (values.length > length) throw new Error(`too many dimensions: ${values.length} > ${length}`);
    this.align(4);
    for (let i = 0; i < length; i++) this.u32(values[i] ?? 0);
    return this;
  }

  build(): Uint32Array {
    const buf = new ArrayBuffer(Math.max(16, Math.ceil(this.words.length / 4) * 16));
    const u = new Uint32Array(buf);
    const i = new Int32Array(buf);
    const f = new Float32Array(buf);
    this.words.forEach((w, k) => {
      if (this.kinds[k] === 'f') f[k] = w;
      else if (this.kinds[k] === 'i') i[k] = w;
      else u[k] = w;
    });
    return u;
  }
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}
