// A PNG encoder without dependencies: 8-bit grayscale or RGB, no interlacing, filter type 0 (None) on
// every row (simple and exact; MNIST grids compress well enough without prediction). Browser-safe:
// the zlib stream comes from a deflate function the caller passes (node:zlib's deflateSync in Node,
// see png-node.ts; CompressionStream('deflate') or a library in the browser).
//
// File layout (PNG spec, ISO/IEC 15948): the 8-byte signature, then chunks of
// [length u32 BE][type, 4 ASCII bytes][data][CRC-32 of type + data]: IHDR, one IDAT, IEND.

export interface RasterImage {
  width: number;
  height: number;
  /** 1: grayscale, 3: RGB. */
  channels: 1 | 3;
  /** Row-major, channels interleaved: height * width * channels bytes. */
  data: Uint8Array;
}

/** zlib-format (RFC 1950) compression of the whole input. */
export type Deflate = (data: Uint8Array) => Uint8Array;

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF), table-driven. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes`, continuing from a previous `crc32` result when given. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length, false);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)), false);
  return out;
}

/** Encodes an 8-bit grayscale or RGB image as PNG bytes. */
export function encodePng(image: RasterImage, deflate: Deflate): Uint8Array {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new Error(`PNG: image size ${width} x ${height} is not valid`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`PNG: ${String(channels)} channels; only 1 (gray) and 3 (RGB) are supported`);
  const stride = width * channels;
  if (data.length !== stride * height) throw new Error(`PNG: ${data.length} bytes for a ${width} x ${height} x ${channels} image`);

  const ihdr = new Uint8Array(13);
  const h = new DataView(ihdr.buffer);
  h.setUint32(0, width, false);
  h.setUint32(4, height, false);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: grayscale / truecolour
  // compression 0 (deflate), filter method 0, interlace 0: already zero.

  const raw = new Uint8Array((stride + 1) * height); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);

  const parts = [SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflate(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
