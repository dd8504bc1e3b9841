// The sweep directory: where every job's run, log and evaluated row live, keyed by job id. Jobs are
// content-addressed (spec.ts), so one directory serves any number of sweeps and a job two sweeps
// share is trained once. For sweeps over several machines it must be a directory every worker can
// reach (a shared file system).
//
//   DIR/sweeps/<name>/spec.json   a sweep as submitted: its spec, its jobs in full, the command
//   DIR/sweeps/<name>/table.json, table.md   `posit-gan sweep table`
//   DIR/jobs/<id>.json            the embedded queue: the job, its state, its progress
//   DIR/jobs/<id>.lock            held while a process works on the job (lock.ts)
//   DIR/runs/<id>/                its training run, as `posit-gan train` writes it
//   DIR/runs/<id>.config.json     the configuration `train` was given
//   DIR/runs/<id>.log             the output of its train and eval processes, every attempt
//   DIR/runs/<id>.attempts.json   one entry per attempt: where, when, and the step it started from
//   DIR/rows/<id>.json            its evaluated row: the job is finished
//   DIR/recipes/<hash>.json       recipes that are not built-in, referenced relative to DIR
//   DIR/fid-reference.json        the FID reference statistics, computed once for all jobs

import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as v from 'valibot';
import { parseWith } from '../../schema/check.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { SweepRecordSchema, SweepRowSchema } from './state-schemas.ts';
import type { SweepJob, SweepSpec } from './spec.ts';
import { sweepTableMarkdown, type SweepRow, type SweepTable } from './table.ts';

export interface JobPaths {
  run: string;
  config: string;
  log: string;
  attempts: string;
  row: string;
  record: string;
  lock: string;
}

export class SweepStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  paths(id: string): JobPaths {
    return {
      run: join(this.dir, 'runs', id),
      config: join(this.dir, 'runs', `${id}.config.json`),
      log: join(this.dir, 'runs', `${id}.log`),
      attempts: join(this.dir, 'runs', `${id}.attempts.json`),
      row: join(this.dir, 'rows', `${id}.json`),
      record: join(this.dir, 'jobs', `${id}.json`),
      lock: join(this.dir, 'jobs', `${id}.lock`),
    };
  }

  /** Where evaluations keep the test images' feature statistics (eval --reference-cache DIR). */
  get referenceCache(): string {
    return this.dir;
  }

  sweepDir(name: string): string {
    return join(this.dir, 'sweeps', name);
  }

  /** Creates the folders (idempotent). */
  init(): void {
    for (const d of ['jobs', 'runs', 'rows', 'recipes', 'sweeps']) mkdirSync(join(this.dir, d), { recursive: true });
  }

  /** The finished job's row, or null. */
  row(id: string): SweepRow | null {
    return readJson(this.paths(id).row, SweepRowSchema);
  }

  writeRow(row: SweepRow): void {
    writeFileAtomicSync(this.paths(row.id).row, JSON.stringify(row, null, 2) + '\n');
  }

  /** Records a sweep as submitted: its spec, its jobs in order (recipes inlined: no other file needed) and the command. */
  recordSweep(record: SweepRecord): void {
    mkdirSync(this.sweepDir(record.spec.name), { recursive: true });
    writeFileAtomicSync(join(this.sweepDir(record.spec.name), 'spec.json'), JSON.stringify(record, null, 2) + '\n');
  }

  /** A sweep recorded here, or null. */
  recordedSweep(name: string): SweepRecord | null {
    return readJson(join(this.sweepDir(name), 'spec.json'), SweepRecordSchema);
  }

  /** Names of the sweeps recorded here. */
  sweeps(): string[] {
    try {
      return readdirSync(join(this.dir, 'sweeps')).filter((n) => existsSync(join(this.dir, 'sweeps', n, 'spec.json')));
    } catch {
      return [];
    }
  }

  /** The rows of the jobs that have finished, by job id. */
  rows(jobs: readonly SweepJob[]): Map<string, SweepRow> {
    const rows = new Map<string, SweepRow>();
    for (const j of jobs) {
      const r = this.row(j.id);
      if (r) rows.set(j.id, r);
    }
    return rows;
  }

  /** Writes a sweep's table (table.json, table.md) into `dir` (default DIR/sweeps/<name>); returns the folder. */
  writeTable(t: SweepTable, dir = this.sweepDir(t.name)): string {
    mkdirSync(dir, { recursive: true });
    writeFileAtomicSync(join(dir, 'table.json'), JSON.stringify(t, null, 2) + '\n');
    writeFileAtomicSync(join(dir, 'table.md'), sweepTableMarkdown(t));
    return dir;
  }
}

/** How to recover from a damaged state file. */
const RECOVER = 'remove it (a job record, attempts file or row: that job starts again; a sweep\'s spec.json: submit the sweep again)';

export interface SweepRecord {
  spec: SweepSpec;
  jobs: SweepJob[];
  /** The command that submitted it. */
  command: string;
}

/** A file's JSON checked against `schema` (state-schemas.ts), or null when the file does not exist.
 *  A file that exists but does not parse or does not match is an error naming it and the field. */
export function readJson<S extends v.GenericSchema>(path: string, schema: S): v.InferOutput<S> | null {
  let text: string;
  let json: unknown;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}); it is written atomically, so something else wrote it: ${RECOVER}`, { cause: e });
  }
  return parseWith(schema, json, path, (m) => new Error(`${m}; it is written atomically, so something else changed it: ${RECOVER}`));
}

/**
 * Creates `path` with `data` only if it does not exist, atomically: the complete file appears or
 * nothing does (a hard link of a finished temporary file fails if the name is taken). Returns
 * whether this call created it.
 */
export function createFileExclusive(path: string, data: string): boolean {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.new`;
  writeFileAtomicSync(tmp, data);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}
