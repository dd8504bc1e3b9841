import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as ops from '../../engine/ops/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import * as ref from './cpu-ref.ts';
import { checkOp, openTestRuntime, randomArray, size } from './harness.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const inp = (shape: number[], seed: number, lo = -2, hi = 2) => ({ shape, data: randomArray(size(shape), seed, lo, hi) });

describe('elementwise ops (forward and backward vs float64)', () => {
  const unaryCases: [string, (x: Tensor) => Tensor, (v: number) => number, number?, number?][] = [
    ['relu', ops.relu, (v) => Math.max(v, 0)],
    ['leakyRelu', (x) => ops.leakyRelu(x, 0.2), (v) => (v > 0 ? v : 0.2 * v)],
    ['tanh', ops.tanh, Math.tanh],
    ['sigmoid', ops.sigmoid, (v) => 1 / (1 + Math.exp(-v))],
    ['exp', ops.exp, Math.exp],
    ['log', ops.log, Math.log, 0.5, 3],
    ['sqrt', ops.sqrt, Math.sqrt, 0.5, 3],
    ['square', ops.square, (v) => v * v],
    ['neg', ops.neg, (v) => -v],
    ['affine', (x) => ops.affine(x, 3, -0.5), (v) => 3 * v - 0.5],
  ];
  for (const [name, g, c, lo, hi] of unaryCases) {
    it(name, async () => {
      await checkOp({ rt, what: name, inputs: [inp([3, 5, 7], 1, lo ?? -2, hi ?? 2)], gpu: g, cpu: (x) => x.map(c) });
    });
  }

  const binaryCases: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
    ['add', ops.add, (x, y) => x + y],
    ['sub', ops.sub, (x, y) => x - y],
    ['mul', ops.mul, (x, y) => x * y],
    ['div', ops.div, (x, y) => x / y],
  ];
  const shapes: [number[], number[]][] = [
    [[3, 5], [3, 5]],
    [[2, 3, 5], [5]],
    [[2, 1, 5], [3, 1]],
    [[1], [4, 3]],
  ];
  for (const [name, g, c] of binaryCases) {
    for (const [as, bs] of shapes) {
      it(`${name} [${as}] with [${bs}]`, async () => {
        const b = name === 'div' ? inp(bs, 3, 0.5, 2) : inp(bs, 3);
        await checkOp({
          rt,
          what: `${name} [${as}]x[${bs}]`,
          inputs: [inp(as, 2), b],
          gpu: g,
          cpu: (x, y) => ref.binary(x, as, y, bs, c),
        });
      });
    }
  }

  it('a tensor used twice accumulates both gradients', async () => {
    await checkOp({ rt, what: 'x*x+x', inputs: [inp([4, 3], 5)], gpu: (x) => ops.add(ops.mul(x, x), x), cpu: (x) => x.map((v) => v * v + v) });
  });

  it('rejects shapes that do not broadcast, naming both', () => {
    rt.scope(() => {
      const a = ops.full(rt, [2, 3], 1);
      const b = ops.full(rt, [4], 1);
      expect(() => ops.add(a, b)).toThrow(/\[2, 3\] and \[4\] do not broadcast/);
    });
  });
});

describe('reductions', () => {
  const cases: [number[], number[] | undefined][] = [
    [[3, 5, 7], undefined],
    [[3, 5, 7], [1]],
    [[3, 5, 7], [0, 2]],
    [[2, 3, 4, 5], [0, 2, 3]],
    [[130], [0]],
    [[1, 7], [0]],
  ];
  for (const [shape, axes] of cases) {
    it(`sum and mean of [${shape}] over ${axes ? `[${axes}]` : 'all'}`, async () => {
      const ax = axes ?? shape.map((_, i) => i);
      const n = ax.reduce((k, a) => k * shape[a]!, 1);
      await checkOp({ rt, what: 'sum', inputs: [inp(shape, 7)], gpu: (x) => ops.sum(x, axes), cpu: (x) => ref.reduceSum(x, shape, ax) });
      await checkOp({ rt, what: 'mean', inputs: [inp(shape, 8)], gpu: (x) => ops.mean(x, axes), cpu: (x) => ref.reduceSum(x, shape, ax, 1 / n) });
    });
  }
  it('keepDims keeps reduced axes as 1', () => {
    rt.scope(() => {
      expect(ops.sum(ops.full(rt, [2, 3, 4], 1), [1], true).shape).toEqual([2, 1, 4]);
    });
  });
});

describe('shape ops', () => {
  it('reshape shares storage and reshapes the gradient back', async () => {
    await checkOp({ rt, what: 'reshape', inputs: [inp([2, 6], 11)], gpu: (x) => ops.square(ops.reshape(x, [3, -1])), cpu: (x) => x.map((v) => v * v) });
  });
  it('permute and transpose', async () => {
    const shape = [2, 3, 4];
    await checkOp({ rt, what: 'permute', inputs: [inp(shape, 12)], gpu: (x) => ops.permute(x, [2, 0, 1]), cpu: (x) => ref.permute(x, shape, [2, 0, 1]) });
    await checkOp({ rt, what: 'transpose', inputs: [inp([5, 3], 13)], gpu: (x) => ops.transpose(x), cpu: (x) => ref.permute(x, [5, 3], [1, 0]) });
  });
  it('broadcastTo sums the gradient back', async () => {
    await checkOp({
      rt,
      what: 'broadcastTo',
      inputs: [inp([3, 1], 14)],
      gpu: (x) => ops.broadcastTo(x, [2, 3, 4]),
      cpu: (x) => ref.binary(x, [3, 1], new Float64Array(24), [2, 3, 4], (a) => a),
    });
  });
  it('narrow and concat (ragged sizes, middle axis)', async () => {
    const a = inp([2, 3, 5], 15);
    const b = inp([2, 4, 5], 16);
    const c = inp([2, 1, 5], 17);
    await checkOp({
      rt,
      what: 'concat',
      inputs: [a, b, c],
      gpu: (x, y, z) => ops.concat([x, y, z], 1),
      cpu: (x, y, z) => {
        const out = new Float64Array(2 * 8 * 5);
        for (let n = 0; n < 2; n++)
          for (let j = 0; j < 8; j++)
            for (let k = 0; k < 5; k++) {
              const v = j < 3 ? x[(n * 3 + j) * 5 + k] : j < 7 ? y[(n * 4 + j - 3) * 5 + k] : z[(n * 1 + j - 7) * 5 + k];
              out[(n * 8 + j) * 5 + k] = v!;
            }
        return out;
      },
    });
    await checkOp({
      rt,
      what: 'narrow',
      inputs: [inp([4, 6], 18)],
      gpu: (x) => ops.narrow(x, 1, 2, 3),
      cpu: (x) => Float64Array.from({ length: 12 }, (_, i) => x[Math.floor(i / 3) * 6 + 2 + (i % 3)]!),
    });
  });
});

describe('memory', () => {
  it('a scope frees what it created and keeps what it returns', async () => {
    const before = rt.memory().bytesInUse;
    const kept = rt.scope(() => {
      const a = ops.full(rt, [1000], 2);
      const b = ops.full(rt, [1000], 3);
      return ops.mul(a, b);
    });
    expect(rt.memory().bytesInUse - before).toBe(4096);
    expect(Array.from((await kept.read()).slice(0, 3))).toEqual([6, 6, 6]);
    kept.dispose();
    expect(rt.memory().bytesInUse).toBe(before);
  });
  it('a disposed tensor cannot be used', () => {
    const t = ops.full(rt, [3], 1);
    t.dispose();
    expect(() => ops.relu(t)).toThrow(/used after dispose/);
  });
});
