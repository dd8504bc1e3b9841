// The checkpoint file: every tensor a run needs to continue (weights, optimizer state, batch-norm
// statistics) plus JSON metadata (trainer state: step, RNG and data-order state, loss scale,
// calibration; the run's configuration; elapsed time and op counts), in one safetensors file that
// checks itself. Which files count, which to load and which to keep is gan/train/checkpoint-store.ts,
// for any container (a codec); what the metadata holds is gan/train/checkpoint-meta.ts.
//
// File (`ckpt-NNNNNNNNN.safetensors`, gan/io/safetensors.ts; Python's `safetensors` opens it):
//   tensors       each by name (`G.model.0.weight`, `optG.model.0.weight.exp_avg`, ...): F32 values,
//                 or U32 for packed code words (optimizer state in a small format)
//   __metadata__  "format": "posit-gan/checkpoint", "version": "2", "step": the step as decimal text,
//                 one JSON text per metadata key (trainer, config, run), and "sha256": the file's
//                 checksum (gan/io/sealed-safetensors.ts: the SHA-256 of the file with those 64 digits
//                 as '0's). Decoding verifies it before anything else is used.
// Version 1 was the `.pgc` container (gan/train/checkpoint-pgc.ts): still read, never written.

import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { parseWith } from '../../schema/check.ts';
import { text } from '../../schema/fields.ts';
import { encodeSealed, openSealed } from '../io/sealed-safetensors.ts';
import { f32Values, type TensorBytes } from '../io/safetensors.ts';

export const CHECKPOINT_FORMAT = 'posit-gan/checkpoint';
export const CHECKPOINT_VERSION = '2';

export interface CheckpointTensor {
  shape: number[];
  /** The values; for a code tensor, the code words' bits (a Uint32Array's bytes). */
  data: Float32Array;
  /** Packed code words, not floats: stored as U32. */
  codes?: boolean;
}

export interface CheckpointData {
  step: number;
  /** JSON-serialisable state: trainer state, config, run bookkeeping (gan/train/checkpoint-meta.ts). */
  meta: Record<string, unknown>;
  tensors: Record<string, CheckpointTensor>;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Reads one checkpoint container, verifying it (throwing CheckpointError). */
export interface CheckpointReader {
  /** File name ending, with the dot. */
  readonly extension: string;
  decode(bytes: Buffer, what: string): CheckpointData;
}

/** A container checkpoints are written in. */
export interface CheckpointCodec extends CheckpointReader {
  encode(c: CheckpointData): Uint8Array;
}

const sha256 = (b: Uint8Array): Uint8Array => createHash('sha256').update(b).digest();

/** Metadata keys of the container itself; the rest are the checkpoint's meta, as JSON text. */
const RESERVED = ['format', 'version', 'step', 'sha256'];

/** The `__metadata__` of a checkpoint file (docs/schemas/checkpoint-metadata.schema.json). */
export const CheckpointMetadataSchema = v.pipe(
  v.objectWithRest(
    {
      format: v.literal(CHECKPOINT_FORMAT, `must be "${CHECKPOINT_FORMAT}" (the file is not a posit-gan checkpoint)`),
      version: v.literal(CHECKPOINT_VERSION, `must be "${CHECKPOINT_VERSION}": this posit-gan reads checkpoint files of version ${CHECKPOINT_VERSION} (and the older .pgc files)`),
      step: v.pipe(v.string(), v.regex(/^(0|[1-9]\d*)$/, 'must be the step as decimal digits'), v.description('the training step, decimal')),
      sha256: v.pipe(text(), v.description("the file's SHA-256, 64 hex digits (gan/io/sealed-safetensors.ts)")),
    },
    v.pipe(
      v.string('must be JSON text'),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        try {
          JSON.parse(dataset.value);
        } catch (e) {
          addIssue({ message: `must be JSON text (${(e as Error).message})` });
        }
      }),
      v.description('JSON text: trainer, config, run (docs/schemas/checkpoint-state.schema.json)'),
    ),
    'must be an object of strings',
  ),
  v.title('posit-gan checkpoint metadata'),
  v.description('The __metadata__ of a checkpoint .safetensors file (gan/train/checkpoint.ts): format, version, step, checksum, and the checkpoint state as JSON texts.'),
);

function encodeSafetensorsCheckpoint(c: CheckpointData): Uint8Array {
  const tensors: Record<string, TensorBytes> = {};
  for (const [name, t] of Object.entries(c.tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new CheckpointError(`checkpoint tensor '${name}': shape [${t.shape}] needs ${n} values, has ${t.data.length}`);
    tensors[name] = { dtype: t.codes ? 'U32' : 'F32', shape: t.shape, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
  }
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, step: String(c.step) };
  for (const [k, x] of Object.entries(c.meta)) {
    if (RESERVED.includes(k)) throw new CheckpointError(`checkpoint metadata key '${k}' is reserved for the file itself`);
    metadata[k] = JSON.stringify(x);
  }
  return encodeSealed(tensors, metadata, sha256);
}

function decodeSafetensorsCheckpoint(bytes: Buffer, what: string): CheckpointData {
  const fail = (m: string) => new CheckpointError(m);
  const file = openSealed(bytes, what, fail, sha256);
  const m = parseWith(CheckpointMetadataSchema, file.metadata ?? {}, `${what}: metadata`, fail);
  const meta: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(m)) if (!RESERVED.includes(k)) meta[k] = JSON.parse(x as string);
  const tensors: CheckpointData['tensors'] = {};
  for (const [name, t] of file.tensors) {
    if (t.dtype !== 'F32' && t.dtype !== 'U32') throw new CheckpointError(`${what}: tensor '${name}' is ${t.dtype}; checkpoints hold F32 values and U32 code words`);
    // Copied out of the file's buffer (aligned, owned); code words keep their bits.
    const data = f32Values({ ...t, dtype: 'F32' }, `${what}: tensor '${name}'`);
    tensors[name] = { shape: [...t.shape], data, ...(t.dtype === 'U32' ? { codes: true } : {}) };
  }
  return { step: Number(m.step), meta, tensors };
}

export const SAFETENSORS_CODEC: CheckpointCodec = { extension: '.safetensors', encode: encodeSafetensorsCheckpoint, decode: decodeSafetensorsCheckpoint };
