// The sliced exact quire (shaders/quire-sliced.ts with the plain WGSL integer GEMM) against the
// per-product quire of the GEMM generator, bit for bit (NaN patterns included): random and
// adversarial operands (gan/bench/quire-cases.ts), outputs straight to a format, to f32 and through
// bias + activation, transposes, batches, a convolution's im2col map, a reduction longer than one
// exact i32 chunk; and a few results against the BigInt reference directly. The subgroup-matrix
// inner loop is checked here only as generated text (test/shaders/quire-residue-gemm.test.ts); on
// a GPU that has it, `posit-gan bench quire --check` runs these comparisons.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as ops from '../../engine/ops/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { decode, packCodes, quantize } from '../../formats/codec.ts';
import { parseFormat, type Format } from '../../formats/descriptor.ts';
import { QUIRE_CASES, quireCaseCodes, type QuireCase } from '../../gan/bench/quire-cases.ts';
import { gemm } from '../../engine/ops/gemm.ts';
import { matmulGemm } from '../../engine/ops/matmul.ts';
import { standInForSubgroupMatrix } from '../../engine/ops/quire-sliced.ts';
import type { QuireMethod } from '../../shaders/quire-plan.ts';
import { residueGemmKernel, type SubgroupMatrixInner } from '../../shaders/quire-residue-gemm.ts';
import type { SlicedKernel } from '../../shaders/quire-sliced.ts';
import type { SubgroupMatrixConventions } from '../../shaders/subgroup-matrix.ts';
import { exactDot, roundOddToDouble } from './gemm-ref.ts';
import { openTestRuntime } from './harness.ts';
import { emulateSubgroupMatrix } from './subgroup-matrix-emulation.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const P8 = parseFormat('p8e2');
const P16 = parseFormat('p16e2');
const E4M3 = parseFormat('e4m3');

/** Float32 bit patterns (NaN payloads compared too). */
function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

function transpose(codes: Uint32Array, rows: number, cols: number): Uint32Array {
  const t = new Uint32Array(codes.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = codes[i * cols + j]!;
  return t;
}

interface Product {
  batch?: number;
  m: number;
  n: number;
  k: number;
  ta?: boolean;
  tb?: boolean;
  output?: Format | null;
  epilogue?: boolean;
}

/** Both methods on the same operands; returns the two results' bits. */
async function both(f: Format, c: QuireCase, p: Product, seed: number, methods: [QuireMethod, QuireMethod] = ['mac', 'sliced']) {
  const batch = p.batch ?? 1;
  const aCodes: number[] = [];
  const bCodes: number[] = [];
  for (let z = 0; z < batch; z++) {
    const { a, b } = quireCaseCodes(f, c, p.m, p.n, p.k, seed + z);
    for (const x of p.ta ? transpose(a, p.m, p.k) : a) aCodes.push(x);
    for (const x of p.tb ? transpose(b, p.k, p.n) : b) bCodes.push(x);
  }
  const lead = p.batch ? [batch] : [];
  const aShape = [...lead, ...(p.ta ? [p.k, p.m] : [p.m, p.k])];
  const bShape = [...lead, ...(p.tb ? [p.n, p.k] : [p.k, p.n])];
  return rt.scope(async () => {
    const A = Tensor.fromPackedCodes(rt, packCodes(f, aCodes), aShape, { format: f, bias: 0 });
    const B = Tensor.fromPackedCodes(rt, packCodes(f, bCodes), bShape, { format: f, bias: 1 });
    const bias = p.epilogue ? Tensor.fromArray(rt, Float32Array.from({ length: p.n }, (_, i) => (i % 5) - 2.5), [p.n]) : undefined;
    const run = async (quireMethod: QuireMethod) => {
      const out = ops.matmul(A, B, {
        transA: p.ta,
        transB: p.tb,
        accumulate: 'quire',
        quireMethod,
        ...(p.output ? { output: { format: p.output } } : {}),
        ...(bias ? { bias, activation: 'leaky_relu' as const, slope: 0.25 } : {}),
      });
      return bits(await out.read());
    };
    return { want: await run(methods[0]), got: await run(methods[1]), aCodes, bCodes };
  });
}

function expectSameBits(got: Uint32Array, want: Uint32Array, what: string): void {
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) throw new Error(`${what}: element ${i} is 0x${got[i]!.toString(16)} but the per-product quire gives 0x${want[i]!.toString(16)}`);
  }
}

