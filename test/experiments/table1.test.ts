// experiment table1 end to end on a tiny cgan: every recipe trained with every seed and evaluated on
// both feature networks, the JSON in the shape the issue gives (provenance, per-seed values, spreads,
// the recipe each row ran), the FID curves, and the runs as a sweep on the embedded queue (gan/sweep):
// trained side by side (--jobs) they give exactly the runs that training them one after another gives.

import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { BUILTIN_RECIPES } from '../../engine/quant/recipe.ts';
import { runTable1, Table1Interrupted, type Table1 } from '../../gan/experiments/table1.ts';
import { codeCommit } from '../../gan/io/provenance.ts';
import { localStatus } from '../../gan/sweep/local.ts';
import { SweepStore } from '../../gan/sweep/store.ts';

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

// 128 images at batch 16: 8 steps per epoch; 3 steps, FID curve at steps 2 and 3.
const tiny = { width: 8, batch: 16, steps: 3, dataLimit: 128, checkpointEvery: 3, sampleEvery: 3 };
const seeds = [3, 4];

function table(name: string, jobs: number): Promise<Table1> {
  return runTable1(gpu, {
    name,
    model: 'cgan',
    config: tiny,
    recipes: ['fp32', 'p8+'],
    seeds,
    evalSamples: 40,
    evalEvery: 2,
    curveSamples: 20,
    command: `test jobs ${jobs}`,
    progress: 'quiet',
    root,
    jobs,
  });
}

