// `sweep run --time-limit`: at the limit the running job is stopped (checkpointed by its train
// process), stays queued, and the command says how to continue, with exit status 0. The resume
// itself is the path the kill tests in sweep.test.ts cover.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import type { SweepStatus } from '../../gan/sweep/status.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'pg-sweep-limit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/posit-gan', ...args], { cwd: ROOT, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

it('stops the running job at the limit, leaves it queued and says how to continue', async () => {
  // Far more steps than a few seconds of the CPU driver train.
  const spec = join(root, 'long.json');
  writeFileSync(spec, JSON.stringify({ name: 'long', base: { model: 'cgan', width: 8, batch: 8, dataLimit: 256, steps: 100000, checkpointEvery: 5 }, grid: { recipe: ['fp32'] }, eval: { n: 20 } }));
  const dir = join(root, 'sweep');
  const r = await cli('sweep', 'run', spec, '--dir', dir, '--time-limit', '6');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/time limit of 6 s reached: stopping the running jobs/);
  expect(r.stdout).toMatch(/0 of 1 jobs done, 0 failed, 1 unfinished/);
  expect(r.stdout).toMatch(/stopped at the time limit: run the same command again to continue/);
  const s = await cli('sweep', 'status', spec, '--dir', dir, '--json');
  const status = JSON.parse(s.stdout) as SweepStatus;
  expect(status.counts).toMatchObject({ queued: 1, running: 0, done: 0, failed: 0 });
  // Its train process was asked to stop (SIGTERM: a checkpoint, then exit), not killed: the run says so.
  const id = status.jobs[0]!.id;
  const manifest = JSON.parse(readFileSync(join(dir, 'runs', id, 'manifest.json'), 'utf8')) as { status: string };
  expect(manifest.status).toBe('interrupted');

  const bad = await cli('sweep', 'run', spec, '--dir', dir, '--time-limit', '6', '--queue', 'redis://127.0.0.1:9');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--time-limit is for the embedded queue/);
}, 300_000);
