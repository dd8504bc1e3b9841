// Op counts of matmul / linear, forward and backward, against numbers worked out by hand from the
// shapes. Conventions (engine/record/schema.ts): an M x K by K x N product is M*N*K MACs; every
// operand is read once and the output written once, in its value bits (packed codes and lattice
// values in their format's width, plain float32 in 32); a sum of R terms is R - 1 adds.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import * as ops from '../../engine/ops/index.ts';
import { encode, quantizeRaw } from '../../engine/quant/quantizer.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { openTestRuntime, randomTensor } from '../engine/harness.ts';
import { at, backwardFrom, convert, expectRecords, mac, mem, op, recordOps } from './counts.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const P8 = parseFormat('p8e2');
const P16 = parseFormat('p16e2');

const input = (shape: number[], seed: number, grad = true) => randomTensor(rt, shape, seed, grad);

describe('matmul op counts', () => {
  it('batched, both operands transposed, float32, with bias: forward and backward', async () => {
    // a [2, 3, 4] used transposed: A = a^T is 4 x 3 (M = 4, K = 3); b [2, 5, 3] transposed: B is
    // 3 x 5 (N = 5); batch 2. Output [2, 4, 5] = 40 values; bias [5].
    const [batch, M, K, N] = [2, 4, 3, 5];
    const outs = batch * M * N; // 40
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const a = input([batch, K, M], 1);
        const b = input([batch, N, K], 2);
        const bias = input([N], 3);
        const y = rt.inLayer('mm', () => ops.matmul(a, b, { transA: true, transB: true, bias }));
        backwardFrom(y, input([batch, M, N], 4, false));
      }),
    );
    expectRecords(records, [
      ...at('forward', 'mm', [
        mac('fp32', 'fp32', 'fp32', batch * M * N * K), // 120
        op('add', 'fp32', outs), // bias
        mem('read', 'activations', 'fp32', batch * K * M, 32),
        mem('read', 'weights', 'fp32', batch * N * K, 32),
        mem('read', 'weights', 'fp32', N, 32), // bias
        mem('write', 'activations', 'fp32', outs, 32),
      ]),
      ...at('backward', 'mm', [
        // dA = G B^T: per batch K x M outputs (A's storage order) over N
        mac('fp32', 'fp32', 'fp32', batch * K * M * N),
        mem('read', 'weights', 'fp32', batch * N * K, 32),
        mem('read', 'errors', 'fp32', outs, 32),
        mem('write', 'errors', 'fp32', batch * K * M, 32),
        // dB = A^T G: per batch N x K outputs over M
        mac('fp32', 'fp32', 'fp32', batch * N * K * M),
        mem('read', 'errors', 'fp32', outs, 32),
        mem('read', 'activations', 'fp32', batch * K * M, 32),
        mem('write', 'gradients', 'fp32', batch * N * K, 32),
        // dbias: sum of G over batch and rows, N sums of batch*M = 8 terms
        op('add', 'fp32', N * (batch * M - 1)),
        mem('read', 'errors', 'fp32', outs, 32),
        mem('write', 'errors', 'fp32', N, 32),
      ]),
    ]);
  });

  it('packed p8e2 weights x p8e2 activations, p16e2 output, bias and leaky ReLU: forward and backward', async () => {
    // x [6, 10] on the p8e2 lattice, w [4, 10] packed p8e2 codes (exponent bias 2): M = 6, K = 10, N = 4.
    const [M, K, N] = [6, 10, 4];
    const outs = M * N; // 24
    let xq!: Tensor;
    let wq!: Tensor;
    let bias!: Tensor;
    // Operands prepared outside the recording: their quantization is not part of the product.
    rt.scope(() => {
      xq = rt.keep(quantizeRaw(input([M, K], 5), { format: P8 }));
      xq.requiresGrad = true;
      wq = rt.keep(encode(input([N, K], 6, false), { format: P8, bias: 2 }));
      wq.requiresGrad = true;
      bias = rt.keep(input([N], 7));
    });
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const y = rt.inLayer('fc', () => ops.linear(xq, wq, { bias, activation: 'leaky_relu', slope: 0.2, output: { format: P16 } }));
        backwardFrom(y, input([M, N], 8, false));
      }),
    );
    for (const t of [xq, wq, bias]) {
      t.grad?.dispose();
      t.dispose();
    }
    expectRecords(records, [
      ...at('forward', 'fc', [
        mac('p8e2', 'p8e2', 'fp32', M * N * K), // 240, accumulated in float32
        op('add', 'fp32', outs), // bias, in the float32 epilogue
        { kind: 'activation', fn: 'leaky_relu', format: 'fp32', fast: false, count: outs },
        convert('fp32', 'p16e2', outs), // the epilogue's rounding to the output format
        mem('read', 'activations', 'p8e2', M * K, 8),
        mem('read', 'weights', 'p8e2', N * K, 8),
        mem('read', 'weights', 'fp32', N, 32),
        mem('write', 'activations', 'p16e2', outs, 16),
        // kept for the backward: the activation's float32 output before rounding
        mem('write', 'activations', 'fp32', outs, 32),
      ]),
      ...at('backward', 'fc', [
        // G * leaky_relu'(y): one mul and one compare per output, reading G and the saved output
        op('mul', 'fp32', outs),
        op('max', 'fp32', outs),
        mem('read', 'errors', 'fp32', outs, 32),
        mem('read', 'errors', 'fp32', outs, 32),
        mem('write', 'errors', 'fp32', outs, 32),
        // dX = Gz W: M x K over N; float32 gradient times packed weights
        mac('fp32', 'p8e2', 'fp32', M * K * N),
        mem('read', 'errors', 'fp32', outs, 32),
        mem('read', 'weights', 'p8e2', N * K, 8),
        mem('write', 'errors', 'fp32', M * K, 32),
        // dW = Gz^T X: N x K over M
        mac('fp32', 'p8e2', 'fp32', N * K * M),
        mem('read', 'errors', 'fp32', outs, 32),
        mem('read', 'activations', 'p8e2', M * K, 8),
        mem('write', 'gradients', 'fp32', N * K, 32),
        // dbias: N sums of M terms
        op('add', 'fp32', N * (M - 1)),
        mem('read', 'errors', 'fp32', outs, 32),
        mem('write', 'errors', 'fp32', N, 32),
      ]),
    ]);
  });

  it('quire accumulation rounds once, straight to the output format, with the quire width the lattices need', async () => {
    // p8e2 values lie in 2^-24 .. 2^24 (maxpos = 2^((8-2) * 4)) with the lowest set bit at 2^-24, so a
    // product lies in [2^-48, 2^50) and a sum of K = 10 of them below 2^(50 + ceil(log2 10)) = 2^54:
    // bits -48 .. 54 need 103 bits, 4 limbs of 32: a 128-bit quire (the posit standard's 16n for n = 8).
    const [M, K, N] = [3, 10, 2];
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        const a = encode(input([M, K], 9, false), { format: P8 });
        const b = encode(input([K, N], 10, false), { format: P8 });
        rt.inLayer('q', () => ops.matmul(a, b, { accumulate: 'quire', output: { format: P16 }, roles: { a: 'activations', b: 'weights' } }));
      }),
    );
    const forward = records.filter((r) => r.kind !== 'convert'); // the operands' encoding
    expectRecords(forward, [
      ...at('forward', 'q', [
        mac('p8e2', 'p8e2', 'quire', M * N * K),
        { kind: 'quire_round', format: 'p16e2', quireBits: 128, count: M * N },
        mem('read', 'activations', 'p8e2', M * K, 8),
        mem('read', 'weights', 'p8e2', K * N, 8),
        mem('write', 'activations', 'p16e2', M * N, 16),
      ]),
    ]);
    expect(records.filter((r) => r.kind === 'convert')).toEqual([
      ...at('forward', '', [convert('fp32', 'p8e2', M * K + K * N)]).map((r) => ({ ...r, layer: '' })),
    ]);
  });

  // The split of K over workgroups depends on the adapter (lavapipe: parallelism 4; a big GPU: 256):
  // the counts must not, and the K MACs per output already include every accumulation.
  it('a long K (split over workgroups on this adapter) counts the same MACs and no extra adds', async () => {
    // 2 x 1024 by 1024 x 3: lavapipe splits K = 1024 into 4 slices (one 32 x 32 tile, 4 workgroups wanted).
    const [M, K, N] = [2, 1024, 3];
    const records = await recordOps(rt, () =>
      rt.scope(() => {
        rt.inLayer('long', () => ops.matmul(input([M, K], 11, false), input([K, N], 12, false)));
      }),
    );
    expectRecords(records, [
      ...at('forward', 'long', [
        mac('fp32', 'fp32', 'fp32', M * N * K),
        mem('read', 'activations', 'fp32', M * K, 32),
        mem('read', 'weights', 'fp32', K * N, 32),
        mem('write', 'activations', 'fp32', M * N, 32),
      ]),
    ]);
  });
});
