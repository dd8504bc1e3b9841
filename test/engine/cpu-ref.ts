// Float64 CPU reference implementations of tensor ops, written from their definitions.

export function stridesOf(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    return da === 1 ? db : da;
  });
}

/** Index into `shape` (right-aligned, broadcasting) for the multi-index of `outShape`. */
function bIndex(idx: number[], shape: readonly number[]): number {
  const off = idx.length - shape.length;
  const st = stridesOf(shape);
  let k = 0;
  shape.forEach((d, i) => (k += (d === 1 ? 0 : idx[i + off]!) * st[i]!));
  return k;
}

export function unravel(i: number, shape: readonly number[]): number[] {
  const idx: number[] = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

export function binary(a: Float64Array, as: number[], b: Float64Array, bs: number[], f: (x: number, y: number) => number): Float64Array {
  const os = broadcastShape(as, bs);
  const n = os.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, os);
    out[i] = f(a[bIndex(idx, as)]!, b[bIndex(idx, bs)]!);
  }
  return out;
}

export function reduceSum(x: Float64Array, shape: number[], axes: number[], scale = 1): Float64Array {
  const outShape = shape.filter((_, i) => !axes.includes(i));
  const n = outShape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  const os = stridesOf(outShape);
  for (let i = 0; i < x.length; i++) {
    const idx = unravel(i, shape).filter((_, d) => !axes.includes(d));
    let k = 0;
    idx.forEach((v, d) => (k += v * os[d]!));
    out[k]! += x[i]! * scale;
  }
  return out;
}

export function permute(x: Float64Array, shape: number[], perm: number[]): Float64Array {
  const os = perm.map((p) => shape[p]!);
  const st = stridesOf(shape);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const idx = unravel(i, os);
    let k = 0;
    idx.forEach((v, d) => (k += v * st[perm[d]!]!));
    out[i] = x[k]!;
  }
  return out;
}
