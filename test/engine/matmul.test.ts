// matmul / linear: every variant of the GEMM generator against float64 and exact references.
//
// Tolerances (test/engine/gemm-ref.ts): f32 accumulation of K products is within
// gamma_K * sum|a b| (+ one rounding u|y| for the bias add) of the exact sum, whatever the order the
// tiles and split-K slices add in; the bias scale 2^-t is exact. tanh/sigmoid are the GPU's own
// functions, which WGSL does not require to be correctly rounded: we allow ACT_ABS = 2^-18 absolute
// (values are at most 1 in magnitude, so a few float32 ulps) on top of the propagated bound (both
// functions have slope <= 1). Quantized outputs are checked with the monotone bracket of
// expectQuantizedWithin; quire results bit for bit against BigInt sums rounded once.
// On lavapipe the planner picks the 'direct' tiles (no workgroup-memory staging) for these small
// shapes (below 64 x 64 outputs, and quires); the tests that force a tile cover the staged kernels.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { decode, encodeSeeded, packCodes, quantize } from '../../formats/codec.ts';
import { parseFormat, type Format } from '../../formats/descriptor.ts';
import * as ops from '../../engine/ops/index.ts';
import { planGemm, quireLimbs, quireOperand, type TileName } from '../../shaders/matmul-plan.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { U32, accBound, exactDot, expectQuantizedWithin, expectWithin, randomCodes, refMatmul, roundOddToDouble } from './gemm-ref.ts';
import { checkOp, openTestRuntime, randomArray, seededRandom, size } from './harness.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const P8 = parseFormat('p8e2');
const P16 = parseFormat('p16e2');
const E4M3 = parseFormat('e4m3');
const FP16 = parseFormat('fp16');
const ACT_ABS = 2 ** -18;

const f32 = (shape: number[], seed: number, lo = -1, hi = 1) => Float32Array.from(randomArray(size(shape), seed, lo, hi));

/** A packed-code tensor of random codes and the exact values it stands for (decode * 2^-bias). */
function packed(f: Format, shape: number[], seed: number, bias = 0, maxAbs = Infinity): { t: Tensor; v: Float64Array } {
  const codes = randomCodes(f, size(shape), seededRandom(seed), maxAbs);
  const t = Tensor.fromPackedCodes(rt, packCodes(f, codes), shape, { format: f, bias });
  return { t, v: Float64Array.from(codes, (c) => decode(f, c, bias)) };
}

interface Case {
  what: string;
  batch?: number;
  m: number;
  n: number;
  k: number;
  ta?: boolean;
  tb?: boolean;
  sharedB?: boolean;
  tile?: TileName;
}

function shapes(c: Case): { a: number[]; b: number[] } {
  const batch = c.batch ?? 1;
  const lead = c.batch ? [batch] : [];
  return {
    a: [...lead, ...(c.ta ? [c.k, c.m] : [c.m, c.k])],
    b: [...(c.sharedB || !c.batch ? [] : [batch]), ...(c.tb ? [c.n, c.k] : [c.k, c.n])],
  };
}

