// Shape ops: reshape (no copy), permute / transpose, broadcastTo, narrow (slice along an axis) and
// concat. Permute, broadcast and narrow are the elementwise copy kernel with chosen strides.

import { CONCAT_KERNEL, concatGrid } from '../../shaders/concat.ts';
import { record } from '../autograd/tape.ts';
import { Tensor, shapeSize } from '../tensor/tensor.ts';
import { broadcastShapes, elementwise, requireF32 } from './elementwise-raw.ts';
import type { FusedRounding } from './round.ts';
import { stridesOf } from './strides.ts';
import { normaliseAxes, sumToShape } from './reduce.ts';

/** Same data, new shape (one dimension may be -1). Shares storage; the gradient is reshaped back. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const free = shape.indexOf(-1);
  let s = [...shape];
  if (free >= 0) {
    if (shape.lastIndexOf(-1) !== free) throw new Error(`reshape: only one dimension may be -1 in [${shape}]`);
    const known = shape.reduce((n, d, i) => (i === free ? n : n * d), 1);
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot infer -1 for [${x.shape}] -> [${shape}]`);
    s = shape.map((d, i) => (i === free ? x.size / known : d));
  }
  if (shapeSize(s) !== x.size) throw new Error(`reshape: [${x.shape}] has ${x.size} values, [${s}] needs ${shapeSize(s)}`);
  return record(x.view(s), 'reshape', [x], (g) => [g.view(x.shape)], { view: true });
}

/** Reorders dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((a) => (a < 0 ? a + x.rank : a));
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((a, i) => a !== i)) {
    throw new Error(`permute: [${perm}] is not a permutation of the ${x.rank} dimensions of [${x.shape}]`);
  }
  const strides = stridesOf(x.shape);
  const outShape = p.map((a) => x.shape[a]!);
  const out = elementwise(x.rt, 'permute', 'a', [{ t: x, strides: p.map((a) => strides[a]!) }], outShape);
  const inverse = new Array<number>(p.length);
  p.forEach((a, i) => (inverse[a] = i));
  return record(out, 'permute', [x], (g) => [permuteRaw(g, inverse)]);
}

function permuteRaw(g: Tensor, perm: readonly number[]): Tensor {
  const strides = stridesOf(g.shape);
  return elementwise(g.rt, 'permute', 'a', [{ t: g, strides: perm.map((a) => strides[a]!) }], perm.map((a) => g.shape[a]!));
}

/** Swaps two dimensions (default: the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = [...Array(x.rank).keys()];
  const [i, j] = normaliseAxes([a, b].map((v) => (v < 0 ? v + x.rank : v)).sort((u, v) => u - v), x.rank, 'transpose');
  perm[i!] = j!;
  perm[j!] = i!;
  return permute(x, perm);
}

/** Repeats x along broadcast dimensions to `shape`. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const target = broadcastShapes(x.shape, shape, 'broadcastTo');
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i])) {
    throw new Error(`broadcastTo: [${x.shape}] cannot be broadcast to [${shape}]`);
  }
  const out = elementwise(x.rt, 'expand', 'a', [{ t: x }], shape);
  return record(out, 'broadcastTo', [x], (g) => [sumToShape(g, x.shape)]);
}

/** Elements start .. start+length-1 along `axis`. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const [ax] = normaliseAxes([axis], x.rank, 'narrow');
  const d = x.shape[ax!]!;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > d) {
    throw new Error(`narrow: [${start}, ${start + length}) is outside dimension ${ax} of size ${d}`);
  }
  const strides = stridesOf(x.shape);
  const outShape = x.shape.map((e, i) => (i === ax ? length : e));
  const out = elementwise(x.rt, 'narrow', 'a', [{ t: x, strides, base: start * strides[ax!]! }], outShape);
  return record(out, 'narrow', [x], (g) => [padAlong(g, ax!, start, d)]);
}

/** Places g at [start, start + g.shape[axis]) along `axis` of a zero tensor of size `size` there. */
function padAlong(g: Tensor, axis: number, start: number, size: number): Tensor {
  const shape = g.shape.map((e, i) => (i === axis ? size : e));
  const parts: Tensor[] = [];
  const zeros = (n: number) => elementwise(g.rt, 'fill', 'p0', [], g.shape.map((e, i) => (i === axis ? n : e)), [0]);
  if (start > 0) parts.push(zeros(start));
  parts.push(g);
  const after = size - start - g.shape[axis]!;
  if (after > 0) parts.push(zeros(after));
  if (parts.length === 1) return g.view(shape);
  const out = concatRaw(parts, axis);
  for (const p of parts) if (p !== g) p.dispose();
  return out;
}

