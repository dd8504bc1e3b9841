// PNG output in Node: the encoder of png.ts with node:zlib, written atomically.

import { deflateSync } from 'node:zlib';
import { writeFileAtomic } from './atomic.ts';
import { encodePng, type RasterImage } from './png.ts';

export function pngBytes(image: RasterImage): Uint8Array {
  return encodePng(image, (data) => deflateSync(data, { level: 9 }));
}

/** Writes `image` as a PNG file (temporary file + rename: readers never see half an image). */
export async function writePng(path: string, image: RasterImage): Promise<void> {
  await writeFileAtomic(path, pngBytes(image));
}