describe('matmul forward, f32 accumulation, vs float64', () => {
  const cases: Case[] = [
    { what: 'large tile, ragged', m: 37, n: 45, k: 53, tile: 'large' },
    { what: 'large tile, vector loads', m: 36, n: 44, k: 52, tile: 'large' },
    { what: 'large16 tile (K slices of 16), ragged', m: 37, n: 45, k: 53, tile: 'large16' },
    { what: 'large16 tile, vector loads, A transposed', m: 36, n: 44, k: 52, ta: true, tile: 'large16' },
    { what: 'medium tile, A transposed', m: 37, n: 45, k: 53, ta: true, tile: 'medium' },
    { what: 'small tile, B transposed', m: 37, n: 45, k: 53, tb: true, tile: 'small' },
    { what: 'rows tile, both transposed', m: 5, n: 131, k: 29, ta: true, tb: true, tile: 'rows' },
    { what: 'cols tile', m: 131, n: 5, k: 29, tile: 'cols' },
    { what: 'batch 1 (auto plan)', m: 1, n: 300, k: 200, tb: true },
    { what: 'split-K (auto plan)', m: 10, n: 12, k: 3000 },
    { what: 'batched', batch: 3, m: 17, n: 23, k: 19 },
    { what: 'batched, shared B, transposed', batch: 4, m: 9, n: 13, k: 11, ta: true, tb: true, sharedB: true },
  ];
  for (const c of cases) {
    it(`${c.what}: ${c.batch ? `${c.batch} x ` : ''}${c.m}x${c.k} * ${c.k}x${c.n}`, async () => {
      const s = shapes(c);
      const a = f32(s.a, 1);
      const b = f32(s.b, 2);
      const ref = refMatmul(a, b, { batch: c.batch ?? 1, m: c.m, n: c.n, k: c.k, ta: c.ta, tb: c.tb, sharedB: c.sharedB || !c.batch });
      await rt.scope(async () => {
        const out = ops.matmul(Tensor.fromArray(rt, a, s.a), Tensor.fromArray(rt, b, s.b), { transA: c.ta, transB: c.tb, tile: c.tile });
        expect(out.shape).toEqual([...(c.batch ? [c.batch] : []), c.m, c.n]);
        expectWithin(await out.read(), ref.y, (i) => accBound(c.k, ref.mag[i]!), c.what);
      });
    });
  }
});

describe('the tile does not change a bit (each output adds its products in K order)', () => {
  it('f32 and packed operands: every staged tile and the direct one give the same bits', async () => {
    const [m, n, k] = [36, 44, 52];
    await rt.scope(async () => {
      const a = Tensor.fromArray(rt, f32([m, k], 5), [m, k]);
      const b = Tensor.fromArray(rt, f32([n, k], 6), [n, k]);
      const codes = (seed: number, count: number) => Tensor.fromPackedCodes(rt, packCodes(P8, randomCodes(P8, count, seededRandom(seed), 4)), [count / k, k], { format: P8, bias: 1 });
      const pa = codes(7, m * k);
      const pb = codes(8, n * k);
      for (const [what, x, y, tiles] of [
        ['f32', a, b, ['large', 'large16', 'medium', 'small', 'direct']],
        ['p8e2 codes', pa, pb, ['large', 'medium', 'small', 'direct']],
      ] as const) {
        const results = await Promise.all(tiles.map(async (tile) => new Uint32Array((await ops.matmul(x, y, { transB: true, tile }).read()).buffer)));
        results.forEach((r, i) => expect(r, `${what}: ${tiles[i]} vs ${tiles[0]}`).toEqual(results[0]));
      }
    });
  });
});

describe('packed operands (decoded in the tile load) and the exponent-bias scale', () => {
  // Operand formats (null: float32) and exponent biases.
  const cases: [string, Format | null, number, Format | null, number, Case][] = [
    ['p8e2 (t=3) x e4m3 (t=-2), ragged', P8, 3, E4M3, -2, { what: '', m: 19, n: 21, k: 37, tile: 'medium' }],
    ['p8e2 x p8e2 (one shared table), vector loads', P8, 0, P8, 1, { what: '', m: 20, n: 24, k: 40, tile: 'large' }],
    ['fp16 codes x f32, B transposed', FP16, 2, null, 0, { what: '', m: 13, n: 17, k: 33, tb: true, tile: 'small' }],
    ['f32 x fp16 codes, vector loads', null, 0, FP16, -1, { what: '', m: 16, n: 20, k: 24, tile: 'large' }],
    ['p16e2 x p8e2, A transposed, batched', P16, 0, P8, 2, { what: '', batch: 2, m: 11, n: 7, k: 15, ta: true }],
  ];
  for (const [what, fa, ta, fb, tb, c] of cases) {
    it(what, async () => {
      const s = shapes(c);
      await rt.scope(async () => {
        const A = fa ? packed(fa, s.a, 3, ta) : { t: Tensor.fromArray(rt, f32(s.a, 3), s.a), v: Float64Array.from(f32(s.a, 3)) };
        const B = fb ? packed(fb, s.b, 4, tb) : { t: Tensor.fromArray(rt, f32(s.b, 4), s.b), v: Float64Array.from(f32(s.b, 4)) };
        const ref = refMatmul(A.v, B.v, { batch: c.batch ?? 1, m: c.m, n: c.n, k: c.k, ta: c.ta, tb: c.tb, sharedB: !c.batch });
        const out = ops.matmul(A.t, B.t, { transA: c.ta, transB: c.tb, tile: c.tile });
        expectWithin(await out.read(), ref.y, (i) => accBound(c.k, ref.mag[i]!), what);
      });
    });
  }
});

