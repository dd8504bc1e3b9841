import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { random } from '../../formats/rng.ts';
import * as ops from '../../engine/ops/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { checkOp, expectClose, openTestRuntime, randomArray, size } from './harness.ts';
import * as ref from './nn-ref.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const inp = (shape: number[], seed: number, lo = -2, hi = 2, grad = true) => ({ shape, data: randomArray(size(shape), seed, lo, hi), grad });
const EPS = 1e-5;

describe('batchNorm', () => {
  // Ragged channel counts, spatial sizes and batch 1 with a spatial extent.
  const shapes: number[][] = [[5, 3], [7, 13], [3, 5, 4, 3], [1, 6, 5, 7], [2, 3, 9]];
  for (const shape of shapes) {
    const c = shape[1]!;
    it(`training [${shape}]: forward, and gradients of x, weight and bias`, async () => {
      await checkOp({
        rt,
        what: `batchNorm train [${shape}]`,
        inputs: [inp(shape, 1), inp([c], 2, 0.5, 1.5), inp([c], 3)],
        gpu: (x, w, b) => ops.batchNorm(x, { weight: w, bias: b, training: true }),
        cpu: (x, w, b) => {
          const s = ref.bnStats(x, shape);
          return ref.bnApply(x, shape, s.mean, s.variance, w, b, EPS);
        },
        atol: 2e-5,
        rtol: 2e-4,
      });
    });
  }

  it('evaluation uses the running statistics (x, weight and bias gradients)', async () => {
    const shape = [3, 4, 2, 5];
    const rm = randomArray(4, 10, -0.5, 0.5);
    const rv = randomArray(4, 11, 0.5, 2);
    await checkOp({
      rt,
      what: 'batchNorm eval',
      inputs: [inp(shape, 4), inp([4], 5, 0.5, 1.5), inp([4], 6)],
      gpu: (x, w, b) =>
        ops.batchNorm(x, {
          weight: w,
          bias: b,
          training: false,
          runningMean: Tensor.fromArray(rt, Float32Array.from(rm), [4]),
          runningVar: Tensor.fromArray(rt, Float32Array.from(rv), [4]),
        }),
      cpu: (x, w, b) => ref.bnApply(x, shape, Float32Array.from(rm), Float32Array.from(rv), w, b, EPS),
    });
  });

  it('running mean and variance follow PyTorch over several steps (unbiased variance, momentum 0.3)', async () => {
    const shape = [4, 3, 3, 2];
    const momentum = 0.3;
    const rmRef = new Float64Array(3);
    const rvRef = new Float64Array(3).fill(1);
    const rm = Tensor.fromArray(rt, rmRef, [3]);
    const rv = Tensor.fromArray(rt, rvRef, [3]);
    for (let step = 0; step < 4; step++) {
      const x = Float64Array.from(Float32Array.from(randomArray(size(shape), 20 + step, -1 + step, 2 + step)));
      await rt.scope(async () => {
        const y = ops.batchNorm(Tensor.fromArray(rt, Float32Array.from(x), shape), { training: true, runningMean: rm, runningVar: rv, momentum });
        const s = ref.bnStats(x, shape);
        expectClose(await y.read(), ref.bnApply(x, shape, s.mean, s.variance, [1, 1, 1], [0, 0, 0], EPS), 2e-5, 2e-4, `normalised output, step ${step}`);
        for (let c = 0; c < 3; c++) {
          rmRef[c] = (1 - momentum) * rmRef[c]! + momentum * s.mean[c]!;
          rvRef[c] = (1 - momentum) * rvRef[c]! + momentum * s.unbiased[c]!;
        }
      });
      expectClose(await rm.read(), rmRef, 1e-6, 1e-5, `running mean, step ${step}`);
      expectClose(await rv.read(), rvRef, 1e-6, 1e-5, `running var, step ${step}`);
    }
    rm.dispose();
    rv.dispose();
  });

  it('errors: channel mismatch names both shapes; batch of one in training; eval without running stats', () => {
    rt.scope(() => {
      const x = ops.full(rt, [4, 3], 1);
      expect(() => ops.batchNorm(x, { training: true, weight: ops.full(rt, [4], 1) })).toThrow(/weight has shape \[4\] but input \[4, 3\] has 3 channels/);
      expect(() => ops.batchNorm(ops.full(rt, [1, 3], 1), { training: true })).toThrow(/more than one value per channel/);
      expect(() => ops.batchNorm(x, { training: false })).toThrow(/needs runningMean/);
    });
  });
});

