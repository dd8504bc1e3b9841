// The embedded queue: a sweep run on this machine with no server. The job table is the sweep
// directory itself, one JSON file per job (DIR/jobs/<id>.json, written atomically, only by the
// process holding the job's lock), worked by N slots, each running one job's processes at a time.
// Everything it needs to continue is on disk, so killing the whole process (kill -9 included) and
// running the same command again finishes the sweep: finished jobs are skipped (their rows exist),
// interrupted ones resume from their newest checkpoint (their lock's owner is gone), failed ones
// stay failed unless asked to retry.

import { hostname } from 'node:os';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { JobLock, lockHolder, sleep, type LockOptions } from './lock.ts';
import { JobFailed, JobInterrupted, JobStopped, runJob, type JobProgress } from './run-job.ts';
import type { SweepJob } from './spec.ts';
import { countStates, type JobStatus, type SweepStatus } from './status.ts';
import { JobRecordSchema } from './state-schemas.ts';
import { createFileExclusive, readJson, type SweepStore } from './store.ts';
import type { SweepRow } from './table.ts';

export interface JobRecord {
  id: string;
  job: SweepJob;
  state: 'queued' | 'running' | 'done' | 'failed';
  /** Attempts that failed (an interrupted attempt is not a failure). */
  failures: number;
  /** Not to be tried again before this time (Date.now() ms): the back-off after a failure. */
  notBefore: number | null;
  error: string | null;
  /** Where it runs (host pid) while running. */
  worker: string | null;
  progress: JobProgress | null;
  submitted: string;
  updated: string;
}

export interface LocalSweepOptions {
  store: SweepStore;
  /** Jobs run at once, each in its own processes (default 1). */
  jobs?: number;
  /** Attempts before a job is failed for good (default 3). */
  attempts?: number;
  /** Wait after the first failure; doubled after each further one (default 30 s). */
  backoffMs?: number;
  /** Put failed jobs back in the queue with their attempts reset. */
  retryFailed?: boolean;
  /** Device options for the train and eval processes. */
  childArgs?: readonly string[];
  log?: (line: string) => void;
  /** Aborting stops the running jobs (they stay queued, resumable) and ends the run. */
  signal?: AbortSignal;
  /** Training stops at this time (Date.now() ms), each running job's at a checkpoint, and the jobs
   *  stay queued (resumable); jobs not yet started still start, and stop before their first step. */
  deadline?: number;
  /** When a job fails for good, stop the others (they stay queued, resumable) and end the run. */
  failFast?: boolean;
  /** How log lines name a job (default `job <id>`). */
  label?: (job: SweepJob) => string;
  /** Called with each running job's progress (as its record gets it). */
  onProgress?: (job: SweepJob, p: JobProgress) => void;
  /** Called when a job stops running here (done, failed, stopped or interrupted): progress displays
   *  drop it. */
  onJobEnd?: (job: SweepJob) => void;
  /** How often to look again for jobs held by other processes or backing off (default 1000 ms). */
  pollMs?: number;
  lock?: LockOptions;
}

export interface LocalSweepResult {
  done: SweepRow[];
  failed: { id: string; error: string }[];
  /** Jobs still queued or running elsewhere when the run ended (only after an abort). */
  unfinished: number;
}

function readRecord(store: SweepStore, id: string): JobRecord | null {
  return readJson(store.paths(id).record, JobRecordSchema);
}

function writeRecord(store: SweepStore, r: JobRecord): void {
  writeFileAtomicSync(store.paths(r.id).record, JSON.stringify({ ...r, updated: new Date().toISOString() }, null, 2) + '\n');
}

/** Adds the jobs that are not in the table yet; returns how many were added. */
export function submitLocal(store: SweepStore, jobs: readonly SweepJob[]): { added: number; existing: number } {
  store.init();
  let added = 0;
  for (const job of jobs) {
    const now = new Date().toISOString();
    const r: JobRecord = { id: job.id, job, state: 'queued', failures: 0, notBefore: null, error: null, worker: null, progress: null, submitted: now, updated: now };
    if (createFileExclusive(store.paths(job.id).record, JSON.stringify(r, null, 2) + '\n')) added++;
  }
  return { added, existing: jobs.length - added };
}

/** Updates a job's record under its lock (taken briefly if free); false when another process holds it. */
function withRecord(store: SweepStore, id: string, lockOptions: LockOptions | undefined, f: (r: JobRecord) => JobRecord | null): boolean {
  const lock = JobLock.tryAcquire(store.paths(id).lock, lockOptions);
  if (!(lock instanceof JobLock)) return false;
  try {
    const r = readRecord(store, id);
    const next = r && f(r);
    if (next) writeRecord(store, next);
    return true;
  } finally {
    lock.release();
  }
}

