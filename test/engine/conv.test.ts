// conv2d / convTranspose2d (implicit GEMMs of the matmul generator): forward and every gradient vs
// float64 references and finite differences; packed operands, quantized outputs and the quire as in
// matmul.test.ts (tolerances derived in test/engine/gemm-ref.ts: gamma_K * sum|x w| with K the
// taps of one output, plus one rounding for the bias add). Two cases force staged tiles, so that every
// conv index map also runs in the staged kernels a GPU uses (lavapipe's plan for these small shapes
// is 'direct').

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { decode, packCodes, quantize } from '../../formats/codec.ts';
import { parseFormat, type Format } from '../../formats/descriptor.ts';
import * as ops from '../../engine/ops/index.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import {
  U32,
  accBound,
  convOutSize,
  exactDot,
  expectQuantizedWithin,
  expectWithin,
  randomCodes,
  refConv2d,
  refConvTranspose2d,
  roundOddToDouble,
  type ConvDims,
} from './gemm-ref.ts';
import { checkOp, openTestRuntime, randomArray, seededRandom, size } from './harness.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const P8 = parseFormat('p8e2');
const P16 = parseFormat('p16e2');
const FP16 = parseFormat('fp16');

const inp = (shape: number[], seed: number) => ({ shape, data: randomArray(size(shape), seed, -1, 1) });

function dims(n: number, ci: number, hi: number, wi: number, co: number, kh: number, kw: number, o: Partial<Pick<ConvDims, 'stride' | 'pad' | 'dil'>> = {}): ConvDims {
  return { n, ci, hi, wi, co, kh, kw, stride: o.stride ?? [1, 1], pad: o.pad ?? [0, 0, 0, 0], dil: o.dil ?? [1, 1] };
}

/** Adds a per-channel bias to an NCHW array and applies an activation. */
function epilogue(y: Float64Array, channels: number, pixels: number, bias: ArrayLike<number> | null, act: (v: number) => number = (v) => v): Float64Array {
  return y.map((v, i) => act(v + (bias ? bias[Math.floor(i / pixels) % channels]! : 0)));
}

function packed(f: Format, shape: number[], seed: number, bias = 0, maxAbs = Infinity): { t: Tensor; v: Float64Array } {
  const codes = randomCodes(f, size(shape), seededRandom(seed), maxAbs);
  return { t: Tensor.fromPackedCodes(rt, packCodes(f, codes), shape, { format: f, bias }), v: Float64Array.from(codes, (c) => decode(f, c, bias)) };
}

describe('conv2d forward and gradients vs float64 / finite differences', () => {
  const cases: [string, ConvDims, ops.Conv2dOptions][] = [
    ['stride 2, asymmetric padding, dilation, bias', dims(2, 3, 9, 8, 5, 3, 2, { stride: [2, 2], pad: [1, 0, 2, 1], dil: [1, 2] }), { stride: 2, padding: [1, 0, 2, 1], dilation: [1, 2] }],
    [
      'stride [2, 3], asymmetric padding (input gradient by stride phases, one phase without taps), staged small tile',
      dims(2, 3, 9, 10, 4, 3, 2, { stride: [2, 3], pad: [1, 0, 2, 1] }),
      { stride: [2, 3], padding: [1, 0, 2, 1], tile: 'small' },
    ],
    ['1x1, batch 1', dims(1, 4, 5, 6, 3, 1, 1), {}],
    ['stride [1, 3], dilation 2, padding [2, 1]', dims(2, 2, 7, 10, 3, 3, 3, { stride: [1, 3], pad: [2, 2, 1, 1], dil: [2, 2] }), { stride: [1, 3], dilation: 2, padding: [2, 1] }],
  ];
  for (const [what, d, o] of cases) {
    it(what, async () => {
      const [Ho, Wo] = convOutSize(d);
      const withBias = what.includes('bias');
      await checkOp({
        rt,
        what,
        inputs: [inp([d.n, d.ci, d.hi, d.wi], 1), inp([d.co, d.ci, d.kh, d.kw], 2), ...(withBias ? [inp([d.co], 3)] : [])],
        gpu: (x, w, b) => ops.conv2d(x, w, { ...o, ...(b ? { bias: b } : {}) }),
        cpu: (x, w, b) => epilogue(refConv2d(x, w, d).y, d.co, Ho * Wo, b ?? null),
      });
    });
  }

  it('fused bias + leaky relu, and a weight gradient long enough to split K', async () => {
    // dW reduces over 2 * 16 * 16 = 512 (image, pixel) pairs for only 4 x 27 outputs: split-K.
    const d = dims(2, 3, 16, 16, 4, 3, 3, { pad: [1, 1, 1, 1] });
    await checkOp({
      rt,
      what: 'conv2d leaky relu',
      inputs: [inp([2, 3, 16, 16], 4), inp([4, 3, 3, 3], 5), inp([4], 6)],
      gpu: (x, w, b) => ops.conv2d(x, w, { padding: 1, bias: b, activation: 'leaky_relu', slope: 0.1 }),
      cpu: (x, w, b) => epilogue(refConv2d(x, w, d).y, 4, 256, b, (v) => (v > 0 ? v : 0.1 * v)),
    });
  });
});