describe('fused epilogue', () => {
  const M = 23;
  const N = 19;
  const K = 31;
  const acts: [ops.Activation, (v: number) => number, number][] = [
    ['relu', (v) => Math.max(v, 0), 0],
    ['leaky_relu', (v) => (v > 0 ? v : 0.2 * v), 0],
    ['tanh', Math.tanh, ACT_ABS],
    ['sigmoid', (v) => 1 / (1 + Math.exp(-v)), ACT_ABS],
  ];
  for (const [act, fn, extra] of acts) {
    it(`bias + ${act}`, async () => {
      const a = f32([M, K], 5);
      const b = f32([K, N], 6);
      const bias = f32([N], 7);
      const ref = refMatmul(a, b, { batch: 1, m: M, n: N, k: K });
      const want = ref.y.map((v, i) => fn(v + bias[i % N]!));
      await rt.scope(async () => {
        const out = ops.matmul(Tensor.fromArray(rt, a, [M, K]), Tensor.fromArray(rt, b, [K, N]), {
          bias: Tensor.fromArray(rt, bias, [N]),
          activation: act,
          slope: 0.2,
        });
        const pre = (i: number) => accBound(K, ref.mag[i]!) + U32 * (Math.abs(ref.y[i]!) + Math.abs(bias[i % N]!));
        expectWithin(await out.read(), want, (i) => pre(i) + extra, `bias + ${act}`);
      });
    });
  }

  it('p8e2 operands, bias, leaky relu, output quantized to p16e2: within the rounding bracket', async () => {
    await rt.scope(async () => {
      const A = packed(P8, [M, K], 8, 0, 4);
      const B = packed(P8, [K, N], 9, 3, 4);
      const bias = f32([N], 10);
      const ref = refMatmul(A.v, B.v, { batch: 1, m: M, n: N, k: K });
      const want = ref.y.map((v, i) => {
        const z = v + bias[i % N]!;
        return z > 0 ? z : 0.1 * z;
      });
      const out = ops.matmul(A.t, B.t, { bias: Tensor.fromArray(rt, bias, [N]), activation: 'leaky_relu', slope: 0.1, output: { format: P16 } });
      expect(out.lattice?.name).toBe('p16e2');
      const e = (i: number) => accBound(K, ref.mag[i]!) + U32 * (Math.abs(ref.y[i]!) + Math.abs(bias[i % N]!));
      const exact = expectQuantizedWithin(await out.read(), want, e, P16, 'p16e2 output');
      expect(exact).toBeGreaterThan(0.9 * M * N);
    });
  });

  it('split-K: the reduction kernel runs the epilogue (bias, relu, p16e2 output)', async () => {
    const [m, n, k] = [10, 12, 3000];
    const a = f32([m, k], 13);
    const b = f32([k, n], 14);
    const bias = f32([n], 15);
    const ref = refMatmul(a, b, { batch: 1, m, n, k });
    const want = ref.y.map((v, i) => Math.max(v + bias[i % n]!, 0));
    await rt.scope(async () => {
      const out = ops.matmul(Tensor.fromArray(rt, a, [m, k]), Tensor.fromArray(rt, b, [k, n]), { bias: Tensor.fromArray(rt, bias, [n]), activation: 'relu', output: { format: P16 } });
      const e = (i: number) => accBound(k, ref.mag[i]!) + U32 * (Math.abs(ref.y[i]!) + Math.abs(bias[i % n]!));
      expectQuantizedWithin(await out.read(), want, e, P16, 'split-K p16e2 output');
    });
  });

  it('output quantized to p8e2 with stochastic rounding equals the reference encoder (exact sums)', async () => {
    // Small integers and halves: every product and partial sum is exact in float32, so the value
    // handed to the encoder is known exactly and the stochastic result must match bit for bit.
    const M2 = 9;
    const N2 = 14;
    const K2 = 12;
    const ints = (n: number, seed: number) => Float32Array.from(randomArray(n, seed, -8, 8), (v) => Math.round(v * 2) / 2);
    const a = ints(M2 * K2, 11);
    const b = ints(K2 * N2, 12);
    const ref = refMatmul(a, b, { batch: 1, m: M2, n: N2, k: K2 });
    const seed = 1234;
    await rt.scope(async () => {
      const out = ops.matmul(Tensor.fromArray(rt, a, [M2, K2]), Tensor.fromArray(rt, b, [K2, N2]), {
        output: { format: P8, rounding: 'stochastic', seed },
      });
      const got = await out.read();
      const want = ref.y.map((v, i) => decode(P8, encodeSeeded(P8, v, seed, i)));
      expect(Array.from(got)).toEqual(Array.from(want));
      // Stochastic rounding really happened: some results differ from round-to-nearest.
      expect(Array.from(got).some((g, i) => g !== quantize(P8, ref.y[i]!))).toBe(true);
    });
  });
});

