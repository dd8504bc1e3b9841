// Table I over seeds on synthetic per-seed results (pure functions, no GPU): the t distribution against
// closed forms and SciPy, Welch's test against SciPy and Wikipedia's worked example, the separation
// rule with diverged seeds, the aggregation of rows, the agreement of two feature networks, the
// convergence check on FID curves, and the Markdown / SVG built from them.

import { describe, expect, it } from 'vitest';
import { BUILTIN_RECIPES } from '../../engine/quant/recipe.ts';
import { aggregateRow, comparePairs, convergence, convergenceNotes, fidCurveSvg, table1Markdown, type Table1, type Table1Seed } from '../../gan/experiments/table1-report.ts';
import {
  agreement,
  compareRecipes,
  curveStats,
  incompleteBeta,
  meanStd,
  paperPairs,
  stillFalling,
  studentTwoSidedP,
  verdictText,
  welch,
} from '../../gan/experiments/table1-stats.ts';
import { parseSeeds } from '../../gan/experiments/table1-command.ts';
import { resolveConfig } from '../../gan/train/config.ts';

describe('descriptive statistics', () => {
  it('mean and sample standard deviation (n - 1), null where undefined', () => {
    expect(meanStd([])).toEqual({ mean: null, std: null, n: 0 });
    expect(meanStd([5])).toEqual({ mean: 5, std: null, n: 1 });
    const s = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.std).toBeCloseTo(Math.sqrt(32 / 7), 14);
  });
});

