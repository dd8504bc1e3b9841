// Sweeps with real parts: a real redis-server on a free port, real `posit-gan worker` and `sweep`
// processes training tiny cgans on the CPU driver, and kill -9 in the middle of a job.
//   - Redis: two workers (started before Redis is up: they must say they are retrying), a sweep of
//     three jobs submitted, one worker killed mid-job: every job finishes exactly once, the killed
//     job resumes on the other worker from its checkpoint, and submitting again adds nothing.
//   - Embedded: the same sweep with no server; the whole `sweep run` killed mid-job (its train
//     processes stop with it), run again: the same checks, and the same FIDs as the Redis sweep.
//   - A run that diverges is a row (diverged: true); a job that keeps failing ends failed with its
//     error after its attempts, and status says why.
// redis-server comes from scripts/setup-system.sh (the Debian package); without it this file fails.
// The whole file takes about two CPU-minutes of work; the time limits are generous because a shared
// machine runs it several times slower than that, and every wait fails on its own, naming what it
// waited for, before a test's limit.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive, type LockOwner } from '../../gan/sweep/lock.ts';
import type { SweepStatus } from '../../gan/sweep/status.ts';
import type { Attempt, SweepRow, SweepTable } from '../../gan/sweep/table.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'pg-sweep-'));
const started: ChildProcess[] = [];

// Three tiny jobs: fp32 with two seeds (one table row with a spread) and p8+ with one.
// Checkpoints every 2 of 8 steps, so a kill after the first one lands mid-run.
const SPEC = {
  name: 'tiny',
  base: { model: 'cgan', width: 8, batch: 8, dataLimit: 256, steps: 8, checkpointEvery: 2, sampleEvery: 8 },
  grid: [
    { recipe: ['fp32'], seed: [1, 2] },
    { recipe: ['p8+'], seed: [1] },
  ],
  eval: { n: 20 },
};
const specFile = join(root, 'tiny.json');

beforeAll(() => {
  const probe = spawnSync('redis-server', ['--version']);
  if (probe.error) {
    throw new Error(`redis-server is not installed (${probe.error.message}): these tests need it. scripts/setup-system.sh installs it (Debian package redis-server).`);
  }
  writeFileSync(specFile, JSON.stringify(SPEC));
});

afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function start(cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { child, out: () => out, err: () => err, exit };
}

const posit = (...args: string[]) => start(process.execPath, ['bin/posit-gan', ...args]);

/**
 * The process a job's lock names is the command's relayed child (gan/cli/relay.ts), one below the
 * process this file started: its parent's pid (Linux /proc).
 */
