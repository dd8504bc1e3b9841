// Op counts of the other layers the paper's GANs use (embedding, dropout, batch norm in evaluation),
// against numbers worked out by hand from the shapes. Conventions as in matmul-counts.test.ts.

import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as ops from '../../engine/ops/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { openTestRuntime, randomTensor } from '../engine/harness.ts';
import { at, backwardFrom, expectRecords, mem, op, recordOps } from './counts.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const input = (shape: number[], seed: number, grad = true) => randomTensor(rt, shape, seed, grad);

describe('layer op counts', () => {
  it('embedding: forward gathers B rows, backward adds B rows into a zeroed table gradient', async () => {
    const [V, D] = [10, 4];
    const labels = [3, 1, 3, 7, 0]; // B = 5 (the repeated 3 changes nothing: counts follow shapes)
    const Bn = labels.length;
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const table = input([V, D], 1);
        const y = rt.inLayer('emb', () => ops.embedding(labels, table));
        backwardFrom(y, input([Bn, D], 2, false));
      }),
    );
    expectRecords(records, [
      ...at('forward', 'emb', [
        mem('read', 'inputs', 'fp32', Bn, 32), // the indices (float32 integers)
        mem('read', 'weights', 'fp32', Bn * D, 32), // the rows they pick
        mem('write', 'activations', 'fp32', Bn * D, 32),
      ]),
      ...at('backward', 'emb', [
        op('add', 'fp32', Bn * D),
        mem('read', 'inputs', 'fp32', Bn, 32),
        mem('read', 'errors', 'fp32', Bn * D, 32),
        mem('write', 'gradients', 'fp32', V * D, 32), // the whole table's gradient
      ]),
    ]);
  });

  it('dropout: a 32-bit compare and a scaling multiply per element, forward and backward', async () => {
    const shape = [4, 6];
    const n = 24;
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const x = input(shape, 3);
        const y = rt.inLayer('drop', () => ops.dropout(x, 0.4, { seed: 9, training: true }));
        backwardFrom(y, input(shape, 4, false));
      }),
    );
    const per = (phase: 'forward' | 'backward', role: 'activations' | 'errors') =>
      at(phase, 'drop', [op('max', 'fp32', n), op('mul', 'fp32', n), mem('read', role, 'fp32', n, 32), mem('write', role, 'fp32', n, 32)]);
    expectRecords(records, [...per('forward', 'activations'), ...per('backward', 'errors')]);
  });

  it('batch norm in evaluation (deployment): running statistics, no reduction', async () => {
    // x [3, 2, 2, 2]: n = 24 elements, c = 2 channels.
    const [n, c] = [24, 2];
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const x = input([3, c, 2, 2], 5, false);
        const stat = (v: number) => Tensor.fromArray(rt, new Float32Array(c).fill(v), [c]);
        rt.phase = 'inference';
        try {
          rt.inLayer('bn', () => ops.batchNorm(x, { weight: stat(1), bias: stat(0), runningMean: stat(0), runningVar: stat(1), training: false }));
        } finally {
          rt.phase = 'forward';
        }
      }),
    );
    expectRecords(records, [
      ...at('inference', 'bn', [
        // invstd = 1 / sqrt(var + eps) per channel; y = (x - mean) invstd w + b per element
        op('add', 'fp32', c + 2 * n),
        op('mul', 'fp32', 2 * n),
        op('div', 'fp32', c),
        op('sqrt', 'fp32', c),
        mem('read', 'weights', 'fp32', 2 * c, 32), // running mean and variance
        mem('write', 'activations', 'fp32', 2 * c, 32), // saved [mean | invstd]
        mem('read', 'activations', 'fp32', 2 * c, 32),
        mem('read', 'activations', 'fp32', n, 32),
        mem('read', 'weights', 'fp32', 2 * c, 32), // weight and bias
        mem('write', 'activations', 'fp32', n, 32),
      ]),
    ]);
  });
});
