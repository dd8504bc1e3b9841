// Seeded random numbers for the metric tests: a 32-bit xorshift-multiply generator, uniforms in
// (0, 1), standard normals by Box-Muller, and random orthogonal matrices.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x6d2b79f5) >>> 0 || 1;
  }
  /** Uniform in (0, 1). */
  uniform(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return (this.s + 0.5) / 4294967296;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.uniform())) * Math.cos(2 * Math.PI * this.uniform());
  }
}

/** A random d x d orthogonal matrix: the product of d Householder reflections with random normals. */
export function randomOrthogonal(d: number, rng: Rng): Float64Array {
  const q = new Float64Array(d * d);
  for (let i = 0; i < d; i++) q[i * d + i] = 1;
  for (let r = 0; r < d; r++) {
    const v = Float64Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...v);
    for (let i = 0; i < d; i++) v[i] = v[i]! / norm;
    for (let row = 0; row < d; row++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += q[row * d + j]! * v[j]!;
      for (let j = 0; j < d; j++) q[row * d + j] = q[row * d + j]! - 2 * s * v[j]!;
    }
  }
  return q;
}

/** Q diag(l) Q^T. */
export function withEigenvalues(q: Float64Array, l: ArrayLike<number>, d: number): Float64Array {
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += q[i * d + k]! * l[k]! * q[j * d + k]!;
      a[i * d + j] = s;
    }
  }
  return a;
}

/** n samples of N(mean, L L^T) as row-major n x d, given the factor L (row-major d x d). */
export function gaussianSamples(n: number, mean: ArrayLike<number>, factor: Float64Array, d: number, rng: Rng): Float64Array {
  const out = new Float64Array(n * d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) z[k] = rng.normal();
    for (let j = 0; j < d; j++) {
      let s = mean[j]!;
      for (let k = 0; k < d; k++) s += factor[j * d + k]! * z[k]!;
      out[i * d + j] = s;
    }
  }
  return out;
}
