// Lists the node_modules directories a GPU host needs, for scripts/gpu-pack.sh: the production
// dependencies (what `npm ci --omit=dev` would install) plus the dev packages named on the command
// line (vitest, for the test stage of scripts/gpu-session.sh), each with everything it depends on.
// It reads package-lock.json and the installed packages and changes nothing, so the developer's
// node_modules stays as it is.
//
// Resolution follows Node's: a dependency of node_modules/a is node_modules/a/node_modules/b if that
// exists in the lockfile, else the same name one level up, up to node_modules/b. Regular and optional
// dependencies count, and peer dependencies unless marked optional (valibot's optional peer, the
// TypeScript compiler, stays behind). An optional package that is not installed (another platform's
// binary) is skipped; a required one that is missing, or installed at another version than the
// lockfile's, is an error: run `npm ci` first.
//
// Usage: node scripts/gpu-pack-modules.mjs [dev-package ...]   (prints one directory per line,
// relative to the repository root, none inside another)

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
if (lock.lockfileVersion < 2 || !lock.packages) {
  console.error(`gpu-pack-modules: package-lock.json has lockfileVersion ${lock.lockfileVersion}; need 2 or 3 (npm 7 or later)`);
  process.exit(1);
}
const packages = lock.packages;

/** The lockfile key a dependency `name` of the package at `from` resolves to, or null. */
function resolve(from, name) {
  let dir = from;
  for (;;) {
    const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[key]) return key;
    if (!dir) return null;
    const cut = dir.lastIndexOf('node_modules/');
    dir = cut <= 0 ? '' : dir.slice(0, cut - 1);
  }
}

const wanted = new Set();
const problems = [];

function visit(from, name, optional) {
  const key = resolve(from, name);
  const installed = key !== null && existsSync(join(root, key, 'package.json'));
  if (!installed) {
    if (!optional) problems.push(`${name} (needed by ${from || 'the project'}) is ${key ? 'not installed' : 'not in package-lock.json'}`);
    return;
  }
  if (wanted.has(key)) return;
  const want = packages[key].version;
  const have = JSON.parse(readFileSync(join(root, key, 'package.json'), 'utf8')).version;
  if (want && have !== want) problems.push(`${key} is ${have}, package-lock.json says ${want}`);
  wanted.add(key);
  const p = packages[key];
  for (const d of Object.keys(p.dependencies ?? {})) visit(key, d, false);
  for (const d of Object.keys(p.optionalDependencies ?? {})) visit(key, d, true);
  for (const d of Object.keys(p.peerDependencies ?? {})) if (!p.peerDependenciesMeta?.[d]?.optional) visit(key, d, false);
}

const top = packages[''];
for (const d of Object.keys(top.dependencies ?? {})) visit('', d, false);
for (const d of Object.keys(top.optionalDependencies ?? {})) visit('', d, true);
for (const d of process.argv.slice(2)) {
  if (!(d in (top.devDependencies ?? {}))) problems.push(`${d} is not a devDependency of the project`);
  else visit('', d, false);
}
if (problems.length) {
  console.error(`gpu-pack-modules: node_modules does not match package-lock.json; run \`npm ci\` first:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
// A directory inside another listed one travels with it.
const keys = [...wanted].sort();
for (const k of keys) if (!keys.some((o) => o !== k && k.startsWith(`${o}/`))) console.log(k);
