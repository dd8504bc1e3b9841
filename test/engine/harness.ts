// Shared helpers for engine tests: a runtime on the test machine's adapter, seeded data, float64 CPU
// references, and a gradient check against central finite differences of the float64 reference.

import { openNodeGpu } from '../../engine/device/node.ts';
import type { Gpu } from '../../engine/device/gpu.ts';
import { backward, mul, sum } from '../../engine/ops/index.ts';
import { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';

export async function openTestRuntime(): Promise<{ gpu: Gpu; rt: Runtime }> {
  const gpu = await openNodeGpu({ notice: () => {} });
  return { gpu, rt: new Runtime(gpu) };
}

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const r = seededRandom(seed);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A float32 tensor of seeded uniform values in [-1, 1), a leaf of the tape when `grad`. */
export function randomTensor(rt: Runtime, shape: number[], seed: number, grad = true): Tensor {
  const t = Tensor.fromArray(rt, Float32Array.from(randomArray(size(shape), seed)), shape);
  t.requiresGrad = grad;
  return t;
}

/** Largest |a - b| / (atol + rtol |b|); <= 1 means every element is within tolerance. */
export function worstError(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): { ratio: number; at: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let ratio = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const r = Math.abs(a[i]! - b[i]!) / (atol + rtol * Math.abs(b[i]!));
    if (!(r <= ratio)) {
      ratio = r;
      at = i;
    }
  }
  return { ratio, at };
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  const { ratio, at } = worstError(actual, expected, atol, rtol);
  if (!(ratio <= 1)) {
    throw new Error(`${what}: element ${at} is ${actual[at]} but the reference is ${expected[at]} (atol ${atol}, rtol ${rtol})`);
  }
}

export interface GradCase {
  rt: Runtime;
  /** Input shapes and their data (float64, rounded to f32 when uploaded). */
  inputs: { shape: number[]; data: Float64Array; grad?: boolean }[];
  /** The op on the GPU. */
  gpu: (...xs: Tensor[]) => Tensor;
  /** The same op in float64 on the CPU: returns output values and shape. */
  cpu: (...xs: Float64Array[]) => Float64Array;
  /** Tolerances for forward and gradients. */
  atol?: number;
  rtol?: number;
  /** Finite-difference step (in float64). */
  h?: number;
  what: string;
}

/**
 * Checks forward against the float64 reference, and the GPU gradients of L = sum(out * R) (R random)
 * against central differences of the float64 reference L.
 */
export async function checkOp(c: GradCase): Promise<void> {
  const { rt } = c;
  const atol = c.atol ?? 1e-5;
  const rtol = c.rtol ?? 1e-4;
  const h = c.h ?? 1e-6;
  const f32 = c.inputs.map((i) => Float64Array.from(Float32Array.from(i.data)));
  const ref = c.cpu(...f32);
  const R = randomArray(ref.length, 99);
  await rt.scope(async () => {
    const xs = c.inputs.map((i, k) => {
      const t = Tensor.fromArray(rt, Float32Array.from(i.data), i.shape);
      if (i.grad !== false) t.requiresGrad = true;
      t.name = `x${k}`;
      return t;
    });
    const out = c.gpu(...xs);
    expectClose(await out.read(), ref, atol, rtol, `${c.what} forward`);
    const loss = sum(mul(out, Tensor.fromArray(rt, Float32Array.from(R), out.shape)));
    backward(loss);
    const L = (...vs: Float64Array[]) => {
      const y = c.cpu(...vs);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i]! * R[i]!;
      return s;
    };
    for (const [k, inp] of c.inputs.entries()) {
      if (inp.grad === false) continue;
      const numeric = new Float64Array(inp.data.length);
      for (let i = 0; i < numeric.length; i++) {
        const plus = f32.map((v) => v.slice());
        const minus = f32.map((v) => v.slice());
        plus[k]![i]! += h;
        minus[k]![i]! -= h;
        numeric[i] = (L(...plus) - L(...minus)) / (2 * h);
      }
      const g = xs[k]!.grad;
      if (!g) throw new Error(`${c.what}: input ${k} got no gradient`);
      expectClose(await g.read(), numeric, atol * 10, rtol * 10, `${c.what} gradient of input ${k}`);
      g.dispose();
      xs[k]!.grad = null;
    }
  });
}
