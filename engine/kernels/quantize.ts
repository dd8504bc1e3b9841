// Host side of the codec kernels (shaders/quantize.ts): quantize (f32 -> f32), encode (f32 -> packed
// codes) and decode (packed codes -> f32), with the exponent bias t, the rounding mode and the
// stochastic counter in a 4-word uniform {count, t, seed, counter}.
//
// Three levels:
//   planCodec      the dispatches of a job (kernel, uniform words, storage bindings, grid), split into
//                  chunks when a buffer exceeds maxStorageBufferBindingSize; for engines with their
//                  own uniform allocator (Runtime.dispatch takes exactly these pieces)
//   recordCodec    records a job into a compute pass, with uniforms from a given allocator
//   quantizeArray / encodeArray / decodeArray   typed arrays in, typed arrays out (upload, run, read)

import type { Gpu } from '../device/gpu.ts';
import { codesPerWord, type Format, type Rounding } from '../../formats/descriptor.ts';
import { codecShader, elementsPerInvocation, WORKGROUP_SIZE, type CodecOp } from '../../shaders/quantize.ts';
import { bindGroup, grid1d, kernel, uniformBuffer, type Binding, type Kernel } from './cache.ts';
import { memoByKey } from './memo.ts';

export type { CodecOp } from '../../shaders/quantize.ts';

/** |t| limit of docs/number-formats.md. */
export const MAX_BIAS = 256;

export interface CodecOptions {
  /** Default 'nearest'. */
  rounding?: Rounding;
  /** Exponent bias t: encode x * 2^t, decode to value * 2^-t. Integer, |t| <= 256. Default 0. */
  bias?: number;
  /** Stochastic rounding seed (u32). Default 0. */
  seed?: number;
  /** Stochastic counter of element 0 (u32); element i draws random(seed, counter + i). Default 0. */
  counter?: number;
}

export interface CodecJob extends CodecOptions {
  op: CodecOp;
  format: Format;
  /** Number of elements (values or codes). */
  count: number;
  /** f32 bit patterns (quantize, encode) or packed codes (decode), from byte `inputOffset`. */
  input: GPUBuffer;
  inputOffset?: number;
  /** f32 bit patterns (quantize, decode) or packed codes (encode), from byte `outputOffset`. */
  output: GPUBuffer;
  outputOffset?: number;
  /** Largest binding per dispatch; default maxStorageBufferBindingSize (smaller forces chunks). */
  maxBindingBytes?: number;
}

/** One dispatch: uniform words for binding 0, storage bindings 1 and 2, the workgroup grid. */
export interface CodecDispatch {
  kernel: Kernel;
  params: Uint32Array;
  storage: [Binding, Binding];
  workgroups: [number, number, number];
}

/** u32 words that hold `count` packed codes of `format`. */
export function packedWords(format: Format, count: number): number {
  return Math.ceil(count / codesPerWord(format));
}

/** Bytes of a job's input and output. */
export function codecBytes(op: CodecOp, format: Format, count: number): { input: number; output: number } {
  const f32 = count * 4;
  const packed = packedWords(format, count) * 4;
  return { input: op === 'decode' ? packed : f32, output: op === 'encode' ? packed : f32 };
}

/** The compiled pipeline of one codec kernel (cached per device by its source). */
export function codecKernel(gpu: Gpu, op: CodecOp, format: Format, rounding: Rounding = 'nearest'): Kernel {
  const label = `${op}:${format.name}:${rounding}`;
  return kernel(gpu, label, codecSource({ label, op, format, rounding }));
}

interface CodecVariant {
  /** op:format:rounding. Canonical format names are unique, so it determines the source. */
  label: string;
  op: CodecOp;
  format: Format;
  rounding: Rounding;
}

const codecSource = memoByKey(
  (v: CodecVariant) => codecShader(v.op, v.format, v.rounding),
  (v: CodecVariant) => v.label,
);

