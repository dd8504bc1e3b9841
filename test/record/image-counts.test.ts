// Op counts of the ops the image-to-image and super-resolution GANs add, against numbers worked out by
// hand from the shapes. Conventions as in matmul-counts.test.ts: memory is each tensor a kernel reads
// or writes, once, in its value bits; a sum of k terms is k - 1 adds.

import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as ops from '../../engine/ops/index.ts';
import { quantizeRaw } from '../../engine/quant/quantizer.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import { openTestRuntime, randomTensor } from '../engine/harness.ts';
import { at, backwardFrom, expectRecords, mem, op, recordOps } from './counts.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const input = (shape: number[], seed: number, grad = true) => randomTensor(rt, shape, seed, grad);
const P16 = parseFormat('p16e2');

describe('spatial rearrangement op counts', () => {
  it('reflectionPad2d: a copy forward (in the input lattice), a sum per input backward', async () => {
    // x [2, 3, 4, 5] on the p16e2 lattice, pads [left 1, right 2, top 3, bottom 1]: output [2, 3, 8, 8].
    const xs = 2 * 3 * 4 * 5; // 120
    const ys = 2 * 3 * 8 * 8; // 384
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const x = quantizeRaw(input([2, 3, 4, 5], 1, false), { format: P16 });
        x.requiresGrad = true;
        const y = rt.inLayer('pad', () => ops.reflectionPad2d(x, [1, 2, 3, 1]));
        backwardFrom(y, input([2, 3, 8, 8], 2, false));
      }),
    );
    expectRecords(records, [
      // (the quantizer that put x on the lattice, outside the layer)
      ...at('forward', '', [{ kind: 'convert', from: 'fp32', to: 'p16e2', rounding: 'nearest', count: xs }]),
      ...at('forward', 'pad', [mem('read', 'activations', 'p16e2', xs, 16), mem('write', 'activations', 'p16e2', ys, 16)]),
      ...at('backward', 'pad', [
        // 384 output gradients summed into 120 inputs: 384 - 120 adds
        op('add', 'fp32', ys - xs),
        mem('read', 'errors', 'fp32', ys, 32),
        mem('write', 'errors', 'fp32', xs, 32),
      ]),
    ]);
  });

  it('upsampleNearest2d by [2, 3]: a copy forward, f_h f_w - 1 adds per input backward', async () => {
    const xs = 3 * 2 * 3 * 4; // 72
    const ys = xs * 6; // 432
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const x = input([3, 2, 3, 4], 3);
        const y = rt.inLayer('up', () => ops.upsampleNearest2d(x, [2, 3]));
        backwardFrom(y, input([3, 2, 6, 12], 4, false));
      }),
    );
    expectRecords(records, [
      ...at('forward', 'up', [mem('read', 'activations', 'fp32', xs, 32), mem('write', 'activations', 'fp32', ys, 32)]),
      ...at('backward', 'up', [op('add', 'fp32', xs * 5), mem('read', 'errors', 'fp32', ys, 32), mem('write', 'errors', 'fp32', xs, 32)]),
    ]);
  });

  it('pixelShuffle: one permuting copy forward and one backward, no arithmetic, in the values\' lattice', async () => {
    const n = 2 * 8 * 3 * 5; // 240
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const x = quantizeRaw(input([2, 8, 3, 5], 5, false), { format: P16 });
        x.requiresGrad = true;
        const y = rt.inLayer('shuffle', () => ops.pixelShuffle(x, 2));
        backwardFrom(y, quantizeRaw(input([2, 2, 6, 10], 6, false), { format: P16 }));
      }),
    );
    expectRecords(records, [
      ...at('forward', '', [{ kind: 'convert', from: 'fp32', to: 'p16e2', rounding: 'nearest', count: 2 * n }]),
      ...at('forward', 'shuffle', [mem('read', 'activations', 'p16e2', n, 16), mem('write', 'activations', 'p16e2', n, 16)]),
      ...at('backward', 'shuffle', [mem('read', 'errors', 'p16e2', n, 16), mem('write', 'errors', 'p16e2', n, 16)]),
    ]);
  });

  it('concat (the channel concatenation of dense blocks): each pair copy reads both parts and writes the whole, in their lattice when they share one', async () => {
    // a [2, 3, 4, 4], b [2, 1, 4, 4], c [2, 2, 4, 4] on p16e2; d plain float32. Three parts: two pair copies.
    const plane = 2 * 16;
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const [a, b, c] = [[2, 3, 4, 4], [2, 1, 4, 4], [2, 2, 4, 4]].map((s, i) => quantizeRaw(input(s, 10 + i, false), { format: P16 }));
        rt.inLayer('cat', () => ops.concat([a!, b!, c!], 1));
        rt.inLayer('mixed', () => ops.concat([a!, input([2, 1, 4, 4], 20, false)], 1));
      }),
    );
    expectRecords(records, [
      ...at('forward', '', [{ kind: 'convert', from: 'fp32', to: 'p16e2', rounding: 'nearest', count: 6 * plane }]),
      ...at('forward', 'cat', [
        mem('read', 'activations', 'p16e2', 3 * plane + plane, 16),
        mem('write', 'activations', 'p16e2', 4 * plane, 16),
        mem('read', 'activations', 'p16e2', 4 * plane + 2 * plane, 16),
        mem('write', 'activations', 'p16e2', 6 * plane, 16),
      ]),
      ...at('forward', 'mixed', [
        mem('read', 'activations', 'p16e2', 3 * plane, 16),
        mem('read', 'activations', 'fp32', plane, 32),
        mem('write', 'activations', 'fp32', 4 * plane, 32),
      ]),
    ]);
  });

  it('addScaled x + k f: one multiply and one add per element; backward scales f\'s gradient only', async () => {
    const n = 2 * 3 * 5 * 4; // 120
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const [x, f] = [input([2, 3, 5, 4], 30), input([2, 3, 5, 4], 31)];
        const y = rt.inLayer('res', () => ops.addScaled(x, f, 0.2));
        backwardFrom(y, input([2, 3, 5, 4], 32, false));
      }),
    );
    expectRecords(records, [
      ...at('forward', 'res', [op('mul', 'fp32', n), op('add', 'fp32', n), mem('read', 'activations', 'fp32', 2 * n, 32), mem('write', 'activations', 'fp32', n, 32)]),
      // x's gradient is g itself; f's is 0.2 g (+ 0)
      ...at('backward', 'res', [op('mul', 'fp32', n), op('add', 'fp32', n), mem('read', 'errors', 'fp32', n, 32), mem('write', 'errors', 'fp32', n, 32)]),
    ]);
  });

  it('l1Loss (reduction none): |a - b| forward; g sign(a - b) backward for the input only', async () => {
    const n = 3 * 7; // 21
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const y = ops.l1Loss(input([3, 7], 33), input([3, 7], 34, false), { reduction: 'none' });
        backwardFrom(y, input([3, 7], 35, false));
      }),
    );
    expectRecords(records, [
      ...at('forward', '', [op('add', 'fp32', n), mem('read', 'activations', 'fp32', 2 * n, 32), mem('write', 'activations', 'fp32', n, 32)]),
      ...at('backward', '', [op('add', 'fp32', n), op('max', 'fp32', n), op('mul', 'fp32', n), mem('read', 'errors', 'fp32', 3 * n, 32), mem('write', 'errors', 'fp32', n, 32)]),
    ]);
  });

  it('instanceNorm without affine: the fused batch-norm passes over N*C planes (training statistics, no running buffers)', async () => {
    // x [2, 3, 4, 5]: n = 120 elements in c = 6 planes of 20.
    const [n, c] = [120, 6];
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const x = input([2, 3, 4, 5], 40);
        const y = rt.inLayer('norm', () => ops.instanceNorm(x));
        backwardFrom(y, input([2, 3, 4, 5], 41, false));
      }),
    );
    expectRecords(records, [
      ...at('forward', 'norm', [
        mem('write', 'activations', 'fp32', 2 * c, 32), // the unit weight and zero bias per plane (fills)
        // mean (n - c add, c div), centred variance (n add, n mul, n - c add, c div), invstd (c add,
        // c sqrt, c div), apply (x - mean) invstd w + b (2n add, 2n mul)
        op('add', 'fp32', n - c + n + (n - c) + c + 2 * n),
        op('mul', 'fp32', 3 * n),
        op('div', 'fp32', 3 * c),
        op('sqrt', 'fp32', c),
        mem('read', 'activations', 'fp32', 3 * n, 32), // x: mean pass, variance pass, apply
        mem('write', 'activations', 'fp32', 2 * c, 32), // saved [mean | invstd] (the fused pass keeps them in registers)
        mem('read', 'weights', 'fp32', 2 * c, 32), // weight and bias
        mem('write', 'activations', 'fp32', n, 32),
      ]),
      ...at('backward', 'norm', [
        // plane sums of g and g xhat (n add, 2n mul, 2(n - c) add), then gx (3n add, 4n mul, n div)
        op('add', 'fp32', n + 2 * (n - c) + 3 * n),
        op('mul', 'fp32', 2 * n + 4 * n),
        op('div', 'fp32', n),
        mem('read', 'errors', 'fp32', 4 * n, 32), // g and x, for the sums and for the input gradient
        mem('read', 'errors', 'fp32', 2 * c, 32), // saved statistics (then kept in registers, as the sums)
        mem('write', 'gradients', 'fp32', 2 * c, 32),
        mem('read', 'weights', 'fp32', c, 32),
        mem('write', 'errors', 'fp32', n, 32),
      ]),
    ]);
  });
});
