// The deployable generator file (docs/export-format.md is the specification): a header JSON naming the
// model, the deployment recipe and every tensor's format, exponent bias, shape and place, a payload of
// packed code words, and a SHA-256 of everything before it. This module only turns bytes into a
// validated structure and back; gan/deploy/export.ts builds and instantiates generators from it, and
// gan/deploy/files.ts reads and writes the files (readExportFile, writeExportFile). Browser-safe (Web
// Crypto for the checksum).

import { codesPerWord, parseFormat } from '../../formats/descriptor.ts';
import { MAX_BIAS } from '../../formats/codec.ts';
import { resolveDeployRecipe, type DeployRecipe, type DeployRecipeSpec } from './recipes.ts';

export const EXPORT_MAGIC = 'PGEXPORT';
export const EXPORT_FORMAT = 'posit-gan/export';
export const EXPORT_VERSION = 1;
const HASH_BYTES = 32;
const PREFIX = 12; // magic + header length

/** What a tensor is to the generator, and so how a loader uses its codes. */
export type TensorRole =
  /** A Linear / Conv weight: packed codes of the recipe's weight format with bias t, used as they are. */
  | 'matmul-weight'
  /** An embedding table in the recipe's activation format (bias 0). */
  | 'embedding'
  /** Any other parameter or buffer (layer biases, batch-norm parameters and statistics), as fp32. */
  | 'float32';

export const TENSOR_ROLES: readonly TensorRole[] = ['matmul-weight', 'embedding', 'float32'];

export interface ExportTensor {
  /** The generator's parameter / buffer name (PyTorch-style dotted path). */
  name: string;
  role: TensorRole;
  shape: number[];
  /** Canonical format name (formats/descriptor.ts). */
  format: string;
  /** Exponent bias t: a code c stands for decode(c) * 2^-t. */
  bias: number;
  /** Byte offset of its first word from the payload start (a multiple of 4). */
  offset: number;
  /** Number of 32-bit words (docs/number-formats.md packing: 4, 2 or 1 codes per word). */
  words: number;
}

/** The model to rebuild: which generator and the options that give its shape. */
export type ExportModel = { kind: 'cgan'; width: number } | { kind: 'dcgan'; size: 28 | 32; ngf: number; ndf: number } | { kind: 'acgan'; width: number };

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  model: ExportModel;
  latent: number;
  conditional: boolean;
  classes: number;
  /** [C, H, W] of the images, values in [-1, 1]. */
  imageShape: [number, number, number];
  recipe: DeployRecipeSpec;
  /** Where the generator came from (informational). */
  source: { checkpoint: string; step: number; trainRecipe: string };
  created: string;
  tensors: ExportTensor[];
}

/** A parsed, verified export. */
export interface ExportFile {
  header: ExportHeader;
  recipe: DeployRecipe;
  /** Code words of each tensor, by name (copies, 4-byte aligned). */
  words: Map<string, Uint32Array>;
  /** Hex SHA-256 of the file's content (as stored in its last 32 bytes). */
  sha256: string;
}

