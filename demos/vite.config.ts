// The browser demo's build: `npm run demo` (dev server) and `npm run demo:build` (a static site in
// demos/dist that works from any static file server, under any path: base './').

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { mnistAsset } from './build/mnist-asset.ts';
import { noNodeImports } from './build/no-node-imports.ts';

/** Training examples packaged with the page (about 0.8 MB gzip-compressed; demos/README.md). */
const MNIST_SUBSET = 5000;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [noNodeImports(), mnistAsset(MNIST_SUBSET)],
  // The page imports the engine from the repository root, outside demos/.
  server: { fs: { allow: [repoRoot] } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
