// The safetensors file format (https://github.com/huggingface/safetensors), written and read here:
// npm has no well-kept writer, and the format is small enough to implement exactly. Layout:
//
//   8 bytes   N, the header's length, an unsigned 64-bit little-endian integer
//   N bytes   the header: UTF-8 JSON starting with `{`, an object mapping each tensor's name to
//             {"dtype", "shape", "data_offsets": [begin, end]} (bytes from the start of the data
//             section, end exclusive), plus an optional "__metadata__" object of string to string;
//             trailing spaces (0x20) pad it
//   the rest  the data section: every tensor's elements, little-endian, row-major, with no gaps and
//             nothing after the last tensor
//
// The writer does what the reference implementation (the Rust crate behind Python's `safetensors`)
// does, so that the same tensors give the same bytes: tensors in the data section (and in the header,
// after "__metadata__") sorted by dtype in descending alignment order, then by name; the metadata's
// keys sorted (the reference leaves their order to its hash map);
// the header JSON compact and padded with spaces to a multiple of 8 bytes, so that the data section
// starts 8-byte aligned and every tensor is aligned to its element size. The reader accepts any
// order, checks what the reference checks (the header's size and start, JSON, known dtypes, each
// tensor's byte length from its shape and dtype, offsets that cover the data section exactly,
// metadata values that are strings) and names the file and the problem. Browser-safe: no Node APIs.
//
// Checksums and what the metadata means are the callers' (gan/io/sealed-safetensors.ts).

import * as v from 'valibot';
import { parseWith } from '../../schema/check.ts';
import { int, openFields } from '../../schema/fields.ts';

/** The dtypes of the format with a whole number of bytes per element, in the reference's order
 *  (ascending alignment): the writer sorts by it, descending. */
export const DTYPES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'] as const;
export type Dtype = (typeof DTYPES)[number];

const DTYPE_BYTES: Readonly<Record<Dtype, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

export function dtypeBytes(d: Dtype): number {
  return DTYPE_BYTES[d];
}

/** One tensor: its dtype, shape and little-endian bytes. */
export interface TensorBytes {
  dtype: Dtype;
  shape: readonly number[];
  data: Uint8Array;
}

export interface Safetensors {
  /** By name, in the file's data order. `data` views the bytes that were decoded. */
  tensors: Map<string, TensorBytes>;
  /** The `__metadata__` map, or null when the file has none. */
  metadata: Record<string, string> | null;
  /** N: the header's length in bytes (the data section starts at 8 + N). */
  headerLength: number;
}

/** The reference refuses headers above 100 MB. */
const MAX_HEADER = 100_000_000;
const METADATA = '__metadata__';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const TensorInfoSchema = openFields(
  {
    dtype: v.pipe(v.picklist(DTYPES, `must be one of ${DTYPES.join(', ')}`), v.description('the element type')),
    shape: v.pipe(v.array(int(0), 'must be a list of dimensions (integers >= 0)'), v.description('row-major dimensions ([] for a scalar)')),
    data_offsets: v.pipe(v.tuple([int(0), int(0)], 'must be [begin, end] (bytes from the start of the data section)'), v.description('[begin, end): bytes from the start of the data section')),
  },
  { noun: 'a tensor entry {dtype, shape, data_offsets}' },
);

/** The header: `__metadata__` and one entry per tensor (docs/schemas/safetensors-header.schema.json). */
export const SafetensorsHeaderSchema = v.pipe(
  v.objectWithRest(
    {
      [METADATA]: v.optional(
        v.pipe(v.record(v.string(), v.string('must be a string (safetensors metadata holds strings only)'), 'must be an object of strings'), v.description('free-form metadata: string keys to string values')),
      ),
    },
    TensorInfoSchema,
    'must be a JSON object mapping tensor names to {dtype, shape, data_offsets}',
  ),
  v.title('safetensors header'),
  v.description('The JSON header of a .safetensors file (https://github.com/huggingface/safetensors): tensor names to {dtype, shape, data_offsets}, and an optional __metadata__ map.'),
);

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Byte-wise comparison of the names' UTF-8, as the reference sorts (Rust's String order). */
function compareNames(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** JSON object text with the keys in the given order (JSON.stringify would put integer-like keys first). */
function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, json]) => `${JSON.stringify(k)}:${json}`).join(',')}}`;
}

/** The file's bytes. Metadata keys are written sorted; tensors in the reference's order (above). */
export function encodeSafetensors(tensors: Readonly<Record<string, TensorBytes>> | ReadonlyMap<string, TensorBytes>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const list = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))] as [string, TensorBytes][];
  for (const [name, t] of list) {
    if (name === METADATA) throw new SafetensorsError(`a tensor cannot be named ${METADATA}`);
    if (!(DTYPES as readonly string[]).includes(t.dtype)) throw new SafetensorsError(`tensor '${name}': unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(`tensor '${name}': shape [${t.shape.join(', ')}] must hold integers >= 0`);
    const need = elements(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.length !== need) throw new SafetensorsError(`tensor '${name}': ${t.dtype} [${t.shape.join(', ')}] needs ${need} bytes, got ${t.data.length}`);
  }
  if (metadata) for (const [k, x] of Object.entries(metadata)) if (typeof x !== 'string') throw new SafetensorsError(`metadata '${k}' must be a string`);
  list.sort(([an, a], [bn, b]) => DTYPES.indexOf(b.dtype) - DTYPES.indexOf(a.dtype) || compareNames(an, bn));
  const entries: [string, string][] = [];
  if (metadata) {
    const keys = Object.keys(metadata).sort(compareNames);
    entries.push([METADATA, objectText(keys.map((k) => [k, JSON.stringify(metadata[k])]))]);
  }
  let offset = 0;
  for (const [name, t] of list) {
    entries.push([name, JSON.stringify({ dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.length] })]);
    offset += t.data.length;
  }
  const json = new TextEncoder().encode(objectText(entries));
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let at = 8 + n;
  for (const [, t] of list) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}