describe("Student's t distribution", () => {
  it('the regularized incomplete beta function matches its closed forms', () => {
    for (const x of [0, 0.01, 0.3, 0.5, 0.77, 0.999, 1]) {
      expect(incompleteBeta(x, 1, 1)).toBeCloseTo(x, 13);
      expect(incompleteBeta(x, 3, 1)).toBeCloseTo(x ** 3, 13);
      expect(incompleteBeta(x, 1, 4)).toBeCloseTo(1 - (1 - x) ** 4, 13);
      expect(incompleteBeta(x, 2.5, 0.5) + incompleteBeta(1 - x, 0.5, 2.5)).toBeCloseTo(1, 13);
    }
  });
  it('two-sided p-values: df 1 (Cauchy) and df 2 in closed form, the normal limit, SciPy at fractional df', () => {
    for (const t of [0, 0.3, 1, 2.5, 10, -4]) {
      expect(studentTwoSidedP(t, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(Math.abs(t)), 12);
      expect(studentTwoSidedP(t, 2)).toBeCloseTo(1 - Math.abs(t) / Math.sqrt(2 + t * t), 12);
    }
    expect(studentTwoSidedP(1, 1)).toBeCloseTo(0.5, 14);
    expect(studentTwoSidedP(1.959963984540054, 1e7)).toBeCloseTo(0.05, 6);
    // scipy.stats: 2 * t.sf(2.5, 3.7) = 0.07182202291182678
    expect(studentTwoSidedP(2.5, 3.7)).toBeCloseTo(0.07182202291182678, 10);
    expect(studentTwoSidedP(Infinity, 3)).toBe(0);
  });
});

describe("Welch's t-test", () => {
  it("matches Wikipedia's example 1 and SciPy's ttest_ind(equal_var=False)", () => {
    const a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
    const a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
    const w = welch(a1, a2)!;
    // SciPy 1.17: statistic -2.455356398286006, pvalue 0.021378001462866992, df 24.988529290231416.
    expect(w.t).toBeCloseTo(-2.455356398286006, 10);
    expect(w.df).toBeCloseTo(24.988529290231416, 9);
    expect(w.p).toBeCloseTo(0.021378001462866992, 10);
    // Three seeds each, like a table: SciPy gives t -9.328719097496728, df 3.448275862068968, p 0.0014486534971570675.
    const v = welch([10.1, 10.3, 9.9], [12.0, 12.4, 11.8])!;
    expect(v.t).toBeCloseTo(-9.328719097496728, 10);
    expect(v.df).toBeCloseTo(3.448275862068968, 10);
    expect(v.p).toBeCloseTo(0.0014486534971570675, 10);
  });
  it('needs two values a side; without spread, equal constants are not separated and different ones are', () => {
    expect(welch([1], [2, 3])).toBeNull();
    expect(welch([4, 4], [4, 4])!.p).toBe(1);
    expect(welch([4, 4], [5, 5])!.p).toBe(0);
  });
});

describe('the separation rule', () => {
  const v = (recipe: string, values: (number | null)[]) => ({ recipe, values });
  it('separates by Welch p < 0.05 and names the lower recipe', () => {
    const r = compareRecipes(v('p8+', [10.1, 10.3, 9.9]), v('p8', [12.0, 12.4, 11.8]));
    expect(r).toEqual({ kind: 'separated', better: 'p8+', p: expect.closeTo(0.0014486534971570675, 10), reason: 'welch' });
    expect(verdictText(r)).toBe('p8+ lower, p = 0.001');
    // The two committed one-seed cgan tables, taken as three seeds: overlapping, not separated (SciPy p 0.852).
    const n = compareRecipes(v('p8+', [73.5, 69.8, 71.2]), v('fp32', [95.9, 49.6, 60.1]));
    expect(n).toEqual({ kind: 'not-separated', p: expect.closeTo(0.8521943620370739, 9), lower: 'fp32' });
    expect(verdictText(n)).toBe('not separated (p = 0.852; fp32 lower)');
  });
  it('one seed ranks nothing', () => {
    const r = compareRecipes(v('p8+', [70]), v('fp32', [90]));
    expect(r).toEqual({ kind: 'no-test', lower: 'p8+', why: 'one FID on one side' });
  });
  it('a recipe that diverged on every seed loses to one that never did; a mix is tested on the FIDs there are', () => {
    expect(compareRecipes(v('fp8', [null, null, null]), v('p8+', [70, 72, 71]))).toEqual({ kind: 'separated', better: 'p8+', p: null, reason: 'diverged' });
    expect(compareRecipes(v('p8+', [70, 72, 71]), v('fp8', [null, null, null]))).toMatchObject({ better: 'p8+', reason: 'diverged' });
    expect(compareRecipes(v('a', [null, null]), v('b', [null, null]))).toEqual({ kind: 'no-test', lower: null, why: 'no FID on one side' });
    expect(compareRecipes(v('a', [null, 30, 31]), v('b', [50, 52, 51]))).toMatchObject({ kind: 'separated', better: 'a', reason: 'welch' });
    expect(compareRecipes(v('a', [null, null, 31]), v('b', [50, 52, 51]))).toMatchObject({ kind: 'no-test', lower: 'a' });
  });
  it('agreement of the two feature networks', () => {
    const sepA = { kind: 'separated', better: 'a', p: 0.01, reason: 'welch' } as const;
    const sepB = { kind: 'separated', better: 'b', p: 0.01, reason: 'welch' } as const;
    const notA = { kind: 'not-separated', p: 0.3, lower: 'a' } as const;
    const notB = { kind: 'not-separated', p: 0.3, lower: 'b' } as const;
    expect(agreement(sepA, sepA)).toBe('both');
    expect(agreement(sepA, notA)).toBe('one');
    expect(agreement(notA, notA)).toBe('neither');
    expect(agreement(sepA, sepB)).toBe('flips');
    expect(agreement(sepA, notB)).toBe('flips');
  });
  it("the paper's pairs, among the recipes present", () => {
    expect(paperPairs(['fp32', 'fp16', 'p8+', 'p8', 'fp8', 'p8-all'])).toEqual([
      ['p8+', 'fp32'],
      ['p8+', 'fp16'],
      ['p8+', 'p8'],
      ['fp8', 'fp32'],
      ['fp8', 'fp16'],
      ['fp8', 'p8+'],
      ['fp8', 'p8'],
    ]);
    expect(paperPairs(['fp32', 'p8+'])).toEqual([['p8+', 'fp32']]);
  });
});

describe('FID curves', () => {
  it('mean, min, max over seeds at the steps every seed evaluated', () => {
    const c = curveStats([
      [
        { step: 10, fid: 300 },
        { step: 20, fid: 200 },
        { step: 30, fid: 150 },
      ],
      [
        { step: 10, fid: 320 },
        { step: 20, fid: 180 },
      ],
    ]);
    expect(c.map((p) => p.step)).toEqual([10, 20]);
    expect(c[0]).toMatchObject({ mean: 310, min: 300, max: 320, n: 2 });
    expect(c[0]!.std).toBeCloseTo(Math.sqrt(200), 12);
  });
  it('still falling: the last mean lower than the previous by more than the larger spread (one seed: lower at all)', () => {
    const pt = (step: number, mean: number, std: number | null) => ({ step, mean, min: mean, max: mean, std, n: std === null ? 1 : 3 });
    expect(stillFalling([pt(1, 100, 5), pt(2, 90, 4)])).toMatchObject({ falling: true, spread: 5 });
    expect(stillFalling([pt(1, 100, 12), pt(2, 90, 4)])).toMatchObject({ falling: false, spread: 12 });
    expect(stillFalling([pt(1, 100, null), pt(2, 99.9, null)])).toMatchObject({ falling: true, spread: 0 });
    expect(stillFalling([pt(1, 100, null), pt(2, 101, null)])).toMatchObject({ falling: false });
    expect(stillFalling([pt(1, 100, null)])).toBeNull();
  });
});

// ---- rows and the page, from synthetic runs ----

function seed(s: number, fid: number | null, fidAe: number | null, extra: Partial<Table1Seed> = {}): Table1Seed {
  return {
    seed: s,
    fid,
    fid_ae: fidAe,
    diverged: fid === null,
    divergence: fid === null ? 'non-finite generator loss at step 12' : null,
    classifier_accuracy: fid === null ? null : 0.5 + s / 100,
    steps_trained: 100,
    stopped_early: false,
    train_seconds: 60 * s,
    commit: 'abc1234',
    curve: fid === null ? [] : [{ step: 50, fid: 2 * fid, fid_ae: 2 * fidAe! }, { step: 100, fid, fid_ae: fidAe! }],
    ...extra,
  };
}

function syntheticTable(): Table1 {
  const spec = (r: string) => BUILTIN_RECIPES[r]!;
  const rows = [
    aggregateRow('fp32', spec('fp32'), 67.31, [seed(1, 60, 6), seed(2, 66, 7), seed(3, 63, 6.5)]),
    aggregateRow('p8+', spec('p8+'), 70, [seed(1, 61, 7.5), seed(2, 65, 6.2), seed(3, 64, 7.1)]),
    aggregateRow('p8', spec('p8'), 75.41, [seed(1, 90, 9), seed(2, 95, 9.5), seed(3, 93, 9.2)]),
    aggregateRow('fp8', spec('fp8'), 423.28, [seed(1, null, null), seed(2, null, null), seed(3, null, null)]),
    aggregateRow('p8-all', spec('p8-all'), null, [seed(1, null, null), seed(2, 900, 40), seed(3, 940, 44)]),
  ];
  return {
    commit: 'abc1234',
    command: 'posit-gan experiment table1 --seeds 3',
    device: 'test device',
    model: 'cgan',
    task: 'cgan',
    paper_row: 'CGAN-MNIST',
    epochs: 0.107,
    steps: 100,
    steps_per_epoch: 937,
    seeds: [1, 2, 3],
    evaluation: { samples: 10000, features: 'LeNet', second_features: 'autoencoder', reference: '10000 MNIST test images' },
    curve: { every: 50, samples: 500, files: { lenet: 'table1-fid-curve.svg', autoencoder: 'table1-fid-curve-ae.svg' } },
    config: resolveConfig({}),
    rows,
    comparisons: comparePairs(rows),
    separation_rule: '',
    convergence: convergence(rows),
    notes: [],
  };
}

describe('Table I rows, pairs and page', () => {
  it('aggregates seeds: means and spreads over the seeds with a FID, diverged only when every seed did', () => {
    const t = syntheticTable();
    const [fp32, , , fp8, all] = t.rows;
    expect(fp32!.fid).toBe(63);
    expect(fp32!.fid_std).toBeCloseTo(3, 12);
    expect(fp32!.fid_ae).toBeCloseTo(6.5, 12);
    expect(fp32!.fid_ae_std).toBeCloseTo(0.5, 12);
    expect(fp32!.classifier_accuracy).toBeCloseTo(0.52, 12);
    expect(fp32!.train_seconds).toBe(120);
    expect(fp32!.diverged).toBe(false);
    expect(fp32!.spec).toEqual(BUILTIN_RECIPES.fp32);
    expect(fp32!.seeds.map((s) => s.seed)).toEqual([1, 2, 3]);
    expect(fp8).toMatchObject({ fid: null, fid_std: null, diverged: true, diverged_seeds: 3, divergence: 'non-finite generator loss at step 12', classifier_accuracy: null });
    expect(all).toMatchObject({ fid: 920, diverged: false, diverged_seeds: 1 });
    expect(all!.fid_std).toBeCloseTo(Math.sqrt(800), 12);
    expect(() => aggregateRow('x', BUILTIN_RECIPES.fp32!, null, [])).toThrow(/no runs/);
  });

  it("compares the paper's pairs under both networks", () => {
    const t = syntheticTable();
    const pair = (a: string, b: string) => t.comparisons.find((c) => c.a === a && c.b === b)!;
    expect(t.comparisons.map((c) => `${c.a}/${c.b}`)).toEqual(['p8+/fp32', 'p8+/p8', 'fp8/fp32', 'fp8/p8+', 'fp8/p8']);
    expect(pair('p8+', 'fp32')).toMatchObject({ paper: { lower: 'fp32', a: 70, b: 67.31 }, lenet: { kind: 'not-separated' }, both: 'neither' });
    expect(pair('p8+', 'p8')).toMatchObject({ lenet: { kind: 'separated', better: 'p8+' }, autoencoder: { kind: 'separated', better: 'p8+' }, both: 'both' });
    expect(pair('fp8', 'p8+')).toMatchObject({ lenet: { kind: 'separated', better: 'p8+', reason: 'diverged' }, both: 'both' });
  });

  it('says where the curves still fall', () => {
    const t = syntheticTable();
    // Every synthetic curve halves from step 50 to 100, far beyond its spread: nothing has converged.
    expect(t.convergence.filter((c) => c.falling).map((c) => `${c.recipe}/${c.features}`)).toEqual([
      'fp32/lenet',
      'fp32/autoencoder',
      'p8+/lenet',
      'p8+/autoencoder',
      'p8/lenet',
      'p8/autoencoder',
      'p8-all/lenet',
      'p8-all/autoencoder',
    ]);
    expect(convergenceNotes(t.convergence, true)[0]).toMatch(/^NOT CONVERGED: .*fp32 \(LeNet: 126\.0 at step 50 -> 63\.0 at step 100, spread 6\.0\)/);
    expect(convergenceNotes([], false)[0]).toMatch(/No FID curve/);
    const flat = convergence([aggregateRow('fp32', BUILTIN_RECIPES.fp32!, null, [seed(1, 60, 6, { curve: [{ step: 50, fid: 61, fid_ae: 6 }, { step: 100, fid: 60, fid_ae: 6 }] }), seed(2, 66, 7, { curve: [{ step: 50, fid: 64, fid_ae: 7 }, { step: 100, fid: 66, fid_ae: 7 }] })])]);
    expect(flat.map((c) => c.falling)).toEqual([false, false]);
    expect(convergenceNotes(flat, true)[0]).toMatch(/no recipe's FID was still falling/);
  });

  it('the Markdown page: mean ± std, per-seed values, the rule, the pairs and convergence', () => {
    const md = table1Markdown(syntheticTable());
    expect(md).toContain('Code: commit abc1234.');
    expect(md).toContain('seeds 1, 2, 3');
    expect(md).toContain('FID on LeNet; second feature network: autoencoder.');
    expect(md).toMatch(/\| fp32 \| 63\.00 ± 3\.00 \| 6\.50 ± 0\.50 \| 52\.0% \| 67\.31 \| s1: 60\.0 \/ 6\.0; s2: 66\.0 \/ 7\.0; s3: 63\.0 \/ 6\.5 \| 100 \| 2\.0 min \|/);
    expect(md).toMatch(/\| fp8 \| diverged \(non-finite generator loss at step 12\) \|/);
    expect(md).toMatch(/\| p8-all \| 920\.00 ± 28\.28; 1 of 3 seeds diverged \|/);
    expect(md).toContain("Welch's two-sided t-test");
    expect(md).toMatch(/\| p8\+ vs p8 \| p8\+ lower \(70\.00 vs 75\.41\) \| p8\+ lower, p < 0\.001 \| p8\+ lower, p = 0\.0\d\d \| yes: p8\+ better under both, as in the paper \|/);
    expect(md).toMatch(/\| p8\+ vs fp32 \| fp32 lower \(70\.00 vs 67\.31\) \| not separated/);
    expect(md).toContain('NOT CONVERGED');
    expect(md).toContain('[table1-fid-curve.svg](table1-fid-curve.svg)');
  });

  it('the FID-curve SVG: a line per recipe with a seed, a band where several seeds ran', () => {
    const svg = fidCurveSvg(syntheticTable(), 'lenet');
    expect(svg).toContain('<title>fp32 (3 seeds)</title>');
    expect(svg).toContain('<title>p8-all (2 seeds)</title>');
    expect(svg).not.toContain('fp8 ('); // diverged on every seed: no curve
    expect(svg.match(/<polygon /g)).toHaveLength(4);
    expect(svg).toContain('FID (LeNet-5 features, log scale)');
  });
});

describe('--seeds', () => {
  it('a count counts up from --seed; a list is taken as it is; bad input is a usage error', () => {
    expect(parseSeeds(undefined, 7)).toEqual([7]);
    expect(parseSeeds('3', 1)).toEqual([1, 2, 3]);
    expect(parseSeeds('3', 10)).toEqual([10, 11, 12]);
    expect(parseSeeds('1,5,9', 1)).toEqual([1, 5, 9]);
    expect(() => parseSeeds('0', 1)).toThrow(/--seeds 0 trains nothing/);
    expect(() => parseSeeds('1,1', 1)).toThrow(/lists a seed twice/);
    expect(() => parseSeeds('two', 1)).toThrow(/a count \(e\.g\. 3\) or a list/);
    expect(() => parseSeeds('1,-2', 1)).toThrow(/a count/);
  });
});