/** Concatenation along `axis`, two operands at a time through the strided copy kernel. */
function concatRaw(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0]!;
  for (const t of xs) {
    if (t.rank !== first.rank || t.shape.some((e, i) => i !== axis && e !== first.shape[i])) {
      throw new Error(`concat: shapes [${xs.map((u) => `[${u.shape}]`).join(', ')}] differ outside axis ${axis}`);
    }
  }
  const total = xs.reduce((n, t) => n + t.shape[axis]!, 0);
  const outShape = first.shape.map((e, i) => (i === axis ? total : e));
  let acc = xs[0]!;
  let accLen = acc.shape[axis]!;
  for (let k = 1; k < xs.length; k++) {
    const b = xs[k]!;
    const len = accLen + b.shape[axis]!;
    const shape = outShape.map((e, i) => (i === axis ? len : e));
    const next = concatPair(acc, b, axis, shape);
    if (acc !== xs[0]) acc.dispose();
    acc = next;
    accLen = len;
  }
  return acc === xs[0] ? acc.view(acc.shape) : acc;
}

function concatPair(a: Tensor, b: Tensor, axis: number, shape: readonly number[]): Tensor {
  requireF32('concat', a, b);
  const rt = a.rt;
  const out = Tensor.empty(rt, shape, null, 'concat');
  // A copy: values on one lattice stay on it.
  if (a.lattice && a.lattice.name === b.lattice?.name && a.latticeBias === b.latticeBias) {
    out.lattice = a.lattice;
    out.latticeBias = a.latticeBias;
  }
  if (out.size === 0) return out;
  const inner = shape.slice(axis + 1).reduce((n, e) => n * e, 1);
  const grid = concatGrid(out.size, rt.gpu.limits);
  const params = { count: out.size, inner, la: a.shape[axis]!, lb: b.shape[axis]!, grid_x: grid[0] };
  rt.run(CONCAT_KERNEL, params, { a: a.buffer, b: b.buffer, out: out.buffer }, grid);
  if (rt.recorder) {
    const role = rt.activationRole;
    for (const t of [a, b, out]) {
      rt.count({ kind: 'memory', direction: t === out ? 'write' : 'read', role, format: t.valueFormat, bits: t.size * t.valueBits });
    }
  }
  return out;
}

/** Concatenates tensors along `axis`; the gradient is split back. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: no tensors');
  const [ax] = normaliseAxes([axis], xs[0]!.rank, 'concat');
  const out = concatRaw(xs, ax!);
  let start = 0;
  const starts = xs.map((t) => {
    const s = start;
    start += t.shape[ax!]!;
    return s;
  });
  return record(out, 'concat', xs, (g, round) =>
    xs.map((t, i) => (t.requiresGrad ? narrowRaw(g, ax!, starts[i]!, t.shape[ax!]!, round[i]) : null)),
  );
}

function narrowRaw(x: Tensor, axis: number, start: number, length: number, round: FusedRounding | null = null): Tensor {
  const strides = stridesOf(x.shape);
  const outShape = x.shape.map((e, i) => (i === axis ? length : e));
  return elementwise(x.rt, 'narrow', 'a', [{ t: x, strides, base: start * strides[axis]! }], outShape, [], undefined, {}, round);
}
