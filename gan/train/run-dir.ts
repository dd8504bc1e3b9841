// A run directory belongs to one run. A new run starts only in a new or empty directory; a directory
// that holds a run (its manifest.json or checkpoints/) is continued with --resume, moved aside with
// --force (to DIR.old-<time>, nothing deleted), or left alone: files of two runs are never mixed.
// A directory that is not empty and holds no run is never used nor moved.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { resolveConfig, type TrainConfig } from './config.ts';
import { readRunManifest, type RunManifest } from './manifest.ts';

export type RunDirectoryState =
  | { kind: 'absent' }
  | { kind: 'empty' }
  /** A posit-gan run: `summary` says what it is (status, step, start time) when its manifest reads. */
  | { kind: 'run'; summary: string }
  /** Not a directory, or a directory with other files. */
  | { kind: 'other'; summary: string };

/** A directory a new run cannot use (exit status 2 on the command line). */
export class RunDirectoryError extends Error {
  override name = 'RunDirectoryError';
}

export function inspectRunDirectory(dir: string): RunDirectoryState {
  if (!existsSync(dir)) return { kind: 'absent' };
  if (!statSync(dir).isDirectory()) return { kind: 'other', summary: 'a file, not a directory' };
  const entries = readdirSync(dir);
  if (entries.length === 0) return { kind: 'empty' };
  if (entries.includes('manifest.json') || entries.includes('checkpoints')) {
    let m: RunManifest | null;
    let c: TrainConfig;
    try {
      m = readRunManifest(dir);
      if (!m) return { kind: 'run', summary: 'a run without a manifest.json' };
      c = resolveConfig(m.config);
    } catch (e) {
      return { kind: 'run', summary: `a run whose manifest cannot be used (${(e as Error).message})` };
    }
    return { kind: 'run', summary: `${c.model} under ${c.recipe}, ${m.status} at step ${m.step} of ${m.totalSteps}, started ${m.started}` };
  }
  const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, ... (${entries.length} entries)` : '');
  return { kind: 'other', summary: `files that are not a posit-gan run: ${shown}` };
}

/** Creates `dir` for a new run, or accepts it empty; anything else is a RunDirectoryError. */
export function claimNewRunDirectory(dir: string): void {
  const s = inspectRunDirectory(dir);
  if (s.kind === 'run') {
    throw new RunDirectoryError(
      `${dir} holds another run (${s.summary}). Continue it with --resume ${dir}, or replace it with --force ` +
        `(the old run is moved to ${dir}.old-<time>), or choose another --out.`,
    );
  }
  if (s.kind === 'other') throw new RunDirectoryError(`${dir} is not empty and holds ${s.summary}; give --out a new or empty directory.`);
  mkdirSync(dir, { recursive: true });
}

/** "2024-05-01T12-30-05Z": a time that sorts and is a valid file name everywhere. */
function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** Renames the run in `dir` to DIR.old-<time> (a fresh name); returns the new path. */
export function moveRunAside(dir: string, now = new Date()): string {
  const s = inspectRunDirectory(dir);
  if (s.kind !== 'run') throw new RunDirectoryError(`--force moves a run aside, but ${dir} ${s.kind === 'other' ? `holds ${s.summary}` : 'holds no run'}`);
  let target = `${dir}.old-${stamp(now)}`;
  for (let i = 2; existsSync(target); i++) target = `${dir}.old-${stamp(now)}-${i}`;
  renameSync(dir, target);
  return target;
}

/** Deletes the run in `dir` (an experiment's own scratch run, about to be trained again). Refuses a
 *  directory that holds anything but a run. */
export function clearRunDirectory(dir: string): void {
  const s = inspectRunDirectory(dir);
  if (s.kind === 'other') throw new RunDirectoryError(`${dir} holds ${s.summary}; it is not cleared. Move it away and run again.`);
  if (s.kind === 'run') rmSync(dir, { recursive: true });
}

/** `base` if it is new or empty, else the first new or empty `base-2`, `base-3`, ... */
export function firstFreeRunDirectory(base: string): string {
  for (let i = 1; ; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    const k = inspectRunDirectory(dir).kind;
    if (k === 'absent' || k === 'empty') return dir;
  }
}
