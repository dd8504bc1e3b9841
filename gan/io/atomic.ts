// Atomic file writes: the data goes to a temporary file in the target's directory, is flushed to disk
// (fsync), and is renamed over the target; then the directory is fsynced so the rename itself is
// durable. A reader (or a run resumed after a crash) sees either the old file or the complete new
// one, never a partial write. On failure the temporary file is removed and the target is untouched.
// Rename is atomic only within one file system, hence the same directory.
// Errors name the file the caller asked for (never the temporary file) and what to do about it.

import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What can be written: text (UTF-8), bytes, or a sequence of chunks (large files without a copy). */
export type FileData = string | Uint8Array | Iterable<string | Uint8Array>;

function chunksOf(data: FileData): Iterable<string | Uint8Array> {
  return typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
}

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomUUID().slice(0, 8)}.tmp`);
}

/** A failed write, described by the caller's path and the system's reason (code kept for callers). */
export class WriteError extends Error {
  override name = 'WriteError';
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

const REASONS: Record<string, (path: string) => string> = {
  ENOENT: (p) => `the directory ${dirname(p)} does not exist`,
  ENOTDIR: (p) => `${dirname(p)} is not a directory`,
  EACCES: (p) => `permission denied in ${dirname(p)}`,
  EPERM: (p) => `permission denied in ${dirname(p)}`,
  EROFS: () => 'the file system is read-only',
  ENOSPC: () => 'no space left on the device',
  EDQUOT: () => 'the disk quota is exhausted',
  EISDIR: (p) => `${p} is a directory`,
};

/** The error of a failed write of `path`, whatever step failed (temporary file, data, rename). */
function writeError(path: string, e: unknown): Error {
  if (e instanceof WriteError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code && REASONS[code] ? REASONS[code](path) : systemReason(e as Error);
  return new WriteError(path, code, `cannot write ${path}: ${reason}`);
}

/** Node's "EMFILE: too many open files, open '/dir/.f.1234.tmp'" without the code and the paths. */
function systemReason(e: Error): string {
  return e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*$/s, '');
}

function toBytes(c: string | Uint8Array): Uint8Array {
  return typeof c === 'string' ? new TextEncoder().encode(c) : c;
}

/** Writes `data` to `path` atomically (see above). */
export async function writeFileAtomic(path: string, data: FileData): Promise<void> {
  const tmp = tempPath(path);
  const fh = await open(tmp, 'wx', 0o644).catch((e: unknown) => {
    throw writeError(path, e);
  });
  let closed = false;
  try {
    for (const c of chunksOf(data)) {
      const bytes = toBytes(c);
      let off = 0;
      while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
    }
    await fh.sync();
    closed = true;
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    if (!closed) await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw isSystemError(e) ? writeError(path, e) : e;
  }
  await syncDirectory(dirname(path));
}

/** Synchronous writeFileAtomic, for exit paths where nothing may be left pending. */
export function writeFileAtomicSync(path: string, data: FileData): void {
  const tmp = tempPath(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw writeError(path, e);
  }
  let closed = false;
  try {
    for (const c of chunksOf(data)) {
      const bytes = toBytes(c);
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    }
    fsyncSync(fd);
    closed = true;
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    if (!closed) closeSync(fd);
    rmSync(tmp, { force: true });
    throw isSystemError(e) ? writeError(path, e) : e;
  }
  syncDirectorySync(dirname(path));
}

/** A file-system error (it has an errno code); a data generator's own error passes through as is. */
function isSystemError(e: unknown): boolean {
  return typeof (e as NodeJS.ErrnoException)?.code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** JSON (2-space indented, trailing newline) written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Directory fsync is unsupported on some platforms (Windows); the rename is still atomic.
  }
}

function syncDirectorySync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // As in syncDirectory.
  }
}
