// The lock of a job being worked on: DIR/jobs/<id>.lock, created exclusively, holding the owner
// (host, pid, the pid of its current train/eval process) and refreshed (mtime) while held. It keeps
// two processes from ever training into the same run directory, whichever queue handed them the job.
//
// A lock is abandoned (stale) when its owner is gone: on this host, when neither the owner nor its
// child process is alive (a child outliving a killed owner is still writing: wait for it); on
// another host, when it has not been refreshed for `staleAfterMs` (a machine that died). Where
// /proc exists, a process is identified by the boot and its start time as well as its pid, so a pid
// reused after a reboot (or by chance) does not keep a dead owner's lock alive.

import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, utimesSync, linkSync } from 'node:fs';
import { hostname } from 'node:os';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { createFileExclusive } from './store.ts';

export interface LockOwner {
  host: string;
  pid: number;
  /** processIdentity(pid) when the lock was taken (null where unknown). */
  ident: string | null;
  /** The train or eval process working for it now (null between processes). */
  child: number | null;
  childIdent: string | null;
  since: string;
  token: string;
}

export interface LockOptions {
  /** How often the holder refreshes the lock (default 10 s). */
  heartbeatMs?: number;
  /** A lock from another host not refreshed for this long is abandoned (default 60 s). */
  staleAfterMs?: number;
}

export type LockState = 'live' | 'releasing' | 'stale';

let bootId: string | null | undefined;

/** This boot and the process's start time (Linux /proc), or null where that cannot be read. */
export function processIdentity(pid: number): string | null {
  try {
    bootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3,
    // the start time field 22.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return start ? `${bootId}:${start}` : null;
  } catch {
    bootId ??= null;
    return null;
  }
}

/** Whether a process exists (EPERM: it does, under another user), and is the one identified by `ident`. */
export function processAlive(pid: number, ident: string | null = null): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (ident === null) return true;
  const now = processIdentity(pid);
  return now === null || now === ident;
}

function readOwner(path: string): { owner: LockOwner; mtimeMs: number } | null {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    return { owner: JSON.parse(readFileSync(path, 'utf8')) as LockOwner, mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export function lockState(owner: LockOwner, mtimeMs: number, staleAfterMs: number): LockState {
  if (owner.host === hostname()) {
    if (processAlive(owner.pid, owner.ident ?? null)) return 'live';
    return owner.child !== null && processAlive(owner.child, owner.childIdent ?? null) ? 'releasing' : 'stale';
  }
  return Date.now() - mtimeMs > staleAfterMs ? 'stale' : 'live';
}

/** Who holds the lock at `path` and in what state, or null when nobody does. */
export function lockHolder(path: string, o: LockOptions = {}): { owner: LockOwner; state: LockState } | null {
  const r = readOwner(path);
  return r ? { owner: r.owner, state: lockState(r.owner, r.mtimeMs, o.staleAfterMs ?? 60_000) } : null;
}

export class JobLock {
  private readonly timer: NodeJS.Timeout;
  private owner: LockOwner;
  private released = false;

  private constructor(
    readonly path: string,
    owner: LockOwner,
    heartbeatMs: number,
  ) {
    this.owner = owner;
    this.timer = setInterval(() => {
      try {
        const t = new Date();
        utimesSync(path, t, t);
      } catch {
        // Gone: released or taken over after we stopped refreshing it; nothing to refresh.
      }
    }, heartbeatMs);
    this.timer.unref();
  }

  /**
   * Takes the lock if it is free or abandoned; otherwise returns who holds it. An abandoned lock is
   * moved aside and checked to be the one judged abandoned (not a fresh one another process took
   * meanwhile) before this process takes its place.
   */
  static tryAcquire(path: string, o: LockOptions = {}): JobLock | { heldBy: LockOwner; state: 'live' | 'releasing' } {
    const staleAfterMs = o.staleAfterMs ?? 60_000;
    for (let tries = 0; tries < 5; tries++) {
      const owner: LockOwner = { host: hostname(), pid: process.pid, ident: processIdentity(process.pid), child: null, childIdent: null, since: new Date().toISOString(), token: randomUUID() };
      if (createFileExclusive(path, JSON.stringify(owner) + '\n')) return new JobLock(path, owner, o.heartbeatMs ?? 10_000);
      const held = readOwner(path);
      if (!held) continue; // released meanwhile
      const state = lockState(held.owner, held.mtimeMs, staleAfterMs);
      if (state !== 'stale') return { heldBy: held.owner, state };
      const aside = `${path}.stale-${randomUUID().slice(0, 8)}`;
      try {
        renameSync(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const moved = readOwner(aside);
      if (moved && moved.owner.token !== held.owner.token) {
        // Another process replaced the abandoned lock between our read and our rename: put its lock back.
        try {
          linkSync(aside, path);
        } catch {
          // A third process holds it now; the displaced holder keeps working and will find its lock gone.
        }
      }
      rmSync(aside, { force: true });
    }
    const held = readOwner(path);
    if (held) return { heldBy: held.owner, state: 'live' };
    throw new Error(`cannot take the lock ${path}: it keeps changing hands`);
  }

  /** Records the child process working for the job (so a rerun waits for it if this process dies). */
  setChild(pid: number | null): void {
    if (this.released) return;
    this.owner = { ...this.owner, child: pid, childIdent: pid === null ? null : processIdentity(pid) };
    writeFileAtomicSync(this.path, JSON.stringify(this.owner) + '\n');
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    const now = readOwner(this.path);
    if (now?.owner.token === this.owner.token) rmSync(this.path, { force: true });
  }
}

/** Waits `ms`, or less if `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const wake = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', wake);
      done();
    };
    const t = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
  });
}
