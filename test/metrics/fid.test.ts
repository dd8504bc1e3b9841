// FID: zero for a set against itself, the closed form for Gaussians with known parameters (exact
// statistics, and sampled sets within a stated sampling error), and the negative-eigenvalue guard.

import { describe, expect, it } from 'vitest';
import { fid, fidFromStats, gaussianStats, type GaussianStats } from '../../gan/metrics/fid.ts';
import { sqrtPsd } from '../../gan/metrics/linalg.ts';
import { Rng, gaussianSamples, randomOrthogonal, withEigenvalues } from './random.ts';

const stats = (mean: number[], cov: Float64Array): GaussianStats => ({ d: mean.length, n: Infinity, mean: Float64Array.from(mean), cov });

// 2 x 2 closed form without matrix square roots: for P = S1 S2 (positive eigenvalues l1, l2),
// tr(P^(1/2)) = sqrt(l1) + sqrt(l2) = sqrt(tr P + 2 sqrt(det P)), and det P = det S1 det S2.
function closedForm2(m1: number[], s1: Float64Array, m2: number[], s2: Float64Array): number {
  const trP = s1[0]! * s2[0]! + s1[1]! * s2[2]! + s1[2]! * s2[1]! + s1[3]! * s2[3]!;
  const det = (a: Float64Array) => a[0]! * a[3]! - a[1]! * a[2]!;
  const sqrtTr = Math.sqrt(trP + 2 * Math.sqrt(det(s1) * det(s2)));
  return (m1[0]! - m2[0]!) ** 2 + (m1[1]! - m2[1]!) ** 2 + s1[0]! + s1[3]! + s2[0]! + s2[3]! - 2 * sqrtTr;
}

const S1 = Float64Array.from([2, 0.6, 0.6, 1]);
const S2 = Float64Array.from([1, -0.3, -0.3, 0.5]); // does not commute with S1
const M1 = [0, 0];
const M2 = [0.5, -0.2];

describe('FID', () => {
  /** n samples of d correlated features whose covariance has the given eigenvalue scales. */
  function features(n: number, d: number, scale: (i: number) => number, seed: number): Float32Array {
    const rng = new Rng(seed);
    const factor = withEigenvalues(randomOrthogonal(d, rng), Array.from({ length: d }, (_, i) => scale(i)), d);
    return new Float32Array(gaussianSamples(n, new Array(d).fill(0.3), factor, d, rng));
  }

  it('is 0 for a set against itself (within 1e-9 of the traces)', () => {
    const [n, d] = [3000, 84];
    const x = features(n, d, (i) => 1 + i / 10, 1);
    const r = fid(x, n, x, n, d);
    console.log(`FID(x, x), d=84, full rank: ${r.fid} (trace term ${r.traceTerm.toFixed(1)})`);
    expect(Math.abs(r.fid)).toBeLessThan(1e-9 * r.traceTerm); // measured ~1e-15 relative
    expect(r.meanTerm).toBe(0);
  });

  it('is 0 against itself within sqrt-of-rounding when the covariance is singular (dead features)', () => {
    // With k null directions, k eigenvalues of S^(1/2) S S^(1/2) are 0 in exact arithmetic but come
    // out as rounding noise of size up to d * eps * lambda_max; their square roots enter the trace
    // term, so |FID(x, x)| <= 2 k sqrt(d * eps * lambda_max) (measured: ~3e-6 here, bound ~1e-4).
    const [n, d, k] = [3000, 84, 4];
    const x = features(n, d, (i) => (i < k ? 0 : 1 + i / 10), 1);
    const r = fid(x, n, x, n, d);
    const bound = 2 * k * Math.sqrt(d * Number.EPSILON * r.diagnostics.product.largest);
    console.log(
      `FID(x, x), d=84, rank ${d - k}: ${r.fid} (bound ${bound.toExponential(2)}); ` +
        `clamped ${r.diagnostics.product.clamped} eigenvalues, most negative ${r.diagnostics.product.mostNegative}`,
    );
    expect(Math.abs(r.fid)).toBeLessThan(bound);
    expect(r.diagnostics.product.mostNegative).toBeLessThanOrEqual(0);
  });

  it('equals the closed form for exact statistics: commuting covariances, d = 6', () => {
    const d = 6;
    const rng = new Rng(2);
    const q = randomOrthogonal(d, rng);
    const a = [0.5, 1, 2, 3, 4, 9];
    const b = [2, 1, 0.5, 3, 1, 4];
    const m1 = [1, 0, 0, 2, 0, 0];
    const m2 = [0, 0, 1, 2, 0, 1];
    // Shared eigenvectors: tr((S1 S2)^(1/2)) = sum sqrt(a_i b_i), so FID = |dm|^2 + sum (sqrt a_i - sqrt b_i)^2.
    const expected = 3 + a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i]!)) ** 2, 0);
    const r = fidFromStats(stats(m1, withEigenvalues(q, a, d)), stats(m2, withEigenvalues(q, b, d)));
    expect(Math.abs(r.fid - expected)).toBeLessThan(1e-12 * r.traceTerm);
  });

  it('equals the closed form for exact statistics: non-commuting 2 x 2', () => {
    const r = fidFromStats(stats(M1, S1), stats(M2, S2));
    const expected = closedForm2(M1, S1, M2, S2);
    expect(expected).toBeCloseTo(0.901555580955284, 12);
    expect(Math.abs(r.fid - expected)).toBeLessThan(1e-14);
  });

  it('matches the closed form for sampled Gaussians within sampling error', () => {
    // n = 50000 per set. Over 20 seeds the error of this estimate had mean 0.0033 and standard
    // deviation 0.0099 (max 0.022); the bound is 0.05, five standard deviations.
    const n = 50000;
    const rng = new Rng(2024);
    const a = gaussianSamples(n, M1, sqrtPsd(S1, 2).root, 2, rng);
    const b = gaussianSamples(n, M2, sqrtPsd(S2, 2).root, 2, rng);
    const r = fid(a, n, b, n, 2);
    const expected = closedForm2(M1, S1, M2, S2);
    console.log(`sampled FID ${r.fid.toFixed(5)} vs closed form ${expected.toFixed(5)}`);
    expect(Math.abs(r.fid - expected)).toBeLessThan(0.05);
    // The bound is tight enough to matter: moving the second mean by 0.25 changes the closed form by
    // about 0.16, three times the bound.
    expect(Math.abs(closedForm2(M1, S1, [M2[0]! + 0.25, M2[1]!], S2) - expected)).toBeGreaterThan(0.15);
  });

  it('refuses a covariance that is clearly not PSD and mismatched dimensions', () => {
    const bad = stats([0, 0], Float64Array.from([1, 0, 0, -0.5]));
    expect(() => fidFromStats(bad, stats(M2, S2))).toThrow(/first covariance should be positive semi-definite/);
    expect(() => fidFromStats(stats([0], Float64Array.from([1])), stats(M2, S2))).toThrow(/dimensions differ/);
  });

  it('reports the statistics it used', () => {
    const g = gaussianStats(Float64Array.from([0, 0, 2, 2]), 2, 2);
    expect(Array.from(g.mean)).toEqual([1, 1]);
    expect(Array.from(g.cov)).toEqual([2, 2, 2, 2]);
  });
});
