// Dense float64 linear algebra for the metrics: mean and covariance of feature sets, the symmetric
// eigendecomposition, and the square root of a symmetric positive semi-definite matrix. Matrices are
// row-major Float64Arrays of d x d. Browser-safe.
//
// Eigendecomposition: Householder reduction to tridiagonal form, then implicit symmetric QR steps
// with Wilkinson shifts (Golub & Van Loan, Matrix Computations, 8.3), the orthogonal factors
// accumulated. O(d^3): about a second for d = 512, milliseconds for the 84 LeNet features. Backward
// stable: eigenvalues are exact to about d * eps * ||A||, which is what the FID tolerances assume.

export type Features = Float32Array | Float64Array;

/** Column means and the unbiased (n - 1) covariance of n samples of dimension d (row-major n x d).
 *  Two passes (mean, then centred products), so large means cost no accuracy. */
export function meanAndCovariance(x: Features, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  if (x.length !== n * d) throw new Error(`covariance: ${x.length} values is not ${n} samples x ${d} features`);
  if (n < 2) throw new Error(`covariance needs at least 2 samples, got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j]!;
  for (let j = 0; j < d; j++) {
    mean[j] /= n;
    if (!Number.isFinite(mean[j]!)) throw new Error(`covariance: feature ${j} has a non-finite value (NaN or infinity)`);
  }
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]! - mean[j]!;
    // Upper triangle only; mirrored below.
    for (let j = 0; j < d; j++) {
      const rj = row[j]!;
      const base = j * d;
      for (let k = j; k < d; k++) cov[base + k] += rj * row[k]!;
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      const v = cov[j * d + k]! / (n - 1);
      cov[j * d + k] = v;
      cov[k * d + j] = v;
    }
  }
  return { mean, cov };
}

/** C = A B for d x d matrices. */
export function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      const bRow = k * d;
      const cRow = i * d;
      for (let j = 0; j < d; j++) c[cRow + j] += aik * b[bRow + j]!;
    }
  }
  return c;
}

export function trace(a: Float64Array, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += a[i * d + i]!;
  return t;
}

/** (A + A^T) / 2: removes the rounding asymmetry of products that are symmetric in exact arithmetic. */
export function symmetrize(a: Float64Array, d: number): Float64Array {
  const s = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) s[i * d + j] = (a[i * d + j]! + a[j * d + i]!) / 2;
  return s;
}

export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Eigenvectors as columns of a row-major d x d matrix: A = V diag(values) V^T. */
  vectors: Float64Array;
}

/** Eigendecomposition of a symmetric matrix (only symmetric input is meaningful; not checked). */
export function symmetricEigen(a: Float64Array, d: number): SymmetricEigen {
  if (a.length !== d * d) throw new Error(`symmetricEigen: ${a.length} values is not ${d} x ${d}`);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw new Error(`symmetricEigen: entry ${i} is ${a[i]}`);
  const { diag, off, q } = tridiagonalize(a, d);
  tridiagonalQr(diag, off, q, d);
  // Sort ascending, permuting the columns of q.
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => diag[i]! - diag[j]!);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((src, dst) => {
    values[dst] = diag[src]!;
    for (let r = 0; r < d; r++) vectors[r * d + dst] = q[r * d + src]!;
  });
  return { values, vectors };
}

/** A = Q T Q^T with T tridiagonal (diag, off) by Householder reflections; Q accumulated. */
function tridiagonalize(a0: Float64Array, d: number): { diag: Float64Array; off: Float64Array; q: Float64Array } {
  const a = Float64Array.from(a0);
  const q = new Float64Array(d * d);
  for (let i = 0; i < d; i++) q[i * d + i] = 1;
  const v = new Float64Array(d);
  const p = new Float64Array(d);
  for (let k = 0; k + 2 < d; k++) {
    // Reflect x = A[k+1.., k] onto alpha e1, with alpha of sign opposite to x0 (no cancellation).
    let norm2 = 0;
    for (let i = k + 1; i < d; i++) norm2 += a[i * d + k]! ** 2;
    const norm = Math.sqrt(norm2);
    if (norm === 0) continue;
    const x0 = a[(k + 1) * d + k]!;
    const alpha = x0 > 0 ? -norm : norm;
    let vnorm2 = 0;
    for (let i = k + 1; i < d; i++) {
      v[i] = a[i * d + k]! - (i === k + 1 ? alpha : 0);
      vnorm2 += v[i]! ** 2;
    }
    const vnorm = Math.sqrt(vnorm2);
    if (vnorm === 0) continue;
    for (let i = k + 1; i < d; i++) v[i] = v[i]! / vnorm;
    // H = I - 2 v v^T on the trailing block: A' = A - 2 v w^T - 2 w v^T, w = A v - (v^T A v) v.
    let vAv = 0;
    for (let i = k + 1; i < d; i++) {
      let s = 0;
      for (let j = k + 1; j < d; j++) s += a[i * d + j]! * v[j]!;
      p[i] = s;
      vAv += v[i]! * s;
    }
    for (let i = k + 1; i < d; i++) p[i] = p[i]! - vAv * v[i]!;
    for (let i = k + 1; i < d; i++) {
      for (let j = k + 1; j < d; j++) a[i * d + j] = a[i * d + j]! - 2 * (v[i]! * p[j]! + p[i]! * v[j]!);
    }
    a[(k + 1) * d + k] = alpha;
    a[k * d + k + 1] = alpha;
    for (let i = k + 2; i < d; i++) {
      a[i * d + k] = 0;
      a[k * d + i] = 0;
    }
    // Q <- Q H.
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let j = k + 1; j < d; j++) s += q[r * d + j]! * v[j]!;
      if (s === 0) continue;
      for (let j = k + 1; j < d; j++) q[r * d + j] = q[r * d + j]! - 2 * s * v[j]!;
    }
  }
  const diag = new Float64Array(d);
  const off = new Float64Array(Math.max(0, d - 1));
  for (let i = 0; i < d; i++) diag[i] = a[i * d + i]!;
  for (let i = 0; i + 1 < d; i++) off[i] = a[(i + 1) * d + i]!;
  return { diag, off, q };
}

/** Diagonalises the tridiagonal (diag, off) in place by implicit shifted QR; rotations go into q. */
function tridiagonalQr(diag: Float64Array, off: Float64Array, q: Float64Array, d: number): void {
  const eps = Number.EPSILON;
  const negligible = (i: number) => Math.abs(off[i]!) <= eps * (Math.abs(diag[i]!) + Math.abs(diag[i + 1]!));
  let steps = 0;
  let m = d - 1;
  while (m > 0) {
    if (negligible(m - 1)) {
      off[m - 1] = 0;
      m--;
      continue;
    }
    let l = m - 1;
    while (l > 0 && !negligible(l - 1)) l--;
    if (++steps > 50 * d) throw new Error(`symmetricEigen: no convergence after ${steps} QR steps (d = ${d})`);
    // Wilkinson shift: the eigenvalue of the trailing 2 x 2 block nearer to its last diagonal entry.
    const t = (diag[m - 1]! - diag[m]!) / 2;
    const e2 = off[m - 1]! ** 2;
    const mu = diag[m]! - e2 / (t + (t >= 0 ? 1 : -1) * Math.hypot(t, off[m - 1]!));
    let x = diag[l]! - mu;
    let z = off[l]!;
    for (let k = l; k < m; k++) {
      // Givens rotation G = [[c, s], [-s, c]] on rows/columns k, k+1 with G^T [x, z] = [r, 0].
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : -z / r;
      if (k > l) off[k - 1] = r;
      const a = diag[k]!;
      const b = off[k]!;
      const dd = diag[k + 1]!;
      diag[k] = c * c * a - 2 * c * s * b + s * s * dd;
      diag[k + 1] = s * s * a + 2 * c * s * b + c * c * dd;
      off[k] = c * s * (a - dd) + (c * c - s * s) * b;
      if (k + 1 < m) {
        // The rotation creates the bulge -s * off[k+1] at (k, k+2); the next rotation chases it.
        z = -s * off[k + 1]!;
        off[k + 1] = c * off[k + 1]!;
        x = off[k]!;
      }
      for (let row = 0; row < d; row++) {
        const qk = q[row * d + k]!;
        const qk1 = q[row * d + k + 1]!;
        q[row * d + k] = c * qk - s * qk1;
        q[row * d + k + 1] = s * qk + c * qk1;
      }
    }
  }
}

/** V diag(f(values)) V^T. */
export function fromEigen(e: SymmetricEigen, d: number, f: (lambda: number) => number): Float64Array {
  const out = new Float64Array(d * d);
  const fl = e.values.map(f);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += e.vectors[i * d + k]! * fl[k]! * e.vectors[j * d + k]!;
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  return out;
}

export interface PsdCheck {
  /** The most negative eigenvalue found (0 if none was negative). */
  mostNegative: number;
  /** How many eigenvalues were negative and clamped to 0. */
  clamped: number;
  /** The largest eigenvalue, the scale the tolerance is relative to. */
  largest: number;
}

/** Eigenvalues of a PSD matrix as computed: tiny negatives (rounding) are clamped to 0 and reported;
 *  a negative one below -relTol * largest means the matrix is not PSD (a bug upstream): error. */
export function clampPsd(values: Float64Array, relTol: number, what: string): { values: Float64Array; check: PsdCheck } {
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  let mostNegative = 0;
  let clamped = 0;
  const out = values.map((v) => {
    if (v >= 0) return v;
    mostNegative = Math.min(mostNegative, v);
    clamped++;
    return 0;
  });
  if (mostNegative < -relTol * largest) {
    throw new Error(
      `${what} should be positive semi-definite, but has the eigenvalue ${mostNegative} ` +
        `(largest ${largest}; rounding would explain at most ${relTol * largest})`,
    );
  }
  return { values: out, check: { mostNegative, clamped, largest } };
}

/** Square root of a symmetric PSD matrix (the PSD one), with the clamping report of clampPsd. */
export function sqrtPsd(a: Float64Array, d: number, relTol = 1e-9, what = 'the matrix'): { root: Float64Array; check: PsdCheck } {
  const e = symmetricEigen(a, d);
  const { values, check } = clampPsd(e.values, relTol, what);
  return { root: fromEigen({ values, vectors: e.vectors }, d, Math.sqrt), check };
}
