// Sweeps over several machines: the jobs on a BullMQ queue in Redis, taken by `posit-gan worker` on
// each GPU machine. BullMQ does the distributed part: one worker per job at a time (its lock),
// stalled-job handling (a worker that stops renewing its lock, killed or cut off, loses the job to
// another worker, which resumes the run from its newest checkpoint in the shared directory), bounded
// attempts with exponential back-off, job progress and return values (the row). The job id is the
// job's content hash (spec.ts), so adding a job that is already there adds nothing.
//
// Workers write into a directory all of them reach (a shared file system): the runs, logs and rows
// (store.ts). The row also comes back as the job's return value, so `sweep table` works from any
// machine that reaches Redis.
//
// Connection loss: every connection retries for ever (ioredis reconnects; commands wait for it) and
// says so on stderr, once when it is lost, then every half minute, and once when it is back.

import { hostname } from 'node:os';
import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { JobLock, sleep, type LockOptions } from './lock.ts';
import { JobInterrupted, runJob, type JobProgress } from './run-job.ts';
import type { SweepJob } from './spec.ts';
import { countStates, type JobStatus, type SweepStatus } from './status.ts';
import type { SweepStore } from './store.ts';
import type { SweepRow } from './table.ts';

export const DEFAULT_QUEUE_NAME = 'posit-gan';

/** Checks a queue URL (redis:// or rediss://, host and port). */
export function checkQueueUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`'${url}' is not a URL: give the queue as redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`the queue '${url}' must be a redis:// (or rediss://) URL, e.g. redis://gpu-head:6379`);
  if (!u.hostname) throw new Error(`the queue '${url}' names no host: give it as redis://HOST:PORT`);
  return url;
}

