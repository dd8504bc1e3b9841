// The sweep and worker commands' help and usage errors (no GPU, no Redis): each sub-command has its
// own help, the help says that workers need a shared results directory and that Redis is needed
// only for multi-machine sweeps, and bad command lines exit 2 naming the problem.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/posit-gan', ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('sweep and worker command lines', () => {
  it('each has its own help', async () => {
    const [sweep, status, table, worker] = await Promise.all([cli('sweep', '--help'), cli('sweep', 'status', '--help'), cli('sweep', 'table', '--help'), cli('worker', '--help')]);
    for (const r of [sweep, status, table, worker]) expect(r.code, r.stderr).toBe(0);
    expect(sweep.stdout).toMatch(/^Usage: posit-gan sweep run SPEC\.json/);
    expect(sweep.stdout).toMatch(/Redis is needed only for multi-machine sweeps/);
    expect(sweep.stdout).toMatch(/all of them\s+reach \(a shared file\s+system\)/);
    expect(status.stdout).toMatch(/^Usage: posit-gan sweep status SPEC\.json\|NAME/);
    expect(status.stdout).not.toMatch(/posit-gan sweep table/);
    expect(table.stdout).toMatch(/spec, fid, fid_std, seeds, commit, command/);
    expect(worker.stdout).toMatch(/^Usage: posit-gan worker --queue redis:\/\/HOST:PORT --dir SHARED_DIR/);
    expect(worker.stdout).toMatch(/MUST be a directory every\s+worker\s+reaches\s+\(a\s+shared\s+file\s+system/);
    expect(worker.stdout).toMatch(/Redis is needed\s+only for sweeps over several machines/);
  }, 120_000);

  it('bad command lines exit 2 naming the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['sweep'], /no sub-command given/],
      [['sweep', 'status'], /give `sweep status` the sweep's SPEC\.json/],
      [['sweep', 'missing.json'], /cannot read sweep spec missing\.json/],
      [['sweep', 'run', 'x.json', '--queue', 'http://host:1'], /must be a redis:\/\/ \(or rediss:\/\/\) URL/],
      [['sweep', 'status', 'x.json', '--jobs', '2'], /--jobs is not an option of sweep status/],
      [['worker', '--queue', 'redis://host:1'], /--dir SHARED_DIR is required/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    for (const [i, r] of results.entries()) {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
    }
  }, 120_000);
});
