// Running one sweep job: train it in a `posit-gan train` process (resumed from its newest checkpoint
// when an earlier attempt left one, fresh otherwise), evaluate it in a `posit-gan eval` process, and
// write its row. Both queues (the embedded one and BullMQ's workers) run jobs through this function;
// the caller holds the job's lock (lock.ts), so nothing else writes its run directory meanwhile.
//
// The processes run with the sweep directory as their working directory (custom recipes are
// referenced as recipes/<hash>.json, which resolves on every machine whatever the shared
// directory's mount point) and with POSIT_GAN_EXIT_WITH_PARENT set: if this process dies (kill -9),
// they stop too instead of training on beside whoever takes the job over.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { CheckpointStore } from '../train/checkpoint-store.ts';
import { readRunManifest, type RunManifest } from '../train/manifest.ts';
import type { JobLock } from './lock.ts';
import { canonicalJson, isBuiltinRecipe, type SweepJob } from './spec.ts';
import { AttemptsSchema, EvalResultSchema } from './state-schemas.ts';
import { readJson, type SweepStore } from './store.ts';
import type { Attempt, SweepRow } from './table.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'bin', 'posit-gan');

/** Where a running job stands (BullMQ's job progress, the embedded queue's job file). */
export interface JobProgress {
  phase: 'train' | 'eval';
  step: number;
  total: number | null;
  losses: Record<string, number | null> | null;
  stepsPerSec: number | null;
  etaSec: number | null;
  host: string;
  pid: number;
  at: string;
}

export interface RunJobOptions {
  store: SweepStore;
  /** The job's lock, held by the caller. */
  lock: JobLock;
  /** Device options for the train and eval processes. */
  childArgs?: readonly string[];
  /** Called at most every `progressEveryMs` (default 1000) while training, and when evaluation starts. */
  onProgress?: (p: JobProgress) => void;
  progressEveryMs?: number;
  /** One line per notable event (resume, fresh start), for the caller's stderr. */
  log?: (line: string) => void;
  /** Aborting stops the current process (with the abort's reason when that is SIGINT or SIGTERM,
   *  else SIGTERM) and rejects with JobInterrupted. */
  signal?: AbortSignal;
  /** Training stops at this time (Date.now() ms) at a checkpoint (`train --time-limit`); the job then
   *  rejects with JobStopped and stays resumable. */
  deadline?: number;
}

/** The job failed (its training or evaluation process failed): a retry may or may not help. */
export class JobFailed extends Error {
  override name = 'JobFailed';
}

/** The job was stopped by its worker (a shutdown), not by a problem of its own. */
export class JobInterrupted extends Error {
  override name = 'JobInterrupted';
}

/** The job's training reached RunJobOptions.deadline: its run is checkpointed at `step` (manifest
 *  status 'stopped') and continues from there when the job runs again. */
export class JobStopped extends JobInterrupted {
  override name = 'JobStopped';
  constructor(
    message: string,
    readonly step: number,
    readonly totalSteps: number,
  ) {
    super(message);
  }
}

/** The step of the run's newest checkpoint that verifies, or null when it has none. */
export function checkpointStep(run: string): number | null {
  try {
    return new CheckpointStore(join(run, 'checkpoints')).loadLatest().data.step;
  } catch {
    return null;
  }
}

/**
 * The arguments that start or continue the job's training. --resume takes the run directory (the
 * checkpoint's own configuration must match the job's: train checks it).
 */
export function trainArgs(run: string, configFile: string, resume: boolean, deadline?: number): string[] {
  // A deadline already passed still starts the process: it stops before its first step, checkpointed.
  const limit = deadline === undefined ? [] : ['--time-limit', String(Math.max(0.001, (deadline - Date.now()) / 1000))];
  return ['train', ...(resume ? ['--resume', run] : ['--out', run]), '--config', configFile, '--progress', 'jsonl', ...limit];
}

/** The signal that stops a job's process when the job is aborted: the abort's reason when it is one
 *  of the stop signals (a Ctrl-C stays a SIGINT in the run's manifest), else SIGTERM. */
function stopSignal(signal: AbortSignal | undefined): NodeJS.Signals {
  return signal?.reason === 'SIGINT' || signal?.reason === 'SIGTERM' ? signal.reason : 'SIGTERM';
}

/** Writes the configuration file `train` is given; custom recipes go to DIR/recipes/. */
function writeTrainConfig(job: SweepJob, store: SweepStore): string {
  let recipe = job.recipe.name;
  if (!isBuiltinRecipe(job.recipe)) {
    recipe = `recipes/${createHash('sha256').update(canonicalJson(job.recipe)).digest('hex').slice(0, 16)}.json`;
    const path = join(store.dir, recipe);
    if (!existsSync(path)) writeFileAtomicSync(path, JSON.stringify(job.recipe, null, 2) + '\n');
  }
  const file = store.paths(job.id).config;
  writeFileAtomicSync(file, JSON.stringify({ ...job.config, recipe }, null, 2) + '\n');
  return file;
}

