// Fusions that remove dispatches without changing a bit (engine/ops/round.ts, shaders/batchnorm.ts's
// fused passes, the multi-tensor optimizer update): each against the unfused way of computing the
// same thing, compared bit for bit, on values that exercise rounding (ties, tiny and huge values).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { parseFormat, type Format } from '../../formats/descriptor.ts';
import * as ops from '../../engine/ops/index.ts';
import { Adam } from '../../engine/optim/index.ts';
import { quantizer, quantizeRaw } from '../../engine/quant/quantizer.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { openTestRuntime, randomArray } from './harness.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const bits = async (t: Tensor) => new Uint32Array((await t.read()).buffer);

/** Values spread over many binades (so rounding to 8 and 16 bits matters), with signs and zeros. */
function spread(n: number, seed: number): Float32Array {
  const u = randomArray(n, seed);
  const e = randomArray(n, seed + 1, -12, 12);
  return Float32Array.from(u, (v, i) => (i % 17 === 0 ? 0 : v * 2 ** Math.round(e[i]!)));
}

const FORMATS: [string, Format][] = [['p8e2', parseFormat('p8e2')], ['p16e2', parseFormat('p16e2')], ['e4m3', parseFormat('e4m3')]];

describe('rounding fused into the producing kernel', () => {
  for (const [name, format] of FORMATS) {
    for (const rounding of ['nearest', 'stochastic'] as const) {
      it(`leaky relu rounded to ${name} (${rounding}) equals the kernel and a quantize pass, counters included`, async () => {
        await rt.scope(async () => {
          const x = Tensor.fromArray(rt, spread(1000, 3), [10, 100]);
          rt.randomSeed = 77;
          rt.randomCounter = 1234;
          const separate = quantizeRaw(ops.leakyRelu(x, 0.2), { format, rounding });
          const after = rt.randomCounter;
          rt.randomCounter = 1234;
          const fused = ops.leakyRelu(x, 0.2, { format, rounding });
          expect(rt.randomCounter).toBe(after);
          expect(fused.lattice?.name).toBe(format.name);
          expect(await bits(fused)).toEqual(await bits(separate));
        });
      });
    }
  }

  it('dropout and embedding rounded in their kernels equal a quantize pass; the conversion is counted once', async () => {
    const f = parseFormat('p16e2');
    await rt.scope(async () => {
      const x = Tensor.fromArray(rt, spread(600, 5), [6, 100]);
      const q = { format: f, rounding: 'nearest' as const };
      expect(await bits(ops.dropout(x, 0.3, { seed: 4, training: true, round: q }))).toEqual(await bits(quantizeRaw(ops.dropout(x, 0.3, { seed: 4, training: true }), q)));
      const table = Tensor.fromArray(rt, spread(50, 8), [10, 5]);
      const idx = Uint32Array.from([3, 0, 9, 3, 7]);
      rt.recorder = new OpRecorder();
      const fused = ops.embedding(idx, table, q);
      const converts = rt.recorder.records().filter((r) => r.kind === 'convert');
      rt.recorder = undefined;
      expect(converts).toEqual([{ kind: 'convert', from: 'fp32', to: 'p16e2', rounding: 'nearest', count: 25, phase: rt.phase, layer: '' }]);
      expect(await bits(fused)).toEqual(await bits(quantizeRaw(ops.embedding(idx, table), q)));
    });
  });
});

describe('fewer kernels for the losses', () => {
  for (const loss of ['mseLoss', 'bceWithLogits'] as const) {
    for (const target of [0, 1]) {
      it(`${loss} against the number ${target} gives the bits of a filled target tensor, loss and gradient`, async () => {
        const run = (constant: boolean) =>
          rt.scope(async () => {
            const x = Tensor.fromArray(rt, spread(24, 30), [8, 3]);
            x.requiresGrad = true;
            const t = constant ? target : ops.full(rt, x.shape, target);
            const l = ops[loss](x, t);
            ops.backward(ops.affine(l, 8));
            return Promise.all([l, x.grad!].map(bits));
          });
        const [l0, g0] = await run(false);
        const [l1, g1] = await run(true);
        expect(l1).toEqual(l0);
        expect(g1).toEqual(g0);
      });
    }
  }
});

