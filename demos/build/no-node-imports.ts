// Vite plugin: fails the build when a module the page bundles imports a Node built-in (node:fs,
// path, ...). The engine, the GAN code and the hardware model keep their Node-only parts (file access,
// dawn.node) behind separate modules; this turns a slip across that line into a build error that names
// the importer, instead of a bundle that breaks at run time in the browser.

import { builtinModules } from 'node:module';
import type { Plugin } from 'vite';

const BUILTINS = new Set(builtinModules);

export function noNodeImports(): Plugin {
  return {
    name: 'posit-gan:no-node-imports',
    enforce: 'pre',
    resolveId(id, importer) {
      const bare = id.startsWith('node:') ? id.slice(5) : id;
      if (!importer || !(id.startsWith('node:') || BUILTINS.has(bare.split('/')[0]!))) return undefined;
      this.error(`${importer} imports the Node module '${id}', which does not exist in the browser: keep Node-only code out of the page's imports`);
    },
  };
}
