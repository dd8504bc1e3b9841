// posit-gan's safetensors files (checkpoints, exports, weights) carry a SHA-256 of themselves, so a
// damaged file is refused before anything in it is used. The checksum is the metadata entry
// `"sha256"` (64 lower-case hex digits): the SHA-256 of the whole file, from its first byte to its
// last, with those 64 digits replaced by 64 ASCII '0' characters. A writer writes the file with the
// zeros, hashes it and puts the digits in their place; a reader puts the zeros back and hashes again.
// With Python:
//
//   b = open(path, 'rb').read(); n = int.from_bytes(b[:8], 'little')
//   s = json.loads(b[8:8 + n])['__metadata__']['sha256']
//   i = b.index(b'"sha256":"' + s.encode(), 8, 8 + n) + 10
//   assert hashlib.sha256(b[:i] + b'0' * 64 + b[i + 64:]).hexdigest() == s
//
// The hash function is the caller's (node:crypto in Node, Web Crypto in the browser), sync or async.
// Browser-safe.

import { decodeSafetensors, encodeSafetensors, type Safetensors, type TensorBytes } from './safetensors.ts';

export const CHECKSUM_KEY = 'sha256';
const DIGITS = 64;
const ZEROS = '0'.repeat(DIGITS);

type Tensors = Readonly<Record<string, TensorBytes>> | ReadonlyMap<string, TensorBytes>;

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** Where `"sha256":"<digits>"`'s digits start in the header, or -1 (or -2 when it occurs twice). */
function digitsAt(bytes: Uint8Array, headerEnd: number, digits: string): number {
  const needle = new TextEncoder().encode(`"${CHECKSUM_KEY}":"${digits}"`);
  let found = -1;
  outer: for (let i = 8; i + needle.length <= headerEnd; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    if (found >= 0) return -2;
    found = i + CHECKSUM_KEY.length + 4;
  }
  return found;
}

function withZeros(tensors: Tensors, metadata: Readonly<Record<string, string>>): { bytes: Uint8Array; at: number } {
  if (CHECKSUM_KEY in metadata) throw new Error(`metadata key '${CHECKSUM_KEY}' is the checksum's`);
  const bytes = encodeSafetensors(tensors, { ...metadata, [CHECKSUM_KEY]: ZEROS });
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { bytes, at: digitsAt(bytes, 8 + n, ZEROS) };
}

function put(bytes: Uint8Array, at: number, digest: Uint8Array): Uint8Array {
  bytes.set(new TextEncoder().encode(hex(digest)), at);
  return bytes;
}

/** The file's bytes, with its checksum (sync hash, e.g. node:crypto). */
export function encodeSealed(tensors: Tensors, metadata: Readonly<Record<string, string>>, sha256: (b: Uint8Array) => Uint8Array): Uint8Array {
  const { bytes, at } = withZeros(tensors, metadata);
  return put(bytes, at, sha256(bytes));
}

/** encodeSealed with an async hash (Web Crypto). */
export async function encodeSealedAsync(tensors: Tensors, metadata: Readonly<Record<string, string>>, sha256: (b: Uint8Array) => Promise<Uint8Array>): Promise<Uint8Array> {
  const { bytes, at } = withZeros(tensors, metadata);
  return put(bytes, at, await sha256(bytes));
}

/** The header's length N, or null when the bytes cannot hold a safetensors header. */
function headerLength(bytes: Uint8Array): number | null {
  if (bytes.length < 8) return null;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n <= BigInt(bytes.length - 8) ? Number(n) : null;
}

/**
 * Verifies the checksum before anything in the file is used (a flipped byte anywhere, a truncated
 * file: "corrupt or truncated"), then decodes it. The digits are found in the header's bytes, where
 * JSON can hold `"sha256":"` only as a key of the metadata.
 */
function prepare(bytes: Uint8Array, what: string, fail: (m: string) => Error): { stored: string; zeroed: Uint8Array; decode: () => Safetensors } {
  const n = headerLength(bytes);
  if (n === null) {
    decodeSafetensors(bytes, what, fail); // throws: truncated, or not a safetensors file
    throw fail(`${what}: not a safetensors file`);
  }
  let header = '';
  for (let i = 8; i < 8 + n; i++) header += String.fromCharCode(bytes[i]!);
  const found = [...header.matchAll(new RegExp(`"${CHECKSUM_KEY}":"([0-9a-f]{${DIGITS}})"`, 'g'))];
  if (found.length !== 1) throw fail(`${what} is corrupt, or not a file posit-gan wrote: its header holds ${found.length ? 'more than one' : 'no'} SHA-256 (${CHECKSUM_KEY})`);
  const stored = found[0]![1]!;
  const zeroed = new Uint8Array(bytes); // a copy (a Node Buffer's slice() would share the bytes)
  zeroed.set(new TextEncoder().encode(ZEROS), 8 + found[0]!.index! + CHECKSUM_KEY.length + 4);
  const decode = () => {
    const file = decodeSafetensors(bytes, what, fail);
    if (file.metadata?.[CHECKSUM_KEY] !== stored) throw fail(`${what}: the SHA-256 in its header is not its metadata's ${CHECKSUM_KEY}: not a file posit-gan wrote`);
    return file;
  };
  return { stored, zeroed, decode };
}

function verdict(p: { stored: string; decode: () => Safetensors }, actual: Uint8Array, what: string, fail: (m: string) => Error): Safetensors & { sha256: string } {
  if (hex(actual) !== p.stored) throw fail(`${what} is corrupt or truncated (SHA-256 mismatch)`);
  return { ...p.decode(), sha256: p.stored };
}

/** Decodes and verifies a file (sync hash); `sha256` in the result is its checksum. */
export function openSealed(bytes: Uint8Array, what: string, fail: (m: string) => Error, sha256: (b: Uint8Array) => Uint8Array): Safetensors & { sha256: string } {
  const p = prepare(bytes, what, fail);
  return verdict(p, sha256(p.zeroed), what, fail);
}

/** openSealed with an async hash (Web Crypto). */
export async function openSealedAsync(bytes: Uint8Array, what: string, fail: (m: string) => Error, sha256: (b: Uint8Array) => Promise<Uint8Array>): Promise<Safetensors & { sha256: string }> {
  const p = prepare(bytes, what, fail);
  return verdict(p, await sha256(p.zeroed), what, fail);
}