function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** A process's exit status, or an error naming it if it has not exited within `ms`. */
async function exited(p: Proc, what: string, ms = 240_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} has not exited after ${ms / 1000} s; its stderr ends: ${p.err().slice(-2000)}`)), ms);
  });
  try {
    return await Promise.race([p.exit, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = posit(...args);
  const code = await exited(p, `posit-gan ${args.join(' ')}`);
  return { code, stdout: p.out(), stderr: p.err() };
}

async function waitFor<T>(what: string, f: () => T | undefined | null | false, timeoutMs = 240_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

function readJsonFile<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** A job in the middle of its training: a checkpoint before its last step, and a lock naming its owner. */
function checkpointedJob(dir: string): { id: string; owner: LockOwner } | undefined {
  const runs = join(dir, 'runs');
  if (!existsSync(runs)) return undefined;
  for (const id of readdirSync(runs).filter((n) => /^[0-9a-f]{16}$/.test(n))) {
    const steps = existsSync(join(runs, id, 'checkpoints')) ? readdirSync(join(runs, id, 'checkpoints')).map((n) => /^ckpt-(\d+)\.safetensors$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1])) : [];
    const lock = join(dir, 'jobs', `${id}.lock`);
    if (steps.length && Math.max(...steps) < SPEC.base.steps && existsSync(lock)) {
      try {
        return { id, owner: readJsonFile<LockOwner>(lock) };
      } catch {
        // Being rewritten (atomically renamed): look again.
      }
    }
  }
  return undefined;
}

function rowsIn(dir: string): SweepRow[] {
  const rows = join(dir, 'rows');
  return existsSync(rows) ? readdirSync(rows).filter((n) => n.endsWith('.json')).map((n) => readJsonFile<SweepRow>(join(rows, n))) : [];
}

/** The checks both queues must pass once the sweep is done; returns the rows by job id. */
async function checkFinished(dir: string, killed: string, queueArgs: string[]): Promise<Map<string, SweepRow>> {
  const rows = new Map(rowsIn(dir).map((r) => [r.id, r]));
  expect(rows.size).toBe(3);
  // The killed job resumed: a later attempt started from its checkpoint, and the run's losses
  // hold every step exactly once (continued, not restarted or doubled).
  const attempts = readJsonFile<Attempt[]>(join(dir, 'runs', `${killed}.attempts.json`));
  expect(attempts.length).toBeGreaterThanOrEqual(2);
  expect(attempts.at(-1)!.from_step).toBeGreaterThan(0);
  expect(rows.get(killed)!.attempts).toEqual(attempts);
  const steps = readFileSync(join(dir, 'runs', killed, 'losses.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
  expect(steps).toHaveLength(8);
  expect(new Set(steps).size).toBe(8);
  expect(readJsonFile<{ status: string; step: number }>(join(dir, 'runs', killed, 'manifest.json'))).toMatchObject({ status: 'completed', step: 8 });
  for (const r of rows.values()) {
    expect(r.steps_trained).toBe(8);
    expect(r.diverged).toBe(false);
    expect(Number.isFinite(r.fid)).toBe(true);
    // MNIST images: the evaluation has the second network (the autoencoder), and the row carries its FID.
    expect(Number.isFinite(r.fid_ae)).toBe(true);
  }

  // The table: every job exactly once, grouped by recipe, with the keys of experiment table1.
  const table = await cli('sweep', 'table', specFile, '--dir', dir, ...queueArgs);
  expect(table.code, table.stderr).toBe(0);
  const t = readJsonFile<SweepTable>(join(dir, 'sweeps', 'tiny', 'table.json'));
  expect(t.jobs).toEqual({ total: 3, finished: 3 });
  expect(t.commit).toBeTruthy();
  expect(t.command).toMatch(/^posit-gan sweep run /);
  expect(t.rows.map((r) => [r.recipe, r.seeds.map((s) => s.seed)])).toEqual([
    ['fp32', [1, 2]],
    ['p8+', [1]],
  ]);
  const fp32 = t.rows[0]!;
  const fids = fp32.seeds.map((s) => s.fid!);
  expect(fp32.fid).toBeCloseTo((fids[0]! + fids[1]!) / 2, 9);
  expect(fp32.fid_std).toBeCloseTo(Math.abs(fids[0]! - fids[1]!) / Math.SQRT2, 9);
  expect(fp32.spec.name).toBe('fp32');
  expect(readFileSync(join(dir, 'sweeps', 'tiny', 'table.md'), 'utf8')).toMatch(/\| fp32 \| \d+\.\d\d ± \d+\.\d\d \| \d+\.\d\d ± \d+\.\d\d \| 2 \|/);
  return rows;
}

let redisRows: Map<string, SweepRow>;

describe('sweeps', () => {
  it('on Redis: two workers, one killed mid-job; every job once, the killed one resumed, resubmitting adds nothing', async () => {
    const dir = join(root, 'shared');
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    // Short BullMQ locks so the killed worker's job is taken over within seconds.
    const worker = () => posit('worker', '--queue', url, '--dir', dir, '--lock-seconds', '5', '--stalled-check-seconds', '2');
    const workers = [worker(), worker()];
    // No Redis yet: the workers keep trying and say so.
    for (const w of workers) await waitFor('a worker to report that Redis is unreachable', () => /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/? \(.*\); retrying/.test(w.err()), 60_000);
    const redis = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', root]);
    try {
      await waitFor('redis-server to start', () => /Ready to accept connections/.test(redis.out()), 30_000);
      for (const w of workers) await waitFor('a worker to connect', () => /connected to Redis/.test(w.err()), 60_000);

      const submit = await cli('sweep', 'run', specFile, '--queue', url, '--dir', dir, '--attempts', '2', '--backoff', '1');
      expect(submit.code, submit.stderr).toBe(0);
      expect(submit.stdout).toMatch(/3 jobs on .*: 3 added, 0 already there/);

      const victim = await waitFor('a job with a checkpoint', () => checkpointedJob(dir));
      const killedWorker = workers.find((w) => w.child.pid === parentPid(victim.owner.pid));
      expect(killedWorker, `the job's lock names a worker: ${JSON.stringify(victim.owner)}`).toBeDefined();
      // kill -9 of the worker itself (its relay then exits with it).
      process.kill(victim.owner.pid, 'SIGKILL');
      await exited(killedWorker!, 'the killed worker', 30_000);
      const survivor = workers.find((w) => w !== killedWorker)!;

      await waitFor('all three rows', () => rowsIn(dir).length === 3);
      const status = await cli('sweep', 'status', specFile, '--queue', url, '--dir', dir, '--json');
      expect(status.code, status.stderr).toBe(0);
      const s = JSON.parse(status.stdout) as SweepStatus;
      expect(s.counts).toMatchObject({ done: 3, queued: 0, running: 0, failed: 0 });
      expect(survivor.err()).toMatch(new RegExp(`job ${victim.id}: attempt \\d+: resuming from the checkpoint at step [1-9]`));
      redisRows = await checkFinished(dir, victim.id, ['--queue', url]);

      // Submitting again adds nothing and runs nothing.
      const attemptsBefore = readFileSync(join(dir, 'runs', `${victim.id}.attempts.json`), 'utf8');
      const again = await cli('sweep', 'run', specFile, '--queue', url, '--dir', dir);
      expect(again.stdout).toMatch(/3 jobs on .*: 0 added, 3 already there/);
      const after = JSON.parse((await cli('sweep', 'status', specFile, '--queue', url, '--dir', dir, '--json')).stdout) as SweepStatus;
      expect(after.counts).toMatchObject({ done: 3, queued: 0, running: 0 });
      expect(readFileSync(join(dir, 'runs', `${victim.id}.attempts.json`), 'utf8')).toBe(attemptsBefore);

      survivor.child.kill('SIGTERM');
      expect(await exited(survivor, 'the surviving worker after SIGTERM', 60_000)).toBe(143);
    } finally {
      redis.child.kill('SIGKILL');
    }
  }, 600_000);

  it('embedded: the whole sweep killed mid-job and run again; the same rows as on Redis, and a rerun does nothing', async () => {
    const dir = join(root, 'local');
    // The FID reference statistics are a cache keyed by the classifier and the test set: reuse the
    // Redis sweep's rather than computing them again.
    const cache = join(root, 'shared', 'fid-reference.json');
    if (existsSync(cache)) {
      mkdirSync(dir, { recursive: true });
      copyFileSync(cache, join(dir, 'fid-reference.json'));
    }
    const first = posit('sweep', 'run', specFile, '--dir', dir, '--jobs', '2');
    const victim = await waitFor('a job with a checkpoint', () => checkpointedJob(dir));
    expect(parentPid(victim.owner.pid)).toBe(first.child.pid);
    process.kill(victim.owner.pid, 'SIGKILL');
    await exited(first, 'the killed sweep', 30_000);
    // Its train processes stop with it (they watch their parent), so nothing writes the runs now.
    const orphans = readdirSync(join(dir, 'jobs')).filter((n) => n.endsWith('.lock')).map((n) => readJsonFile<LockOwner>(join(dir, 'jobs', n)).child).filter((p): p is number => p !== null);
    expect(orphans.length).toBeGreaterThan(0);
    await waitFor('the killed sweep\'s train processes to exit', () => orphans.every((p) => !processAlive(p)), 30_000);

    const between = JSON.parse((await cli('sweep', 'status', specFile, '--dir', dir, '--json')).stdout) as SweepStatus;
    expect(between.counts.running).toBe(0);
    expect(between.jobs.find((j) => j.id === victim.id)).toMatchObject({ state: 'queued', where: expect.stringMatching(/interrupted/) });

    const second = await cli('sweep', 'run', specFile, '--dir', dir, '--jobs', '2');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(new RegExp(`job ${victim.id} \\((fp32|p8\\+) seed \\d\\): attempt 2: resuming from the checkpoint at step [1-9]`));
    expect(second.stdout).toMatch(/3 of 3 jobs done, 0 failed/);
    const rows = await checkFinished(dir, victim.id, []);
    // The same jobs (same ids) as the Redis sweep, interrupted at other points: the same results.
    if (redisRows) {
      expect([...rows.keys()].sort()).toEqual([...redisRows.keys()].sort());
      for (const [id, r] of rows) expect([id, r.fid, r.classifier_accuracy]).toEqual([id, redisRows.get(id)!.fid, redisRows.get(id)!.classifier_accuracy]);
    }

    const third = await cli('sweep', 'run', specFile, '--dir', dir, '--jobs', '2');
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toMatch(/attempt \d/);
    expect(readJsonFile<Attempt[]>(join(dir, 'runs', `${victim.id}.attempts.json`))).toEqual(rows.get(victim.id)!.attempts);
  }, 600_000);

  it('a run that diverges is a result, not a failure; a job that keeps failing ends failed with its error', async () => {
    const dir = join(root, 'failing');
    // An inline recipe (stored in the sweep directory) whose fixed 2^64 loss scale overflows fp16's
    // gradients at the first step.
    const overflow = {
      name: 'fp16-overflow',
      description: 'fp16 with a fixed 2^64 loss scale: the scaled gradients overflow',
      matmul: { input: 'fp16', weight: 'fp16', output: 'fp16', error: 'fp16', inputError: 'fp16', accumulate: 'f32' },
      elementwise: 'fp16',
      gradient: 'fp16',
      optimizerState: null,
      masterWeights: null,
      rounding: 'nearest',
      weightBias: { mode: 'none' },
      lossScale: { mode: 'fixed', log2: 64 },
    };
    const diverging = join(root, 'diverging.json');
    writeFileSync(diverging, JSON.stringify({ ...SPEC, name: 'diverging', grid: { recipe: [overflow] } }));
    const d = await cli('sweep', 'run', diverging, '--dir', dir, '--attempts', '1');
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/1 of 1 jobs done, 0 failed/);
    const [row] = rowsIn(dir);
    expect(row).toMatchObject({ recipe: 'fp16-overflow', diverged: true, fid: null, divergence: expect.stringMatching(/non-finite gradients at step 0/) });
    expect(readFileSync(join(dir, 'sweeps', 'diverging', 'table.md'), 'utf8')).toMatch(/\| fp16-overflow \| diverged \| 1 \(1\) \|/);

    const spec = join(root, 'one.json');
    writeFileSync(spec, JSON.stringify({ ...SPEC, name: 'one', grid: { recipe: ['fp32'] } }));
    // Every train process fails before training: no adapter has this name.
    const r = await cli('sweep', 'run', spec, '--dir', dir, '--attempts', '2', '--backoff', '0.2', '--adapter-name', 'no-such-adapter-anywhere');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/attempt 1 of 2 failed; retrying in 0\.2 s: training failed \(exit status 1/);
    expect(r.stdout).toMatch(/0 of 1 jobs done, 1 failed/);
    const s = await cli('sweep', 'status', spec, '--dir', dir);
    expect(s.stdout).toMatch(/1 jobs: 0 queued, 0 running, 0 done, 1 failed/);
    expect(s.stdout).toMatch(/after 2 attempts:\n\s+training failed \(exit status 1\); .*\.log ends:/);
    expect(s.stdout).toMatch(/posit-gan train: No WebGPU adapter/);
  }, 600_000);
});