describe('experiment table1', () => {
  it('trains every recipe with every seed side by side (--jobs) exactly as one after another, and writes the table', async () => {
    const alone = await table('one', 1);
    const parallel = await table('two', 2);
    for (const t of [alone, parallel]) {
      expect(t.model).toBe('cgan');
      expect(t.steps).toBe(3);
      expect(t.steps_per_epoch).toBe(8);
      expect(t.epochs).toBe(0.375);
      expect(t.seeds).toEqual(seeds);
      expect(t.commit).toBe(codeCommit());
      expect(t.rows.map((r) => r.recipe)).toEqual(['fp32', 'p8+']);
      for (const r of t.rows) {
        expect(r.spec).toEqual(BUILTIN_RECIPES[r.recipe]);
        expect(r.diverged).toBe(false);
        expect(r.steps_trained).toBe(3);
        expect(r.paper_fid).toBeGreaterThan(0);
        expect(r.seeds.map((s) => s.seed)).toEqual(seeds);
        const fids = r.seeds.map((s) => s.fid!);
        for (const s of r.seeds) {
          expect(Number.isFinite(s.fid)).toBe(true);
          expect(Number.isFinite(s.fid_ae)).toBe(true);
          expect(s.classifier_accuracy).toBeGreaterThanOrEqual(0);
          expect(s.curve.map((p) => p.step)).toEqual([2, 3]);
        }
        // The seeds give different generators, so different FIDs; the row is their mean and spread.
        expect(fids[0]).not.toBe(fids[1]);
        expect(r.fid).toBeCloseTo((fids[0]! + fids[1]!) / 2, 9);
        expect(r.fid_std).toBeCloseTo(Math.abs(fids[0]! - fids[1]!) / Math.SQRT2, 9);
        expect(r.fid_ae_std).toBeGreaterThan(0);
      }
      expect(t.comparisons).toHaveLength(1);
      expect(t.comparisons[0]).toMatchObject({ a: 'p8+', b: 'fp32' });
      expect(t.convergence.map((c) => `${c.recipe}/${c.features}`)).toEqual(['fp32/lenet', 'fp32/autoencoder', 'p8+/lenet', 'p8+/autoencoder']);
    }
    // Same seeds, same data order, same kernels: the same generators, so the same FIDs and curves.
    const values = (t: Table1) => t.rows.map((r) => r.seeds.map((s) => [s.fid, s.fid_ae, s.curve]));
    expect(values(parallel)).toEqual(values(alone));
    expect(parallel.notes.join(' ')).toMatch(/side by side \(2 at a time/);
    const dir = join(root, 'results', 'two');
    const json = JSON.parse(readFileSync(join(dir, 'table1.json'), 'utf8'));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['commit', 'command', 'device', 'model', 'epochs', 'steps', 'seeds', 'rows', 'comparisons']));
    expect(json.command).toBe('test jobs 2');
    expect(Object.keys(json.rows[0])).toEqual(expect.arrayContaining(['recipe', 'spec', 'fid', 'fid_std', 'fid_ae', 'fid_ae_std', 'diverged', 'classifier_accuracy', 'paper_fid', 'seeds']));
    expect(Object.keys(json.rows[0].seeds[0])).toEqual(expect.arrayContaining(['seed', 'fid', 'fid_ae', 'diverged', 'classifier_accuracy']));
    const md = readFileSync(join(dir, 'table1.md'), 'utf8');
    expect(md).toMatch(/\| p8\+ \| \d+\.\d\d ± \d+\.\d\d \| \d+\.\d\d ± \d+\.\d\d \|/);
    expect(md).toMatch(/\| p8\+ vs fp32 \|/);
    for (const f of ['table1-samples.png', 'table1-fid-curve.svg', 'table1-fid-curve-ae.svg', 'opcounts/train-fp32.opcounts.json', 'opcounts/train-p8+.opcounts.json']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    expect(readFileSync(join(dir, 'table1-fid-curve.svg'), 'utf8')).toContain('<title>p8+ (2 seeds)</title>');
    // One run directory per recipe and seed, a sweep job's, linked under a readable name; each
    // child's progress went to its log, and its manifest and op counts record the code's commit.
    const runs = join(root, 'runs', 'two-table1');
    expect(readFileSync(join(runs, 'p8+-s4.log'), 'utf8')).toMatch(/"step":3/);
    expect(JSON.parse(readFileSync(join(runs, 'fp32-s3', 'manifest.json'), 'utf8')).commit).toBe(codeCommit());
    const id = basename(readlinkSync(join(runs, 'fp32-s4')));
    expect(readlinkSync(join(runs, 'fp32-s4'))).toBe(join('runs', id));
    expect(JSON.parse(readFileSync(join(runs, 'fp32-s4', `${id}.opcounts.json`), 'utf8')).run.commit).toBe(codeCommit());
    // The table is a sweep: its rows and its recorded spec are the sweep's, so `sweep status` reads it.
    const store = new SweepStore(runs);
    const recorded = store.recordedSweep('two')!;
    expect(recorded.jobs.map((j) => `${j.settings.recipe}-s${j.settings.seed}`)).toEqual(['fp32-s3', 'p8+-s3', 'fp32-s4', 'p8+-s4']);
    const status = localStatus('two', store, recorded.jobs);
    expect(status.counts).toMatchObject({ done: 4, queued: 0, running: 0, failed: 0 });
    expect(store.row(id)!.fid).toBe(parallel.rows[0]!.seeds[1]!.fid);
  }, 900_000);

  it('--resume continues runs a time limit stopped, to the values an uninterrupted table gives', async () => {
    const opts = { name: 'res', model: 'cgan' as const, config: tiny, recipes: ['fp32'], seeds: [3], evalSamples: 40, evalEvery: 2, curveSamples: 20, command: 'test resume', progress: 'quiet' as const, root, jobs: 1 };
    // A deadline already passed: the run stops before its first step, checkpointed, and is evaluated
    // as it stands; the sweep keeps its job queued, and --resume continues it (`train --resume`).
    const stopped = await runTable1(gpu, { ...opts, deadline: Date.now() });
    expect(stopped.rows[0]!.seeds[0]).toMatchObject({ steps_trained: 0, stopped_early: true });
    expect(Number.isFinite(stopped.rows[0]!.seeds[0]!.fid)).toBe(true);
    expect(stopped.notes.join(' ')).toMatch(/fp32 seed 3: stopped by the time limit at step 0 of 3/);
    const resumed = await runTable1(gpu, { ...opts, resume: true });
    const one = JSON.parse(readFileSync(join(root, 'results', 'one', 'table1.json'), 'utf8')) as Table1;
    const want = one.rows.find((r) => r.recipe === 'fp32')!.seeds.find((s) => s.seed === 3)!;
    expect(resumed.rows[0]!.seeds[0]).toMatchObject({ steps_trained: 3, stopped_early: false, fid: want.fid, fid_ae: want.fid_ae, curve: want.curve });
    expect(resumed.notes.join(' ')).toMatch(/--resume/);
    // Two attempts: the first from the start, the second from the checkpoint the first left at step 0.
    const runs = join(root, 'runs', 'res-table1');
    const attemptsFile = join(runs, 'runs', `${basename(readlinkSync(join(runs, 'fp32-s3')))}.attempts.json`);
    expect(JSON.parse(readFileSync(attemptsFile, 'utf8')).map((a: { from_step: number }) => a.from_step)).toEqual([0, 0]);
    expect(readFileSync(join(runs, 'fp32-s3.log'), 'utf8')).toMatch(/attempt 2: resuming from the checkpoint at step 0/);
    // Once complete, a resumed table trains nothing more (no new attempt) and gives the same values.
    const again = await runTable1(gpu, { ...opts, resume: true });
    expect(again.rows[0]!.seeds[0]).toMatchObject({ steps_trained: 3, train_seconds: resumed.rows[0]!.seeds[0]!.train_seconds, fid: want.fid });
    expect(JSON.parse(readFileSync(attemptsFile, 'utf8'))).toHaveLength(2);
  }, 600_000);

  it('a run that fails in its process fails the table, naming the recipe, the seed and its log', async () => {
    // A device option the child rejects: every `train` exits with a usage error before training.
    const t = runTable1(gpu, {
      name: 'bad',
      model: 'cgan',
      config: tiny,
      recipes: ['fp32', 'p8+', 'fp16'],
      evalEvery: 0,
      command: 'test',
      progress: 'quiet',
      root,
      jobs: 2,
      childArgs: ['--adapter', 'bogus'],
    });
    await expect(t).rejects.toThrow(/training or evaluating (fp32|p8\+) seed 1 failed \(its run: .*bad-table1\/(fp32|p8\+)-s1, its log: .*bad-table1\/(fp32|p8\+)-s1\.log\): training failed \(exit status 2/);
    // The first failure stopped the rest: fp16 never started.
    expect(existsSync(join(root, 'runs', 'bad-table1', 'fp16-s1', 'manifest.json'))).toBe(false);
  }, 120_000);

  it('an interrupt (--jobs) reaches every child once: each stops at a checkpoint, and no table is written', async () => {
    const abort = new AbortController();
    const config = { ...tiny, steps: 400, checkpointEvery: 1000, sampleEvery: 0 };
    const t = runTable1(gpu, { name: 'stop', model: 'cgan', config, recipes: ['fp32', 'p8+'], command: 'test', progress: 'quiet', root, jobs: 2, signal: abort.signal });
    let settled = false;
    t.catch(() => {}).finally(() => (settled = true));
    // Like a Ctrl-C once both children are training.
    const logs = ['fp32', 'p8+'].map((r) => join(root, 'runs', 'stop-table1', `${r}-s1.log`));
    while (!settled && !logs.every((l) => existsSync(l) && readFileSync(l, 'utf8').includes('"type":"step"'))) await new Promise((r) => setTimeout(r, 200));
    abort.abort('SIGINT');
    await expect(t).rejects.toThrow(Table1Interrupted);
    await expect(t).rejects.toThrow(/interrupted \(SIGINT\) before the table was written/);
    for (const r of ['fp32', 'p8+']) {
      const m = JSON.parse(readFileSync(join(root, 'runs', 'stop-table1', `${r}-s1`, 'manifest.json'), 'utf8'));
      expect([m.status, m.interruptedBy], r).toEqual(['interrupted', 'SIGINT']);
      expect(m.step).toBeGreaterThan(0);
      expect(m.step).toBeLessThan(400);
    }
    expect(existsSync(join(root, 'results', 'stop', 'table1.json'))).toBe(false);
  }, 300_000);
});
