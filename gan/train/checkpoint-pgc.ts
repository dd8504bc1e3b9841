// The version-1 checkpoint container (`.pgc`), written by posit-gan before checkpoints became
// safetensors files (gan/train/checkpoint.ts). Read-only: a run trained then resumes, samples,
// evaluates and deploys as before, and its next checkpoints are safetensors files.
//
// File layout (little-endian):
//   8 bytes   magic "PGCKPT1\n"
//   4 bytes   header length H (u32)
//   H bytes   header JSON: { version: 1, step, meta, tensors: [{ name, shape, offset, length }] }
//   payload   float32 data of every tensor, at the offsets (bytes from the payload start)
//   32 bytes  SHA-256 of everything before it

import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { parseWith } from '../../schema/check.ts';
import { fields, int } from '../../schema/fields.ts';
import { CheckpointError, type CheckpointData, type CheckpointReader } from './checkpoint.ts';

const MAGIC = Buffer.from('PGCKPT1\n', 'latin1');

const PgcHeaderSchema = fields({
  version: v.literal(1, 'must be 1'),
  step: int(0),
  meta: v.record(v.string(), v.unknown(), 'must be an object'),
  tensors: v.array(fields({ name: v.string(), shape: v.array(int(0)), offset: int(0), length: int(0) })),
});

function decodePgc(buf: Buffer, what: string): CheckpointData {
  if (buf.length < MAGIC.length + 4 + 32) throw new CheckpointError(`${what} is truncated (${buf.length} bytes)`);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new CheckpointError(`${what} is not a posit-gan checkpoint (bad magic)`);
  const body = buf.subarray(0, buf.length - 32);
  const sum = createHash('sha256').update(body).digest();
  if (!sum.equals(buf.subarray(buf.length - 32))) throw new CheckpointError(`${what} is corrupt or truncated (checksum mismatch)`);
  const hlen = buf.readUInt32LE(MAGIC.length);
  const hstart = MAGIC.length + 4;
  if (hstart + hlen > body.length) throw new CheckpointError(`${what}: header length ${hlen} runs past the end`);
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(hstart, hstart + hlen).toString('utf8'));
  } catch (e) {
    throw new CheckpointError(`${what}: the header is not valid JSON (${(e as Error).message})`);
  }
  const header = parseWith(PgcHeaderSchema, json, `${what}: header`, (m) => new CheckpointError(m));
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

export const PGC_READER: CheckpointReader = { extension: '.pgc', decode: decodePgc };
