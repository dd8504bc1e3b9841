// The statistics of Table I over seeds (pure functions, browser-safe): the mean and spread of each
// recipe's FIDs, whether two recipes are separated beyond that spread, and whether FID was still
// falling at the end of training.
//
// Separation rule (stated in every table's text, see SEPARATION_RULE): two recipes are separated when
// Welch's two-sided t-test on their per-seed FIDs gives p < 0.05. It needs at least two finite FIDs per
// recipe; with fewer there is no test ("one seed ranks nothing"). A seed that diverged (or whose FID is
// not finite) has no FID: if every seed of one recipe diverged and every seed of the other gave a FID,
// the second is better by that alone; any other mix of diverged seeds is tested on the FIDs there are
// and the verdict says how many seeds diverged. The p-value is exact for Welch's statistic under
// normality (Student's t with the Welch-Satterthwaite degrees of freedom, from the regularized
// incomplete beta function); with three seeds per recipe it detects only differences several times
// the spread, so "not separated" means "these runs cannot tell", not "equal".

/** Significance level of the separation rule. */
export const ALPHA = 0.05;

export const SEPARATION_RULE =
  `Separated means Welch's two-sided t-test on the per-seed FIDs of the two recipes gives p < ${ALPHA} ` +
  '(at least two finite FIDs per recipe; with fewer, no test is made). A diverged seed has no FID: a recipe whose every seed ' +
  'diverged is worse than one whose every seed gave a FID; otherwise the test uses the FIDs there are. With a few seeds the ' +
  'test sees only differences several times the spread: "not separated" means the runs cannot tell, not that the recipes are equal.';

// ---- descriptive statistics -------------------------------------------------------------------------

/** Mean and sample standard deviation (n - 1); std is null below two values, both null for none. */
export function meanStd(xs: readonly number[]): { mean: number | null; std: number | null; n: number } {
  const n = xs.length;
  if (n === 0) return { mean: null, std: null, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: null, n };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

// ---- Student's t distribution ---------------------------------------------------------------------

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-14). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: x must be positive, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const y = x - 1;
  let a = c[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) return h;
  }
  throw new Error(`incomplete beta: no convergence for a=${a}, b=${b}, x=${x}`);
}

/** The regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new Error(`incompleteBeta: a and b must be positive, got ${a}, ${b}`);
  if (!(x >= 0 && x <= 1)) throw new Error(`incompleteBeta: x must be in [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry I_x(a,b) = 1 - I_(1-x)(b,a) otherwise.
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(|T| >= |t|) for Student's t with df > 0 degrees of freedom (df need not be an integer). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`studentTwoSidedP: degrees of freedom must be positive, got ${df}`);
  if (Number.isNaN(t)) throw new Error('studentTwoSidedP: t is NaN');
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

export interface WelchResult {
  /** Mean of a minus mean of b. */
  difference: number;
  t: number;
  /** Welch-Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value. */
  p: number;
}

/** Welch's unequal-variance t-test of mean(a) = mean(b); null with fewer than two values on a side. */
export function welch(a: readonly number[], b: readonly number[]): WelchResult | null {
  const A = meanStd(a);
  const B = meanStd(b);
  if (A.std === null || B.std === null) return null;
  const va = A.std ** 2 / A.n;
  const vb = B.std ** 2 / B.n;
  const difference = A.mean! - B.mean!;
  const se2 = va + vb;
  if (se2 === 0) {
    // No spread on either side: identical runs are not separated, different constants are.
    return difference === 0 ? { difference, t: 0, df: A.n + B.n - 2, p: 1 } : { difference, t: Math.sign(difference) * Infinity, df: A.n + B.n - 2, p: 0 };
  }
  const t = difference / Math.sqrt(se2);
  const df = se2 ** 2 / ((va ** 2) / (A.n - 1) + (vb ** 2) / (B.n - 1));
  return { difference, t, df, p: studentTwoSidedP(t, df) };
}

// ---- recipes compared ----------------------------------------------------------------------------

/** One recipe's per-seed values (null: no value from that seed, e.g. it diverged). */
export interface SeedValues {
  recipe: string;
  values: readonly (number | null)[];
}

export type Verdict =
  /** `better` has the lower FID, beyond the spread (or the other diverged on every seed). */
  | { kind: 'separated'; better: string; p: number | null; reason: 'welch' | 'diverged' }
  | { kind: 'not-separated'; p: number; lower: string | null }
  /** Too few FIDs to test: `lower` is the lower mean, if both have one. */
  | { kind: 'no-test'; lower: string | null; why: string };

/** Compares two recipes' per-seed FIDs under the separation rule above. With `higherIsBetter` (PSNR),
 *  the values are compared negated: `better` and `lower` then name the recipe with the higher mean. */
export function compareRecipes(a: SeedValues, b: SeedValues, higherIsBetter = false): Verdict {
  const sign = higherIsBetter ? -1 : 1;
  const fa = a.values.filter((v): v is number => v !== null && Number.isFinite(v)).map((v) => sign * v);
  const fb = b.values.filter((v): v is number => v !== null && Number.isFinite(v)).map((v) => sign * v);
  const allFailed = (vals: readonly (number | null)[], finite: number[]) => vals.length > 0 && finite.length === 0;
  const allGood = (vals: readonly (number | null)[], finite: number[]) => vals.length > 0 && finite.length === vals.length;
  if (allFailed(a.values, fa) && allGood(b.values, fb)) return { kind: 'separated', better: b.recipe, p: null, reason: 'diverged' };
  if (allFailed(b.values, fb) && allGood(a.values, fa)) return { kind: 'separated', better: a.recipe, p: null, reason: 'diverged' };
  const ma = meanStd(fa).mean;
  const mb = meanStd(fb).mean;
  const lower = ma === null || mb === null || ma === mb ? null : ma < mb ? a.recipe : b.recipe;
  const w = welch(fa, fb);
  if (!w) {
    const n = Math.min(fa.length, fb.length);
    return { kind: 'no-test', lower, why: n === 0 ? 'no FID on one side' : `${n === 1 ? 'one FID' : `${n} FIDs`} on one side` };
  }
  if (w.p < ALPHA) return { kind: 'separated', better: w.difference < 0 ? a.recipe : b.recipe, p: w.p, reason: 'welch' };
  return { kind: 'not-separated', p: w.p, lower };
}