describe('sliced quire (plain WGSL) equals the per-product quire, bit for bit', () => {
  for (const c of QUIRE_CASES) {
    it(`${c}: p8e2 x p8e2 -> p16e2`, async () => {
      const { want, got } = await both(P8, c, { m: 19, n: 13, k: 96, output: P16 }, 1);
      expectSameBits(got, want, c);
    });
  }

  it('NaR makes exactly its row and column NaN; other outputs stay finite', async () => {
    const { want, got } = await both(P8, 'nar', { m: 9, n: 11, k: 40 }, 3);
    expectSameBits(got, want, 'nar f32');
    const nan = Array.from(got).filter((b) => b === 0x7fc00000).length;
    expect(nan).toBeGreaterThan(0);
    expect(nan).toBeLessThan(got.length);
  });

  it('f32 output (round to nearest even), bias and leaky relu after the one rounding', async () => {
    for (const [c, epilogue] of [
      ['random', false],
      ['cancellation', true],
      ['extremes', true],
    ] as const) {
      const { want, got } = await both(P8, c, { m: 10, n: 17, k: 64, epilogue }, 5);
      expectSameBits(got, want, `${c} epilogue=${epilogue}`);
    }
  });

  it('transposed and batched operands; e4m3 x e4m3 -> p8e2', async () => {
    const r1 = await both(P8, 'gaussian', { batch: 3, m: 7, n: 9, k: 50, ta: true, tb: true, output: P16 }, 7);
    expectSameBits(r1.got, r1.want, 'batched transposed');
    const r2 = await both(E4M3, 'random', { m: 12, n: 8, k: 77, output: P8 }, 9);
    expectSameBits(r2.got, r2.want, 'e4m3');
  });

  it('a reduction longer than one exact i32 chunk (K = 70000 > 2^16), maxpos products', async () => {
    const { want, got, aCodes, bCodes } = await both(P8, 'maxpos', { m: 2, n: 3, k: 70000 }, 11);
    expectSameBits(got, want, 'K = 70000');
    // And against the BigInt reference directly: 70000 terms of +-2^48.
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) {
        const pairs: [number, number][] = [];
        for (let k = 0; k < 70000; k++) pairs.push([decode(P8, aCodes[i * 70000 + k]!), decode(P8, bCodes[k * 3 + j]!, 1)]);
        const d = exactDot(pairs);
        expect(new Float32Array(got.buffer)[i * 3 + j]).toBe(Math.fround(roundOddToDouble(d.m, d.e)));
      }
  });

  it('cancellation: the exact result where float32 accumulation loses it (BigInt reference)', async () => {
    const { got, aCodes, bCodes } = await both(P8, 'cancellation', { m: 4, n: 5, k: 64, output: P16 }, 13);
    const vals = new Float32Array(got.buffer);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 5; j++) {
        const pairs: [number, number][] = [];
        for (let k = 0; k < 64; k++) pairs.push([decode(P8, aCodes[i * 64 + k]!), decode(P8, bCodes[k * 5 + j]!, 1)]);
        const d = exactDot(pairs);
        expect(vals[i * 5 + j]).toBe(quantize(P16, roundOddToDouble(d.m, d.e)));
      }
  });

  it('a convolution through the im2col map', async () => {
    await rt.scope(async () => {
      const x = quireCaseCodes(P8, 'gaussian', 2 * 3 * 7, 1, 7, 17).a;
      const w = quireCaseCodes(P8, 'unit', 4 * 3 * 3, 1, 3, 19).a;
      const X = Tensor.fromPackedCodes(rt, packCodes(P8, x.slice(0, 2 * 3 * 6 * 6)), [2, 3, 6, 6], { format: P8, bias: 0 });
      const W = Tensor.fromPackedCodes(rt, packCodes(P8, w.slice(0, 4 * 3 * 3 * 3)), [4, 3, 3, 3], { format: P8, bias: 0 });
      const conv = (quireMethod: QuireMethod) => ops.conv2d(X, W, { padding: 1, accumulate: 'quire', quireMethod, output: { format: P16 } }).read();
      const want = await conv('mac');
      const got = await conv('sliced');
      expectSameBits(bits(got), bits(want), 'conv2d');
    });
  });
});

