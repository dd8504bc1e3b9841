// Op counts of conv2d and convTranspose2d, forward and backward, against numbers worked out by hand
// from the shapes. A convolution's MACs are its nominal taps: every output value of a conv2d takes
// Ci*KH*KW products, padding taps included (what a dense array computes, and what FLOP counters
// report); a transposed convolution is the same count seen from its input: N*Ci*H*W*Co*KH*KW. Its
// input- and weight-gradient products have the same taps, so the same count each. Each tensor is
// read once per GEMM and written once (no im2col matrix is materialised).

import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as ops from '../../engine/ops/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { openTestRuntime, randomTensor } from '../engine/harness.ts';
import { at, backwardFrom, expectRecords, mac, mem, op, recordOps } from './counts.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const input = (shape: number[], seed: number, grad = true) => randomTensor(rt, shape, seed, grad);

describe('convolution op counts', () => {
  it('conv2d with stride 2 and padding 1, bias: forward and backward', async () => {
    // x [2, 3, 7, 7], w [4, 3, 3, 3]: Ho = Wo = floor((7 + 2*1 - 3) / 2) + 1 = 4; output [2, 4, 4, 4].
    const [N, Ci, H, W, Co, KH, KW] = [2, 3, 7, 7, 4, 3, 3];
    const [Ho, Wo] = [4, 4];
    const xs = N * Ci * H * W; // 294
    const ws = Co * Ci * KH * KW; // 108
    const ys = N * Co * Ho * Wo; // 128
    const taps = N * Co * Ho * Wo * Ci * KH * KW; // 3456
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const x = input([N, Ci, H, W], 1);
        const w = input([Co, Ci, KH, KW], 2);
        const bias = input([Co], 3);
        const y = rt.inLayer('conv', () => ops.conv2d(x, w, { stride: 2, padding: 1, bias }));
        backwardFrom(y, input([N, Co, Ho, Wo], 4, false));
      }),
    );
    expectRecords(records, [
      ...at('forward', 'conv', [
        mac('fp32', 'fp32', 'fp32', taps),
        op('add', 'fp32', ys), // bias
        mem('read', 'weights', 'fp32', ws, 32),
        mem('read', 'activations', 'fp32', xs, 32),
        mem('read', 'weights', 'fp32', Co, 32), // bias
        mem('write', 'activations', 'fp32', ys, 32),
      ]),
      ...at('backward', 'conv', [
        // dx: the transposed convolution of G with w
        mac('fp32', 'fp32', 'fp32', taps),
        mem('read', 'weights', 'fp32', ws, 32),
        mem('read', 'errors', 'fp32', ys, 32),
        mem('write', 'errors', 'fp32', xs, 32),
        // dw: G correlated with x
        mac('fp32', 'fp32', 'fp32', taps),
        mem('read', 'errors', 'fp32', ys, 32),
        mem('read', 'activations', 'fp32', xs, 32),
        mem('write', 'gradients', 'fp32', ws, 32),
        // dbias: Co sums of N*Ho*Wo = 32 terms
        op('add', 'fp32', Co * (N * Ho * Wo - 1)),
        mem('read', 'errors', 'fp32', ys, 32),
        mem('write', 'errors', 'fp32', Co, 32),
      ]),
    ]);
  });

  it('convTranspose2d with stride 2 and padding 1, bias: forward and backward', async () => {
    // x [2, 4, 3, 3], w [4, 2, 4, 4] (in 4, out 2): OH = (3 - 1)*2 - 2*1 + (4 - 1) + 1 = 6; output [2, 2, 6, 6].
    const [N, Ci, H, W, Co, KH, KW] = [2, 4, 3, 3, 2, 4, 4];
    const [OH, OW] = [6, 6];
    const xs = N * Ci * H * W; // 72
    const ws = Ci * Co * KH * KW; // 128
    const ys = N * Co * OH * OW; // 144
    const taps = N * Ci * H * W * Co * KH * KW; // 2304: every input value meets every kernel tap
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const x = input([N, Ci, H, W], 5);
        const w = input([Ci, Co, KH, KW], 6);
        const bias = input([Co], 7);
        const y = rt.inLayer('up', () => ops.convTranspose2d(x, w, { stride: 2, padding: 1, bias }));
        backwardFrom(y, input([N, Co, OH, OW], 8, false));
      }),
    );
    expectRecords(records, [
      ...at('forward', 'up', [
        mac('fp32', 'fp32', 'fp32', taps),
        op('add', 'fp32', ys),
        mem('read', 'weights', 'fp32', ws, 32),
        mem('read', 'activations', 'fp32', xs, 32),
        mem('read', 'weights', 'fp32', Co, 32),
        mem('write', 'activations', 'fp32', ys, 32),
      ]),
      ...at('backward', 'up', [
        // dx: the (strided) convolution of G with w
        mac('fp32', 'fp32', 'fp32', taps),
        mem('read', 'weights', 'fp32', ws, 32),
        mem('read', 'errors', 'fp32', ys, 32),
        mem('write', 'errors', 'fp32', xs, 32),
        // dw: x correlated with G
        mac('fp32', 'fp32', 'fp32', taps),
        mem('read', 'activations', 'fp32', xs, 32),
        mem('read', 'errors', 'fp32', ys, 32),
        mem('write', 'gradients', 'fp32', ws, 32),
        // dbias: Co sums of N*OH*OW = 72 terms
        op('add', 'fp32', Co * (N * OH * OW - 1)),
        mem('read', 'errors', 'fp32', ys, 32),
        mem('write', 'errors', 'fp32', Co, 32),
      ]),
    ]);
  });
});
