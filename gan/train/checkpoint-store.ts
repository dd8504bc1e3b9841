// A run's checkpoint folder: which files count, which one to load, which to keep. Independent of the
// file container (the codec decodes and verifies one file; gan/train/checkpoint.ts is the current one,
// safetensors; gan/train/checkpoint-pgc.ts reads the older .pgc files, which count like the others
// but are never written).
//
//   checkpoints/ckpt-NNNNNNNNN.<ext>   the run's checkpoints, by step (of one step, the file in the
//                                      written container is the newer)
//   checkpoints/damaged/               files that failed verification, moved aside by `train`
//   checkpoints/superseded/            verified files of a later step than the one just written: not
//                                      this run's history (another run's files); moved aside by `train`
//
// Only files that verify count. Loading takes the newest that verifies and lists the newer ones it
// skipped (the caller reports them); saving writes the new file (atomically, fsynced: it counts as
// verified without being read back), moves damaged and superseded files aside (and says so), and
// keeps the newest `keep` verified checkpoints up to the new one — so the checkpoint just written is
// never pruned, and an unreadable file never displaces a good one. Each other file is read and
// checked once per process (the verdict is kept while its size and time are unchanged), so saving
// costs no re-reading of the files this process wrote. Reading commands (sample, eval, ...) never
// move files; only training does.

