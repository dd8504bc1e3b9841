// Running the codec kernels (shaders/quantize.ts) through a Runtime: quantize (f32 -> f32), encode
// (f32 -> packed codes) and decode (packed codes -> f32), with the exponent bias t, the rounding mode
// and the stochastic counter in the kernels' parameter block {count, t, seed, counter}.
//
// Two levels:
//   runCodec       records a job on given buffers (split into chunks when a buffer exceeds
//                  maxStorageBufferBindingSize): what the quantizer ops and benchmarks use
//   quantizeArray / encodeArray / decodeArray   typed arrays in, typed arrays out (upload, run, read)

import type { Format, Rounding } from '../../formats/descriptor.ts';
import { codecBytes, codecChunks, codecKernel, type CodecOp } from '../../shaders/quantize.ts';
import type { Runtime } from '../runtime.ts';

export { codecBytes, packedWords, type CodecOp } from '../../shaders/quantize.ts';

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

/** Records a job: one dispatch per chunk (codecChunks), each chunk's counter advanced by its first
 *  element. Returns the number of dispatches. */
export function runCodec(rt: Runtime, job: CodecJob): number {
  const o = codecOptions(job);
  const { op, format, count } = job;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`element count must be a non-negative integer, got ${count}`);
  const inOff = job.inputOffset ?? 0;
  const outOff = job.outputOffset ?? 0;
  const bytes = codecBytes(op, format, count);
  const align = Math.max(4, rt.gpu.limits.minStorageBufferOffsetAlignment);
  for (const [side, buf, off, need] of [
    ['input', job.input, inOff, bytes.input],
    ['output', job.output, outOff, bytes.output],
  ] as const) {
    if (off % align !== 0) throw new RangeError(`${op} ${side} offset ${off} is not a multiple of ${align} bytes (minStorageBufferOffsetAlignment)`);
    if (off + need > buf.size) {
      throw new RangeError(`${op} of ${count} ${format.name} elements needs ${need} ${side} bytes from offset ${off}, but the buffer '${buf.label}' has ${buf.size}`);
    }
  }
  if (count === 0) return 0;
  const k = codecKernel({ op, format, rounding: o.rounding });
  const chunks = codecChunks(op, format, count, rt.gpu.limits, job.maxBindingBytes);
  for (const c of chunks) {
    rt.run(
      k,
      { count: c.count, t: o.bias, seed: o.seed, counter: (o.counter + c.first) >>> 0 },
      {
        src: { buffer: job.input, offset: inOff + c.input.offset, size: c.input.size },
        dst: { buffer: job.output, offset: outOff + c.output.offset, size: c.output.size },
      },
      c.grid,
    );
  }
  return chunks.length;
}

/** Uploads `input`, runs one job and reads its output back (pool buffers, returned afterwards). */
async function runArray(rt: Runtime, op: CodecOp, format: Format, input: ArrayBufferView, count: number, opts: CodecOptions): Promise<ArrayBuffer> {
  const bytes = codecBytes(op, format, count);
  if (input.byteLength < bytes.input) {
    throw new RangeError(`${op} of ${count} ${format.name} elements needs ${bytes.input} input bytes, got ${input.byteLength}`);
  }
  codecOptions(opts);
  if (count === 0) return new ArrayBuffer(0);
  const src = rt.pool.acquire(bytes.input, `${op}:input`, true);
  const dst = rt.pool.acquire(Math.max(4, bytes.output), `${op}:output`);
  try {
    rt.device.queue.writeBuffer(src, 0, input.buffer, input.byteOffset, bytes.input);
    await rt.gpu.scoped(`${op} ${format.name}`, () => {
      runCodec(rt, { ...opts, op, format, count, input: src, output: dst });
      rt.flush();
    });
    return await rt.readBuffer(dst, bytes.output, `${op} ${format.name}`);
  } finally {
    rt.pool.release(src);
    rt.pool.release(dst);
  }
}

/** float32 values (or their bit patterns) -> decode(encode(x)) as float32. */
export async function quantizeArray(rt: Runtime, format: Format, input: Float32Array | Uint32Array, opts: CodecOptions = {}): Promise<Float32Array> {
  return new Float32Array(await runArray(rt, 'quantize', format, input, input.length, opts));
}

/** float32 values (or their bit patterns) -> packed codes (packedWords(format, input.length) words). */
export async function encodeArray(rt: Runtime, format: Format, input: Float32Array | Uint32Array, opts: CodecOptions = {}): Promise<Uint32Array> {
  return new Uint32Array(await runArray(rt, 'encode', format, input, input.length, opts));
}

/** `count` packed codes -> float32 (the exact value * 2^-t rounded to float32). */
export async function decodeArray(rt: Runtime, format: Format, packed: Uint32Array, count: number, opts: CodecOptions = {}): Promise<Float32Array> {
  return new Float32Array(await runArray(rt, 'decode', format, packed, count, opts));
}

