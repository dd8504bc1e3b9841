// The weights files of the networks posit-gan's metrics run (the LeNet-5 classifiers of MNIST and
// Fashion-MNIST, the MNIST autoencoder): one safetensors file (gan/io/safetensors.ts, so Python's `safetensors` opens it)
// holding every parameter as an F32 tensor by its name, with metadata:
//   "format": "posit-gan/weights", "version": "2",
//   "architecture": the architecture as JSON text (loading requires an exact match with the code's),
//   "provenance": how the weights were made, JSON text (seed, epochs, command, adapter, quality, ...),
//   "dataset": the data set the network was trained on, where the network records it (the classifiers),
//   "sha256": the file's checksum (gan/io/sealed-safetensors.ts), checked before anything is used.
// This module is the one place that reads and writes them: every check (checksum, architecture,
// parameter names and shapes, finite values) happens here, and a failure names the file, the problem
// and how to make the file again. Version 1 was a raw FILE.weights with a FILE.weights.json sidecar;
// scripts/convert-weights.ts turns one into this format.
//
// A network's weights are identified (cache keys, reference statistics) by `sha256` of the header
// returned here: the SHA-256 of its parameters as little-endian float32, concatenated in the
// architecture's order. It depends on the values only, not on the container, and equals what version
// 1 recorded in its sidecar.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { parseWith } from '../../schema/check.ts';
import { fields } from '../../schema/fields.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { decodeSafetensors, f32Tensor, f32Values, type TensorBytes } from '../io/safetensors.ts';
import { CHECKSUM_KEY, encodeSealed, openSealed } from '../io/sealed-safetensors.ts';

export const WEIGHTS_FORMAT = 'posit-gan/weights';
export const WEIGHTS_VERSION = '2';

/** A parameter's name and shape, in the order the architecture lists them. */
export interface ParameterShape {
  name: string;
  shape: number[];
}

/** What a weights file must hold to be loaded as one network. */
export interface WeightsFileSpec<A> {
  /** What the file holds, for messages ('MNIST classifier weights'). */
  what: string;
  /** Must equal the file's architecture exactly. */
  architecture: A;
  /** The layout the code expects (names and shapes, in order). */
  parameters: ParameterShape[];
  /** How to make the file again; ends every error message. */
  regenerateHint: string;
  /** The error to throw (a class per network, so callers can tell them apart). */
  error: new (message: string) => Error;
}

/** What a weights file says about itself. */
export interface WeightsHeader<A = unknown, P = unknown> {
  architecture: A;
  parameters: ParameterShape[];
  provenance: P;
  /** The weights' identity: SHA-256 of the parameters as float32 LE in the architecture's order. */
  sha256: string;
  /** The file's own checksum (its metadata's sha256). */
  fileSha256: string;
  /** The file's size in bytes. */
  bytes: number;
  /** The data set the network was trained on, where the file records it (the classifier checks it). */
  dataset?: string;
}

/** Fields a network adds to the file's metadata (the classifier's data set); its reader checks them. */
export interface WeightsExtra {
  dataset?: string;
}

const jsonText = (what: string) =>
  v.pipe(
    v.string(`must be ${what} as JSON text`),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      try {
        JSON.parse(dataset.value);
      } catch (e) {
        addIssue({ message: `must be ${what} as JSON text (${(e as Error).message})` });
      }
    }),
    v.description(`${what}, JSON text`),
  );

/** The `__metadata__` of a weights file (docs/schemas/weights-metadata.schema.json). */
export const WeightsMetadataSchema = v.pipe(
  fields(
    {
      format: v.literal(WEIGHTS_FORMAT, `must be "${WEIGHTS_FORMAT}" (the file is not a posit-gan weights file)`),
      version: v.literal(WEIGHTS_VERSION, `must be "${WEIGHTS_VERSION}": this posit-gan reads weights files of version ${WEIGHTS_VERSION} (scripts/convert-weights.ts converts version 1)`),
      architecture: jsonText('the architecture (the layers, for an exact match with the code)'),
      provenance: jsonText('how the weights were made (seed, epochs, command, adapter, measured quality)'),
      sha256: v.pipe(v.string(), v.description("the file's SHA-256 (gan/io/sealed-safetensors.ts)")),
      dataset: v.optional(v.pipe(v.string(), v.description('the data set the network was trained on (the classifiers record it; mnist, fashion)'))),
    },
    { noun: 'weights metadata' },
  ),
  v.title('posit-gan weights metadata'),
  v.description('The __metadata__ of a feature network weights .safetensors file (gan/metrics/weights-file.ts); every parameter is an F32 tensor by its name.'),
);

/** The shipped feature statistics of a data set's 10,000 test images for a weights file (FID's
 *  reference; evaluate.ts reads it, `posit-gan classifier stats` writes it):
 *  FILE.safetensors -> FILE.<dataset>-test-stats.json. */
