// The IDX file format (the format MNIST is distributed in), parsed from bytes. Browser-safe: no Node
// imports; gan/data/idx-file.ts adds the reading from disk.
//
// Layout: two zero bytes, a type byte, a byte with the number of dimensions d, then d big-endian u32
// sizes, then the data in row-major order. Only type 0x08 (unsigned byte) is supported: it is what
// MNIST uses. A file is accepted only if its size is exactly header + product of the sizes, so a
// truncated download or a file with trailing garbage is caught here, not as odd pixels later.

export interface IdxArray {
  /** Sizes, outermost first (MNIST images: [count, rows, cols]; labels: [count]). */
  readonly dims: readonly number[];
  /** The elements in row-major order; a view into the parsed bytes (no copy). */
  readonly data: Uint8Array;
}

/** A malformed IDX file. `source` names the file (or what the bytes came from). */
export class IdxFormatError extends Error {
  override name = 'IdxFormatError';
  constructor(readonly source: string, problem: string) {
    super(`${source}: not a valid IDX file: ${problem}`);
  }
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

/** Parses IDX bytes of type 0x08 (unsigned byte). Throws IdxFormatError naming the problem. */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  const fail = (problem: string): never => {
    throw new IdxFormatError(source, problem);
  };
  if (bytes.length < 4) fail(`only ${bytes.length} bytes, shorter than the 4-byte magic number (truncated?)`);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) fail('it is gzip-compressed (starts with 1f 8b): decompress it first');
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`the magic number must start with 00 00, found ${hex(bytes[0]!)} ${hex(bytes[1]!)}`);
  }
  const type = bytes[2]!;
  if (type !== 0x08) {
    const name = TYPE_NAMES[type];
    fail(name ? `element type ${hex(type)} (${name}) is not supported, only 0x08 (unsigned byte)` : `unknown element type ${hex(type)}`);
  }
  const rank = bytes[3]!;
  if (rank === 0) fail('zero dimensions');
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    fail(`the header needs ${headerBytes} bytes for ${rank} dimensions, the file has ${bytes.length} (truncated)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const expected = headerBytes + count;
  if (bytes.length !== expected) {
    const shape = dims.join(' x ');
    fail(
      bytes.length < expected
        ? `dimensions ${shape} need ${expected} bytes, the file has only ${bytes.length} (truncated)`
        : `dimensions ${shape} need ${expected} bytes, the file has ${bytes.length} (${bytes.length - expected} extra bytes)`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}
