// What `posit-gan --version` prints and a run records as its code version: the package version, and
// the commit when posit-gan runs from its own git checkout (never the commit of a repository that
// merely contains it, e.g. as a dependency).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function packageVersion(): string {
  return (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function git(args: string[]): string {
  return execFileSync('git', ['-C', ROOT, ...args], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
}

/** The commit of posit-gan's checkout ('+dirty' with uncommitted changes to tracked files), or null
 *  outside a git checkout of posit-gan itself. */
export function sourceCommit(): string | null {
  try {
    if (resolve(git(['rev-parse', '--show-toplevel'])) !== ROOT) return null;
    const sha = git(['rev-parse', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) ? `${sha}+dirty` : sha;
  } catch {
    return null;
  }
}

/** "posit-gan 0.1.0 (commit 1a2b3c4d5e6f)" or "posit-gan 0.1.0". */
export function versionLine(): string {
  const commit = sourceCommit();
  return `posit-gan ${packageVersion()}${commit ? ` (commit ${commit.slice(0, 12)}${commit.endsWith('+dirty') ? '+dirty' : ''})` : ''}`;
}
