// --time-limit through the CLI: `train` stops at it (exit 0, manifest 'stopped', resumable) and says
// so; bad values and a bad --jobs are usage errors (exit 2) before any device opens.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pg-time-limit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/posit-gan', ...args], { cwd: ROOT, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('--time-limit', () => {
  it('train stops at the limit, checkpointed and marked stopped', async () => {
    const out = join(dir, 'run');
    const r = await cli('train', '--model', 'cgan', '--recipe', 'fp32', '--width', '8', '--batch', '8', '--data-limit', '64', '--steps', '50', '--time-limit', '0.001', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/time limit reached: stopped cgan under fp32 at 0 of 50 steps/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('stopped');
    expect(manifest.step).toBe(0);
  }, 240_000);

  it('rejects a limit that is not a positive number, and --jobs 0, with exit code 2', async () => {
    for (const v of ['0', '-3', 'soon']) {
      const r = await cli('train', `--time-limit=${v}`);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--time-limit must be a positive number of seconds/);
    }
    const jobs = await cli('experiment', 'table1', '--jobs', '0');
    expect(jobs.code).toBe(2);
    expect(jobs.stderr).toMatch(/--jobs/);
  }, 240_000);
});