export class ExportError extends Error {
  override name = 'ExportError';
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  // Files and fetched bodies live in ordinary ArrayBuffers; the cast only drops SharedArrayBuffer.
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** Words needed for `count` codes of a format (docs/number-formats.md). */
function wordsFor(format: string, count: number): number {
  return Math.ceil(count / codesPerWord(parseFormat(format)));
}

/** Serialises a header (offsets and word counts are filled in here) and the tensors' words. */
export async function encodeExport(header: Omit<ExportHeader, 'tensors'>, tensors: readonly (Omit<ExportTensor, 'offset' | 'words'> & { data: Uint32Array })[]): Promise<Uint8Array> {
  let offset = 0;
  const entries: ExportTensor[] = tensors.map(({ data, ...t }) => {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const need = wordsFor(t.format, count);
    if (data.length !== need) throw new ExportError(`export tensor '${t.name}': ${count} ${t.format} codes need ${need} words, got ${data.length}`);
    const e = { ...t, offset, words: need };
    offset += need * 4;
    return e;
  });
  const json = new TextEncoder().encode(JSON.stringify({ ...header, tensors: entries }));
  const pad = (4 - ((PREFIX + json.length) % 4)) % 4;
  const payloadStart = PREFIX + json.length + pad;
  const body = new Uint8Array(payloadStart + offset);
  body.set(new TextEncoder().encode(EXPORT_MAGIC), 0);
  new DataView(body.buffer).setUint32(8, json.length, true);
  body.set(json, PREFIX);
  const view = new DataView(body.buffer, payloadStart);
  tensors.forEach((t, i) => {
    const base = entries[i]!.offset;
    for (let w = 0; w < t.data.length; w++) view.setUint32(base + 4 * w, t.data[w]!, true);
  });
  const out = new Uint8Array(body.length + HASH_BYTES);
  out.set(body);
  out.set(await sha256(body), body.length);
  return out;
}

function need(cond: boolean, what: string, problem: string): void {
  if (!cond) throw new ExportError(`${what}: ${problem}`);
}

function isInt(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

function checkModel(m: unknown, what: string): ExportModel {
  const o = m as Record<string, unknown> | null;
  need(typeof o === 'object' && o !== null, what, 'header field model must be an object');
  if (o!.kind === 'cgan') {
    need(isInt(o!.width, 1, 1 << 16), what, `cgan width must be a positive integer, got ${JSON.stringify(o!.width)}`);
    return { kind: 'cgan', width: o!.width as number };
  }
  if (o!.kind === 'dcgan') {
    need(o!.size === 28 || o!.size === 32, what, `dcgan size must be 28 or 32, got ${JSON.stringify(o!.size)}`);
    need(isInt(o!.ngf, 1, 1 << 16) && isInt(o!.ndf, 1, 1 << 16), what, 'dcgan ngf and ndf must be positive integers');
    return { kind: 'dcgan', size: o!.size as 28 | 32, ngf: o!.ngf as number, ndf: o!.ndf as number };
  }
  if (o!.kind === 'acgan') {
    need(isInt(o!.width, 1, 1 << 16), what, `acgan width must be a positive integer, got ${JSON.stringify(o!.width)}`);
    return { kind: 'acgan', width: o!.width as number };
  }
  throw new ExportError(`${what}: unknown model kind ${JSON.stringify(o!.kind)} (this posit-gan knows cgan, dcgan, acgan)`);
}

/**
 * Parses and verifies an export: magic, checksum (a corrupt or truncated file is rejected before
 * anything else is read), version, the recipe, and every tensor's format, bias, shape and extent.
 * `what` names the file in errors.
 */
export async function parseExport(bytes: Uint8Array, what = 'export'): Promise<ExportFile> {
  need(bytes.length >= PREFIX + HASH_BYTES, what, `truncated (${bytes.length} bytes): not a complete posit-gan export`);
  need(new TextDecoder().decode(bytes.subarray(0, 8)) === EXPORT_MAGIC, what, `not a posit-gan export (the file does not start with ${EXPORT_MAGIC})`);
  const body = bytes.subarray(0, bytes.length - HASH_BYTES);
  const stored = bytes.subarray(bytes.length - HASH_BYTES);
  const actual = await sha256(body);
  need(hex(actual) === hex(stored), what, 'corrupt or truncated (SHA-256 mismatch)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(8, true);
  need(PREFIX + hlen <= body.length, what, `header length ${hlen} runs past the end of the file`);
  let header: ExportHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(PREFIX, PREFIX + hlen)));
  } catch (e) {
    throw new ExportError(`${what}: header is not valid JSON (${(e as Error).message})`);
  }
  need(header.format === EXPORT_FORMAT, what, `header format is ${JSON.stringify(header.format)}, expected ${EXPORT_FORMAT}`);
  need(header.version === EXPORT_VERSION, what, `version ${JSON.stringify(header.version)}; this posit-gan reads version ${EXPORT_VERSION}`);
  header.model = checkModel(header.model, what);
  need(isInt(header.latent, 1, 1 << 20), what, 'header field latent must be a positive integer');
  need(typeof header.conditional === 'boolean' && isInt(header.classes, 1, 1 << 20), what, 'header fields conditional / classes are malformed');
  need(Array.isArray(header.imageShape) && header.imageShape.length === 3 && header.imageShape.every((d) => isInt(d, 1, 1 << 16)), what, 'header field imageShape must be [C, H, W]');
  let recipe: DeployRecipe;
  try {
    recipe = resolveDeployRecipe(header.recipe);
  } catch (e) {
    throw new ExportError(`${what}: ${(e as Error).message}`);
  }
  need(Array.isArray(header.tensors), what, 'header field tensors must be an array');
  const payloadStart = PREFIX + hlen + ((4 - ((PREFIX + hlen) % 4)) % 4);
  const payload = body.subarray(payloadStart);
  const words = new Map<string, Uint32Array>();
  let end = 0;
  for (const t of header.tensors) {
    const tw = `${what}: tensor ${JSON.stringify(t?.name)}`;
    need(typeof t.name === 'string' && !words.has(t.name), tw, 'missing or duplicate name');
    need(TENSOR_ROLES.includes(t.role), tw, `unknown role ${JSON.stringify(t.role)} (known: ${TENSOR_ROLES.join(', ')})`);
    need(Array.isArray(t.shape) && t.shape.every((d) => isInt(d, 0, 2 ** 31)), tw, 'shape must be a list of non-negative integers');
    try {
      parseFormat(t.format);
    } catch (e) {
      throw new ExportError(`${tw}: ${(e as Error).message}`);
    }
    need(isInt(t.bias, -MAX_BIAS, MAX_BIAS), tw, `exponent bias must be an integer in -${MAX_BIAS}..${MAX_BIAS}`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    need(t.words === wordsFor(t.format, count), tw, `${count} ${t.format} codes need ${wordsFor(t.format, count)} words, header says ${t.words}`);
    need(isInt(t.offset, 0, payload.length) && t.offset % 4 === 0 && t.offset + 4 * t.words <= payload.length, tw, 'offset lies outside the payload');
    const w = new Uint32Array(t.words);
    const pv = new DataView(payload.buffer, payload.byteOffset + t.offset, 4 * t.words);
    for (let i = 0; i < t.words; i++) w[i] = pv.getUint32(4 * i, true);
    words.set(t.name, w);
    end = Math.max(end, t.offset + 4 * t.words);
  }
  need(end === payload.length, what, `payload has ${payload.length} bytes, the tensors cover ${end}`);
  return { header, recipe, words, sha256: hex(actual) };
}
