// Sweep specs, job ids, the seed aggregation, the table's grouping and the job lock, without a GPU:
// ids are stable hashes of exactly what a result depends on, bad specs are refused naming the
// problem, the table's means and spreads are computed from the rows, and a lock is taken over only
// when its owner is gone.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_RECIPES } from '../../engine/quant/recipe.ts';
import { JobLock, lockHolder, processIdentity, type LockOwner } from '../../gan/sweep/lock.ts';
import { canonicalJson, expandSweep, readSweepSpec, type SweepSpec } from '../../gan/sweep/spec.ts';
import { SweepStore } from '../../gan/sweep/store.ts';
import { table1SweepSpec } from '../../gan/experiments/table1.ts';
import { resolveConfig } from '../../gan/train/config.ts';
import { aggregateSeeds, sweepTable, sweepTableMarkdown, type SweepRow } from '../../gan/sweep/table.ts';

const dir = mkdtempSync(join(tmpdir(), 'pg-sweep-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { model: 'cgan', width: 8, steps: 10 };

describe('sweep specs', () => {
  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
  });

  it('expands a grid to its product, and a list of grids to their union, each job once', () => {
    const jobs = expandSweep({ name: 's', base, grid: { recipe: ['fp32', 'p8+'], seed: [1, 2, 3] } });
    expect(jobs).toHaveLength(6);
    expect(jobs.map((j) => `${j.recipe.name}/${j.config.seed}`)).toEqual(['fp32/1', 'fp32/2', 'fp32/3', 'p8+/1', 'p8+/2', 'p8+/3']);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(6);
    for (const j of jobs) {
      expect(j.id).toMatch(/^[0-9a-f]{16}$/);
      expect(j.config.width).toBe(8);
      expect(j.settings).toEqual({ recipe: j.recipe.name, seed: j.config.seed });
    }
    // The overlap of two grids (fp32 seed 1) is one job.
    const union = expandSweep({ name: 's', base, grid: [{ recipe: ['fp32'], seed: [1, 2] }, { recipe: ['fp32', 'p8'], seed: [1] }] });
    expect(union.map((j) => `${j.recipe.name}/${j.config.seed}`)).toEqual(['fp32/1', 'fp32/2', 'p8/1']);
  });

  it('ids depend on the full configuration, recipe and evaluation, not on names or how a recipe is given', () => {
    const id = (spec: Omit<SweepSpec, 'name'>, name = 'a') => expandSweep({ name, ...spec })[0]!.id;
    const ref = id({ base: { ...base, recipe: 'p8+' } });
    expect(id({ base: { ...base, recipe: 'p8+' } }, 'another-sweep')).toBe(ref);
    expect(id({ base: { ...base, recipe: 'P8+' } })).toBe(ref);
    // The defaults are resolved: giving a default explicitly is the same job.
    expect(id({ base: { ...base, recipe: 'p8+', batch: 64, lr: 2e-4 } })).toBe(ref);
    // The same recipe inline or from a file is the same job; a changed recipe is another.
    expect(id({ base: { ...base, recipe: BUILTIN_RECIPES['p8+'] as unknown as string } })).toBe(ref);
    writeFileSync(join(dir, 'p8-sr.json'), JSON.stringify({ ...BUILTIN_RECIPES['p8+'], name: 'p8+sr', rounding: 'stochastic' }));
    const sr = expandSweep({ name: 'a', base, grid: { recipe: ['p8-sr.json'] } }, dir)[0]!;
    expect(sr.recipe.rounding).toBe('stochastic');
    expect(sr.settings.recipe).toBe('p8+sr');
    expect(sr.id).not.toBe(ref);
    expect(id({ base: { ...base, recipe: 'p8+', width: 9 } })).not.toBe(ref);
    expect(id({ base: { ...base, recipe: 'p8+' }, eval: { n: 500 } })).not.toBe(ref);
    expect(id({ base: { ...base, recipe: 'p8+' }, eval: { seed: 1 } })).not.toBe(ref);
  });

  it('ids of jobs from before the dataset/task/blocks/scale/pretrainSteps keys existed stay the same', () => {
    // The ids these jobs had at commit 13edc34, before the keys were added (computed there): a sweep
    // directory from then keeps its finished jobs.
    const jobs = expandSweep({ name: 's', base, grid: { recipe: ['fp32', 'p8+'], seed: [1, 2] } });
    expect(jobs.map((j) => j.id)).toEqual(['330f956b00f700a4', 'ad325b46513ade93', '42dfa0f93ed3c7c3', 'efb4dff49e891860']);
    // A key away from its earlier value is part of the id.
    const fashion = expandSweep({ name: 's', base: { ...base, dataset: 'fashion' }, grid: { recipe: ['fp32'], seed: [1] } });
    expect(fashion[0]!.id).not.toBe(jobs[0]!.id);
    const [t2b, b2t] = expandSweep({ name: 's', base: { model: 'cyclegan', steps: 10 }, grid: { task: ['thin2bold', 'bold2thin'] } });
    expect(t2b!.id).not.toBe(b2t!.id);
  });

  it('a damaged or hand-edited state file is an error naming the file, the field and the way out', () => {
    const store = new SweepStore(join(dir, 'state'));
    store.init();
    const [job] = expandSweep({ name: 's', base, grid: { recipe: ['fp32'], seed: [1] } });
    const path = store.paths(job!.id).row;
    writeFileSync(path, JSON.stringify({ id: job!.id, recipe: 'fp32', fid: 'low' }));
    expect(() => store.row(job!.id)).toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*(spec|fid).*remove it`, 's'));
    writeFileSync(path, '{"id": ');
    expect(() => store.row(job!.id)).toThrow(/is not valid JSON .*remove it \(a job record, attempts file or row: that job starts again/);
  });

  it('refuses bad specs, naming the problem', () => {
    const bad: [unknown, RegExp][] = [
      [{ name: 'a b' }, /name must be a plain file name/],
      [{ name: 'a', grids: {} }, /^sweep spec: grids is not a field of a sweep spec \(allowed: name, base, grid, eval\)$/],
      [{ name: 'a', grid: 3 }, /^sweep spec: grid must be an object mapping config keys to lists of values, got 3$/],
      [{ name: 'a', eval: { n: 5, samples: 3 } }, /eval\.samples is not a field of the evaluation settings/],
      [{ name: 'a', grid: { colour: [1] } }, /grid\.colour is not a training config key/],
      [{ name: 'a', grid: { seed: [] } }, /grid\.seed must be a non-empty list/],
      [{ name: 'a', grid: [{ seed: [1, 2, 1] }] }, /grid\[0\]\.seed lists 1 twice/],
      [{ name: 'a', base: { steps: 5, epochs: 2 } }, /give steps or epochs, not both/],
      [{ name: 'a', grid: { recipe: ['p9'] } }, /recipe 'p9' is neither a built-in recipe nor a readable recipe JSON file/],
      [{ name: 'a', grid: { width: [0] } }, /point \{"width":0\}: width must be an integer/],
      [{ name: 'a', eval: { n: 1 } }, /^sweep spec: eval\.n must be an integer >= 2, got 1$/],
    ];
    for (const [spec, message] of bad) expect(() => expandSweep(spec as SweepSpec, dir)).toThrow(message);
  });
});

function row(recipe: string, seed: number, fid: number | null, diverged = false, extra: Partial<SweepRow> = {}): SweepRow {
  const job = expandSweep({ name: 't', base: { ...base, recipe, seed } })[0]!;
  return {
    id: job.id,
    recipe,
    spec: job.recipe,
    seed,
    config: job.config,
    settings: job.settings,
    eval: job.eval,
    fid,
    diverged,
    divergence: diverged ? 'non-finite loss' : null,
    classifier_accuracy: diverged ? null : 0.5 + seed / 100,
    steps_trained: 10,
    steps_per_epoch: 20,
    train_seconds: 1,
    device: 'test device',
    commit: 'abc',
    host: 'h',
    attempts: [],
    finished: '2026-01-01T00:00:00Z',
    notes: [],
    ...extra,
  };
}

describe('sweep tables', () => {
  it('srgan seeds: PSNR mean and spread over the seeds that did not diverge, mean SSIM, and the table\'s PSNR columns', () => {
    const a = aggregateSeeds([
      { seed: 1, fid: 50, diverged: false, classifier_accuracy: null, psnr: 20, ssim: 0.8 },
      { seed: 2, fid: 60, diverged: false, classifier_accuracy: null, psnr: 22, ssim: 0.9 },
      { seed: 3, fid: null, diverged: true, classifier_accuracy: null, psnr: null, ssim: null },
    ]);
    expect(a.psnr).toBe(21);
    expect(a.psnr_std).toBeCloseTo(Math.SQRT2, 12);
    expect(a.ssim).toBeCloseTo(0.85, 12);
    // Models without PSNR carry no such keys.
    expect('psnr' in aggregateSeeds([{ seed: 1, fid: 5, diverged: false, classifier_accuracy: 0.5 }])).toBe(false);
    const jobs = expandSweep({ name: 'sr', base: { model: 'srgan', steps: 10 }, grid: { seed: [1, 2] } });
    const rows = new Map(jobs.map((j, i) => [j.id, row('p8+', j.config.seed, 50 + i, false, { id: j.id, config: j.config, settings: j.settings, psnr: 20 + 2 * i, ssim: 0.8 })]));
    const t = sweepTable('sr', jobs, rows, 'test');
    expect(t.rows[0]).toMatchObject({ psnr: 21, ssim: 0.8 });
    expect(t.evaluation.reference).toMatch(/each run's eval\.json names its reference/);
    expect(sweepTableMarkdown(t)).toMatch(/\| PSNR dB mean ± std \| SSIM \|[\s\S]*\| 21\.00 ± 1\.41 \| 0\.8000 \|/);
  });

  it("records each job's commit: one for the table when they agree, else every distinct one and a note", () => {
    const jobs = expandSweep({ name: 'c', base: { ...base }, grid: { seed: [1, 2] } });
    const rowsWith = (c1: string | null, c2: string | null) => new Map(jobs.map((j, i) => [j.id, row('p8+', j.config.seed, 50 + i, false, { id: j.id, config: j.config, settings: j.settings, commit: i === 0 ? c1 : c2 })]));
    const same = sweepTable('c', jobs, rowsWith('aaaa111', 'aaaa111'), 'test');
    expect(same.commit).toBe('aaaa111');
    expect(same.notes.join(' ')).not.toMatch(/commits/);
    // A job resumed under newer code carries both; the table counts each commit once.
    const mixed = sweepTable('c', jobs, rowsWith('aaaa111, bbbb222', 'aaaa111'), 'test');
    expect(mixed.commit).toBe('aaaa111, bbbb222');
    expect(mixed.notes).toContain('jobs ran under 2 commits: aaaa111, bbbb222');
    expect(sweepTable('c', jobs, rowsWith(null, null), 'test').commit).toBeNull();
  });

  it("the second network's FID: mean and spread beside the LeNet's where the rows carry it, its own column", () => {
    const a = aggregateSeeds([
      { seed: 1, fid: 10, fid_ae: 4, diverged: false, classifier_accuracy: 0.5 },
      { seed: 2, fid: 20, fid_ae: 8, diverged: false, classifier_accuracy: 0.5 },
      { seed: 3, fid: null, fid_ae: null, diverged: true, classifier_accuracy: null },
    ]);
    expect(a.fid_ae).toBe(6);
    expect(a.fid_ae_std).toBeCloseTo(2 * Math.SQRT2, 12);
    // Rows from before the second FID was recorded carry no such key, nor does their table.
    expect('fid_ae' in aggregateSeeds([{ seed: 1, fid: 5, diverged: false, classifier_accuracy: 0.5 }])).toBe(false);
    const jobs = expandSweep({ name: 'ae', base: { ...base }, grid: { seed: [1, 2] } });
    const rows = new Map(jobs.map((j, i) => [j.id, row('p8+', j.config.seed, 50 + i, false, { id: j.id, config: j.config, settings: j.settings, fid_ae: 10 + 2 * i })]));
    const md = sweepTableMarkdown(sweepTable('ae', jobs, rows, 'test'));
    expect(md).toMatch(/\| FID mean ± std \| FID \(autoencoder\) mean ± std \|[\s\S]*\| 50\.50 ± 0\.71 \| 11\.00 ± 1\.41 \|/);
    expect(md).toMatch(/a second network built differently/);
    const old = new Map(jobs.map((j, i) => [j.id, row('p8+', j.config.seed, 50 + i, false, { id: j.id, config: j.config, settings: j.settings })]));
    expect(sweepTableMarkdown(sweepTable('ae', jobs, old, 'test'))).not.toMatch(/autoencoder/);
  });

  it('compares the rows that differ in one grid setting under the separation rule, on both feature networks', () => {
    const jobs = expandSweep({ name: 'c', base, grid: { recipe: ['p8', 'p8-all'], width: [8, 16], seed: [1, 2, 3] } });
    // p8 near 10 on both networks, p8-all near 100; width changes nothing beyond the seeds' spread.
    const fid = (j: (typeof jobs)[number]) => (j.recipe.name === 'p8' ? 10 : 100) + j.config.seed + (j.config.width === 16 ? 0.5 : 0);
    const rows = new Map(jobs.map((j) => [j.id, row(j.recipe.name, j.config.seed, fid(j), false, { id: j.id, config: j.config, settings: j.settings, fid_ae: 2 * fid(j) })]));
    const t = sweepTable('c', jobs, rows, 'test');
    // 4 rows: the two recipe pairs (one per width) and the two width pairs (one per recipe); never the diagonals.
    expect(t.comparisons.map((c) => `${c.a} | ${c.b} | ${c.differs}`).sort()).toEqual([
      'p8 width=16 | p8-all width=16 | recipe',
      'p8 width=8 | p8 width=16 | width',
      'p8 width=8 | p8-all width=8 | recipe',
      'p8-all width=8 | p8-all width=16 | width',
    ]);
    const byRecipe = t.comparisons.find((c) => c.a === 'p8 width=8' && c.b === 'p8-all width=8')!;
    expect(byRecipe.lenet).toMatchObject({ kind: 'separated', better: 'p8 width=8', reason: 'welch' });
    expect(byRecipe.both).toBe('both');
    const byWidth = t.comparisons.find((c) => c.differs === 'width' && c.a.startsWith('p8 '))!;
    expect(byWidth.lenet.kind).toBe('not-separated');
    expect(byWidth.both).toBe('neither');
    const md = sweepTableMarkdown(t);
    expect(md).toMatch(/## Rows the runs separate/);
    expect(md).toMatch(/\| p8 width=8 vs p8-all width=8 \| recipe \| p8 width=8 lower, p [<=] [0-9.]+ \| p8 width=8 lower, p [<=] [0-9.]+ \| yes: p8 width=8 better under both \|/);
    // A row whose every seed diverged is worse than one whose seeds all gave a FID.
    const diverged = new Map(jobs.map((j) => [j.id, row(j.recipe.name, j.config.seed, j.recipe.name === 'p8-all' ? null : fid(j), j.recipe.name === 'p8-all', { id: j.id, config: j.config, settings: j.settings })]));
    const d = sweepTable('c', jobs, diverged, 'test').comparisons.find((c) => c.differs === 'recipe')!;
    expect(d.lenet).toMatchObject({ kind: 'separated', reason: 'diverged' });
    expect(d.autoencoder).toBeUndefined();
    // Rows on different data sets measure FID against different images: not compared.
    const sets = expandSweep({ name: 'd', base, grid: { dataset: ['mnist', 'fashion'], seed: [1, 2] } });
    const setRows = new Map(sets.map((j) => [j.id, row('fp32', j.config.seed, 10 + j.config.seed, false, { id: j.id, config: j.config, settings: j.settings })]));
    expect(sweepTable('d', sets, setRows, 'test').comparisons).toEqual([]);
  });

  it('aggregates seeds: mean and sample standard deviation over the seeds that did not diverge', () => {
    const a = aggregateSeeds([
      { seed: 3, fid: 30, diverged: false, classifier_accuracy: 0.5 },
      { seed: 1, fid: 10, diverged: false, classifier_accuracy: 0.7 },
      { seed: 2, fid: null, diverged: true, classifier_accuracy: null },
    ]);
    expect(a.fid).toBe(20);
    expect(a.fid_std).toBeCloseTo(Math.SQRT2 * 10, 12); // sqrt(((10-20)^2 + (30-20)^2) / 1)
    expect(a.diverged).toBe(false);
    expect(a.classifier_accuracy).toBeCloseTo(0.6, 12);
    expect(a.seeds.map((s) => s.seed)).toEqual([1, 2, 3]);
    const one = aggregateSeeds([{ seed: 1, fid: 12, diverged: false, classifier_accuracy: null }]);
    expect([one.fid, one.fid_std, one.classifier_accuracy]).toEqual([12, null, null]);
    const all = aggregateSeeds([
      { seed: 1, fid: null, diverged: true, classifier_accuracy: null },
      { seed: 2, fid: null, diverged: true, classifier_accuracy: null },
    ]);
    expect([all.fid, all.fid_std, all.diverged]).toEqual([null, null, true]);
  });

  it('groups jobs that differ only in their seed into one row, in the sweep order, with the table1 keys', () => {
    const jobs = expandSweep({ name: 't', base, grid: [{ recipe: ['fp32'], seed: [1, 2] }, { recipe: ['p8+'], seed: [1, 2] }] });
    const rows = new Map([row('fp32', 1, 10), row('fp32', 2, 14), row('p8+', 1, 20)].map((r) => [r.id, r]));
    const t = sweepTable('t', jobs, rows, 'posit-gan sweep run t.json');
    expect(Object.keys(t)).toEqual(expect.arrayContaining(['device', 'commit', 'command', 'rows']));
    expect(t.rows.map((r) => r.recipe)).toEqual(['fp32', 'p8+']);
    const [fp32, p8] = t.rows;
    expect(Object.keys(fp32!)).toEqual(expect.arrayContaining(['spec', 'fid', 'fid_std', 'seeds', 'diverged', 'classifier_accuracy']));
    expect(fp32!.fid).toBe(12);
    expect(fp32!.fid_std).toBeCloseTo(Math.sqrt(8), 12);
    expect(fp32!.jobs).toEqual({ finished: 2, total: 2 });
    expect(fp32!.epochs).toBe(0.5);
    expect(p8!.seeds).toEqual([{ seed: 1, fid: 20, diverged: false, classifier_accuracy: 0.51 }]);
    expect(p8!.jobs).toEqual({ finished: 1, total: 2 });
    expect(t.jobs).toEqual({ total: 4, finished: 3 });
    expect(t.device).toBe('test device');
    expect(t.commit).toBe('abc');
    expect(t.notes.join(' ')).toMatch(/1 of 4 jobs have not finished/);
  });
});

describe('job locks', () => {
  it('one holder at a time; a lock whose owner and child are gone is taken over, one whose child lives is not', () => {
    const path = join(dir, 'job.lock');
    const a = JobLock.tryAcquire(path);
    expect(a).toBeInstanceOf(JobLock);
    // Another holder in this live process: refused.
    const b = JobLock.tryAcquire(path);
    expect(b).not.toBeInstanceOf(JobLock);
    expect((b as { heldBy: { pid: number } }).heldBy.pid).toBe(process.pid);
    (a as JobLock).release();
    expect(lockHolder(path)).toBeNull();

    // A lock left by a process that has exited (killed owners look the same).
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const lock = (o: Partial<LockOwner>) => writeFileSync(path, JSON.stringify({ host: hostname(), pid: dead, ident: null, child: null, childIdent: null, since: '', token: 'old', ...o }));
    lock({});
    expect(lockHolder(path)!.state).toBe('stale');
    // A live pid that is another process than the one recorded (a pid reused after a reboot).
    const me = processIdentity(process.pid);
    if (me !== null) {
      lock({ pid: process.pid, ident: me });
      expect(lockHolder(path)!.state).toBe('live');
      lock({ pid: process.pid, ident: 'another-boot:1' });
      expect(lockHolder(path)!.state).toBe('stale');
    }
    // ... but its child still running: wait for it.
    lock({ child: process.pid });
    const c = JobLock.tryAcquire(path);
    expect(c).toEqual({ heldBy: expect.objectContaining({ token: 'old' }), state: 'releasing' });
    lock({});
    const d = JobLock.tryAcquire(path);
    expect(d).toBeInstanceOf(JobLock);
    expect(lockHolder(path)!.owner.pid).toBe(process.pid);
    (d as JobLock).release();
    // Another host's lock: abandoned only once it has not been refreshed for staleAfterMs.
    writeFileSync(path, JSON.stringify({ host: 'elsewhere', pid: 1, child: null, since: '', token: 'far' }));
    expect(JobLock.tryAcquire(path, { staleAfterMs: 60_000 })).not.toBeInstanceOf(JobLock);
    const e = JobLock.tryAcquire(path, { staleAfterMs: -1 });
    expect(e).toBeInstanceOf(JobLock);
    (e as JobLock).release();
  });
});

describe('the shipped sweep specs', () => {
  const shipped = (file: string) => {
    const { spec, baseDir } = readSweepSpec(fileURLToPath(new URL(`../../sweeps/${file}`, import.meta.url)));
    return expandSweep(spec, baseDir);
  };
  /** Each `<name>-sr` recipe of the jobs is the built-in `<name>` with stochastic rounding, nothing else changed. */
  const expectStochasticTwins = (jobs: ReturnType<typeof expandSweep>, names: string[]) => {
    for (const name of names) {
      const sr = jobs.find((j) => j.recipe.name === `${name}-sr`)!.recipe;
      const { name: _n, description: _d, rounding, ...rest } = sr;
      const { name: _bn, description: _bd, rounding: builtinRounding, ...builtinRest } = BUILTIN_RECIPES[name]!;
      expect([rounding, builtinRounding]).toEqual(['stochastic', 'nearest']);
      expect(rest).toEqual(builtinRest);
    }
  };

  it('sweeps/cgan-rounding.json: p8+ and p8, each with nearest and stochastic rounding, 3 seeds; the stochastic ones differ from the built-ins in rounding alone', () => {
    const jobs = shipped('cgan-rounding.json');
    expect(jobs).toHaveLength(12);
    expect([...new Set(jobs.map((j) => j.recipe.name))]).toEqual(['p8+', 'p8+-sr', 'p8', 'p8-sr']);
    expectStochasticTwins(jobs, ['p8+', 'p8']);
    expect(jobs.every((j) => j.config.model === 'cgan' && j.config.steps === 4685 && j.eval.n === 10_000)).toBe(true);
  });

  it("sweeps/acgan-rounding.json: p8+, p8 and p8-all with both roundings, 3 seeds; its nearest-rounding jobs are the acgan Table I's (same ids)", () => {
    const jobs = shipped('acgan-rounding.json');
    expect(jobs).toHaveLength(18);
    expect([...new Set(jobs.map((j) => j.recipe.name))]).toEqual(['p8+', 'p8+-sr', 'p8', 'p8-sr', 'p8-all', 'p8-all-sr']);
    expectStochasticTwins(jobs, ['p8+', 'p8', 'p8-all']);
    // `experiment table1 --model acgan --steps 500 --eval-every 100` expands its recipe x seed grid
    // the same way: in the same directory the sweep finds those jobs done and runs the stochastic ones.
    const base = resolveConfig({ model: 'acgan', steps: 500 });
    const table = expandSweep(table1SweepSpec('acgan-cpu', base, { steps: 500, seeds: [1, 2, 3], recipes: ['p8+', 'p8', 'p8-all'], evalEvery: 100, curveSamples: 2000, evalSamples: 10_000 }));
    const nearest = jobs.filter((j) => !j.recipe.name.endsWith('-sr'));
    expect(new Set(nearest.map((j) => j.id))).toEqual(new Set(table.map((j) => j.id)));
  });
});