/** Runs the jobs (submitting the new ones) until each is done or failed, or until aborted. */
export async function runLocal(jobs: readonly SweepJob[], o: LocalSweepOptions): Promise<LocalSweepResult> {
  const { store } = o;
  const slots = o.jobs ?? 1;
  const attempts = o.attempts ?? 3;
  const backoffMs = o.backoffMs ?? 30_000;
  const say = o.log ?? (() => {});
  const label = o.label ?? ((job: SweepJob) => `job ${job.id}`);
  // Stops the running jobs: the caller's signal, or a job failing for good under failFast.
  const stop = new AbortController();
  const passOn = () => stop.abort(o.signal!.reason);
  if (o.signal?.aborted) passOn();
  o.signal?.addEventListener('abort', passOn, { once: true });
  submitLocal(store, jobs);
  if (o.retryFailed) {
    for (const j of jobs) {
      if (readRecord(store, j.id)?.state === 'failed') {
        withRecord(store, j.id, o.lock, (r) => ({ ...r, state: 'queued', failures: 0, notBefore: null }));
      }
    }
  }
  const active = new Map<string, Promise<void>>();
  // Jobs the deadline stopped in this run: queued (resumable), not started again before the next run.
  const stoppedHere = new Set<string>();

  const work = async (job: SweepJob, lock: JobLock): Promise<void> => {
    let rec = readRecord(store, job.id)!;
    rec = { ...rec, state: 'running', worker: `${hostname()} pid ${process.pid}`, progress: null };
    writeRecord(store, rec);
    try {
      await runJob(job, {
        store,
        lock,
        ...(o.childArgs ? { childArgs: o.childArgs } : {}),
        signal: stop.signal,
        ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
        log: (line) => say(line.replace(`job ${job.id}`, label(job))),
        onProgress: (p) => {
          rec = { ...rec, progress: p };
          writeRecord(store, rec);
          o.onProgress?.(job, p);
        },
      });
      rec = { ...rec, state: 'done', error: null, notBefore: null, worker: null };
      say(`${label(job)}: done`);
    } catch (e) {
      if (e instanceof JobStopped) {
        stoppedHere.add(job.id);
        rec = { ...rec, state: 'queued', worker: null };
        say(`${label(job)}: time limit reached at step ${e.step} of ${e.totalSteps}; it resumes from that checkpoint when the sweep runs again`);
      } else if (e instanceof JobInterrupted) {
        rec = { ...rec, state: 'queued', worker: null };
        say(`${label(job)}: interrupted; it resumes from its newest checkpoint when the sweep runs again`);
      } else {
        const failures = rec.failures + 1;
        const error = e instanceof JobFailed ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
        const last = failures >= attempts;
        const wait = backoffMs * 2 ** (failures - 1);
        rec = { ...rec, state: last ? 'failed' : 'queued', failures, error, worker: null, notBefore: last ? null : Date.now() + wait };
        say(`${label(job)}: attempt ${failures} of ${attempts} failed${last ? '' : `; retrying in ${(wait / 1000).toFixed(1)} s`}: ${error.split('\n')[0]}`);
        if (last && o.failFast && !stop.signal.aborted) {
          say(`stopping the other jobs (they resume from their newest checkpoint when the sweep runs again)`);
          stop.abort('failure');
        }
      }
    } finally {
      writeRecord(store, rec);
      lock.release();
      o.onJobEnd?.(job);
    }
  };

  for (;;) {
    let pending = 0;
    let wakeAt = Infinity;
    if (!stop.signal.aborted) {
      for (const job of jobs) {
        if (active.size >= slots) break;
        if (active.has(job.id) || stoppedHere.has(job.id) || store.row(job.id)) continue;
        const rec = readRecord(store, job.id);
        if (!rec || rec.state === 'failed') continue;
        if (rec.notBefore !== null && rec.notBefore > Date.now()) {
          pending++;
          wakeAt = Math.min(wakeAt, rec.notBefore);
          continue;
        }
        const lock = JobLock.tryAcquire(store.paths(job.id).lock, o.lock);
        if (!(lock instanceof JobLock)) {
          pending++; // another process works on it (or its killed owner's child is still stopping)
          continue;
        }
        if (store.row(job.id)) {
          lock.release();
          continue;
        }
        const p = work(job, lock).finally(() => active.delete(job.id));
        active.set(job.id, p);
      }
    }
    if (active.size === 0 && (pending === 0 || stop.signal.aborted)) break;
    const ms = Math.max(10, Math.min(o.pollMs ?? 1000, wakeAt - Date.now()));
    await Promise.race([...active.values(), sleep(ms, stop.signal)]);
  }
  await Promise.all(active.values());
  o.signal?.removeEventListener('abort', passOn);

  const done: SweepRow[] = [];
  const failed: LocalSweepResult['failed'] = [];
  let unfinished = 0;
  for (const job of jobs) {
    const row = store.row(job.id);
    if (row) {
      done.push(row);
      continue;
    }
    const rec = readRecord(store, job.id);
    if (rec?.state === 'failed') failed.push({ id: job.id, error: rec.error ?? 'unknown error' });
    else unfinished++;
  }
  return { done, failed, unfinished };
}

/** Where each job of the sweep stands in the embedded queue. */
export function localStatus(name: string, store: SweepStore, jobs: readonly SweepJob[], lockOptions?: LockOptions): SweepStatus {
  const statuses: JobStatus[] = jobs.map((job) => {
    const base = { id: job.id, settings: job.settings, where: null, progress: null, error: null, failures: 0 };
    if (store.row(job.id)) return { ...base, state: 'done' };
    const rec = readRecord(store, job.id);
    if (!rec) return { ...base, state: 'unsubmitted' };
    const common = { ...base, error: rec.error, failures: rec.failures };
    if (rec.state === 'failed') return { ...common, state: 'failed' };
    const held = lockHolder(store.paths(job.id).lock, lockOptions);
    if (held && held.state !== 'stale') {
      const where = `${held.owner.host} pid ${held.owner.pid}${held.state === 'releasing' ? ' (stopping)' : ''}`;
      return { ...common, state: 'running', where, progress: rec.progress };
    }
    if (rec.state === 'running') return { ...common, state: 'queued', where: `interrupted at ${rec.progress ? `step ${rec.progress.step}` : 'its start'}; resumes from its newest checkpoint` };
    if (rec.notBefore !== null && rec.notBefore > Date.now()) return { ...common, state: 'queued', where: `retry in ${Math.ceil((rec.notBefore - Date.now()) / 1000)} s` };
    return { ...common, state: 'queued' };
  });
  return { name, queue: `embedded, ${store.dir}`, counts: countStates(statuses), jobs: statuses };
}