describe('batch norm: statistics and normalisation in one dispatch', () => {
  const shapes = [
    [16, 6],
    [4, 3, 5, 5],
  ];
  for (const shape of shapes) {
    for (const round of [null, { format: parseFormat('p16e2'), rounding: 'nearest' as const }]) {
      it(`[${shape.join(', ')}]${round ? ', output rounded to p16e2, input gradient to p8e2' : ''}: the same bits forward and backward`, async () => {
        const c = shape[1]!;
        const n = shape.reduce((a, b) => a * b, 1);
        // fused: one dispatch per pass and the quantizers' rounding in the batch norm's kernels;
        // separate: the four passes and a quantize pass per quantizer.
        const run = (fuse: boolean) =>
          rt.scope(async () => {
            rt.fuseRounding = fuse;
            const x = Tensor.fromArray(rt, spread(n, 11), shape);
            x.requiresGrad = true;
            // A quantizer between x and the batch norm rounds the input gradient (backward only).
            const xq = round ? quantizer(x, null, { format: parseFormat('p8e2') }) : x;
            const weight = Tensor.fromArray(rt, Float32Array.from(randomArray(c, 12, 0.5, 1.5)), [c]);
            const bias = Tensor.fromArray(rt, Float32Array.from(randomArray(c, 13)), [c]);
            weight.requiresGrad = true;
            bias.requiresGrad = true;
            const runningMean = Tensor.fromArray(rt, new Float32Array(c), [c]);
            const runningVar = Tensor.fromArray(rt, new Float32Array(c).fill(1), [c]);
            const bn = ops.batchNorm(xq, { weight, bias, runningMean, runningVar, training: true, eps: 1e-3, round: fuse ? round : null, fuse });
            const y = round && !fuse ? quantizer(bn, round, null) : bn;
            const r = Tensor.fromArray(rt, Float32Array.from(randomArray(n, 14)), shape);
            ops.backward(ops.sum(ops.mul(y, r)));
            return Promise.all([y, x.grad!, weight.grad!, bias.grad!, runningMean, runningVar].map(bits));
          });
        const separate = await run(false);
        const fused = await run(true);
        rt.fuseRounding = true;
        separate.forEach((s, i) => expect(fused[i], `output ${i}`).toEqual(s));
      });
    }
  }
});

describe('multi-tensor optimizer update', () => {
  it('Adam over a group of parameters gives the bits of one dispatch per parameter (packed state, forward copies, stochastic state)', async () => {
    const shapes = [[37], [5, 3], [1], [7, 9]];
    const run = async (group: number) => {
      const params = shapes.map((s, k) => {
        const n = s.reduce((a, b) => a * b, 1);
        const t = rt.keep(Tensor.fromArray(rt, Float32Array.from(randomArray(n, 40 + k)), s));
        t.requiresGrad = true;
        t.name = `p${k}`;
        return t;
      });
      const opt = new Adam(rt, params, {
        lr: 0.01,
        group,
        lossScale: 4,
        precision: { grad: { format: 'p16e2' }, state: { format: 'p16e2', rounding: 'stochastic' }, master: { format: 'p16e2' }, forwardCopy: { format: 'p8e2', bias: 3 }, seed: 21 },
      });
      for (let step = 0; step < 3; step++) {
        params.forEach((p, k) => {
          p.grad?.dispose();
          p.grad = rt.keep(Tensor.fromArray(rt, spread(p.size, 100 * step + k), p.shape));
        });
        opt.step();
      }
      const out = [...(await Promise.all(params.map(bits))), ...(await Promise.all(params.map((p) => opt.forwardCopy(p).readWords())))];
      const state = await opt.state();
      opt.zeroGrad();
      opt.dispose();
      for (const p of params) p.dispose();
      return { out, state };
    };
    const single = await run(1);
    const grouped = await run(32);
    grouped.out.forEach((o, i) => expect(o, `tensor ${i}`).toEqual(single.out[i]));
    expect(grouped.state).toEqual(single.state);
  });
});
