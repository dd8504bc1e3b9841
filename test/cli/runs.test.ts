// `posit-gan train` as a user runs it (bin/posit-gan as a child process, tiny sizes on the CPU
// driver): a directory that holds a run is refused, --force moves it aside, the default output picks
// a free name; Ctrl-C (SIGINT) mid-run checkpoints, says how to resume, exits 130, and the resumed
// run is bit for bit the uninterrupted one, op counts included; a second Ctrl-C exits at once with
// every file intact.

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Each test starts one to three training processes; a loaded CPU driver makes their start slow.
const SLOW = { timeout: 300_000 };
import { CheckpointStore } from '../../gan/train/checkpoint-store.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'posit-gan');
const dir = mkdtempSync(join(tmpdir(), 'pg-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd = ROOT): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 240_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * Runs `train` and sends SIGINT once the JSON progress lines show step `atStep`; with `twice`, a
 * second SIGINT once the first is acknowledged on stderr (signals sent back to back would merge into
 * one: a pending signal is not queued twice).
 */
function trainInterrupted(args: string[], atStep: number, twice = false): Promise<Result & { sentAt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'train', ...args, '--progress', 'jsonl'], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    let sentAt = -1;
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (sentAt >= 0) return;
      const steps = stdout.split('\n').filter((l) => l.startsWith('{"type":"step"')).map((l) => JSON.parse(l).step as number);
      if (steps.some((s) => s >= atStep)) {
        sentAt = Math.max(...steps);
        child.kill('SIGINT');
      }
    });
    let second = !twice;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (!second && stderr.includes('SIGINT received')) {
        second = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, sentAt }));
  });
}

const TINY = ['--recipe', 'fp32', '--width', '8', '--batch', '8', '--data-limit', '64', '--seed', '3'];

function manifest(run: string): Record<string, unknown> & { status: string; step: number; sessions: { command: string; fromStep: number; toStep: number; status: string }[] } {
  return JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8'));
}

function finalTensors(run: string): Record<string, number[]> {
  const store = new CheckpointStore(join(run, 'checkpoints'));
  const c = store.read(store.list().at(-1)!.path);
  return Object.fromEntries(Object.entries(c.tensors).map(([k, v]) => [k, Array.from(new Uint32Array(v.data.buffer))]));
}

describe('a run directory belongs to its run', SLOW, () => {
  it('--out naming a run is refused with exit 2, naming --resume and --force; nothing changes', async () => {
    const run = join(dir, 'taken');
    mkdirSync(run);
    const m = JSON.stringify({
      tool: 'posit-gan',
      command: 'posit-gan train',
      status: 'completed',
      config: { model: 'cgan', recipe: 'p8+' },
      recipe: {},
      started: '2026-01-01T00:00:00.000Z',
      updated: '2026-01-01T00:10:00.000Z',
      stepsPerEpoch: 937,
      step: 120,
      totalSteps: 120,
    });
    writeFileSync(join(run, 'manifest.json'), m);
    const r = await cli(['train', ...TINY, '--steps', '2', '--out', run]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds another run \(cgan under p8\+, completed at step 120 of 120/);
    expect(r.stderr).toContain(`--resume ${run}`);
    expect(r.stderr).toContain('--force');
    expect(readdirSync(run)).toEqual(['manifest.json']);
    expect(readFileSync(join(run, 'manifest.json'), 'utf8')).toBe(m);
    // A directory with other files is never used (nor moved, even with --force).
    const other = join(dir, 'mine');
    mkdirSync(other);
    writeFileSync(join(other, 'thesis.tex'), '');
    const o = await cli(['train', ...TINY, '--steps', '2', '--out', other, '--force']);
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/not empty and holds files that are not a posit-gan run: thesis\.tex/);
    expect(readdirSync(other)).toEqual(['thesis.tex']);
  });

  it('--force moves the old run aside whole; the default output picks the next free name and says so', async () => {
    const cwd = join(dir, 'user');
    const old = join(cwd, 'runs', 'acgan-fp32');
    mkdirSync(join(old, 'checkpoints'), { recursive: true });
    writeFileSync(join(old, 'manifest.json'), JSON.stringify({ status: 'completed', step: 120 }));
    writeFileSync(join(old, 'checkpoints', 'ckpt-000000120.pgc'), 'the old run');
    // The quick start's command again (a zero time limit keeps it short): a second run beside the first.
    const again = await cli(['train', ...TINY, '--steps', '5', '--time-limit', '0.001', '--progress', 'quiet'], cwd);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('runs/acgan-fp32 holds an earlier run (continue that one with --resume runs/acgan-fp32); this run goes to runs/acgan-fp32-2');
    expect(manifest(join(cwd, 'runs', 'acgan-fp32-2')).status).toBe('stopped');
    expect(readFileSync(join(old, 'checkpoints', 'ckpt-000000120.pgc'), 'utf8')).toBe('the old run');
    // --force: the earlier run moves to runs/acgan-fp32.old-<time>, complete; the new one starts clean.
    const forced = await cli(['train', ...TINY, '--steps', '5', '--time-limit', '0.001', '--progress', 'quiet', '--out', 'runs/acgan-fp32', '--force'], cwd);
    expect(forced.code, forced.stderr).toBe(0);
    const moved = readdirSync(join(cwd, 'runs')).filter((n) => n.startsWith('acgan-fp32.old-'));
    expect(moved).toHaveLength(1);
    expect(forced.stderr).toContain(`moved the earlier run in runs/acgan-fp32`);
    expect(forced.stderr).toContain(`to runs/${moved[0]}`);
    expect(readFileSync(join(cwd, 'runs', moved[0]!, 'checkpoints', 'ckpt-000000120.pgc'), 'utf8')).toBe('the old run');
    expect(new CheckpointStore(join(old, 'checkpoints')).list().map((c) => c.step)).toEqual([0]);
    expect(manifest(old).status).toBe('stopped');
    // --force and --resume contradict each other.
    const both = await cli(['train', '--resume', old, '--force'], cwd);
    expect(both.code).toBe(2);
  });
});