describe('quire accumulation: exact, one rounding, bit for bit', () => {
  /** Reference: the exact dot product (BigInt), times 2^-scale, rounded once. */
  function exactRef(av: Float64Array, bv: Float64Array, c: Case, out: Format | null): Float64Array {
    const batch = c.batch ?? 1;
    const res = new Float64Array(batch * c.m * c.n);
    for (let z = 0; z < batch; z++)
      for (let i = 0; i < c.m; i++)
        for (let j = 0; j < c.n; j++) {
          const pairs: [number, number][] = [];
          for (let k = 0; k < c.k; k++) {
            const ai = z * c.m * c.k + (c.ta ? k * c.m + i : i * c.k + k);
            const bi = (c.sharedB || !c.batch ? 0 : z * c.k * c.n) + (c.tb ? j * c.k + k : k * c.n + j);
            pairs.push([av[ai]!, bv[bi]!]);
          }
          const d = exactDot(pairs);
          const odd = roundOddToDouble(d.m, d.e);
          res[(z * c.m + i) * c.n + j] = out ? quantize(out, odd) : Math.fround(odd);
        }
    return res;
  }

  const cases: [string, Format, number, Format, number, Format | null, Case][] = [
    ['p8e2 x p8e2 -> f32', P8, 0, P8, 0, null, { what: '', m: 13, n: 11, k: 301 }],
    ['p8e2 (t=4) x p8e2 (t=-1) -> p16e2, transposed, staged quire tile', P8, 4, P8, -1, P16, { what: '', m: 7, n: 18, k: 45, ta: true, tb: true, tile: 'quire' }],
    ['e4m3 x p8e2 -> p8e2, batched', E4M3, 0, P8, 2, P8, { what: '', batch: 2, m: 5, n: 6, k: 33 }],
    ['p16e2 x p16e2 (8 limbs) -> p16e2', P16, 0, P16, 0, P16, { what: '', m: 6, n: 5, k: 40 }],
  ];
  for (const [what, fa, ta, fb, tb, fo, c] of cases) {
    it(what, async () => {
      const s = shapes(c);
      await rt.scope(async () => {
        const A = packed(fa, s.a, 21, ta);
        const B = packed(fb, s.b, 22, tb);
        const want = exactRef(A.v, B.v, c, fo);
        const out = ops.matmul(A.t, B.t, { transA: c.ta, transB: c.tb, accumulate: 'quire', tile: c.tile, ...(fo ? { output: { format: fo } } : {}) });
        expect(Array.from(await out.read())).toEqual(Array.from(want));
      });
    });
  }

  it('is exact where f32 accumulation cancels catastrophically', async () => {
    // [2^20, 2^-20, -2^20] . [1, 1, 1]: f32 loses 2^-20; the quire keeps it.
    const a = [2 ** 20, 2 ** -20, -(2 ** 20)];
    const codes = a.map(quantizeCode);
    const ones = [1, 1, 1].map(quantizeCode);
    await rt.scope(async () => {
      const A = Tensor.fromPackedCodes(rt, packCodes(P8, codes), [1, 3], { format: P8, bias: 0 });
      const B = Tensor.fromPackedCodes(rt, packCodes(P8, ones), [3, 1], { format: P8, bias: 0 });
      expect((await ops.matmul(A, B).read())[0]).toBe(0);
      expect((await ops.matmul(A, B, { accumulate: 'quire' }).read())[0]).toBe(2 ** -20);
    });
  });

  it('float32 operands on a lattice (with lattice bias); bias and relu after one rounding to f32', async () => {
    const M = 8;
    const N = 9;
    const K = 70;
    const av = Float64Array.from(randomCodes(P8, M * K, seededRandom(31)), (c) => decode(P8, c) * 2 ** -2);
    const bv = Float64Array.from(randomCodes(P8, K * N, seededRandom(32)), (c) => decode(P8, c));
    const bias = f32([N], 33);
    const c: Case = { what: '', m: M, n: N, k: K };
    const sums = exactRef(av, bv, c, null);
    const want = sums.map((v, i) => quantize(P16, Math.max(Math.fround(v + bias[i % N]!), 0)));
    await rt.scope(async () => {
      const A = Tensor.fromArray(rt, Float32Array.from(av), [M, K]);
      A.lattice = P8;
      A.latticeBias = 2;
      const B = Tensor.fromArray(rt, Float32Array.from(bv), [K, N]);
      B.lattice = P8;
      const out = ops.matmul(A, B, { accumulate: 'quire', bias: Tensor.fromArray(rt, bias, [N]), activation: 'relu', output: { format: P16 } });
      expect(Array.from(await out.read())).toEqual(Array.from(want));
    });
  });

  it('a float32 value off its declared lattice gives NaN, not a silent rounding', async () => {
    await rt.scope(async () => {
      const A = Tensor.fromArray(rt, [0.3, 1], [1, 2]);
      A.lattice = P8;
      const B = Tensor.fromArray(rt, [1, 1], [2, 1]);
      B.lattice = P8;
      expect(Number.isNaN((await ops.matmul(A, B, { accumulate: 'quire' }).read())[0])).toBe(true);
    });
  });

  it('rejects plain float32 operands, naming what it needs', () => {
    rt.scope(() => {
      const A = Tensor.fromArray(rt, [1, 2], [1, 2]);
      expect(() => ops.matmul(A, A.view([2, 1]), { accumulate: 'quire' })).toThrow(/plain float32 values; quire accumulation needs both operands on a lattice/);
    });
  });
});

