// Where a result came from: the commit of the code that produced it and the exact command line. Every
// result file records both (table1.json, deploy.json, bench JSONs, run manifests, op-count files).
//
// The commit is, in order:
//   1. the environment variable POSIT_GAN_COMMIT when it is set: on a lent GPU machine the repository's
//      .git is a stale copy (the working tree travels without its history), so the script that packs
//      the code for the machine records the commit at packing time and sets this variable there. It
//      must be a commit hash (7-40 hex digits), with `+dirty` when the packed tree had uncommitted
//      changes; anything else is an error, never silently recorded.
//   2. `git rev-parse HEAD` of posit-gan's own checkout (never of a repository that merely contains
//      it, e.g. as a dependency: then null), with `+dirty` appended only when
//      a tracked file differs from that commit (`git status --porcelain --untracked-files=no`, which
//      compares contents, not timestamps; untracked files such as runs/ do not count).
//   3. null when neither is available (no git, not a repository).

import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const COMMIT_ENV = 'POSIT_GAN_COMMIT';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export class ProvenanceError extends Error {
  override name = 'ProvenanceError';
}

function git(args: string[], cwd: string): string {
  return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
}

/** The code's commit as described above (uncached; `commit()` caches it for the process). */
export function codeCommit(o: { env?: Record<string, string | undefined>; cwd?: string } = {}): string | null {
  const fromEnv = (o.env ?? process.env)[COMMIT_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^[0-9a-f]{7,40}(\+dirty)?$/.test(fromEnv)) {
      throw new ProvenanceError(`${COMMIT_ENV}='${fromEnv}' is not a commit hash (7 to 40 lowercase hex digits, optionally followed by +dirty); set it to the packed code's \`git rev-parse HEAD\`, or unset it to ask git`);
    }
    return fromEnv;
  }
  const cwd = o.cwd ?? REPO;
  try {
    if (resolve(git(['rev-parse', '--show-toplevel'], cwd)) !== resolve(cwd)) return null;
    const sha = git(['rev-parse', 'HEAD'], cwd);
    // --no-optional-locks: a read-only check must not rewrite the index of a shared checkout.
    const changed = git(['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no'], cwd);
    return changed ? `${sha}+dirty` : sha;
  } catch {
    return null;
  }
}

let cached: { value: string | null } | undefined;

/** The commit of the code running in this process (computed once). */
export function commit(): string | null {
  cached ??= { value: codeCommit() };
  return cached.value;
}

/** One argument as a POSIX shell word: bare when it is plainly safe, else single-quoted. */
export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_\-+=.,/:@%^]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line this process was started with, as `posit-gan ARGS` a shell would run again. */
export function commandLine(argv: readonly string[] = process.argv.slice(2)): string {
  return ['posit-gan', ...argv.map(shellWord)].join(' ');
}

/** Both, for a result file. */
export function provenance(command: string = commandLine()): { commit: string | null; command: string } {
  return { commit: commit(), command };
}
