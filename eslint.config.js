// ESLint for the whole repository (`npx eslint .` from the root; `npm test` runs it).
// Beyond typescript-eslint's recommended rules it enforces the layering the code is built on:
//   formats <- shaders <- engine <- gan <- demos
// (a module may import from its own layer and the layers to its left only), hw-model reads nothing of
// the engine but its op-count schema (engine/record/schema.ts, which itself imports nothing), and no
// module imports itself through a cycle. Type-aware rules stay off: tsc --noEmit checks types, and
// the lint must stay a few seconds of CI.

import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

const LAYERS = ['formats', 'shaders', 'engine', 'gan', 'demos'];

/** For each layer but the last, the layers to its right and hw-model (which only gan's CLI may use). */
const layerZones = LAYERS.slice(0, -1).map((layer, i) => ({
  target: `./${layer}`,
  from: [...LAYERS.slice(i + 1), ...(layer === 'gan' || layer === 'demos' ? [] : ['hw-model'])].map((l) => `./${l}`),
  message: `layers import leftwards only (formats <- shaders <- engine <- gan <- demos; hw-model is used by gan only): ${layer}/ must not import this. Move the shared code down a layer.`,
}));

const HW_MODEL_MESSAGE = 'hw-model reads only the op-count schema (engine/record/schema.ts) so that it stays a separate model of the hardware.';
// (`except` is relative to `from`, hence the engine's own zone.)
const hwModelZones = [
  { target: './hw-model', from: ['./formats', './shaders', './gan', './demos'], message: HW_MODEL_MESSAGE },
  { target: './hw-model', from: './engine', except: ['./record/schema.ts'], message: HW_MODEL_MESSAGE },
];

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'demos/dist/**', 'demos/build/**', 'test-artifacts/**', 'runs/**', '.gpu/**', '**/*.min.js'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { 'import-x': importX },
    settings: {
      // import-x must parse the TypeScript modules it follows (for no-cycle) with typescript-eslint's parser.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'] })],
    },
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly',
      },
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: [...layerZones, ...hwModelZones] }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      // Unused names are tsc's job (noUnusedLocals / noUnusedParameters), with the same exceptions.
      '@typescript-eslint/no-unused-vars': 'off',
      // Non-null assertions are how strict indexing is answered where the index is known to be in range.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
