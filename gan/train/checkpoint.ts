// The checkpoint file container: every tensor a run needs to continue (weights, optimizer state,
// batch-norm statistics) plus JSON metadata (step, RNG and data-order state, loss scale, calibration,
// op counts), in one file with a SHA-256 checksum. Decoding verifies the checksum. Which files count,
// which to load and which to keep is gan/train/checkpoint-store.ts, for any container (a codec).
//
// File layout (little-endian):
//   8 bytes   magic "PGCKPT1\n"
//   4 bytes   header length H (u32)
//   H bytes   header JSON: { version, step, meta, tensors: [{ name, shape, offset, length }] }
//   payload   float32 data of every tensor, at the offsets (bytes from the payload start)
//   32 bytes  SHA-256 of everything before it

import { createHash } from 'node:crypto';

const MAGIC = Buffer.from('PGCKPT1\n', 'latin1');
const VERSION = 1;

export interface CheckpointData {
  step: number;
  /** JSON-serialisable state: RNG, data order, loss scale, calibration, config. */
  meta: Record<string, unknown>;
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** A checkpoint container: encodes, and decodes with verification (throwing CheckpointError). */
export interface CheckpointCodec {
  /** File name ending, with the dot. */
  readonly extension: string;
  encode(c: CheckpointData): Uint8Array;
  decode(bytes: Buffer, what: string): CheckpointData;
}

export function encodeCheckpoint(c: CheckpointData): Buffer {
  const entries: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(c.tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new CheckpointError(`checkpoint tensor '${name}': shape [${t.shape}] needs ${n} values, has ${t.data.length}`);
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.byteLength;
  }
  const header = Buffer.from(JSON.stringify({ version: VERSION, step: c.step, meta: c.meta, tensors: entries }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const payload = Buffer.alloc(offset);
  for (const [i, t] of Object.values(c.tensors).entries()) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(payload, entries[i]!.offset);
  }
  const body = Buffer.concat([MAGIC, len, header, payload]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

export function decodeCheckpoint(buf: Buffer, what = 'checkpoint'): CheckpointData {
  if (buf.length < MAGIC.length + 4 + 32) throw new CheckpointError(`${what} is truncated (${buf.length} bytes)`);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new CheckpointError(`${what} is not a posit-gan checkpoint (bad magic)`);
  const body = buf.subarray(0, buf.length - 32);
  const sum = createHash('sha256').update(body).digest();
  if (!sum.equals(buf.subarray(buf.length - 32))) throw new CheckpointError(`${what} is corrupt or truncated (checksum mismatch)`);
  const hlen = buf.readUInt32LE(MAGIC.length);
  const hstart = MAGIC.length + 4;
  if (hstart + hlen > body.length) throw new CheckpointError(`${what}: header length ${hlen} runs past the end`);
  const header = JSON.parse(body.subarray(hstart, hstart + hlen).toString('utf8')) as {
    version: number;
    step: number;
    meta: Record<string, unknown>;
    tensors: { name: string; shape: number[]; offset: number; length: number }[];
  };
  if (header.version !== VERSION) throw new CheckpointError(`${what} has version ${header.version}; this posit-gan reads version ${VERSION}`);
  const payload = body.subarray(hstart + hlen);
  const tensors: CheckpointData['tensors'] = {};
  for (const e of header.tensors) {
    if (e.offset + e.length * 4 > payload.length) throw new CheckpointError(`${what}: tensor '${e.name}' runs past the end of the payload`);
    // Copy out so the tensor owns aligned memory independent of the file buffer.
    const data = new Float32Array(e.length);
    new Uint8Array(data.buffer).set(payload.subarray(e.offset, e.offset + e.length * 4));
    tensors[e.name] = { shape: e.shape, data };
  }
  return { step: header.step, meta: header.meta, tensors };
}

export const PGC_CODEC: CheckpointCodec = { extension: '.pgc', encode: encodeCheckpoint, decode: decodeCheckpoint };
