import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Embedding,
  Flatten,
  InitRng,
  LeakyReLU,
  Linear,
  AvgPool2d,
  MaxPool2d,
  Sequential,
  Tanh,
  type LayerHook,
  type Site,
} from '../../engine/nn/index.ts';
import * as ops from '../../engine/ops/index.ts';
import { Adam } from '../../engine/optim/index.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { expectClose, openTestRuntime, randomArray } from './harness.ts';
import { quantize } from '../../formats/codec.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import * as ref from './nn-ref.ts';

const p16 = parseFormat('p16e2');
let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

function moments(v: ArrayLike<number>): { mean: number; variance: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    s += v[i]!;
    min = Math.min(min, v[i]!);
    max = Math.max(max, v[i]!);
  }
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i]! - mean) ** 2;
  return { mean, variance: q / v.length, min, max };
}

/** Checks samples against U(-b, b): mean and variance within 5 standard errors, range within [-b, b]
 *  and reaching within 1% of both ends. */
function expectUniform(v: Float32Array, b: number, what: string): void {
  const n = v.length;
  const m = moments(v);
  const variance = (b * b) / 3;
  // Var of the sample mean: b^2 / (3n); of the sample variance: (E x^4 - var^2) / n = 4 b^4 / (45 n).
  expect(Math.abs(m.mean), `${what} mean`).toBeLessThan(5 * Math.sqrt(variance / n));
  expect(Math.abs(m.variance - variance), `${what} variance`).toBeLessThan(5 * Math.sqrt((4 * b ** 4) / (45 * n)));
  expect(m.min, `${what} min`).toBeGreaterThanOrEqual(-b);
  expect(m.max, `${what} max`).toBeLessThanOrEqual(b);
  expect(m.max, `${what} max`).toBeGreaterThan(0.99 * b);
  expect(m.min, `${what} min`).toBeLessThan(-0.99 * b);
}