describe('convTranspose2d forward and gradients vs float64 / finite differences', () => {
  const cases: [string, ConvDims, [number, number], ops.ConvTranspose2dOptions][] = [
    ['stride 2, padding 1, output padding 1, bias', dims(2, 3, 4, 5, 4, 4, 3, { stride: [2, 2], pad: [1, 1, 1, 1] }), [1, 1], { stride: 2, padding: 1, outputPadding: 1 }],
    [
      'stride [2, 3], dilation [2, 1], asymmetric padding, output padding [1, 2], staged medium tile',
      dims(1, 2, 3, 4, 3, 3, 2, { stride: [2, 3], pad: [1, 2, 0, 1], dil: [2, 1] }),
      [1, 2],
      { stride: [2, 3], dilation: [2, 1], padding: [1, 2, 0, 1], outputPadding: [1, 2], tile: 'medium' },
    ],
    [
      'stride [3, 2] by phases (kernel smaller than the stride), asymmetric padding, output padding [2, 1]',
      dims(2, 2, 3, 4, 3, 2, 3, { stride: [3, 2], pad: [0, 1, 1, 0] }),
      [2, 1],
      { stride: [3, 2], padding: [0, 1, 1, 0], outputPadding: [2, 1] },
    ],
    ['stride 1, batch 1, tanh', dims(1, 3, 5, 5, 2, 2, 2), [0, 0], { activation: 'tanh' }],
  ];
  for (const [what, d, outPad, o] of cases) {
    it(what, async () => {
      const withBias = what.includes('bias');
      const r0 = refConvTranspose2d(new Float64Array(d.n * d.ci * d.hi * d.wi), new Float64Array(d.ci * d.co * d.kh * d.kw), d, outPad);
      const act = o.activation === 'tanh' ? Math.tanh : (v: number) => v;
      await checkOp({
        rt,
        what,
        inputs: [inp([d.n, d.ci, d.hi, d.wi], 7), inp([d.ci, d.co, d.kh, d.kw], 8), ...(withBias ? [inp([d.co], 9)] : [])],
        gpu: (x, w, b) => {
          const y = ops.convTranspose2d(x, w, { ...o, ...(b ? { bias: b } : {}) });
          expect(y.shape).toEqual([d.n, d.co, r0.oh, r0.ow]);
          return y;
        },
        cpu: (x, w, b) => epilogue(refConvTranspose2d(x, w, d, outPad).y, d.co, r0.oh * r0.ow, b ?? null, act),
      });
    });
  }
});

