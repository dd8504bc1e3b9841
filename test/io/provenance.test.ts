// Provenance of result files (gan/io/provenance.ts): the commit is git's HEAD, `+dirty` only when a
// tracked file's contents differ from it, POSIT_GAN_COMMIT wins over git (the GPU machine's .git is
// stale), a malformed value is refused, and the command line is quoted so a shell runs it again.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeCommit, commandLine, COMMIT_ENV, shellWord } from '../../gan/io/provenance.ts';

let repo: string;
let bare: string;
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: repo }).toString().trim();

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'pg-provenance-'));
  bare = mkdtempSync(join(tmpdir(), 'pg-no-repo-'));
  git('init', '-q');
  writeFileSync(join(repo, 'code.ts'), 'export const x = 1;\n');
  git('add', 'code.ts');
  git('commit', '-q', '-m', 'first');
});
afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
  rmSync(bare, { recursive: true, force: true });
});

describe('codeCommit', () => {
  const noEnv = {};
  it('is `git rev-parse HEAD` in a clean tree, also after a timestamp-only change and with untracked files', () => {
    const head = git('rev-parse', 'HEAD');
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    expect(codeCommit({ cwd: repo, env: noEnv })).toBe(head);
    utimesSync(join(repo, 'code.ts'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    writeFileSync(join(repo, 'untracked-result.json'), '{}\n');
    expect(codeCommit({ cwd: repo, env: noEnv })).toBe(head);
  });
  it('appends +dirty when a tracked file differs, and drops it again when the change is undone', () => {
    const head = git('rev-parse', 'HEAD');
    writeFileSync(join(repo, 'code.ts'), 'export const x = 2;\n');
    expect(codeCommit({ cwd: repo, env: noEnv })).toBe(`${head}+dirty`);
    writeFileSync(join(repo, 'code.ts'), 'export const x = 1;\n');
    expect(codeCommit({ cwd: repo, env: noEnv })).toBe(head);
  });
  it(`${COMMIT_ENV} wins over git; a malformed value is an error naming it`, () => {
    const packed = 'abcdef0123456789abcdef0123456789abcdef01';
    expect(codeCommit({ cwd: repo, env: { [COMMIT_ENV]: packed } })).toBe(packed);
    expect(codeCommit({ cwd: bare, env: { [COMMIT_ENV]: `${packed.slice(0, 7)}+dirty` } })).toBe('abcdef0+dirty');
    expect(() => codeCommit({ cwd: repo, env: { [COMMIT_ENV]: 'main' } })).toThrow(/POSIT_GAN_COMMIT='main' is not a commit hash/);
    // Set but empty counts as unset.
    expect(codeCommit({ cwd: repo, env: { [COMMIT_ENV]: '' } })).toBe(git('rev-parse', 'HEAD'));
  });
  it('is null outside a repository', () => {
    expect(codeCommit({ cwd: bare, env: noEnv })).toBeNull();
  });
  it("this checkout's commit is its HEAD", () => {
    const root = new URL('../..', import.meta.url).pathname;
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root }).toString().trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root }).toString().trim();
    expect(codeCommit({ env: noEnv })).toBe(changed ? `${head}+dirty` : head);
  });
});

describe('commandLine', () => {
  it('quotes the arguments a shell would split or expand', () => {
    expect(shellWord('--steps')).toBe('--steps');
    expect(shellWord('p8+,fp32')).toBe('p8+,fp32');
    expect(shellWord('runs/a b')).toBe("'runs/a b'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
    expect(shellWord('$HOME')).toBe("'$HOME'");
    expect(shellWord('')).toBe("''");
    expect(commandLine(['experiment', 'table1', '--recipes', 'fp32,p8+', '--name', 'x y'])).toBe("posit-gan experiment table1 --recipes fp32,p8+ --name 'x y'");
    // What a shell makes of it is the original argument list.
    const argv = ['train', '--out', "a b'c", '--recipe', 'p8+'];
    const echoed = execFileSync('sh', ['-c', `printf '%s\\n' ${commandLine(argv).replace(/^posit-gan /, '')}`]).toString();
    expect(echoed.split('\n').slice(0, -1)).toEqual(argv);
  });
});