/** The URL without a password, for messages. */
function shown(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** Reports connection trouble: the first error at once, then at most every `everyMs`, and the recovery. */
export class ConnectionReporter {
  private down = false;
  private lastSaid = -Infinity;
  private failures = 0;

  constructor(
    private readonly url: string,
    private readonly say: (line: string) => void,
    private readonly everyMs = 30_000,
  ) {}

  lost(e: Error): void {
    this.failures++;
    const now = Date.now();
    if (this.down && now - this.lastSaid < this.everyMs) return;
    this.say(`cannot reach Redis at ${shown(this.url)} (${e.message || e.name}); retrying${this.failures > 1 ? ` (${this.failures} failures so far)` : ''}`);
    this.down = true;
    this.lastSaid = now;
  }

  ready(): void {
    if (this.down) this.say(`connected to Redis at ${shown(this.url)} again after ${this.failures} failure${this.failures === 1 ? '' : 's'}`);
    this.down = false;
    this.failures = 0;
  }
}

/** A Redis connection for BullMQ that retries for ever and reports through `reporter`. */
export function connectRedis(url: string, reporter: ConnectionReporter): Redis {
  const redis = new Redis(checkQueueUrl(url), {
    // BullMQ's workers need commands to wait for a reconnection rather than fail (and require this).
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(250 * 2 ** Math.min(times, 7), 20_000),
  });
  redis.on('error', (e: Error) => reporter.lost(e));
  redis.on('ready', () => reporter.ready());
  return redis;
}

export interface QueueOptions {
  url: string;
  /** The BullMQ queue's name (default posit-gan). */
  queueName?: string;
  /** Connection messages (stderr). */
  say: (line: string) => void;
}

export interface SubmitOptions extends QueueOptions {
  /** Attempts before a job fails for good (default 3). */
  attempts?: number;
  /** Back-off before the first retry, doubled for each further one (default 30 s). */
  backoffMs?: number;
  /** Put failed jobs back in the queue. */
  retryFailed?: boolean;
}

async function withQueue<T>(o: QueueOptions, f: (q: Queue) => Promise<T>): Promise<T> {
  const reporter = new ConnectionReporter(o.url, o.say);
  const redis = connectRedis(o.url, reporter);
  const queue = new Queue(o.queueName ?? DEFAULT_QUEUE_NAME, { connection: redis });
  queue.on('error', (e) => reporter.lost(e));
  try {
    return await f(queue);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** Adds the jobs not yet on the queue (a job id on the queue, finished or not, is not added again). */
export function submitToQueue(jobs: readonly SweepJob[], o: SubmitOptions): Promise<{ added: number; existing: number; retried: number }> {
  return withQueue(o, async (queue) => {
    let added = 0;
    let retried = 0;
    for (const job of jobs) {
      const state = await queue.getJobState(job.id);
      if (state === 'unknown') {
        await queue.add(job.sweep, job, {
          jobId: job.id,
          attempts: o.attempts ?? 3,
          backoff: { type: 'exponential', delay: o.backoffMs ?? 30_000 },
          removeOnComplete: false,
          removeOnFail: false,
        });
        added++;
      } else if (state === 'failed' && o.retryFailed) {
        await (await queue.getJob(job.id))?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        retried++;
      }
    }
    return { added, existing: jobs.length - added, retried };
  });
}

/** Where each job of the sweep stands on the queue (a job missing there but with a row is done). */
export function queueStatus(name: string, jobs: readonly SweepJob[], store: SweepStore | null, o: QueueOptions): Promise<SweepStatus> {
  return withQueue(o, async (queue) => {
    const statuses: JobStatus[] = [];
    for (const j of jobs) {
      const base = { id: j.id, settings: j.settings, where: null, progress: null, error: null, failures: 0 };
      const job = await queue.getJob(j.id);
      if (!job) {
        statuses.push({ ...base, state: store?.row(j.id) ? 'done' : 'unsubmitted' });
        continue;
      }
      const state = await job.getState();
      const progress = typeof job.progress === 'object' && job.progress !== null && 'phase' in job.progress ? (job.progress as unknown as JobProgress) : null;
      const common = { ...base, error: job.failedReason || null, failures: job.attemptsMade, progress };
      if (state === 'completed') statuses.push({ ...common, state: 'done' });
      else if (state === 'failed') statuses.push({ ...common, state: 'failed' });
      else if (state === 'active') statuses.push({ ...common, state: 'running', where: progress ? `${progress.host} pid ${progress.pid}` : (job.processedBy ?? 'a worker') });
      else statuses.push({ ...common, state: 'queued', where: state === 'delayed' ? 'waiting out its retry back-off' : progress ? `was on ${progress.host} pid ${progress.pid} at step ${progress.step}; resumes from its newest checkpoint` : null });
    }
    return { name, queue: `${shown(o.url)}, queue ${o.queueName ?? DEFAULT_QUEUE_NAME}`, counts: countStates(statuses), jobs: statuses };
  });
}

/** The rows of finished jobs from their return values. */
export function queueRows(jobs: readonly SweepJob[], o: QueueOptions): Promise<Map<string, SweepRow>> {
  return withQueue(o, async (queue) => {
    const rows = new Map<string, SweepRow>();
    for (const j of jobs) {
      const job = await queue.getJob(j.id);
      if (job && (await job.getState()) === 'completed' && job.returnvalue) rows.set(j.id, job.returnvalue as SweepRow);
    }
    return rows;
  });
}

export interface WorkerOptions extends QueueOptions {
  /** The shared results directory. */
  store: SweepStore;
  /** Jobs this worker runs at once (default 1). */
  concurrency?: number;
  /** Device options for the train and eval processes. */
  childArgs?: readonly string[];
  /** BullMQ's lock: a worker that has not renewed it for this long loses the job (default 30 s). */
  lockMs?: number;
  /** How often workers look for jobs whose worker stopped renewing (default 30 s). */
  stalledCheckMs?: number;
  /** Times a job may be taken back from a lost worker before it fails (default 3). */
  maxStalled?: number;
  lock?: LockOptions;
}

export interface RunningWorker {
  /** Stops taking jobs, interrupts the running ones (back to the queue, resumable), and closes. */
  stop(): Promise<void>;
  /** Resolves when the worker has closed. */
  closed: Promise<void>;
}

/** The job's lock in the shared directory; waits while another live process holds it. */
async function lockJob(job: SweepJob, o: WorkerOptions, signal: AbortSignal | undefined): Promise<JobLock> {
  let told = false;
  for (;;) {
    if (signal?.aborted) throw new JobInterrupted(`job ${job.id} was interrupted`);
    const lock = JobLock.tryAcquire(o.store.paths(job.id).lock, o.lock);
    if (lock instanceof JobLock) return lock;
    if (!told) o.say(`job ${job.id}: ${lock.heldBy.host} pid ${lock.heldBy.pid} still holds its run directory (${lock.state}); waiting for it`);
    told = true;
    await sleep(1000, signal);
  }
}

/** Starts a worker that takes jobs from the queue until stopped. */
export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const reporter = new ConnectionReporter(o.url, o.say);
  const redis = connectRedis(o.url, reporter);
  const processor = async (job: Job, token?: string, signal?: AbortSignal): Promise<SweepRow> => {
    const data = job.data as SweepJob;
    const lock = await lockJob(data, o, signal);
    try {
      return await runJob(data, {
        store: o.store,
        lock,
        ...(o.childArgs ? { childArgs: o.childArgs } : {}),
        ...(signal ? { signal } : {}),
        log: o.say,
        onProgress: (p) => {
          job.updateProgress(p as unknown as Record<string, unknown>).catch((e: Error) => reporter.lost(e));
        },
      });
    } catch (e) {
      if (e instanceof JobInterrupted) {
        // A shutdown, not the job's fault: back to the queue without using up an attempt.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      throw e;
    } finally {
      lock.release();
    }
  };
  const worker = new Worker(o.queueName ?? DEFAULT_QUEUE_NAME, processor, {
    connection: redis,
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockMs ?? 30_000,
    stalledInterval: o.stalledCheckMs ?? 30_000,
    maxStalledCount: o.maxStalled ?? 3,
    name: `${hostname()} pid ${process.pid}`,
    autorun: false,
  });
  worker.on('error', (e) => reporter.lost(e));
  worker.on('active', (job) => o.say(`job ${job.id} (sweep ${(job.data as SweepJob).sweep}): taken`));
  worker.on('completed', (job, row: SweepRow) => o.say(`job ${job.id}: done (${row.diverged ? 'diverged' : `FID ${row.fid?.toFixed(2) ?? '—'}`})`));
  worker.on('failed', (job, e) => {
    if (!job || e instanceof WaitingError || e.name === 'WaitingError') return;
    const max = job.opts.attempts ?? 1;
    o.say(`job ${job.id}: attempt ${job.attemptsMade} of ${max} failed${job.attemptsMade < max ? '; it will be retried after a back-off' : ''}: ${e.message.split('\n')[0]}`);
  });
  worker.on('stalled', (id) => o.say(`job ${id}: its worker stopped renewing its lock; back in the queue (it resumes from its newest checkpoint)`));
  const closed = worker.run().finally(() => redis.disconnect());
  return {
    closed,
    async stop() {
      worker.cancelAllJobs('worker stopping');
      await worker.close();
      await closed;
    },
  };
}