describe('quantized convolutions', () => {
  it('conv2d: p8e2 codes (weights with t=3), bias, relu, p16e2 output: within the rounding bracket', async () => {
    const d = dims(2, 3, 7, 6, 4, 3, 3, { stride: [2, 1], pad: [1, 1, 0, 2] });
    const [Ho, Wo] = convOutSize(d);
    await rt.scope(async () => {
      const x = packed(P8, [2, 3, 7, 6], 10, 0, 4);
      const w = packed(P8, [4, 3, 3, 3], 11, 3, 4);
      const bias = Float32Array.from(randomArray(4, 12, -1, 1));
      const ref = refConv2d(x.v, w.v, d);
      const want = epilogue(ref.y, 4, Ho * Wo, bias, (v) => Math.max(v, 0));
      const y = ops.conv2d(x.t, w.t, { stride: [2, 1], padding: [1, 1, 0, 2], bias: Tensor.fromArray(rt, bias, [4]), activation: 'relu', output: { format: P16 } });
      const K = 27;
      const e = (i: number) => accBound(K, ref.mag[i]!) + U32 * (Math.abs(ref.y[i]!) + 1);
      const exact = expectQuantizedWithin(await y.read(), want, e, P16, 'conv2d p16e2');
      expect(exact).toBeGreaterThan(0.9 * want.length);
    });
  });

  it('convTranspose2d: fp16-code weights, float32 input', async () => {
    const d = dims(2, 3, 4, 4, 2, 3, 3, { stride: [2, 2], pad: [1, 1, 1, 1] });
    await rt.scope(async () => {
      const xa = Float32Array.from(randomArray(2 * 3 * 16, 13, -1, 1));
      const w = packed(FP16, [3, 2, 3, 3], 14, 1, 8);
      const ref = refConvTranspose2d(xa, w.v, d, [1, 1]);
      const y = ops.convTranspose2d(Tensor.fromArray(rt, xa, [2, 3, 4, 4]), w.t, { stride: 2, padding: 1, outputPadding: 1 });
      expectWithin(await y.read(), ref.y, (i) => accBound(27, ref.mag[i]!), 'convTranspose2d fp16 weights');
    });
  });

  /** The exact value of each output (BigInt), rounded once to `f`. */
  function exactConv(x: Float64Array, w: Float64Array, outSize: number, taps: (o: number) => [number, number][], f: Format): number[] {
    return Array.from({ length: outSize }, (_, o) => {
      const d = exactDot(taps(o).map(([i, j]) => [x[i]!, w[j]!]));
      return quantize(f, roundOddToDouble(d.m, d.e));
    });
  }

  it('conv2d and convTranspose2d with quire accumulation equal the exact result rounded once', async () => {
    const d = dims(1, 2, 5, 5, 3, 3, 3, { stride: [2, 2], pad: [1, 1, 1, 1] });
    const [Ho, Wo] = convOutSize(d);
    await rt.scope(async () => {
      const x = packed(P8, [1, 2, 5, 5], 15);
      const w = packed(P8, [3, 2, 3, 3], 16, 2);
      // Taps of output (o, oh, ow): the same enumeration as refConv2d.
      const convTaps = (i: number): [number, number][] => {
        const o = Math.floor(i / (Ho * Wo));
        const oh = Math.floor(i / Wo) % Ho;
        const ow = i % Wo;
        const t: [number, number][] = [];
        for (let c = 0; c < 2; c++)
          for (let kh = 0; kh < 3; kh++)
            for (let kw = 0; kw < 3; kw++) {
              const h = oh * 2 - 1 + kh;
              const v = ow * 2 - 1 + kw;
              if (h >= 0 && v >= 0 && h < 5 && v < 5) t.push([(c * 5 + h) * 5 + v, ((o * 2 + c) * 3 + kh) * 3 + kw]);
            }
        return t;
      };
      const y = ops.conv2d(x.t, w.t, { stride: 2, padding: 1, accumulate: 'quire', output: { format: P16 } });
      expect(Array.from(await y.read())).toEqual(exactConv(x.v, w.v, 3 * Ho * Wo, convTaps, P16));

      // The transposed convolution of y' [1, 3, Ho, Wo] with w [3, 2, 3, 3] back to [1, 2, 5, 5]
      // (output padding 0 gives 5): each output sums the taps that reach it.
      const xt = packed(P8, [1, 3, Ho, Wo], 17);
      const wt = packed(P8, [3, 2, 3, 3], 18);
      const tTaps = (i: number): [number, number][] => {
        const o = Math.floor(i / 25);
        const oh = Math.floor(i / 5) % 5;
        const ow = i % 5;
        const t: [number, number][] = [];
        for (let c = 0; c < 3; c++)
          for (let h = 0; h < Ho; h++)
            for (let v = 0; v < Wo; v++)
              for (let kh = 0; kh < 3; kh++)
                for (let kw = 0; kw < 3; kw++) {
                  if (h * 2 - 1 + kh === oh && v * 2 - 1 + kw === ow) t.push([(c * Ho + h) * Wo + v, ((c * 2 + o) * 3 + kh) * 3 + kw]);
                }
        return t;
      };
      const yt = ops.convTranspose2d(xt.t, wt.t, { stride: 2, padding: 1, accumulate: 'quire', output: { format: P8 } });
      expect(yt.shape).toEqual([1, 2, 5, 5]);
      expect(Array.from(await yt.read())).toEqual(exactConv(xt.v, wt.v, 50, tTaps, P8));
    });
  });
});

describe('op counts and errors', () => {
  it('counts the true multiply-accumulates of a strided transposed convolution', async () => {
    const rec = new OpRecorder();
    rt.recorder = rec;
    try {
      rt.scope(() => {
        const x = Tensor.fromArray(rt, new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4]);
        const w = Tensor.fromArray(rt, new Float32Array(3 * 5 * 4 * 4), [3, 5, 4, 4]);
        ops.convTranspose2d(x, w, { stride: 2, padding: 1 });
      });
    } finally {
      rt.recorder = undefined;
    }
    const mac = rec.records().find((e) => e.kind === 'mac');
    expect(mac).toMatchObject({ a: 'fp32', b: 'fp32', acc: 'fp32', count: 2 * 3 * 16 * 5 * 16 });
  });

  it('names shapes and limits in its errors', () => {
    rt.scope(() => {
      const x = Tensor.fromArray(rt, new Float32Array(2 * 3 * 5 * 5), [2, 3, 5, 5]);
      const w = Tensor.fromArray(rt, new Float32Array(4 * 2 * 3 * 3), [4, 2, 3, 3]);
      expect(() => ops.conv2d(x, w)).toThrow(/weight \[4, 2, 3, 3\] expects 2 input channels, input \[2, 3, 5, 5\] has 3/);
      const w3 = Tensor.fromArray(rt, new Float32Array(4 * 3 * 7 * 7), [4, 3, 7, 7]);
      expect(() => ops.conv2d(x, w3)).toThrow(/does not fit input/);
      const wt = Tensor.fromArray(rt, new Float32Array(3 * 4 * 3 * 3), [3, 4, 3, 3]);
      expect(() => ops.convTranspose2d(x, wt, { stride: 2, outputPadding: 2 })).toThrow(/output padding 2 must be smaller than the stride or the dilation/);
      expect(() => ops.conv2d(x, w3.view([4, 3, 49, 1]), { padding: [1, 2, 3] as unknown as [number, number] })).toThrow(/padding/);
    });
  });
});