export function testStatsPath(weightsPath: string, dataset = 'mnist'): string {
  return `${weightsPath.replace(/\.(safetensors|weights)$/, '')}.${dataset}-test-stats.json`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const sha256 = (b: Uint8Array): Uint8Array => createHash('sha256').update(b).digest();

/** Parameters concatenated as little-endian float32: what the identity hash covers. */
export function weightsBytes(params: readonly Float32Array[]): Uint8Array {
  const total = params.reduce((a, p) => a + p.length, 0);
  const all = new Float32Array(total);
  let off = 0;
  for (const p of params) {
    all.set(p, off);
    off += p.length;
  }
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('weights files are little-endian; this machine is not');
  return new Uint8Array(all.buffer);
}

const elements = (shape: readonly number[]) => shape.reduce((x, y) => x * y, 1);

/** Reads and verifies a weights file against the spec; returns its header and the parameters by name
 *  (in the spec's order). */
export function readWeightsFile<A, P>(path: string, spec: WeightsFileSpec<A>): { header: WeightsHeader<A, P>; state: Record<string, Float32Array> } {
  const fail = (problem: string): Error => new spec.error(`${spec.what} ${problem}. ${spec.regenerateHint}`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw fail(`${path} cannot be read (${(e as Error).message})`);
  }
  const file = openSealed(bytes, path, fail, sha256);
  const meta = parseWith(WeightsMetadataSchema, file.metadata ?? {}, `${path}: metadata`, fail);
  const architecture = JSON.parse(meta.architecture) as A;
  if (JSON.stringify(architecture) !== JSON.stringify(spec.architecture)) {
    const name = (a: unknown) => (a as { name?: string } | null)?.name;
    throw fail(`${path} describes architecture '${name(architecture)}' with other layers than this code's '${name(spec.architecture)}'`);
  }
  const got = [...file.tensors].map(([name, t]) => `${name} ${t.dtype} [${t.shape.join(', ')}]`).sort();
  const want = spec.parameters.map((p) => `${p.name} F32 [${p.shape.join(', ')}]`).sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    const missing = want.filter((w) => !got.includes(w));
    const extra = got.filter((g) => !want.includes(g));
    throw fail(`${path}: its tensors do not match the architecture (${[...missing.map((m) => `missing ${m}`), ...extra.map((x) => `unexpected ${x}`)].join('; ')})`);
  }
  const state: Record<string, Float32Array> = {};
  for (const p of spec.parameters) {
    const values = f32Values(file.tensors.get(p.name)!, `${path}: ${p.name}`);
    const bad = values.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw fail(`${path}: ${p.name}[${bad}] is ${values[bad]}`);
    state[p.name] = values;
  }
  const header: WeightsHeader<A, P> = {
    architecture,
    parameters: spec.parameters,
    provenance: JSON.parse(meta.provenance) as P,
    sha256: sha256Hex(weightsBytes(spec.parameters.map((p) => state[p.name]!))),
    fileSha256: file.sha256,
    bytes: bytes.length,
    ...(meta.dataset === undefined ? {} : { dataset: meta.dataset }),
  };
  return { header, state };
}

/** The bytes of a weights file for parameters (name, values in the spec's order). */
export function encodeWeightsFile<A, P>(spec: WeightsFileSpec<A>, named: readonly [string, Float32Array][], provenance: P, extra: WeightsExtra = {}): Uint8Array {
  const names = named.map(([n]) => n);
  if (JSON.stringify(names) !== JSON.stringify(spec.parameters.map((p) => p.name))) {
    throw new Error(`writing ${spec.what}: the model's parameters (${names.join(', ')}) are not the architecture's; update them together`);
  }
  const tensors: Record<string, TensorBytes> = {};
  named.forEach(([name, values], i) => {
    const shape = spec.parameters[i]!.shape;
    if (values.length !== elements(shape)) throw new Error(`writing ${spec.what}: ${name} has ${values.length} values, its shape [${shape}] needs ${elements(shape)}`);
    tensors[name] = f32Tensor(shape, values);
  });
  return encodeSealed(
    tensors,
    {
      format: WEIGHTS_FORMAT,
      version: WEIGHTS_VERSION,
      architecture: JSON.stringify(spec.architecture),
      provenance: JSON.stringify(provenance),
      ...(extra.dataset === undefined ? {} : { dataset: extra.dataset }),
    },
    sha256,
  );
}

/** Writes a weights file (by temporary file and rename) and returns its header. */
export async function writeWeightsFile<A, P>(
  path: string,
  spec: WeightsFileSpec<A>,
  named: readonly [string, Float32Array][],
  provenance: P,
  extra: WeightsExtra = {},
): Promise<WeightsHeader<A, P>> {
  const bytes = encodeWeightsFile(spec, named, provenance, extra);
  await writeFileAtomic(path, bytes);
  return {
    architecture: spec.architecture,
    parameters: spec.parameters,
    provenance,
    sha256: sha256Hex(weightsBytes(named.map(([, x]) => x))),
    fileSha256: decodeSafetensors(bytes, path).metadata![CHECKSUM_KEY]!,
    bytes: bytes.length,
    ...(extra.dataset === undefined ? {} : { dataset: extra.dataset }),
  };
}