function quantizeCode(v: number): number {
  for (let c = 0; c < 256; c++) if (decode(P8, c) === v) return c;
  throw new Error(`${v} is not a p8e2 value`);
}

describe('gradients vs float64 finite differences', () => {
  const inp = (shape: number[], seed: number) => ({ shape, data: randomArray(size(shape), seed, -1, 1) });
  it('matmul, all transpose combinations', async () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const c: Case = { what: '', m: 5, n: 7, k: 6, ta, tb };
      const s = shapes(c);
      await checkOp({
        rt,
        what: `matmul ta=${ta} tb=${tb}`,
        inputs: [inp(s.a, 41), inp(s.b, 42)],
        gpu: (a, b) => ops.matmul(a, b, { transA: ta, transB: tb }),
        cpu: (a, b) => refMatmul(a, b, { batch: 1, m: 5, n: 7, k: 6, ta, tb }).y,
      });
    }
  });

  it('batched with a shared B (B gradient sums over the batch), A transposed, staged small tile', async () => {
    const c: Case = { what: '', batch: 3, m: 4, n: 5, k: 6, ta: true, sharedB: true };
    const s = shapes(c);
    await checkOp({
      rt,
      what: 'batched shared B',
      inputs: [inp(s.a, 43), inp(s.b, 44)],
      gpu: (a, b) => ops.matmul(a, b, { transA: true, tile: 'small' }),
      cpu: (a, b) => refMatmul(a, b, { batch: 3, m: 4, n: 5, k: 6, ta: true, sharedB: true }).y,
    });
  });

  for (const act of ['none', 'relu', 'leaky_relu', 'tanh', 'sigmoid'] as const) {
    it(`linear with bias and ${act}`, async () => {
      const fn = { none: (v: number) => v, relu: (v: number) => Math.max(v, 0), leaky_relu: (v: number) => (v > 0 ? v : 0.3 * v), tanh: Math.tanh, sigmoid: (v: number) => 1 / (1 + Math.exp(-v)) }[act];
      await checkOp({
        rt,
        what: `linear ${act}`,
        inputs: [inp([3, 7], 45), inp([5, 7], 46), inp([5], 47)],
        gpu: (x, w, b) => ops.linear(x, w, { bias: b, activation: act, slope: 0.3 }),
        cpu: (x, w, b) => refMatmul(x, w, { batch: 1, m: 3, n: 5, k: 7, tb: true }).y.map((v, i) => fn(v + b[i % 5]!)),
      });
    });
  }

  it('output quantization is straight-through: the same gradients as without it', async () => {
    const run = async (quantized: boolean) =>
      rt.scope(async () => {
        const x = Tensor.fromArray(rt, f32([4, 9], 48), [4, 9]);
        const w = Tensor.fromArray(rt, f32([6, 9], 49), [6, 9]);
        const b = Tensor.fromArray(rt, f32([6], 50), [6]);
        for (const t of [x, w, b]) t.requiresGrad = true;
        const y = ops.linear(x, w, { bias: b, activation: 'tanh', ...(quantized ? { output: { format: P8 } } : {}) });
        ops.backward(ops.sum(ops.mul(y, Tensor.fromArray(rt, f32([4, 6], 51), [4, 6]))));
        return Promise.all([x, w, b].map((t) => t.grad!.read()));
      });
    const [q, plain] = [await run(true), await run(false)];
    q.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(plain[i]!)));
  });

  it('packed operands get float32 gradients of their shape (decoded values, bias applied)', async () => {
    const M = 6;
    const N = 5;
    const K = 7;
    await rt.scope(async () => {
      const A = packed(P8, [M, K], 52, 2, 8);
      const B = Tensor.fromArray(rt, f32([K, N], 53), [K, N]);
      A.t.requiresGrad = true;
      B.requiresGrad = true;
      const R = f32([M, N], 54);
      ops.backward(ops.sum(ops.mul(ops.matmul(A.t, B), Tensor.fromArray(rt, R, [M, N]))));
      const bv = await B.read();
      // dA = R B^T, dB = A^T R.
      const dA = refMatmul(R, bv, { batch: 1, m: M, n: K, k: N, tb: true });
      const dB = refMatmul(A.v, R, { batch: 1, m: K, n: N, k: M, ta: true });
      expect(A.t.grad!.shape).toEqual([M, K]);
      expectWithin(await A.t.grad!.read(), dA.y, (i) => accBound(N, dA.mag[i]!), 'dA');
      expectWithin(await B.grad!.read(), dB.y, (i) => accBound(M, dB.mag[i]!), 'dB');
    });
  });
});