describe('embedding', () => {
  it('gathers rows; the table gradient sums repeated indices (deterministic)', async () => {
    const idx = [3, 0, 3, 4, 1, 3, 0];
    const [v, d] = [6, 5];
    await checkOp({
      rt,
      what: 'embedding',
      inputs: [inp([v, d], 30)],
      gpu: (t) => ops.embedding(idx, t),
      cpu: (t) => Float64Array.from(idx.flatMap((i) => Array.from(t.subarray(i * d, (i + 1) * d)))),
    });
  });
  it('indices in a tensor, batch 1', async () => {
    await checkOp({
      rt,
      what: 'embedding (tensor indices)',
      inputs: [inp([3, 4], 31)],
      gpu: (t) => ops.embedding(Tensor.fromArray(rt, [2], [1]), t),
      cpu: (t) => t.slice(8, 12),
    });
  });
  it('rejects an out-of-range index, naming it', () => {
    rt.scope(() => {
      const t = ops.full(rt, [4, 2], 0);
      expect(() => ops.embedding([1, 4], t)).toThrow(/index 4 at position 1 is out of range \[0, 4\)/);
      expect(() => ops.embedding([0.5], t)).toThrow(/index 0.5 at position 0/);
    });
  });
  it('an invalid index held on the GPU gives NaN rows, not a clamped row', async () => {
    const out = await rt.scope(() => ops.embedding(Tensor.fromArray(rt, [1, 7], [2]), ops.full(rt, [4, 2], 3)).read());
    expect(Array.from(out.slice(0, 2))).toEqual([3, 3]);
    expect(out.slice(2).every(Number.isNaN)).toBe(true);
  });
});

