// Converts version-1 weights files (FILE.weights: the parameters as little-endian float32, in the
// order of `parameters` in the sidecar FILE.weights.json) into the safetensors weights file that
// posit-gan reads now (gan/metrics/weights-file.ts): FILE.safetensors beside it, unless --out says
// otherwise. The sidecar's checksum, size and values are checked first; the architecture, provenance
// and data set (where the sidecar records one) go into the new file's metadata unchanged, so the
// weights keep their identity (the same SHA-256 of their values, which cache keys and reference
// statistics use). The old files are left in place: remove them (git rm) once the new one is
// committed. test/metrics/weights-file.test.ts checks that every committed weights file is this
// conversion of its version-1 form, byte for byte.
//
//   npx tsx scripts/convert-weights.ts gan/metrics/lenet-mnist.weights gan/metrics/lenet-fashion.weights gan/metrics/mnist-autoencoder.weights
//   npx tsx scripts/convert-weights.ts FILE.weights --out OTHER.safetensors

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import { writeFileAtomicSync } from '../gan/io/atomic.ts';
import { encodeWeightsFile, readWeightsFile, sha256Hex, type WeightsFileSpec } from '../gan/metrics/weights-file.ts';
import { parseWith } from '../schema/check.ts';
import { fields, int, text } from '../schema/fields.ts';

/** The version-1 sidecar FILE.weights.json. */
const SidecarSchema = fields(
  {
    format: v.literal('posit-gan-classifier-weights', 'must be "posit-gan-classifier-weights" (not a posit-gan weights sidecar)'),
    version: v.literal(1, 'must be 1'),
    architecture: v.unknown(),
    dtype: v.literal('float32-le', 'must be "float32-le"'),
    bytes: int(0),
    sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits')),
    parameters: v.array(fields({ name: text(), shape: v.array(int(0)) }), 'must be a list of {name, shape}'),
    provenance: v.unknown(),
    dataset: v.optional(text('a data set name')),
  },
  { noun: 'a version-1 weights sidecar' },
);

class ConvertError extends Error {}

/** Converts one version-1 file; returns the new file's path and the weights' identity hash. */
export function convertWeights(path: string, out = `${path.replace(/\.weights$/, '')}.safetensors`): { out: string; sha256: string } {
  const fail = (m: string) => new ConvertError(m);
  let bytes: Buffer;
  let json: unknown;
  try {
    bytes = readFileSync(path);
    json = JSON.parse(readFileSync(`${path}.json`, 'utf8'));
  } catch (e) {
    throw fail(`${path}: ${(e as Error).message}`);
  }
  const sidecar = parseWith(SidecarSchema, json, `${path}.json`, fail);
  const count = sidecar.parameters.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  if (bytes.length !== 4 * count || bytes.length !== sidecar.bytes) throw fail(`${path} has ${bytes.length} bytes; its parameters need ${4 * count} (the sidecar says ${sidecar.bytes})`);
  if (sha256Hex(bytes) !== sidecar.sha256) throw fail(`${path}: its SHA-256 is ${sha256Hex(bytes)} but the sidecar records ${sidecar.sha256} (corrupt or partly written)`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const named: [string, Float32Array][] = [];
  let off = 0;
  for (const p of sidecar.parameters) {
    const n = p.shape.reduce((x, y) => x * y, 1);
    named.push([p.name, all.subarray(off, off + n)]);
    off += n;
  }
  const spec: WeightsFileSpec<unknown> = { what: 'converted weights', architecture: sidecar.architecture, parameters: sidecar.parameters, regenerateHint: '', error: ConvertError };
  writeFileAtomicSync(out, encodeWeightsFile(spec, named, sidecar.provenance, sidecar.dataset === undefined ? {} : { dataset: sidecar.dataset }));
  // Read back with the one reader: the new file verifies and holds the same weights.
  const back = readWeightsFile(out, spec);
  if (back.header.sha256 !== sidecar.sha256) throw fail(`${out}: the converted weights' SHA-256 ${back.header.sha256} is not the sidecar's ${sidecar.sha256}`);
  return { out, sha256: back.header.sha256 };
}

function main(argv: string[]): number {
  const i = argv.indexOf('--out');
  const outArg = i >= 0 ? argv[i + 1] : undefined;
  const files = i >= 0 ? argv.filter((_, j) => j !== i && j !== i + 1) : argv;
  if (files.length === 0 || (i >= 0 && (!outArg || files.length !== 1))) {
    process.stderr.write('usage: npx tsx scripts/convert-weights.ts FILE.weights [FILE.weights ...] | FILE.weights --out OUT.safetensors\n');
    return 2;
  }
  for (const f of files) {
    try {
      const r = convertWeights(f, outArg);
      process.stdout.write(`${f} -> ${r.out} (weights sha256 ${r.sha256}, unchanged); remove ${f} and ${f}.json once ${r.out} is committed\n`);
    } catch (e) {
      process.stderr.write(`convert-weights: ${(e as Error).message}\n`);
      return 1;
    }
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