function tail(path: string, lines = 8): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs a posit-gan command for the job, its output appended to the job's log. */
function runChild(args: readonly string[], o: RunJobOptions, logPath: string, onLine: (line: string) => void): Promise<ChildResult> {
  const fd = openSync(logPath, 'a');
  return new Promise<ChildResult>((done, fail) => {
    // Its own process group: a Ctrl-C at the terminal reaches only the process that started it,
    // which passes the stop on exactly once (a second signal would make train exit at once,
    // without its checkpoint).
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: o.store.dir,
      stdio: ['pipe', 'pipe', fd],
      env: { ...process.env, POSIT_GAN_EXIT_WITH_PARENT: '1' },
      detached: process.platform !== 'win32',
    });
    if (child.pid !== undefined) o.lock.setChild(child.pid);
    const onAbort = () => child.kill(stopSignal(o.signal));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      writeSync(fd, line + '\n');
      onLine(line);
    });
    let exited: ChildResult | null = null;
    let closed = false;
    const finish = () => {
      if (!exited || !closed) return;
      o.signal?.removeEventListener('abort', onAbort);
      o.lock.setChild(null);
      done(exited);
    };
    lines.on('close', () => {
      closed = true;
      finish();
    });
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      finish();
    });
  }).finally(() => closeSync(fd));
}

/** Whether a process ended as a stop request ends it (SIGINT/SIGTERM, or train's 130/143 after checkpointing). */
function stoppedBySignal(r: ChildResult): boolean {
  return r.signal === 'SIGINT' || r.signal === 'SIGTERM' || r.code === 130 || r.code === 143;
}

/** After a process stopped by a signal: if that signal was meant for us too (Ctrl-C reaches the whole
 *  process group), our own handler aborts the job; give it a moment to run before judging. */
async function settle(r: ChildResult): Promise<void> {
  if (stoppedBySignal(r)) await new Promise((done) => setTimeout(done, 200));
}

function describeExit(r: ChildResult): string {
  return r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
}

function recordAttempt(path: string, a: Attempt): Attempt[] {
  const all = [...(readJson(path, AttemptsSchema) ?? []), a];
  writeFileAtomicSync(path, JSON.stringify(all, null, 2) + '\n');
  return all;
}