describe('PyTorch-default initialisation', () => {
  it('Linear: weight and bias U(-1/sqrt(in), 1/sqrt(in))', async () => {
    const l = new Linear(rt, 1000, 300, { rng: 1 });
    expectUniform(await l.weight.read(), 1 / Math.sqrt(1000), 'Linear weight');
    const bias = await l.bias!.read();
    expect(Math.max(...bias.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(1000));
    l.dispose();
  });
  it('Conv2d fan_in = in * kh * kw; ConvTranspose2d fan_in = out * kh * kw (weight [in, out, kh, kw])', async () => {
    const c = new Conv2d(rt, 64, 32, [5, 3], { rng: 2 });
    expect(c.weight.shape).toEqual([32, 64, 5, 3]);
    expectUniform(await c.weight.read(), 1 / Math.sqrt(64 * 15), 'Conv2d weight');
    const t = new ConvTranspose2d(rt, 64, 48, 4, { rng: 3 });
    expect(t.weight.shape).toEqual([64, 48, 4, 4]);
    expectUniform(await t.weight.read(), 1 / Math.sqrt(48 * 16), 'ConvTranspose2d weight');
    expect(Math.max(...(await t.bias!.read()).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(48 * 16));
    c.dispose();
    t.dispose();
  });
  it('Embedding N(0, 1); BatchNorm weight 1, bias 0, running mean 0, running var 1', async () => {
    const e = new Embedding(rt, 200, 100, { rng: 4 });
    const m = moments(await e.weight.read());
    const n = 200 * 100;
    expect(Math.abs(m.mean)).toBeLessThan(5 / Math.sqrt(n));
    // Var of the sample variance of N(0, 1): 2 / n.
    expect(Math.abs(m.variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    const bn = new BatchNorm2d(rt, 3);
    expect(await bn.state()).toEqual({
      weight: Float32Array.of(1, 1, 1),
      bias: Float32Array.of(0, 0, 0),
      running_mean: Float32Array.of(0, 0, 0),
      running_var: Float32Array.of(1, 1, 1),
    });
    e.dispose();
    bn.dispose();
  });
  it('same seed, same weights; a shared generator gives each layer its own draws', async () => {
    const [a, b, c] = [new Linear(rt, 8, 4, { rng: 9 }), new Linear(rt, 8, 4, { rng: 9 }), new Linear(rt, 8, 4, { rng: 10 })];
    expect(await a.weight.read()).toEqual(await b.weight.read());
    expect(await a.weight.read()).not.toEqual(await c.weight.read());
    const rng = new InitRng(9);
    const [d, e] = [new Linear(rt, 8, 4, { rng }), new Linear(rt, 8, 4, { rng })];
    expect(await d.weight.read()).toEqual(await a.weight.read());
    expect(await e.weight.read()).not.toEqual(await d.weight.read());
    for (const m of [a, b, c, d, e]) m.dispose();
  });
});

function mlp(seed: number, hidden = 8): Sequential {
  const rng = new InitRng(seed);
  return new Sequential(rt, new Linear(rt, 3, hidden, { rng }), new BatchNorm1d(rt, hidden), new LeakyReLU(rt, 0.2), new Linear(rt, hidden, 2, { rng }));
}

describe('Module', () => {
  it('registers parameters and buffers under dotted names; train/eval reach every layer', () => {
    const m = mlp(1);
    expect(m.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '3.bias']);
    expect(m.namedBuffers().map(([k]) => k)).toEqual(['1.running_mean', '1.running_var']);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
    m.eval();
    expect(m.modules().every((x) => !x.training)).toBe(true);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
    m.dispose();
  });

  it('state()/load() round trip: a model loaded from another computes the same outputs', async () => {
    const a = mlp(1);
    const b = mlp(2);
    const x = rt.keep(Tensor.fromArray(rt, randomArray(15, 5), [5, 3]));
    // One training pass moves a's running statistics away from their initial values.
    rt.scope(() => a.forward(x));
    const s = await a.state();
    b.load(s);
    expect(await b.state()).toEqual(s);
    a.eval();
    b.eval();
    const [ya, yb] = await rt.scope(async () => [await a.forward(x).read(), await b.forward(x).read()]);
    expect(yb).toEqual(ya);
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it('load() names missing, unexpected and mis-sized entries and writes nothing then', async () => {
    const m = mlp(3);
    const s = await m.state();
    const { ['1.running_var']: _dropped, ...missing } = s;
    expect(() => m.load(missing)).toThrow(/Sequential.load: missing '1.running_var'/);
    expect(() => m.load({ ...s, '4.weight': new Float32Array(2) })).toThrow(/unexpected '4.weight'/);
    expect(() => m.load({ ...s, '0.weight': new Float32Array(3) })).toThrow(/'0.weight' has 3 values, but the module's is \[8, 3\] \(24 values\)/);
    expect(await m.state()).toEqual(s);
    m.dispose();
  });

  it('Linear forward and gradients match float64, on a ragged shape', async () => {
    const l = new Linear(rt, 7, 5, { rng: 4 });
    const [w, b] = [await l.weight.read(), await l.bias!.read()];
    const xv = randomArray(3 * 7, 6);
    await rt.scope(async () => {
      const x = Tensor.fromArray(rt, xv, [3, 7]);
      x.requiresGrad = true;
      const y = l.forward(x);
      const ref = new Float64Array(15);
      for (let r = 0; r < 3; r++) for (let o = 0; o < 5; o++) {
        let s = b[o]!;
        for (let i = 0; i < 7; i++) s += Float32Array.from(xv)[r * 7 + i]! * w[o * 7 + i]!;
        ref[r * 5 + o] = s;
      }
      expectClose(await y.read(), ref, 1e-5, 1e-5, 'Linear forward');
      ops.backward(ops.sum(y));
      // d sum(y) / dW[o, i] = sum_r x[r, i]; / db = batch; / dx[r, i] = sum_o W[o, i].
      const gw = Float64Array.from({ length: 35 }, (_, k) => [0, 1, 2].reduce((s, r) => s + Float32Array.from(xv)[r * 7 + (k % 7)]!, 0));
      expectClose(await l.weight.grad!.read(), gw, 1e-5, 1e-5, 'Linear weight grad');
      expectClose(await l.bias!.grad!.read(), [3, 3, 3, 3, 3], 1e-6, 1e-6, 'Linear bias grad');
      const gx = Float64Array.from({ length: 21 }, (_, k) => [0, 1, 2, 3, 4].reduce((s, o) => s + w[o * 7 + (k % 7)]!, 0));
      expectClose(await x.grad!.read(), gx, 1e-5, 1e-5, 'Linear input grad');
    });
    l.dispose();
  });

  it('Conv2d (stride 2, asymmetric padding) and ConvTranspose2d (output padding) use PyTorch layouts', async () => {
    const conv = new Conv2d(rt, 3, 4, [3, 2], { rng: 12, stride: 2, padding: [1, 0, 0, 1] });
    const up = new ConvTranspose2d(rt, 4, 2, 3, { rng: 13, stride: 2, padding: 1, outputPadding: 1 });
    const xs = [2, 3, 7, 5];
    const xv = Float32Array.from(randomArray(2 * 3 * 7 * 5, 14));
    const c = ref.conv2d(xv, xs, await conv.weight.read(), conv.weight.shape, await conv.bias!.read(), [2, 2], [1, 0, 0, 1]);
    const u = ref.convTranspose2d(Float32Array.from(c.y), c.shape, await up.weight.read(), up.weight.shape, await up.bias!.read(), [2, 2], [1, 1], [1, 1]);
    await rt.scope(async () => {
      const h = conv.forward(Tensor.fromArray(rt, xv, xs));
      expect(h.shape).toEqual(c.shape);
      expectClose(await h.read(), c.y, 1e-5, 1e-5, 'Conv2d forward');
      const y = up.forward(h);
      expect(y.shape).toEqual(u.shape);
      expectClose(await y.read(), u.y, 1e-5, 1e-4, 'ConvTranspose2d forward');
    });
    conv.dispose();
    up.dispose();
  });

  it('input shape errors name the layer and both shapes', () => {
    const m = mlp(4);
    rt.scope(() => {
      expect(() => m.forward(ops.full(rt, [2, 4], 0))).toThrow(/0: input \[2, 4\] does not match \[batch, 3\]/);
      expect(() => new BatchNorm2d(rt, 3).forward(ops.full(rt, [2, 3], 0))).toThrow(/input \[2, 3\] does not match \[N, C, H, W\] with C = 3/);
    });
    m.dispose();
  });

  it('the precision hook sees each layer operands, kernel options and output, by path; gradients flow through it', async () => {
    const m = new Sequential(rt, new Linear(rt, 4, 3, { rng: 5 }), new Tanh(rt), new Linear(rt, 3, 2, { rng: 6 }));
    const seen: string[] = [];
    const linearOutputs: Tensor[] = [];
    const hook: LayerHook = {
      // Doubles every weight operand (a stand-in for a quantizer) and asks for p16e2 outputs.
      operands(site: Site, o) {
        seen.push(`operands ${site.path} ${site.kind}`);
        return { ...o, weight: ops.scale(o.weight, 2), kernel: { output: { format: p16 } } };
      },
      output(site: Site, y) {
        seen.push(`output ${site.path || '(root)'} ${site.kind}`);
        if (site.kind === 'Linear') linearOutputs.push(y);
        return y;
      },
    };
    const x = rt.keep(Tensor.fromArray(rt, randomArray(8, 7), [2, 4]));
    const plain = await rt.scope(async () => {
      const twice = new Sequential(rt, new Linear(rt, 4, 3, { rng: 5 }), new Tanh(rt), new Linear(rt, 3, 2, { rng: 6 }));
      for (const [, p] of twice.namedParameters()) {
        const v = await p.read();
        if (p.rank === 2) rt.device.queue.writeBuffer(p.buffer, 0, v.map((u) => 2 * u));
      }
      const y = await twice.forward(x).read();
      twice.dispose();
      return y;
    });
    m.setHook(hook);
    await rt.scope(async () => {
      const y = m.forward(x);
      // p16e2 keeps at least 10 fraction bits near 1: relative error below 2^-11 per rounding.
      expectClose(await y.read(), plain, 1e-6, 2e-3, 'hooked forward');
      for (const t of linearOutputs) for (const v of await t.read()) expect(quantize(p16, v)).toBe(v);
      ops.backward(ops.sum(y));
      expect(m.parameters().every((p) => p.grad)).toBe(true);
    });
    expect(seen).toEqual(['operands 0 Linear', 'output 0 Linear', 'output 1 Tanh', 'operands 2 Linear', 'output 2 Linear', 'output (root) Sequential']);
    x.dispose();
    m.dispose();
  });

  it('op counts are attributed to layer paths', () => {
    const m = mlp(7);
    rt.recorder = new OpRecorder();
    rt.scope(() => m.forward(ops.full(rt, [4, 3], 1)));
    const layers = new Set(rt.recorder.records().map((r) => r.layer));
    rt.recorder = undefined;
    expect(layers.has('1')).toBe(true);
    m.dispose();
  });

  it('Dropout advances its counter in training and is the identity in evaluation; Flatten', async () => {
    const d = new Dropout(rt, 0.5, 3);
    await rt.scope(async () => {
      const x = ops.full(rt, [4, 25], 1);
      const a = await d.forward(x).read();
      expect(d.counter).toBe(100);
      const b = await d.forward(x).read();
      expect(b).not.toEqual(a);
      d.eval();
      expect(Array.from(await d.forward(x).read())).toEqual(Array(100).fill(1));
      expect(new Flatten(rt).forward(ops.full(rt, [2, 3, 4, 5], 0)).shape).toEqual([2, 60]);
    });
  });

  it('MaxPool2d and AvgPool2d layers pool like the float64 reference (stride = kernel by default)', async () => {
    const [n, c, h, w] = [2, 3, 7, 5];
    const x = randomArray(n * c * h * w, 17);
    const geo = { shape: [n, c, h, w] as [number, number, number, number], k: [2, 2] as [number, number], s: [2, 2] as [number, number], p: [0, 0] as [number, number] };
    await rt.scope(async () => {
      const t = Tensor.fromArray(rt, x, [n, c, h, w]);
      for (const [layer, kind] of [[new MaxPool2d(rt, 2), 'max'], [new AvgPool2d(rt, 2), 'avg']] as const) {
        const y = layer.forward(t);
        const want = ref.pool2d(kind, x, geo);
        expect(y.shape).toEqual(want.shape);
        expectClose(await y.read(), want.y, 1e-6, 1e-6, `${kind} pool layer`);
      }
    });
  });
});

describe('training', () => {
  // Two interleaved noisy spirals would need more steps; XOR-like quadrants with noise are a task no
  // linear model solves (best loss ln 2 = 0.69) and a small MLP learns quickly.
  function quadrants(n: number, seed: number): { x: Float32Array; y: Float32Array } {
    const pts = randomArray(2 * n, seed, -1, 1);
    const x = Float32Array.from(pts);
    const y = Float32Array.from({ length: n }, (_, i) => (pts[2 * i]! * pts[2 * i + 1]! > 0 ? 1 : 0));
    return { x, y };
  }

  async function train(useForwardCopies: boolean): Promise<number[]> {
    const rng = new InitRng(11);
    const model = new Sequential(rt, new Linear(rt, 2, 16, { rng }), new Tanh(rt), new Linear(rt, 16, 16, { rng }), new Tanh(rt), new Linear(rt, 16, 1, { rng }));
    const precision = useForwardCopies
      ? { state: { format: 'p16e2' }, master: { format: 'p16e2' }, forwardCopy: { format: 'p8e2', bias: 2 } }
      : undefined;
    const opt = new Adam(rt, model.namedParameters(), { lr: 0.03, ...(precision ? { precision } : {}) });
    if (useForwardCopies) model.setHook({ operands: (_s, o) => ({ ...o, weight: opt.forwardWeight(o.weight) }) });
    const data = quadrants(64, 12);
    const x = rt.keep(Tensor.fromArray(rt, data.x, [64, 2]));
    const y = rt.keep(Tensor.fromArray(rt, data.y, [64, 1]));
    const losses: number[] = [];
    for (let step = 0; step < 100; step++) {
      const loss = rt.scope(() => {
        const l = ops.bceWithLogits(model.forward(x), y);
        ops.backward(l);
        opt.step();
        opt.zeroGrad();
        return step % 25 === 24 ? l : null;
      });
      if (loss) {
        losses.push(await loss.item());
        loss.dispose();
      }
    }
    x.dispose();
    y.dispose();
    opt.dispose();
    model.dispose();
    return losses;
  }

  it('a tiny MLP learns XOR quadrants in float32 (loss below 0.1 in 100 Adam steps; a linear model cannot go below ln 2 = 0.69)', async () => {
    const losses = await train(false);
    expect(losses[losses.length - 1]).toBeLessThan(0.1);
  });

  it('and (loss below 0.1) with p16e2 optimizer state and master weights, multiplying by p8e2 forward copies (t = 2)', async () => {
    const losses = await train(true);
    expect(losses[losses.length - 1]).toBeLessThan(0.1);
  });
});