describe('planning (no GPU)', () => {
  const plan = (m: number, n: number, k: number, parallelism = 256, software = false) => planGemm({ m, n, k, batch: 1 }, { quire: false, parallelism, software });
  it('large tiles for big products, split-K when the output is small and K long', () => {
    expect(plan(4096, 4096, 4096)).toMatchObject({ tile: 'large', splits: 1 });
    expect(plan(1024, 1024, 1024)).toMatchObject({ tile: 'medium', splits: 1 });
    expect(plan(1, 1000, 4096)).toMatchObject({ tile: 'rows', splits: 16, kPerSplit: 256 });
    expect(plan(1000, 3, 100)).toMatchObject({ tile: 'cols', splits: 1 });
    // Ragged 200 x 200: no square tile wastes <= 25% with 256 workgroups, so the least wasteful; K too short to split.
    expect(plan(200, 200, 64)).toMatchObject({ tile: 'small', splits: 1 });
    const p = plan(64, 64, 10000);
    expect(p.splits * p.kPerSplit).toBeGreaterThanOrEqual(10000);
    expect((p.splits - 1) * p.kPerSplit).toBeLessThan(10000);
  });
  it('software adapters: direct staging below 64 x 64 outputs, staged tiles above', () => {
    expect(plan(40, 50, 500, 4, true)).toMatchObject({ tile: 'direct', splits: 1 });
    expect(plan(200, 300, 500, 4, true)).toMatchObject({ tile: 'small', splits: 1 });
    expect(plan(1024, 1024, 1024, 4, true)).toMatchObject({ tile: 'large', splits: 1 });
    expect(plan(128, 128, 128, 4, true)).toMatchObject({ tile: 'large', splits: 1 });
  });
  it('quires: their own tiles, never split, sized from the formats and K', () => {
    expect(planGemm({ m: 64, n: 64, k: 100000, batch: 1 }, { quire: true, parallelism: 256, software: false })).toMatchObject({ tile: 'quire', splits: 1 });
    expect(planGemm({ m: 64, n: 64, k: 100, batch: 1 }, { quire: true, parallelism: 4, software: true })).toMatchObject({ tile: 'direct_quire' });
    expect(() => planGemm({ m: 8, n: 8, k: 8, batch: 1 }, { quire: true, parallelism: 4, software: true, tile: 'large' })).toThrow(/cannot hold quires/);
    const q8 = quireOperand(P8, 0, 'p8e2');
    expect(q8).toMatchObject({ frac: 3, msb: 24, lsb: -24 });
    // The 2022 posit standard's p8 quire is 128 bits; a dot product of 300 fits in 4 limbs too.
    expect(quireLimbs(q8, q8, 300).limbs).toBe(4);
    const q16 = quireOperand(P16, 0, 'p16e2');
    expect(quireLimbs(q16, q16, 1000).limbs).toBe(8);
  });
});

