// What `posit-gan --version` prints: the package version, and the code's commit as every result file
// records it (gan/io/provenance.ts: POSIT_GAN_COMMIT, else posit-gan's own git checkout).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commit as sourceCommit } from '../io/provenance.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function packageVersion(): string {
  return (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** "posit-gan 0.1.0 (commit 1a2b3c4d5e6f)" or "posit-gan 0.1.0". */
export function versionLine(): string {
  const commit = sourceCommit();
  return `posit-gan ${packageVersion()}${commit ? ` (commit ${commit.slice(0, 12)}${commit.endsWith('+dirty') ? '+dirty' : ''})` : ''}`;
}
