// The PNG encoder, checked by a small decoder written here (chunk walk, CRC check with node:zlib's
// own crc32, inflate, unfilter) and against known CRC values.

import { crc32 as zlibCrc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng, type RasterImage } from '../../gan/io/png.ts';
import { pngBytes } from '../../gan/io/png-node.ts';

interface Decoded extends RasterImage {
  chunkTypes: string[];
}

/** Decodes the PNGs this project writes: 8-bit gray or RGB, not interlaced, any filter per row. */
function decodePng(png: Uint8Array): Decoded {
  expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunkTypes: string[] = [];
  const idat: Uint8Array[] = [];
  let ihdr: DataView | undefined;
  let off = 8;
  while (off < png.length) {
    const len = view.getUint32(off, false);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    const body = png.subarray(off + 8, off + 8 + len);
    const crc = view.getUint32(off + 8 + len, false);
    expect(crc, `CRC of ${type}`).toBe(zlibCrc32(png.subarray(off + 4, off + 8 + len)));
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = new DataView(body.buffer, body.byteOffset, body.byteLength);
    if (type === 'IDAT') idat.push(body);
    off += 12 + len;
  }
  expect(off).toBe(png.length);
  const width = ihdr!.getUint32(0, false);
  const height = ihdr!.getUint32(4, false);
  expect(ihdr!.getUint8(8)).toBe(8);
  const colour = ihdr!.getUint8(9);
  expect([0, 2]).toContain(colour);
  expect([ihdr!.getUint8(10), ihdr!.getUint8(11), ihdr!.getUint8(12)]).toEqual([0, 0, 0]);
  const channels = colour === 0 ? 1 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  expect(raw.length).toBe((stride + 1) * height);
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const left = x >= channels ? data[y * stride + x - channels]! : 0;
      const up = y > 0 ? data[(y - 1) * stride + x]! : 0;
      const predicted = [0, left, up, (left + up) >> 1][filter];
      if (predicted === undefined) throw new Error(`filter ${filter} not handled by the test decoder`);
      data[y * stride + x] = (v + predicted) & 0xff;
    }
  }
  return { width, height, channels: channels as 1 | 3, data, chunkTypes };
}

describe('crc32', () => {
  it('has the standard check value and continues across calls', () => {
    const bytes = new TextEncoder().encode('123456789');
    expect(crc32(bytes)).toBe(0xcbf43926);
    expect(crc32(bytes.subarray(4), crc32(bytes.subarray(0, 4)))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('encodePng', () => {
  it('round-trips a grayscale image through an independent decoder', () => {
    const img: RasterImage = { width: 5, height: 3, channels: 1, data: Uint8Array.from({ length: 15 }, (_, i) => i * 17) };
    const d = decodePng(pngBytes(img));
    expect(d.chunkTypes).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([d.width, d.height, d.channels]).toEqual([5, 3, 1]);
    expect(Array.from(d.data)).toEqual(Array.from(img.data));
  });

  it('round-trips an RGB image', () => {
    const img: RasterImage = { width: 4, height: 2, channels: 3, data: Uint8Array.from({ length: 24 }, (_, i) => (i * 37) % 256) };
    const d = decodePng(pngBytes(img));
    expect([d.width, d.height, d.channels]).toEqual([4, 2, 3]);
    expect(Array.from(d.data)).toEqual(Array.from(img.data));
  });

  it('passes the filtered scanlines to the deflate function it is given (browser-safe core)', () => {
    let seen: Uint8Array | undefined;
    const png = encodePng({ width: 2, height: 2, channels: 1, data: Uint8Array.from([1, 2, 3, 4]) }, (raw) => {
      seen = Uint8Array.from(raw);
      return Uint8Array.from([0x78, 0x01]); // content irrelevant here
    });
    expect(Array.from(seen!)).toEqual([0, 1, 2, 0, 3, 4]);
    expect(png.length).toBe(8 + 25 + 14 + 12);
  });

  it('rejects bad sizes and channel counts', () => {
    const deflate = (d: Uint8Array) => d;
    expect(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }, deflate)).toThrow(/3 bytes for a 2 x 2 x 1/);
    expect(() => encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) }, deflate)).toThrow(/not valid/);
    expect(() => encodePng({ width: 1, height: 1, channels: 4 as 3, data: new Uint8Array(4) }, deflate)).toThrow(/only 1 \(gray\) and 3/);
  });
});
