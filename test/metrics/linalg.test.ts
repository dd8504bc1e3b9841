// Float64 linear algebra of the metrics: covariance by hand, eigendecomposition and PSD square root
// against matrices built with known eigenvalues (Q diag(l) Q^T, Q random orthogonal).

import { describe, expect, it } from 'vitest';
import { matmul, meanAndCovariance, sqrtPsd, symmetricEigen } from '../../gan/metrics/linalg.ts';
import { Rng, randomOrthogonal, withEigenvalues } from './random.ts';

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
function transpose(a: Float64Array, d: number): Float64Array {
  const t = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) t[j * d + i] = a[i * d + j]!;
  return t;
}
function identity(d: number): Float64Array {
  const t = new Float64Array(d * d);
  for (let i = 0; i < d; i++) t[i * d + i] = 1;
  return t;
}

describe('meanAndCovariance', () => {
  it('matches a hand-computed case (unbiased, n - 1)', () => {
    // Rows (1, 2), (3, 4), (5, 0): mean (3, 2); deviations (-2, 0), (0, 2), (2, -2).
    const { mean, cov } = meanAndCovariance(Float64Array.from([1, 2, 3, 4, 5, 0]), 3, 2);
    expect(Array.from(mean)).toEqual([3, 2]);
    expect(Array.from(cov)).toEqual([4, -2, -2, 4]);
  });
  it('is exact for a large offset (two-pass)', () => {
    const { cov } = meanAndCovariance(Float64Array.from([1e9 + 1, 1e9 - 1]), 2, 1);
    expect(cov[0]).toBe(2);
  });
  it('rejects NaN features and too few samples', () => {
    expect(() => meanAndCovariance(Float64Array.from([1, NaN]), 2, 1)).toThrow(/non-finite/);
    expect(() => meanAndCovariance(Float64Array.from([1]), 1, 1)).toThrow(/at least 2 samples/);
  });
});

describe('symmetricEigen', () => {
  it('a hand case: [[2, 1], [1, 2]] has eigenvalues 1 and 3 with vectors (1, -1) and (1, 1)', () => {
    const e = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(e.values[0]).toBeCloseTo(1, 14);
    expect(e.values[1]).toBeCloseTo(3, 14);
    expect(Math.abs(e.vectors[0]! + e.vectors[2]!)).toBeLessThan(1e-15); // column 0 ~ (1, -1)/sqrt 2
    expect(Math.abs(e.vectors[1]! - e.vectors[3]!)).toBeLessThan(1e-15); // column 1 ~ (1, 1)/sqrt 2
  });

  const cases: [string, number, (i: number, rng: Rng) => number][] = [
    ['distinct', 7, (_i, rng) => rng.normal() * 10],
    ['repeated and zero', 9, (i) => [0, 0, 1, 1, 1, 5, 5, -2, 1e-12][i]!],
    ['LeNet-sized, spread over 12 decades', 84, (i) => 10 ** (-6 + (12 * i) / 83)],
    ['1 x 1', 1, () => 3.5],
  ];
  for (const [name, d, value] of cases) {
    it(`recovers known eigenvalues and orthonormal eigenvectors (${name}, d = ${d})`, () => {
      const rng = new Rng(d * 31 + 7);
      const l = Array.from({ length: d }, (_, i) => value(i, rng));
      const a = withEigenvalues(randomOrthogonal(d, rng), l, d);
      const e = symmetricEigen(a, d);
      const scale = maxAbs(l);
      const tol = 50 * d * Number.EPSILON * scale;
      expect(maxDiff(e.values, [...l].sort((x, y) => x - y))).toBeLessThan(tol);
      // A V = V diag(values) and V^T V = I.
      const av = matmul(a, e.vectors, d);
      let resid = 0;
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) resid = Math.max(resid, Math.abs(av[i * d + j]! - e.vectors[i * d + j]! * e.values[j]!));
      expect(resid).toBeLessThan(tol);
      expect(maxDiff(matmul(transpose(e.vectors, d), e.vectors, d), identity(d))).toBeLessThan(50 * d * Number.EPSILON);
    });
  }

  it('handles d = 512 (the largest feature size the metrics expect)', () => {
    const d = 512;
    const rng = new Rng(512);
    const l = Array.from({ length: d }, () => rng.uniform() * 4);
    const a = withEigenvalues(randomOrthogonal(d, rng), l, d);
    const t0 = performance.now();
    const e = symmetricEigen(a, d);
    const ms = performance.now() - t0;
    console.log(`symmetricEigen d=512: ${ms.toFixed(0)} ms`);
    expect(maxDiff(e.values, [...l].sort((x, y) => x - y))).toBeLessThan(1e-11);
  });
});

describe('sqrtPsd', () => {
  it('equals Q diag(sqrt l) Q^T and squares back to A', () => {
    const d = 20;
    const rng = new Rng(5);
    const q = randomOrthogonal(d, rng);
    const l = Array.from({ length: d }, (_, i) => (i < 3 ? 0 : rng.uniform() * 9));
    const a = withEigenvalues(q, l, d);
    const { root, check } = sqrtPsd(a, d);
    expect(maxDiff(root, withEigenvalues(q, l.map(Math.sqrt), d))).toBeLessThan(1e-7); // sqrt of ~1e-15 noise is ~3e-8
    expect(maxDiff(matmul(root, root, d), a)).toBeLessThan(1e-12);
    expect(check.mostNegative).toBeGreaterThan(-1e-13);
  });

  it('clamps a rounding-sized negative eigenvalue and reports it; errors on a real one', () => {
    const d = 3;
    const q = randomOrthogonal(d, new Rng(11));
    // Building the matrix costs ~1e-15 of rounding, so the recovered eigenvalue is -1e-12 +- 1e-14.
    const small = sqrtPsd(withEigenvalues(q, [-1e-12, 1, 4], d), d);
    expect(small.check.clamped).toBe(1);
    expect(Math.abs(small.check.mostNegative + 1e-12)).toBeLessThan(1e-14);
    expect(small.check.largest).toBeCloseTo(4, 12);
    expect(() => sqrtPsd(withEigenvalues(q, [-1e-3, 1, 4], d), d, 1e-9, 'the test matrix')).toThrow(
      /the test matrix should be positive semi-definite, but has the eigenvalue -0.00099/,
    );
  });
});