/**
 * Parses and checks a file's bytes. `what` names the file in errors; `fail` makes the error (a
 * SafetensorsError unless the caller has its own class).
 */
export function decodeSafetensors(bytes: Uint8Array, what: string, fail: (message: string) => Error = (m) => new SafetensorsError(m)): Safetensors {
  const bad = (problem: string): never => {
    throw fail(`${what}: ${problem}`);
  };
  if (bytes.length < 8) bad(`truncated (${bytes.length} bytes): not a complete safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) bad(`header length ${n64} is larger than safetensors allows (${MAX_HEADER} bytes): not a safetensors file`);
  const n = Number(n64);
  if (8 + n > bytes.length) bad(`header length ${n} runs past the end of the file (${bytes.length} bytes): truncated, or not a safetensors file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return bad('the header is not UTF-8 text: not a safetensors file');
  }
  if (!text.startsWith('{')) bad("the header does not start with '{': not a safetensors file");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return bad(`the header is not valid JSON (${(e as Error).message})`);
  }
  const header = parseWith(SafetensorsHeaderSchema, json, `${what}: header`, fail);
  const data = bytes.subarray(8 + n);
  const metadata = header[METADATA] ?? null;
  const infos = Object.entries(header)
    .filter(([name]) => name !== METADATA)
    .map(([name, info]) => ({ name, ...(info as v.InferOutput<typeof TensorInfoSchema>) }))
    .sort((a, b) => a.data_offsets[0] - b.data_offsets[0] || a.data_offsets[1] - b.data_offsets[1]);
  const tensors = new Map<string, TensorBytes>();
  let end = 0;
  for (const t of infos) {
    const [begin, stop] = t.data_offsets;
    if (begin !== end || stop < begin) bad(`tensor '${t.name}': data_offsets [${begin}, ${stop}] do not follow the previous tensor (which ends at ${end}): the data must be covered without gaps or overlaps`);
    const need = elements(t.shape) * DTYPE_BYTES[t.dtype];
    if (stop - begin !== need) bad(`tensor '${t.name}': ${t.dtype} [${t.shape.join(', ')}] needs ${need} bytes, data_offsets give ${stop - begin}`);
    if (stop > data.length) bad(`tensor '${t.name}' runs past the end of the file: truncated`);
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: data.subarray(begin, stop) });
    end = stop;
  }
  if (end !== data.length) bad(`the data section has ${data.length} bytes, the tensors cover ${end}`);
  return { tensors, metadata, headerLength: n };
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** A float32 tensor's entry (its bytes are the array's: this machine is little-endian, checked). */
export function f32Tensor(shape: readonly number[], values: Float32Array): TensorBytes {
  if (!littleEndian()) throw new SafetensorsError('safetensors data is little-endian; this machine is not');
  return { dtype: 'F32', shape, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** A copy of an F32 tensor's values (aligned memory of its own). */
export function f32Values(t: TensorBytes, what: string): Float32Array {
  if (t.dtype !== 'F32') throw new SafetensorsError(`${what} is ${t.dtype}, expected F32`);
  if (!littleEndian()) throw new SafetensorsError('safetensors data is little-endian; this machine is not');
  const out = new Float32Array(t.data.length / 4);
  new Uint8Array(out.buffer).set(t.data);
  return out;
}