describe('Ctrl-C during train', SLOW, () => {
  it('checkpoints, says how to resume, exits 130; the resumed run equals the uninterrupted one bit for bit', async () => {
    const whole = join(dir, 'whole');
    const split = join(dir, 'split');
    const args = [...TINY, '--steps', '8', '--checkpoint-every', '1000', '--sample-every', '0'];
    const [w, s] = await Promise.all([cli(['train', ...args, '--out', whole, '--progress', 'quiet']), trainInterrupted([...args, '--out', split], 2)]);
    expect(w.code, w.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(130);
    const m = manifest(split);
    expect(m.status).toBe('interrupted');
    expect(m.interruptedBy).toBe('SIGINT');
    expect(m.step).toBeGreaterThanOrEqual(s.sentAt);
    expect(m.step).toBeLessThan(8);
    expect(s.stderr).toContain('SIGINT received: finishing the current step, then writing a checkpoint');
    expect(s.stderr).toContain(`interrupted at step ${m.step} of 8; the run is saved in ${split}. Resume it with:\n  bin/posit-gan train --resume ${split}\n`);
    // The checkpoint interval is 1000: the interrupt itself wrote the checkpoint at its step.
    expect(new CheckpointStore(join(split, 'checkpoints')).list().map((c) => c.step)).toEqual([m.step]);

    const resumed = await cli(['train', '--resume', split, '--progress', 'quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming ${split} from step ${m.step} `));
    const a = finalTensors(whole);
    const b = finalTensors(split);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k], k).toEqual(a[k]);
    const losses = (run: string) => readFileSync(join(run, 'losses.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 8).join(','));
    expect(losses(split)).toEqual(losses(whole));
    // Op counts of the interrupted and resumed run equal the uninterrupted run's.
    const counts = (run: string) => JSON.parse(readFileSync(join(run, `${run.split('/').at(-1)}.opcounts.json`), 'utf8'));
    expect(counts(split).run.steps).toBe(8);
    expect(counts(split).records).toEqual(counts(whole).records);
    const sessions = manifest(split).sessions.map((x) => [x.fromStep, x.toStep, x.status]);
    expect(sessions).toEqual([
      [0, m.step, 'interrupted'],
      [m.step, 8, 'completed'],
    ]);
  });

  it('a second Ctrl-C exits at once: exit 130, no temporary files, every file readable', async () => {
    const run = join(dir, 'twice');
    const r = await trainInterrupted([...TINY, '--steps', '200', '--checkpoint-every', '2', '--out', run], 3, true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('SIGINT again: exiting now');
    const m = manifest(run);
    expect(m.step).toBeLessThan(200);
    const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
    expect(files(run).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const store = new CheckpointStore(join(run, 'checkpoints'));
    for (const c of store.list()) expect(store.read(c.path).step).toBe(c.step);
    expect(existsSync(join(run, 'losses.csv'))).toBe(true);
  });
});