describe('dropout', () => {
  const n = 10007;
  const p = 0.3;
  it('same seed and counter: same mask; another counter: another mask; kept values scaled by 1/(1-p)', async () => {
    const x = Tensor.fromArray(rt, new Float32Array(n).fill(1), [n]);
    const a = await rt.scope(() => ops.dropout(x, p, { seed: 7, counter: 0, training: true }).read());
    const b = await rt.scope(() => ops.dropout(x, p, { seed: 7, counter: 0, training: true }).read());
    const c = await rt.scope(() => ops.dropout(x, p, { seed: 7, counter: n, training: true }).read());
    x.dispose();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const scale = Math.fround(1 / (1 - p));
    for (const v of a) expect(v === 0 || v === scale).toBe(true);
    // The mask is exactly the documented rule on the counter-based generator.
    const thr = ops.dropThreshold(p);
    for (let i = 0; i < n; i += 97) expect(a[i] !== 0).toBe(random(7, i) >= thr);
    // Dropped fraction within 5 binomial standard deviations of p (sd = sqrt(p(1-p)/n) = 0.0046).
    const dropped = a.filter((v) => v === 0).length / n;
    expect(Math.abs(dropped - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  });
  it('the backward pass uses the forward mask', async () => {
    await rt.scope(async () => {
      const x = Tensor.fromArray(rt, randomArray(n, 40, 0.5, 1.5), [n]);
      x.requiresGrad = true;
      const y = ops.dropout(x, p, { seed: 123, counter: 55, training: true });
      ops.backward(ops.sum(ops.mul(y, ops.full(rt, [n], 2))));
      const [yv, gv] = [await y.read(), await x.grad!.read()];
      const scale = Math.fround(1 / (1 - p));
      for (let i = 0; i < n; i++) expect(gv[i]).toBe(yv[i] === 0 ? 0 : 2 * scale);
    });
  });
  it('evaluation and p = 0 are the identity; p = 1 gives zeros', async () => {
    await rt.scope(async () => {
      const x = Tensor.fromArray(rt, [1, -2, 3], [3]);
      expect(Array.from(await ops.dropout(x, 0.5, { seed: 1, training: false }).read())).toEqual([1, -2, 3]);
      expect(Array.from(await ops.dropout(x, 0, { seed: 1, training: true }).read())).toEqual([1, -2, 3]);
      expect(Array.from(await ops.dropout(x, 1, { seed: 1, training: true }).read())).toEqual([0, 0, 0]);
      expect(() => ops.dropout(x, 1.5, { seed: 1, training: true })).toThrow(/\[0, 1\], got 1.5/);
    });
  });
});

describe('losses', () => {
  const mean = (v: Float64Array) => Float64Array.of(v.reduce((s, x) => s + x, 0) / v.length);
  it('mseLoss (mean, sum, none), ragged shape', async () => {
    const shape = [3, 7];
    const sq = (a: Float64Array, b: Float64Array) => a.map((v, i) => (v - b[i]!) ** 2);
    await checkOp({ rt, what: 'mse mean', inputs: [inp(shape, 50), inp(shape, 51)], gpu: (a, b) => ops.mseLoss(a, b), cpu: (a, b) => mean(sq(a, b)) });
    await checkOp({
      rt,
      what: 'mse sum',
      inputs: [inp(shape, 52), inp(shape, 53)],
      gpu: (a, b) => ops.mseLoss(a, b, { reduction: 'sum' }),
      cpu: (a, b) => Float64Array.of(sq(a, b).reduce((s, v) => s + v, 0)),
      rtol: 1e-4,
    });
    await checkOp({ rt, what: 'mse none', inputs: [inp([5], 54), inp([5], 55)], gpu: (a, b) => ops.mseLoss(a, b, { reduction: 'none' }), cpu: sq });
  });
  it('bceWithLogits: gradients of logits and targets; stable at |x| = 80', async () => {
    const bce = (x: Float64Array, y: Float64Array) => x.map((v, i) => Math.max(v, 0) - v * y[i]! + Math.log1p(Math.exp(-Math.abs(v))));
    await checkOp({ rt, what: 'bce', inputs: [inp([4, 5], 60, -4, 4), inp([4, 5], 61, 0, 1)], gpu: (a, b) => ops.bceWithLogits(a, b), cpu: (a, b) => mean(bce(a, b)) });
    const x = [80, -80, 30, -30, 0];
    const y = [1, 0, 0, 1, 1];
    const out = await rt.scope(() =>
      ops.bceWithLogits(Tensor.fromArray(rt, x, [5]), Tensor.fromArray(rt, y, [5]), { reduction: 'none' }).read(),
    );
    expectClose(out, bce(Float64Array.from(x), Float64Array.from(y)), 0, 1e-5, 'bce at large |x|');
  });
  it('logSoftmax over the last axis (ragged, batch 1)', async () => {
    await checkOp({ rt, what: 'logSoftmax', inputs: [inp([3, 7], 70, -5, 5)], gpu: (x) => ops.logSoftmax(x), cpu: (x) => ref.logSoftmax(x, 7) });
    await checkOp({ rt, what: 'logSoftmax b1', inputs: [inp([1, 10], 71, -5, 5)], gpu: (x) => ops.logSoftmax(x), cpu: (x) => ref.logSoftmax(x, 10) });
  });
  it('crossEntropy with integer labels (mean and none)', async () => {
    const labels = [2, 0, 9, 4, 4];
    const ce = (x: Float64Array) => {
      const l = ref.logSoftmax(x, 10);
      return Float64Array.from(labels, (c, r) => -l[r * 10 + c]!);
    };
    await checkOp({ rt, what: 'crossEntropy', inputs: [inp([5, 10], 72, -5, 5)], gpu: (x) => ops.crossEntropy(x, labels), cpu: (x) => mean(ce(x)) });
    await checkOp({ rt, what: 'crossEntropy none', inputs: [inp([5, 10], 73, -5, 5)], gpu: (x) => ops.crossEntropy(x, Uint32Array.from(labels), { reduction: 'none' }), cpu: ce });
  });
  it('errors: a bad label is named; shapes that differ are both named', () => {
    rt.scope(() => {
      const x = ops.full(rt, [2, 3], 0);
      expect(() => ops.crossEntropy(x, [1, 3])).toThrow(/label 3 at position 1 is out of range \[0, 3\)/);
      expect(() => ops.crossEntropy(x, [1])).toThrow(/1 labels for 2 rows/);
      expect(() => ops.mseLoss(x, ops.full(rt, [3, 2], 0))).toThrow(/input \[2, 3\] and target \[3, 2\]/);
    });
  });
});

describe('pooling', () => {
  const cases: [string, ref.Pool2dGeometry][] = [
    ['2x2 stride 2 (LeNet)', { shape: [2, 3, 8, 6], k: [2, 2], s: [2, 2], p: [0, 0] }],
    ['3x3 stride 2 pad 1, ragged', { shape: [1, 2, 7, 5], k: [3, 3], s: [2, 2], p: [1, 1] }],
    ['3x2 stride (1, 2), pad (1, 0)', { shape: [2, 1, 5, 7], k: [3, 2], s: [1, 2], p: [1, 0] }],
  ];
  for (const [name, g] of cases) {
    for (const kind of ['max', 'avg'] as const) {
      it(`${kind}Pool2d ${name}`, async () => {
        const f = kind === 'max' ? ops.maxPool2d : ops.avgPool2d;
        await checkOp({
          rt,
          what: `${kind}Pool2d ${name}`,
          inputs: [inp(g.shape, 80)],
          gpu: (x) => f(x, g.k, { stride: g.s, padding: g.p }),
          cpu: (x) => ref.pool2d(kind, x, g).y,
        });
      });
    }
  }
  it('avgPool2d without counting padding', async () => {
    const g: ref.Pool2dGeometry = { shape: [1, 2, 5, 4], k: [3, 3], s: [2, 2], p: [1, 1] };
    await checkOp({
      rt,
      what: 'avgPool2d exclude pad',
      inputs: [inp(g.shape, 81)],
      gpu: (x) => ops.avgPool2d(x, g.k, { stride: g.s, padding: g.p, countIncludePad: false }),
      cpu: (x) => ref.pool2d('avg', x, g, false).y,
    });
  });
  it('rejects padding above half the kernel', () => {
    rt.scope(() => {
      expect(() => ops.maxPool2d(ops.full(rt, [1, 1, 4, 4], 0), 2, { padding: 2 })).toThrow(/padding \[2, 2\] exceeds half the kernel/);
    });
  });
});

describe('substitute', () => {
  it('forwards the copy and sends its gradient to the master', async () => {
    await rt.scope(async () => {
      const master = Tensor.fromArray(rt, [1, 2, 3], [3]);
      master.requiresGrad = true;
      const copy = Tensor.fromArray(rt, [1.5, 2.5, 3.5], [3]);
      const y = ops.mul(ops.substitute(master, copy), Tensor.fromArray(rt, [2, 3, 4], [3]));
      expect(Array.from(await y.read())).toEqual([3, 7.5, 14]);
      ops.backward(ops.sum(y));
      expect(Array.from(await master.grad!.read())).toEqual([2, 3, 4]);
    });
  });
});
