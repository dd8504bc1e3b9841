// experiment table1 end to end on a tiny cgan: every recipe trained and evaluated, the JSON in the
// shape the issue gives, and recipes trained side by side in child processes (--jobs) giving exactly
// the runs that training them one after another in this process gives.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { runTable1, Table1Interrupted, type Table1 } from '../../gan/experiments/table1.ts';

let gpu: Gpu;
let root: string;
beforeAll(async () => {
  gpu = await openNodeGpu({ notice: () => {} });
  root = mkdtempSync(join(tmpdir(), 'pg-table1-'));
});
afterAll(() => {
  gpu?.destroy();
  rmSync(root, { recursive: true, force: true });
});

const tiny = { width: 8, batch: 16, steps: 3, dataLimit: 128, seed: 3, checkpointEvery: 3, sampleEvery: 3 };

function table(name: string, jobs: number): Promise<Table1> {
  return runTable1(gpu, { name, model: 'cgan', config: tiny, recipes: ['fp32', 'p8+'], evalSamples: 40, command: `test jobs ${jobs}`, progress: 'quiet', root, jobs });
}

describe('experiment table1', () => {
  it('trains side by side (--jobs) exactly as one after another, and writes the table', async () => {
    const alone = await table('one', 1);
    const parallel = await table('two', 2);
    for (const t of [alone, parallel]) {
      expect(t.model).toBe('cgan');
      expect(t.steps).toBe(3);
      expect(t.rows.map((r) => r.recipe)).toEqual(['fp32', 'p8+']);
      for (const r of t.rows) {
        expect(r.diverged).toBe(false);
        expect(r.steps_trained).toBe(3);
        expect(Number.isFinite(r.fid)).toBe(true);
        expect(r.classifier_accuracy).toBeGreaterThanOrEqual(0);
        expect(r.paper_fid).toBeGreaterThan(0);
      }
    }
    // Same seed, same data order, same kernels: the same generators, so the same FIDs.
    expect(parallel.rows.map((r) => r.fid)).toEqual(alone.rows.map((r) => r.fid));
    expect(parallel.notes.join(' ')).toMatch(/side by side \(2 at a time/);
    const json = JSON.parse(readFileSync(join(root, 'results', 'two', 'table1.json'), 'utf8'));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['device', 'model', 'epochs', 'steps', 'seed', 'command', 'rows']));
    expect(readFileSync(join(root, 'results', 'two', 'table1.md'), 'utf8')).toMatch(/\| p8\+ \| \d+\.\d\d \|/);
    for (const f of ['table1-samples.png', 'opcounts/train-fp32.opcounts.json', 'opcounts/train-p8+.opcounts.json']) {
      expect(existsSync(join(root, 'results', 'two', f))).toBe(true);
    }
    // Each child's progress went to its log: JSON lines from `posit-gan train`.
    const log = readFileSync(join(root, 'runs', 'two-table1', 'p8+.log'), 'utf8');
    expect(log).toMatch(/"step":3/);
  }, 600_000);

  it('a run that fails in its process fails the table, naming the recipe and its log', async () => {
    // A device option the child rejects: every `train` exits with a usage error before training.
    const t = runTable1(gpu, { name: 'bad', model: 'cgan', config: tiny, recipes: ['fp32', 'p8+', 'fp16'], command: 'test', progress: 'quiet', root, jobs: 2, childArgs: ['--adapter', 'bogus'] });
    await expect(t).rejects.toThrow(/training (fp32|p8\+) failed \(exit status 2\); its log .*bad-table1\/(fp32|p8\+)\.log ends/);
  }, 120_000);

  it('an interrupt (--jobs) reaches every child once: each stops at a checkpoint, and no table is written', async () => {
    const abort = new AbortController();
    const config = { ...tiny, steps: 400, checkpointEvery: 1000, sampleEvery: 0 };
    const t = runTable1(gpu, { name: 'stop', model: 'cgan', config, recipes: ['fp32', 'p8+'], command: 'test', progress: 'quiet', root, jobs: 2, signal: abort.signal });
    let settled = false;
    t.catch(() => {}).finally(() => (settled = true));
    // Like a Ctrl-C once both children are training.
    const logs = ['fp32', 'p8+'].map((r) => join(root, 'runs', 'stop-table1', `${r}.log`));
    while (!settled && !logs.every((l) => existsSync(l) && readFileSync(l, 'utf8').includes('"type":"step"'))) await new Promise((r) => setTimeout(r, 200));
    abort.abort('SIGINT');
    await expect(t).rejects.toThrow(Table1Interrupted);
    await expect(t).rejects.toThrow(/interrupted \(SIGINT\) before the table was written/);
    for (const r of ['fp32', 'p8+']) {
      const m = JSON.parse(readFileSync(join(root, 'runs', 'stop-table1', r, 'manifest.json'), 'utf8'));
      expect([m.status, m.interruptedBy], r).toEqual(['interrupted', 'SIGINT']);
      expect(m.step).toBeGreaterThan(0);
      expect(m.step).toBeLessThan(400);
    }
    expect(existsSync(join(root, 'results', 'stop', 'table1.json'))).toBe(false);
  }, 300_000);
});
