// The weights files of the networks posit-gan's metrics run (the LeNet-5 classifier, the autoencoder):
// FILE holds the parameters as little-endian float32, concatenated in the order of `parameters` in the
// sidecar FILE.json, which also records the architecture, the SHA-256 of FILE and how the weights were
// made (`provenance`: seed, epochs, command, adapter, measured quality). This module is the one place
// that reads and writes them: every check (layout, size, checksum, finite values) happens here, and a
// failure names the file, the problem and how to regenerate it.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';

/** A parameter's name and shape, in the order the file stores them. */
export interface ParameterShape {
  name: string;
  shape: number[];
}

/** The sidecar FILE.json. The format name predates the second network; both use it. */
export interface WeightsSidecar<A = unknown, P = unknown> {
  format: 'posit-gan-classifier-weights';
  version: 1;
  architecture: A;
  dtype: 'float32-le';
  bytes: number;
  sha256: string;
  parameters: ParameterShape[];
  provenance: P;
}

/** What a weights file must hold to be loaded as one network. */
export interface WeightsFileSpec<A> {
  /** What the file holds, for messages ('MNIST classifier weights'). */
  what: string;
  /** Must equal the sidecar's architecture exactly. */
  architecture: A;
  /** The layout the code expects (names and shapes, in order). */
  parameters: ParameterShape[];
  /** How to make the file again; ends every error message. */
  regenerateHint: string;
  /** The error to throw (a class per network, so callers can tell them apart). */
  error: new (message: string) => Error;
}

export function sidecarPath(weightsPath: string): string {
  return `${weightsPath}.json`;
}

/** The shipped feature statistics of a data set's 10,000 test images for a weights file (FID's
 *  reference; evaluate.ts reads it, `posit-gan classifier stats` writes it):
 *  FILE.weights -> FILE.<dataset>-test-stats.json. */
export function testStatsPath(weightsPath: string, dataset = 'mnist'): string {
  return `${weightsPath.replace(/\.weights$/, '')}.${dataset}-test-stats.json`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Parameters concatenated as little-endian float32: the weights file's bytes. */
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

/** Reads and verifies a weights file against the spec; returns the sidecar and the parameters by name. */
export function readWeightsFile<A, P>(path: string, spec: WeightsFileSpec<A>): { sidecar: WeightsSidecar<A, P>; state: Record<string, Float32Array> } {
  const fail = (problem: string): never => {
    throw new spec.error(`${spec.what} ${path}: ${problem}. ${spec.regenerateHint}`);
  };
  const jsonPath = sidecarPath(path);
  let bytes: Buffer;
  let text: string;
  try {
    bytes = readFileSync(path);
    text = readFileSync(jsonPath, 'utf8');
  } catch (e) {
    return fail(`cannot be read (${(e as Error).message})`);
  }
  let sidecar: WeightsSidecar<A, P>;
  try {
    sidecar = JSON.parse(text) as WeightsSidecar<A, P>;
  } catch (e) {
    return fail(`the sidecar ${jsonPath} is not valid JSON (${(e as Error).message})`);
  }
  if (sidecar?.format !== 'posit-gan-classifier-weights' || sidecar.version !== 1) {
    fail(`the sidecar ${jsonPath} is not a version-1 posit-gan classifier weights description`);
  }
  if (JSON.stringify(sidecar.architecture) !== JSON.stringify(spec.architecture)) {
    const name = (a: unknown) => (a as { name?: string } | null)?.name;
    fail(`the sidecar describes architecture '${name(sidecar.architecture)}' with other layers than this code's '${name(spec.architecture)}'`);
  }
  const expected = spec.parameters;
  if (JSON.stringify(sidecar.parameters) !== JSON.stringify(expected)) fail(`its parameter list does not match the architecture (expected ${JSON.stringify(expected)})`);
  const total = expected.reduce((a, p) => a + elements(p.shape), 0);
  if (bytes.length !== total * 4 || sidecar.bytes !== bytes.length) {
    fail(`has ${bytes.length} bytes; the architecture needs ${total * 4} (the sidecar says ${sidecar.bytes})`);
  }
  const sum = sha256Hex(bytes);
  if (sum !== sidecar.sha256) fail(`its SHA-256 is ${sum} but the sidecar records ${sidecar.sha256} (corrupt or partly written)`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  for (let i = 0; i < all.length; i++) if (!Number.isFinite(all[i]!)) fail(`value ${i} is ${all[i]}`);
  const state: Record<string, Float32Array> = {};
  let off = 0;
  for (const p of expected) {
    const n = elements(p.shape);
    state[p.name] = all.subarray(off, off + n);
    off += n;
  }
  return { sidecar, state };
}

/**
 * Writes parameters (name, values in the spec's order) and the sidecar, each by temporary file and
 * rename; the binary first, so an interruption between the two leaves a checksum mismatch, which
 * loading reports.
 */
export async function writeWeightsFile<A, P>(
  path: string,
  spec: WeightsFileSpec<A>,
  named: readonly [string, Float32Array][],
  provenance: P,
  /** Fields a network adds to the sidecar (the classifier's data set); its reader checks them. */
  extra: Record<string, unknown> = {},
): Promise<WeightsSidecar<A, P>> {
  const names = named.map(([n]) => n);
  if (JSON.stringify(names) !== JSON.stringify(spec.parameters.map((p) => p.name))) {
    throw new Error(`writing ${spec.what}: the model's parameters (${names.join(', ')}) are not the architecture's; update them together`);
  }
  named.forEach(([name, v], i) => {
    if (v.length !== elements(spec.parameters[i]!.shape)) throw new Error(`writing ${spec.what}: ${name} has ${v.length} values, its shape [${spec.parameters[i]!.shape}] needs ${elements(spec.parameters[i]!.shape)}`);
  });
  const bytes = weightsBytes(named.map(([, v]) => v));
  const sidecar: WeightsSidecar<A, P> = {
    format: 'posit-gan-classifier-weights',
    version: 1,
    architecture: spec.architecture,
    dtype: 'float32-le',
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
    parameters: spec.parameters,
    provenance,
    ...extra,
  };
  await writeFileAtomic(path, bytes);
  await writeJsonAtomic(sidecarPath(path), sidecar);
  return sidecar;
}