function checkU32(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what} must be an integer in 0..2^32-1, got ${v}`);
  return v;
}

/** Checks the options and fills in the defaults. */
function codecOptions(o: CodecOptions): Required<CodecOptions> {
  const rounding = o.rounding ?? 'nearest';
  if (rounding !== 'nearest' && rounding !== 'stochastic') {
    throw new RangeError(`rounding must be 'nearest' or 'stochastic', got '${String(rounding)}'`);
  }
  const bias = o.bias ?? 0;
  if (!Number.isInteger(bias) || Math.abs(bias) > MAX_BIAS) {
    throw new RangeError(`exponent bias t must be an integer in -${MAX_BIAS}..${MAX_BIAS}, got ${bias}`);
  }
  return { rounding, bias, seed: checkU32('seed', o.seed ?? 0), counter: checkU32('counter', o.counter ?? 0) };
}

/**
 * The dispatches of a job. Buffers larger than the binding limit are processed in chunks whose
 * byte offsets on both sides are multiples of minStorageBufferOffsetAlignment; each chunk's counter
 * is advanced by its first element, so chunking never changes a stochastic result.
 */
export function planCodec(gpu: Gpu, job: CodecJob): CodecDispatch[] {
  const o = codecOptions(job);
  const { op, format, count } = job;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`element count must be a non-negative integer, got ${count}`);
  const inOff = job.inputOffset ?? 0;
  const outOff = job.outputOffset ?? 0;
  const bytes = codecBytes(op, format, count);
  const align = Math.max(4, gpu.limits.minStorageBufferOffsetAlignment);
  for (const [side, buf, off, need] of [
    ['input', job.input, inOff, bytes.input],
    ['output', job.output, outOff, bytes.output],
  ] as const) {
    if (off % align !== 0) throw new RangeError(`${op} ${side} offset ${off} is not a multiple of ${align} bytes (minStorageBufferOffsetAlignment)`);
    if (off + need > buf.size) {
      throw new RangeError(`${op} of ${count} ${format.name} elements needs ${need} ${side} bytes from offset ${off}, but the buffer '${buf.label}' has ${buf.size}`);
    }
  }
  if (count === 0) return [];
  const k = codecKernel(gpu, op, format, o.rounding);
  const perWord = codesPerWord(format);
  // Chunk starts must be whole words on the packed side and aligned on both sides.
  const unit = (perWord * align) / 4;
  const maxBinding = Math.min(job.maxBindingBytes ?? Infinity, gpu.limits.maxStorageBufferBindingSize);
  const chunk = Math.floor(maxBinding / 4 / unit) * unit;
  if (chunk === 0) throw new RangeError(`binding limit of ${maxBinding} bytes is below one aligned chunk of ${unit * 4} bytes`);
  const perInvocation = elementsPerInvocation(op, format);
  const plan: CodecDispatch[] = [];
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const b = codecBytes(op, format, n);
    const inStart = op === 'decode' ? (start / perWord) * 4 : start * 4;
    const outStart = op === 'encode' ? (start / perWord) * 4 : start * 4;
    const invocations = Math.ceil(n / perInvocation);
    plan.push({
      kernel: k,
      params: new Uint32Array([n, o.bias >>> 0, o.seed, (o.counter + start) >>> 0]),
      storage: [
        { buffer: job.input, offset: inOff + inStart, size: b.input },
        { buffer: job.output, offset: outOff + outStart, size: b.output },
      ],
      workgroups: grid1d(gpu, Math.ceil(invocations / WORKGROUP_SIZE)),
    });
  }
  return plan;
}

/** Records a job into a compute pass; `uniform` places each dispatch's 4 parameter words. */
export function recordCodec(
  gpu: Gpu,
  pass: GPUComputePassEncoder,
  job: CodecJob,
  uniform: (words: Uint32Array) => Binding,
): void {
  for (const d of planCodec(gpu, job)) {
    pass.setPipeline(d.kernel.pipeline);
    pass.setBindGroup(0, bindGroup(gpu, d.kernel, [uniform(d.params), ...d.storage]));
    pass.dispatchWorkgroups(...d.workgroups);
  }
}

/** Uniform buffers for one-off jobs, destroyed together once the work has been read back. */
export class UniformBuffers {
  private readonly buffers: GPUBuffer[] = [];
  constructor(private readonly gpu: Gpu) {}
  readonly slot = (words: Uint32Array): Binding => {
    const b = uniformBuffer(this.gpu, 'codec-params', words);
    this.buffers.push(b);
    return b;
  };
  destroy(): void {
    for (const b of this.buffers.splice(0)) b.destroy();
  }
}

/** Uploads `input`, runs one job and reads its output back. */
async function runArray(gpu: Gpu, op: CodecOp, format: Format, input: ArrayBufferView, count: number, opts: CodecOptions): Promise<ArrayBuffer> {
  const bytes = codecBytes(op, format, count);
  if (input.byteLength < bytes.input) {
    throw new RangeError(`${op} of ${count} ${format.name} elements needs ${bytes.input} input bytes, got ${input.byteLength}`);
  }
  if (count === 0) return new ArrayBuffer(0);
  const src = gpu.upload(input, `${op}:input`);
  const dst = gpu.device.createBuffer({
    label: `${op}:output`,
    size: Math.max(4, bytes.output),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const uniforms = new UniformBuffers(gpu);
  try {
    const job: CodecJob = { ...opts, op, format, count, input: src, output: dst };
    await gpu.scoped(`${op} ${format.name}`, () => {
      const enc = gpu.device.createCommandEncoder({ label: `${op}:${format.name}` });
      const pass = enc.beginComputePass({ label: `${op}:${format.name}` });
      recordCodec(gpu, pass, job, uniforms.slot);
      pass.end();
      gpu.device.queue.submit([enc.finish()]);
    });
    return await gpu.read(dst, 0, bytes.output, `${op} ${format.name}`);
  } finally {
    uniforms.destroy();
    src.destroy();
    dst.destroy();
  }
}

/** float32 values (or their bit patterns) -> decode(encode(x)) as float32. */
export async function quantizeArray(gpu: Gpu, format: Format, input: Float32Array | Uint32Array, opts: CodecOptions = {}): Promise<Float32Array> {
  return new Float32Array(await runArray(gpu, 'quantize', format, input, input.length, opts));
}

/** float32 values (or their bit patterns) -> packed codes (packedWords(format, input.length) words). */
export async function encodeArray(gpu: Gpu, format: Format, input: Float32Array | Uint32Array, opts: CodecOptions = {}): Promise<Uint32Array> {
  return new Uint32Array(await runArray(gpu, 'encode', format, input, input.length, opts));
}

/** `count` packed codes -> float32 (the exact value * 2^-t rounded to float32). */
export async function decodeArray(gpu: Gpu, format: Format, packed: Uint32Array, count: number, opts: CodecOptions = {}): Promise<Float32Array> {
  return new Float32Array(await runArray(gpu, 'decode', format, packed, count, opts));
}