describe('the subgroup-matrix GEMM, its builtins emulated in plain WGSL, equals the per-product quire', () => {
  // The generated kernel's decisions (which fragments each subgroup loads from where, staging, units
  // of offsets and strides, where results go) with the builtins' specified semantics; an 8 x 8 x 32
  // configuration keeps the emulated fragments small. Both stagings, both forms, each unit for
  // offsets and for strides.
  // The first two also run a batched product with transposed operands (z offsets of either staging).
  const variants: ['workgroup' | 'storage', SubgroupMatrixConventions, boolean][] = [
    ['workgroup', { dialect: 'template', offsetUnit: 'word', strideUnit: 'word' }, true],
    ['storage', { dialect: 'argument', offsetUnit: 'component', strideUnit: 'component' }, true],
    ['workgroup', { dialect: 'template', offsetUnit: 'component', strideUnit: 'word' }, false],
  ];
  const emulated = new Map<string, SlicedKernel>();
  for (const [staging, cv, batched] of variants) {
    it(`${staging} staging, ${cv.dialect} form, offsets in ${cv.offsetUnit}s, strides in ${cv.strideUnit}s`, async () => {
      const inner: SubgroupMatrixInner = {
        kind: 'subgroup-matrix',
        cm: 8,
        cn: 8,
        ck: 32,
        subgroupSize: gpu.adapter.subgroupMaxSize ?? 8,
        sgRows: 2,
        sgCols: 2,
        fragRows: 2,
        fragCols: 1,
        sliceBytes: 64,
        staging,
        conventions: cv,
      };
      standInForSubgroupMatrix({
        inner,
        kernel: (i) => {
          const real = residueGemmKernel(i);
          let k = emulated.get(real.key);
          if (!k) emulated.set(real.key, (k = { ...real, key: `${real.key}|emulated`, code: emulateSubgroupMatrix(real.code, i, i.conventions) }));
          return k;
        },
      });
      try {
        const methods: [QuireMethod, QuireMethod] = ['mac', 'sliced-subgroup-matrix'];
        const r1 = await both(P8, 'random', { m: 37, n: 21, k: 100, output: P16 }, 21, methods);
        expectSameBits(r1.got, r1.want, 'random');
        if (batched) {
          const r2 = await both(P8, 'saturated', { batch: 2, m: 9, n: 18, k: 70, ta: true, tb: true }, 23, methods);
          expectSameBits(r2.got, r2.want, 'saturated, batched, transposed');
        }
      } finally {
        standInForSubgroupMatrix(null);
      }
    });
  }
});

describe('choosing the method', () => {
  it('a software adapter keeps the per-product quire unless told otherwise; sliced results are reported', async () => {
    await rt.scope(async () => {
      const A = Tensor.fromPackedCodes(rt, packCodes(P8, new Array(64).fill(0x40)), [8, 8], { format: P8, bias: 0 });
      expect(gemm(matmulGemm(A, A, { accumulate: 'quire' })).quireMethod).toBe('mac');
      expect(gemm(matmulGemm(A, A, { accumulate: 'quire', quireMethod: 'sliced' })).quireMethod).toBe('sliced');
    });
  });

  it('asking for the tensor-core quire on a device opened without subgroup matrices is an error naming the fix', () => {
    rt.scope(() => {
      const A = Tensor.fromPackedCodes(rt, packCodes(P8, new Array(64).fill(0x40)), [8, 8], { format: P8, bias: 0 });
      expect(() => ops.matmul(A, A, { accumulate: 'quire', quireMethod: 'sliced-subgroup-matrix' })).toThrow(/opened without them: open it with --subgroup-matrix/);
    });
  });

  it('operands too wide to slice: forcing the sliced quire says why', () => {
    rt.scope(() => {
      const A = Tensor.fromPackedCodes(rt, packCodes(P16, new Array(16).fill(0x4000)), [4, 4], { format: P16, bias: 0 });
      expect(() => ops.matmul(A, A, { accumulate: 'quire', quireMethod: 'sliced' })).toThrow(/span up to \d+ bits; the sliced quire takes at most 64/);
    });
  });
});