/** Trains and evaluates a job (see the top of this file); returns its row. A finished job is not run again. */
export async function runJob(job: SweepJob, o: RunJobOptions): Promise<SweepRow> {
  const { store } = o;
  store.init();
  const existing = store.row(job.id);
  if (existing) return existing;
  const p = store.paths(job.id);
  const host = hostname();
  const say = o.log ?? (() => {});
  const stopIfAborted = () => {
    if (o.signal?.aborted) throw new JobInterrupted(`job ${job.id} was interrupted`);
  };
  stopIfAborted();
  const configFile = writeTrainConfig(job, store);

  let manifest = readRunManifest(p.run);
  const trained = manifest?.status === 'completed' || manifest?.status === 'diverged';
  let from = trained ? manifest!.step : 0;
  // A checkpoint to go on from (one at step 0 included: a run its time limit stopped before a step).
  let resume = false;
  if (!trained) {
    const step = checkpointStep(p.run);
    if (step === null && existsSync(p.run)) {
      // A run killed before its first checkpoint (or with none that verifies): nothing to keep.
      rmSync(p.run, { recursive: true, force: true });
    }
    from = step ?? 0;
    resume = step !== null;
  }
  const attempts = recordAttempt(p.attempts, { host, pid: process.pid, started: new Date().toISOString(), from_step: from });
  const startLine = trained
    ? `attempt ${attempts.length}: training finished earlier (${manifest!.status}); evaluating`
    : resume
      ? `attempt ${attempts.length}: resuming from the checkpoint at step ${from}`
      : `attempt ${attempts.length}: training from the start`;
  appendFileSync(p.log, `=== ${new Date().toISOString()} ${host} pid ${process.pid}: ${startLine}\n`);
  say(`job ${job.id}: ${startLine}`);

  const progressEvery = o.progressEveryMs ?? 1000;
  let lastProgress = -Infinity;
  const report = (q: Omit<JobProgress, 'host' | 'pid' | 'at'>, force = false) => {
    const now = performance.now();
    if (!o.onProgress || (!force && now - lastProgress < progressEvery)) return;
    lastProgress = now;
    o.onProgress({ ...q, host, pid: process.pid, at: new Date().toISOString() });
  };

  let trainSeconds = 0;
  if (!trained) {
    const t0 = performance.now();
    const r = await runChild([...trainArgs(p.run, configFile, resume, o.deadline), ...(o.childArgs ?? [])], o, p.log, (line) => {
      if (!line.startsWith('{')) return;
      try {
        const m = JSON.parse(line) as { type?: string; step?: number; total?: number; losses?: Record<string, number | null>; stepsPerSec?: number | null; etaSec?: number | null };
        if (m.type === 'step' && typeof m.step === 'number') {
          report({ phase: 'train', step: m.step, total: m.total ?? null, losses: m.losses ?? null, stepsPerSec: m.stepsPerSec ?? null, etaSec: m.etaSec ?? null });
        }
      } catch {
        // Not a progress line.
      }
    });
    trainSeconds = (performance.now() - t0) / 1000;
    await settle(r);
    stopIfAborted();
    manifest = readRunManifest(p.run);
    if (r.code === 0 && manifest?.status === 'stopped') {
      throw new JobStopped(`job ${job.id} reached its time limit at step ${manifest.step} of ${manifest.totalSteps}`, manifest.step, manifest.totalSteps);
    }
    const ok = (r.code === 0 && manifest?.status === 'completed') || manifest?.status === 'diverged';
    if (!ok) throw new JobFailed(`training failed (${describeExit(r)}${manifest ? `, run status ${manifest.status}` : ''}); ${p.log} ends:\n${tail(p.log)}`);
  }
  const m = manifest!;
  const notes: string[] = [];
  let fid: number | null = null;
  let fidAe: Pick<SweepRow, 'fid_ae'> = {};
  let accuracy: number | null = null;
  let quality: Pick<SweepRow, 'psnr' | 'ssim'> = {};
  let evalCommit: string | null = null;
  if (m.status !== 'diverged') {
    report({ phase: 'eval', step: m.step, total: m.totalSteps, losses: null, stepsPerSec: null, etaSec: null }, true);
    const evalFile = join(p.run, 'eval.json');
    rmSync(evalFile, { force: true });
    const r = await runChild(
      ['eval', '--checkpoint', p.run, '--n', String(job.eval.n), '--seed', String(job.eval.seed), '--reference-cache', store.referenceCache, ...(o.childArgs ?? [])],
      o,
      p.log,
      () => {},
    );
    await settle(r);
    stopIfAborted();
    const e = readJson(evalFile, EvalResultSchema);
    if (r.code !== 0 || !e) throw new JobFailed(`evaluation failed (${describeExit(r)}); ${p.log} ends:\n${tail(p.log)}`);
    // JSON has no NaN: a non-finite FID is written as null.
    fid = typeof e.fid === 'number' && Number.isFinite(e.fid) ? e.fid : null;
    if (fid === null) notes.push("the FID is not finite (the generator's samples are degenerate)");
    if (e.second) {
      fidAe = { fid_ae: typeof e.second.fid === 'number' && Number.isFinite(e.second.fid) ? e.second.fid : null };
      if (fidAe.fid_ae === null) notes.push("the second network's FID is not finite (the generator's samples are degenerate)");
    }
    accuracy = e.labelAccuracy?.accuracy ?? null;
    evalCommit = e.commit ?? null;
    if (e.superResolution) quality = { psnr: e.superResolution.psnr, ssim: e.superResolution.ssim };
  }
  const row: SweepRow = {
    id: job.id,
    recipe: job.recipe.name,
    spec: job.recipe,
    seed: job.config.seed,
    config: job.config,
    settings: job.settings,
    eval: job.eval,
    fid,
    ...fidAe,
    diverged: m.status === 'diverged',
    divergence: m.status === 'diverged' ? String(m.diverged ?? 'unknown') : null,
    classifier_accuracy: accuracy,
    ...quality,
    steps_trained: m.step,
    steps_per_epoch: m.stepsPerEpoch,
    train_seconds: trainSeconds,
    device: m.adapter?.description ?? 'unknown',
    // The code that made the result: a job resumed, or trained by an earlier call (table1 --resume,
    // a sweep continued after a pull), may have run under other commits than this process.
    commit: jobCommit(trainingCommits(m), m.status === 'diverged' ? [] : [evalCommit]),
    host,
    attempts,
    finished: new Date().toISOString(),
    notes,
  };
  mkdirSync(join(store.dir, 'rows'), { recursive: true });
  store.writeRow(row);
  return row;
}

/** The commits the run's training sessions ran under, in order (null where one was not recorded). A
 *  session from before sessions recorded their commit is unknown, except the last: the manifest's own
 *  commit is that of its last writer, the last session (as for a manifest from before sessions). */
export function trainingCommits(m: RunManifest): (string | null)[] {
  const own = m.commit ?? m.gitCommit ?? null;
  if (!m.sessions?.length) return [own];
  const last = m.sessions.length - 1;
  return m.sessions.map((s, i) => s.commit ?? (i === last ? own : null));
}

/** A job's commit from the commits of its training sessions and its evaluation: the one commit when
 *  they agree, else each distinct one in order joined by ', ' ('unknown' for one not recorded); null
 *  when none was recorded. */
export function jobCommit(training: readonly (string | null)[], evaluation: readonly (string | null)[]): string | null {
  const all = [...training, ...evaluation];
  if (all.every((c) => c === null)) return null;
  return [...new Set(all.map((c) => c ?? 'unknown'))].join(', ');
}
