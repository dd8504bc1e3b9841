// The bookkeeping around runs that no GPU is needed for: which code produced a result (a run trained
// over several calls, a table over runs of earlier calls) and the progress line of running jobs.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_RECIPES } from '../../engine/quant/recipe.ts';
import { aggregateRow, runCommitsNote, type Table1Seed } from '../../gan/experiments/table1-report.ts';
import { jobLabel, runningProgress } from '../../gan/sweep/progress-line.ts';
import { jobCommit, trainingCommits, type JobProgress } from '../../gan/sweep/run-job.ts';
import { expandSweep } from '../../gan/sweep/spec.ts';
import { readRunManifest } from '../../gan/train/manifest.ts';

const dir = mkdtempSync(join(tmpdir(), 'posit-gan-bookkeeping-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function manifest(extra: Record<string, unknown>): ReturnType<typeof readRunManifest> {
  const run = mkdtempSync(join(dir, 'run-'));
  const t = '2026-12-01T00:00:00.000Z';
  writeFileSync(
    join(run, 'manifest.json'),
    JSON.stringify({ tool: 'posit-gan', command: 'posit-gan train', status: 'completed', config: { model: 'acgan', steps: 10 }, recipe: {}, started: t, updated: t, stepsPerEpoch: 937, totalSteps: 10, step: 10, ...extra }),
  );
  return readRunManifest(run);
}

describe("a job's commit", () => {
  const session = (commit: string | undefined, from: number, to: number) => ({ command: 'posit-gan train', started: '2026-12-01T00:00:00.000Z', finished: '2026-12-01T00:01:00.000Z', fromStep: from, toStep: to, status: 'completed', ...(commit === undefined ? {} : { commit }) });

  it('is the one commit when training and evaluation ran the same code', () => {
    const m = manifest({ commit: 'aaaa111', sessions: [session('aaaa111', 0, 10)] })!;
    expect(trainingCommits(m)).toEqual(['aaaa111']);
    expect(jobCommit(trainingCommits(m), ['aaaa111'])).toBe('aaaa111');
  });

  it('lists each commit once, in order, when a resume or the evaluation ran other code', () => {
    const m = manifest({ commit: 'bbbb222', sessions: [session('aaaa111', 0, 5), session('bbbb222', 5, 10)] })!;
    expect(trainingCommits(m)).toEqual(['aaaa111', 'bbbb222']);
    expect(jobCommit(trainingCommits(m), ['cccc333+dirty'])).toBe('aaaa111, bbbb222, cccc333+dirty');
    expect(jobCommit(['aaaa111', 'aaaa111'], [])).toBe('aaaa111');
  });

  it("falls back to the manifest's commit for sessions written before they recorded one, and says unknown where nothing was", () => {
    const old = manifest({ gitCommit: 'dddd444', sessions: [session(undefined, 0, 10)] })!;
    expect(trainingCommits(old)).toEqual(['dddd444']);
    // Only the last session wrote the manifest: an earlier one without its own commit is unknown.
    const resumed = manifest({ commit: 'ffff666', sessions: [session(undefined, 0, 5), session(undefined, 5, 10)] })!;
    expect(trainingCommits(resumed)).toEqual([null, 'ffff666']);
    const resumedByNewCode = manifest({ commit: 'ffff666', sessions: [session(undefined, 0, 5), session('ffff666', 5, 10)] })!;
    expect(jobCommit(trainingCommits(resumedByNewCode), ['ffff666'])).toBe('unknown, ffff666');
    const none = manifest({})!;
    expect(trainingCommits(none)).toEqual([null]);
    expect(jobCommit(trainingCommits(none), [null])).toBeNull();
    expect(jobCommit(trainingCommits(none), ['eeee555'])).toBe('unknown, eeee555');
  });

  it('a session whose commit is not text is refused with the field named', () => {
    const run = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(run, 'manifest.json'), JSON.stringify({ tool: 'posit-gan', command: null, status: 'completed', config: {}, recipe: {}, started: 'x', updated: 'x', stepsPerEpoch: 1, totalSteps: 1, step: 1, sessions: [{ ...session('a', 0, 1), commit: 5 }] }));
    expect(() => readRunManifest(run)).toThrow(/sessions\[0\]\.commit must be a string, got 5/);
  });
});

describe("table1's note on runs made by other code than the table", () => {
  const seed = (s: number, commit: string | null): Table1Seed => ({ seed: s, fid: 10 + s, fid_ae: 5 + s, diverged: false, divergence: null, classifier_accuracy: 0.9, steps_trained: 10, stopped_early: false, train_seconds: 1, commit, curve: [] });
  const rows = (a: (string | null)[], b: (string | null)[]) => [
    aggregateRow('fp32', BUILTIN_RECIPES.fp32, null, a.map((c, i) => seed(i + 1, c))),
    aggregateRow('p8+', BUILTIN_RECIPES['p8+'], null, b.map((c, i) => seed(i + 1, c))),
  ];

  it('is absent when every run ran the table\'s commit', () => {
    expect(runCommitsNote('aaaa111', rows(['aaaa111', 'aaaa111'], ['aaaa111']))).toBeNull();
  });

  it('names each run that ran other code, grouped by commit, and unrecorded ones as such', () => {
    const note = runCommitsNote('bbbb222', rows(['aaaa111', 'bbbb222'], ['aaaa111', null]))!;
    expect(note).toMatch(/commit bbbb222/);
    expect(note).toMatch(/fp32 seed 1, p8\+ seed 1 under commit aaaa111/);
    expect(note).toMatch(/p8\+ seed 2 under an unrecorded commit/);
    expect(note).not.toMatch(/fp32 seed 2/);
  });
});

describe('the progress line of running jobs', () => {
  const jobs = expandSweep({ name: 'p', base: { model: 'acgan', steps: 100 }, grid: { seed: [1, 2] } });
  const label = (j: (typeof jobs)[number]) => `p8+ seed ${j.config.seed}`;
  const p = (step: number): JobProgress => ({ phase: 'train', step, total: 100, losses: null, stepsPerSec: 2, etaSec: null, host: 'h', pid: 1, at: '' });

  it('shows every running job at most every 30 s and drops a job once it ended', () => {
    let t = 0;
    const lines: string[] = [];
    const progress = runningProgress(label, (l) => lines.push(l), () => t);
    progress.onProgress(jobs[0]!, p(10));
    progress.onProgress(jobs[1]!, p(20));
    expect(lines).toEqual([]);
    t = 30_000;
    progress.onProgress(jobs[1]!, p(21));
    expect(lines).toEqual(['p8+ seed 1 step 10/100 2.0 step/s · p8+ seed 2 step 21/100 2.0 step/s']);
    progress.onJobEnd(jobs[0]!);
    t = 60_000;
    progress.onProgress(jobs[1]!, p(40));
    expect(lines[1]).toBe('p8+ seed 2 step 40/100 2.0 step/s');
  });

  it('names a job by its recipe, its other grid settings and its seed', () => {
    const grid = expandSweep({ name: 'g', base: { model: 'cgan', steps: 10 }, grid: { recipe: ['p8+', 'fp32'], width: [8], seed: [3] } });
    expect(grid.map(jobLabel)).toEqual(['p8+ width=8 seed 3', 'fp32 width=8 seed 3']);
  });
});