describe('op counts and errors', () => {
  it('records MACs by operand format, conversions and memory traffic', async () => {
    const rec = new OpRecorder();
    rt.recorder = rec;
    try {
      await rt.scope(async () => {
        const A = packed(P8, [4, 10], 60, 0);
        const x = Tensor.fromArray(rt, f32([10, 3], 61), [10, 3]);
        x.lattice = P16;
        ops.matmul(A.t, x, { output: { format: P16 }, roles: { a: 'weights', b: 'activations' } });
        ops.matmul(A.t, packed(P8, [10, 3], 62).t, { accumulate: 'quire', roles: { a: 'activations', b: 'activations' } });
      });
    } finally {
      rt.recorder = undefined;
    }
    const r = rec.records();
    const find = (pred: (e: (typeof r)[number]) => boolean) => r.find(pred);
    expect(find((e) => e.kind === 'mac' && e.acc === 'fp32')).toMatchObject({ a: 'p8e2', b: 'p16e2', count: 120 });
    expect(find((e) => e.kind === 'mac' && e.acc === 'quire')).toMatchObject({ a: 'p8e2', b: 'p8e2', count: 120 });
    expect(find((e) => e.kind === 'quire_round')).toMatchObject({ format: 'fp32', quireBits: 128, count: 12 });
    expect(find((e) => e.kind === 'convert')).toMatchObject({ from: 'fp32', to: 'p16e2', rounding: 'nearest', count: 12 });
    expect(find((e) => e.kind === 'memory' && e.direction === 'read' && e.role === 'weights')).toMatchObject({ format: 'p8e2', bits: 40 * 8 });
    expect(find((e) => e.kind === 'memory' && e.direction === 'write' && e.format === 'p16e2')).toMatchObject({ bits: 12 * 16 });
  });

  it('names both shapes on a mismatch, and bad epilogue options', () => {
    rt.scope(() => {
      const a = Tensor.fromArray(rt, new Float32Array(6), [2, 3]);
      const b = Tensor.fromArray(rt, new Float32Array(8), [4, 2]);
      expect(() => ops.matmul(a, b)).toThrow(/\[2, 3\] x \[4, 2\] \(3 vs 4\)/);
      expect(() => ops.linear(a, b)).toThrow(/input \[2, 3\] does not match weight \[4, 2\]/);
      expect(() => ops.matmul(a, a, { transB: true, bias: Tensor.fromArray(rt, [1], [1]) })).toThrow(/bias must be \[2\]/);
      expect(() => ops.matmul(a, a, { transB: true, output: { format: P8, rounding: 'stochastic' } })).toThrow(/needs a seed/);
      expect(() => ops.matmul(Tensor.fromArray(rt, new Float32Array(12), [2, 2, 3]), Tensor.fromArray(rt, new Float32Array(18), [3, 3, 2]))).toThrow(
        /batch dimensions of \[2, 2, 3\] and \[3, 3, 2\] differ/,
      );
    });
  });
});