/** The pairs the paper orders (Table I): p8+ against fp32, fp16 and p8; fp8 against every other. */
export function paperPairs(recipes: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [
    ['p8+', 'fp32'],
    ['p8+', 'fp16'],
    ['p8+', 'p8'],
    ['fp8', 'fp32'],
    ['fp8', 'fp16'],
    ['fp8', 'p8+'],
    ['fp8', 'p8'],
  ];
  return pairs.filter(([a, b]) => recipes.includes(a) && recipes.includes(b));
}

/** A verdict in words, e.g. "p8+ lower, p = 0.012" or "not separated (p = 0.41; fp32 lower)"
 *  (`lower` is the word for the better direction: 'higher' for PSNR). */
export function verdictText(v: Verdict, lower = 'lower'): string {
  const p = (x: number) => (x < 0.001 ? 'p < 0.001' : `p = ${x.toFixed(3)}`);
  switch (v.kind) {
    case 'separated':
      return v.reason === 'diverged' ? `${v.better} better (the other diverged on every seed)` : `${v.better} ${lower}, ${p(v.p!)}`;
    case 'not-separated':
      return `not separated (${p(v.p)}${v.lower ? `; ${v.lower} ${lower}` : ''})`;
    case 'no-test':
      return `no test (${v.why})${v.lower ? `; ${v.lower} ${lower}` : ''}`;
  }
}

/**
 * Whether an ordering holds under both feature networks: 'both' when both verdicts separate the pair
 * the same way; 'flips' when the networks order it differently (separated or not, by the means);
 * otherwise 'one' (separated under one network, same direction of means under the other) or 'neither'.
 */
export function agreement(lenet: Verdict, other: Verdict): 'both' | 'one' | 'neither' | 'flips' {
  const dir = (v: Verdict) => (v.kind === 'separated' ? v.better : v.lower);
  const a = dir(lenet);
  const b = dir(other);
  if (a && b && a !== b) return 'flips';
  const sa = lenet.kind === 'separated';
  const sb = other.kind === 'separated';
  if (sa && sb) return 'both';
  if (sa || sb) return 'one';
  return 'neither';
}

/** Whether an ordering holds under both feature networks, in words, for the comparison tables of
 *  Table I and of sweeps; `suffix` follows the better recipe's name when both separate (Table I adds
 *  whether the paper agrees). Null `both` (no second network): '—'. */
export function agreementText(both: ReturnType<typeof agreement> | null | undefined, lenet: Verdict, suffix: (better: string) => string = () => ''): string {
  switch (both) {
    case 'both': {
      const better = (lenet as Extract<Verdict, { kind: 'separated' }>).better;
      return `yes: ${better} better under both${suffix(better)}`;
    }
    case 'one':
      return `no: separated under ${lenet.kind === 'separated' ? 'LeNet' : 'autoencoder'} features only`;
    case 'flips':
      return 'no: the two feature networks order it differently';
    case 'neither':
      return 'no: separated under neither';
    default:
      return '—';
  }
}

// ---- FID against training steps --------------------------------------------------------------------

/** One recipe's FID curve over seeds: at each evaluated step, the per-seed values. */
export interface CurvePoint {
  step: number;
  values: number[];
}

/** Mean, min and max over seeds at each step that every seed evaluated. */
export function curveStats(perSeed: readonly { step: number; fid: number }[][]): { step: number; mean: number; min: number; max: number; std: number | null; n: number }[] {
  if (perSeed.length === 0) return [];
  const byStep = new Map<number, number[]>();
  for (const seed of perSeed) for (const p of seed) if (Number.isFinite(p.fid)) byStep.set(p.step, [...(byStep.get(p.step) ?? []), p.fid]);
  return [...byStep.entries()]
    .filter(([, v]) => v.length === perSeed.length)
    .sort(([a], [b]) => a - b)
    .map(([step, v]) => {
      const s = meanStd(v);
      return { step, mean: s.mean!, min: Math.min(...v), max: Math.max(...v), std: s.std, n: v.length };
    });
}

/**
 * Still falling: the mean FID at the last evaluated step is lower than at the one before by more than
 * the larger of their standard deviations over seeds (with one seed, lower at all). Null with fewer
 * than two evaluated steps (nothing to tell).
 */
export function stillFalling(curve: ReturnType<typeof curveStats>): { falling: boolean; last: { step: number; mean: number }; previous: { step: number; mean: number }; spread: number } | null {
  if (curve.length < 2) return null;
  const last = curve[curve.length - 1]!;
  const previous = curve[curve.length - 2]!;
  const spread = Math.max(last.std ?? 0, previous.std ?? 0);
  return { falling: previous.mean - last.mean > spread, last: { step: last.step, mean: last.mean }, previous: { step: previous.step, mean: previous.mean }, spread };
}