import { mkdirSync, readdirSync, readFileSync, renameSync, existsSync, statSync, unlinkSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { CheckpointError, SAFETENSORS_CODEC, type CheckpointCodec, type CheckpointData, type CheckpointReader } from './checkpoint.ts';
import { PGC_READER } from './checkpoint-pgc.ts';

export interface CheckpointFile {
  step: number;
  path: string;
  /** The container that reads it. */
  reader: CheckpointReader;
}

/** A checkpoint file that was not used, and why. */
export interface SkippedCheckpoint {
  path: string;
  reason: string;
}

/** A file moved out of the way (or that could not be moved: movedTo null, with the error). */
export interface SetAside extends SkippedCheckpoint {
  movedTo: string | null;
  moveError?: string;
}

export interface LoadedCheckpoint {
  data: CheckpointData;
  path: string;
  /** Newer checkpoints that failed verification, newest first, with the reason. */
  skipped: SkippedCheckpoint[];
}

export interface SavedCheckpoint {
  path: string;
  /** Files moved to damaged/ (they failed verification). */
  damaged: SetAside[];
  /** Verified files of later steps, moved to superseded/. */
  superseded: SetAside[];
  /** Older verified checkpoints deleted by retention. */
  pruned: string[];
}

export const DEFAULT_KEEP = 3;

export class CheckpointStore {
  private readonly name: RegExp;
  /** Files verified in this process, by path: unchanged size and time mean the same verdict. */
  private readonly verdicts = new Map<string, { size: number; mtimeMs: number; reason: string | null }>();
  /** Files that failed to move aside: ignored and not reported again. */
  private readonly unmovable = new Set<string>();

  /** The containers read, by file ending: the written one and the older ones. */
  private readonly readers: Map<string, CheckpointReader>;

  constructor(
    readonly dir: string,
    readonly codec: CheckpointCodec = SAFETENSORS_CODEC,
    readonly keep = DEFAULT_KEEP,
    older: readonly CheckpointReader[] = [PGC_READER],
  ) {
    if (!Number.isInteger(keep) || keep < 1) throw new Error(`checkpoints to keep must be a positive integer, got ${keep}`);
    this.readers = new Map([codec, ...older].map((r) => [r.extension, r]));
    const endings = [...this.readers.keys()].map((e) => e.replace(/\./g, '\\.')).join('|');
    this.name = new RegExp(`^ckpt-(\\d{9})(${endings})$`);
  }

  pathFor(step: number): string {
    return join(this.dir, `ckpt-${String(step).padStart(9, '0')}${this.codec.extension}`);
  }

  /** Checkpoint files by name (verified or not), oldest step first. */
  list(): CheckpointFile[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const written = (f: CheckpointFile) => (f.reader === this.codec ? 1 : 0);
    return names
      .map((n) => this.name.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ step: Number(m[1]), path: join(this.dir, m[0]), reader: this.readers.get(m[2]!)! }))
      .sort((a, b) => a.step - b.step || written(a) - written(b));
  }

  private readerOf(path: string): CheckpointReader {
    const m = this.name.exec(basename(path));
    return m ? this.readers.get(m[2]!)! : this.codec;
  }

  /** Reads and verifies one checkpoint file; throws a CheckpointError naming the problem. */
  read(path: string): CheckpointData {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new CheckpointError(`${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return this.readerOf(path).decode(bytes, path);
  }

  /** Why `path` fails verification, or null if it verifies (remembered while the file is unchanged). */
  private problem(path: string): string | null {
    let st: { size: number; mtimeMs: number } | null = null;
    try {
      st = statSync(path);
      const known = this.verdicts.get(path);
      if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.reason;
    } catch {
      // unreadable metadata: read() reports it
    }
    let reason: string | null = null;
    try {
      this.read(path);
    } catch (e) {
      reason = (e as Error).message;
    }
    if (st) this.verdicts.set(path, { size: st.size, mtimeMs: st.mtimeMs, reason });
    return reason;
  }

  /** The newest checkpoint that verifies (and the newer ones skipped); throws if there is none. */
  loadLatest(): LoadedCheckpoint {
    const skipped: SkippedCheckpoint[] = [];
    for (const c of this.list().reverse()) {
      try {
        return { data: this.read(c.path), path: c.path, skipped };
      } catch (e) {
        skipped.push({ path: c.path, reason: (e as Error).message });
      }
    }
    const why = skipped.length ? `: ${skipped.map((s) => s.reason).join('; ')}` : '';
    throw new CheckpointError(`no usable checkpoint in ${this.dir}${why}`);
  }

  /** Moves a file into `sub`/ (a new name if one is there already); never deletes it. */
  setAside(path: string, reason: string, sub: 'damaged' | 'superseded'): SetAside {
    const into = join(this.dir, sub);
    const base = relative(this.dir, path);
    try {
      mkdirSync(into, { recursive: true });
      let target = join(into, base);
      for (let i = 1; existsSync(target); i++) target = join(into, `${base}.${i}`);
      renameSync(path, target);
      this.verdicts.delete(path);
      return { path, reason, movedTo: target };
    } catch (e) {
      return { path, reason, movedTo: null, moveError: (e as Error).message };
    }
  }

  /**
   * Writes a checkpoint, sets damaged and later-step files aside and keeps the newest `keep` verified
   * checkpoints up to this one.
   */
  save(c: CheckpointData): SavedCheckpoint {
    mkdirSync(this.dir, { recursive: true });
    const path = this.pathFor(c.step);
    writeFileAtomicSync(path, this.codec.encode(c));
    const st = statSync(path);
    this.verdicts.set(path, { size: st.size, mtimeMs: st.mtimeMs, reason: null });
    const result: SavedCheckpoint = { path, damaged: [], superseded: [], pruned: [] };
    const good: CheckpointFile[] = [];
    for (const f of this.list()) {
      if (f.path === path) {
        good.push(f);
        continue;
      }
      const reason = this.problem(f.path);
      if (reason !== null) {
        const s = this.setAsideOnce(f.path, reason, 'damaged');
        if (s) result.damaged.push(s);
      } else if (f.step > c.step) {
        const s = this.setAsideOnce(f.path, `step ${f.step} is later than the step ${c.step} just saved, so it is not this run's history`, 'superseded');
        if (s) result.superseded.push(s);
      } else {
        good.push(f);
      }
    }
    for (const old of good.slice(0, Math.max(0, good.length - this.keep))) {
      unlinkSync(old.path);
      this.verdicts.delete(old.path);
      result.pruned.push(old.path);
    }
    return result;
  }

  /** setAside, or null for a file that could not be moved before (it stays ignored, reported once). */
  private setAsideOnce(path: string, reason: string, sub: 'damaged' | 'superseded'): SetAside | null {
    if (this.unmovable.has(path)) return null;
    const s = this.setAside(path, reason, sub);
    if (!s.movedTo) this.unmovable.add(path);
    return s;
  }
}

/** "<file>: <reason>", naming the file once whether or not the codec's reason names it. */
export function skippedText(s: SkippedCheckpoint): string {
  return s.reason.includes(s.path) ? s.reason : `${s.path}: ${s.reason}`;
}

/** One line per file set aside, for stderr and the manifest's notes. */
export function describeSetAside(s: SetAside, what: 'damaged' | 'superseded'): string {
  const why = s.reason.replace(s.path, 'it');
  const kind = what === 'damaged' ? 'damaged checkpoint' : 'checkpoint';
  return s.movedTo
    ? `${kind} ${s.path} moved to ${s.movedTo} (${why})`
    : `${kind} ${s.path} is ignored (${why}) but could not be moved aside: ${s.moveError}`;
}
