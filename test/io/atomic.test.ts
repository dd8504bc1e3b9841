// Atomic writes: content lands complete, no temporary file is left, and a failure in the middle of a
// write (or at the rename) leaves the previous file untouched.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync, writeJsonAtomic, WriteError } from '../../gan/io/atomic.ts';

const dir = mkdtempSync(join(tmpdir(), 'posit-gan-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Chunks that fail after the first one: the write dies half-way. */
function* failingChunks(): Generator<Uint8Array> {
  yield new Uint8Array(1000).fill(7);
  throw new Error('disk on fire');
}

describe('writeFileAtomic', () => {
  it('writes text, bytes, JSON and chunk sequences, leaving no temporary file', async () => {
    await writeFileAtomic(join(dir, 'a.txt'), 'hello\n');
    await writeFileAtomic(join(dir, 'b.bin'), Uint8Array.from([0, 255, 1]));
    await writeJsonAtomic(join(dir, 'c.json'), { step: 3, losses: [0.5, NaN] });
    await writeFileAtomic(join(dir, 'd.bin'), [Uint8Array.from([1, 2]), 'x', new Uint8Array(0), Uint8Array.from([3])]);
    writeFileAtomicSync(join(dir, 'e.txt'), 'sync');
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('hello\n');
    expect(Array.from(readFileSync(join(dir, 'b.bin')))).toEqual([0, 255, 1]);
    expect(JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'))).toEqual({ step: 3, losses: [0.5, null] });
    expect(Array.from(readFileSync(join(dir, 'd.bin')))).toEqual([1, 2, 120, 3]);
    expect(readFileSync(join(dir, 'e.txt'), 'utf8')).toBe('sync');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.bin', 'c.json', 'd.bin', 'e.txt']);
  });

  it('replaces an existing file whole', async () => {
    const p = join(dir, 'replace.bin');
    await writeFileAtomic(p, new Uint8Array(5000).fill(1));
    await writeFileAtomic(p, Uint8Array.from([9]));
    expect(Array.from(readFileSync(p))).toEqual([9]);
  });

  it('a failure mid-write leaves the old target and no temporary file (async and sync)', async () => {
    const sub = join(dir, 'fail');
    mkdirSync(sub);
    const p = join(sub, 'checkpoint.bin');
    writeFileSync(p, 'previous good checkpoint');
    await expect(writeFileAtomic(p, failingChunks())).rejects.toThrow('disk on fire');
    expect(() => writeFileAtomicSync(p, failingChunks())).toThrow('disk on fire');
    expect(readFileSync(p, 'utf8')).toBe('previous good checkpoint');
    expect(readdirSync(sub)).toEqual(['checkpoint.bin']);
  });

  it('a failure at the rename (target is a directory) cleans up too', async () => {
    const sub = join(dir, 'rename');
    mkdirSync(join(sub, 'target'), { recursive: true });
    await expect(writeFileAtomic(join(sub, 'target'), 'data')).rejects.toThrow();
    expect(() => writeFileAtomicSync(join(sub, 'target'), 'data')).toThrow();
    expect(readdirSync(sub)).toEqual(['target']);
  });

  it('a missing directory, a directory target and an unwritable directory name the path asked for, not the temporary file', async () => {
    const missing = join(dir, 'no', 'such', 'dir', 'f.png');
    const expected = `cannot write ${missing}: the directory ${join(dir, 'no', 'such', 'dir')} does not exist`;
    await expect(writeFileAtomic(missing, 'x')).rejects.toThrow(expected);
    expect(() => writeFileAtomicSync(missing, 'x')).toThrow(expected);
    const target = join(dir, 'is-a-dir');
    mkdirSync(target);
    expect(() => writeFileAtomicSync(target, 'x')).toThrow(`cannot write ${target}: ${target} is a directory`);
    const e = (() => {
      try {
        writeFileAtomicSync(missing, 'x');
      } catch (err) {
        return err as WriteError;
      }
    })();
    expect(e).toBeInstanceOf(WriteError);
    expect(e!.code).toBe('ENOENT');
    expect(e!.message).not.toMatch(/\.tmp/);
  });
});
