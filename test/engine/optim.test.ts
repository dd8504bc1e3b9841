import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { decode, encode, quantize, unpackCodes } from '../../formats/codec.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import { Adam, SGD, type Optimizer, type SgdOptions } from '../../engine/optim/index.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { expectClose, openTestRuntime, randomArray } from './harness.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const p16 = parseFormat('p16e2');
const p8 = parseFormat('p8e2');
const f32 = (a: ArrayLike<number>) => Float64Array.from(Float32Array.from(a));

/** Ragged parameter sizes (not multiples of 4, the kernel's elements per thread) and a scalar. */
const SHAPES = [[37], [5, 3], [1]];

function makeParams(seed: number): Tensor[] {
  return SHAPES.map((s, k) => {
    const n = s.reduce((a, b) => a * b, 1);
    const t = rt.keep(Tensor.fromArray(rt, Float32Array.from(randomArray(n, seed + k)), s));
    t.requiresGrad = true;
    t.name = `p${k}`;
    return t;
  });
}

/** Gradient of parameter k at step `step` (deterministic), as float32-rounded float64 values. */
function gradOf(k: number, step: number, scale = 1): Float64Array {
  const n = SHAPES[k]!.reduce((a, b) => a * b, 1);
  return f32(randomArray(n, 1000 + 17 * step + k, -scale, scale));
}

function setGrads(params: Tensor[], step: number, scale = 1): void {
  params.forEach((p, k) => {
    p.grad?.dispose();
    p.grad = rt.keep(Tensor.fromArray(rt, Float32Array.from(gradOf(k, step, scale)), p.shape));
  });
}

function dispose(params: Tensor[], opt: Optimizer): void {
  opt.zeroGrad();
  opt.dispose();
  for (const p of params) p.dispose();
}

describe('SGD vs a float64 reference (f32 state)', () => {
  const cases: { name: string; o: SgdOptions }[] = [
    { name: 'plain', o: { lr: 0.1 } },
    { name: 'momentum 0.9, dampening 0.1, weight decay 0.01, loss scale 8', o: { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, lossScale: 8 } },
    { name: 'Nesterov', o: { lr: 0.05, momentum: 0.8, nesterov: true } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const params = makeParams(1);
      const w = await Promise.all(params.map(async (p) => Float64Array.from(await p.read())));
      const buf = w.map((x) => new Float64Array(x.length));
      const { lr, momentum = 0, dampening = 0, weightDecay = 0, lossScale = 1, nesterov = false } = c.o;
      const opt = new SGD(rt, params, c.o);
      for (let step = 1; step <= 4; step++) {
        setGrads(params, step, lossScale);
        opt.step();
        w.forEach((wk, k) => {
          const g0 = gradOf(k, step, lossScale);
          for (let i = 0; i < wk.length; i++) {
            let g = g0[i]! / lossScale + weightDecay * wk[i]!;
            if (momentum > 0) {
              buf[k]![i] = step === 1 ? g : momentum * buf[k]![i]! + (1 - dampening) * g;
              g = nesterov ? g + momentum * buf[k]![i]! : buf[k]![i]!;
            }
            wk[i]! -= lr * g;
          }
        });
        for (const [k, p] of params.entries()) expectClose(await p.read(), w[k]!, 1e-6, 1e-5, `${c.name}: weight ${k} after step ${step}`);
      }
      if (momentum > 0) {
        const s = await opt.state();
        for (const k of buf.keys()) expectClose(s.buffers[`p${k}.momentum_buffer`]!, buf[k]!, 1e-6, 1e-5, `momentum buffer ${k}`);
      }
      dispose(params, opt);
    });
  }

  it('quantizes the unscaled gradient to its format before the update', async () => {
    const e5m2 = parseFormat('e5m2');
    const params = makeParams(2);
    const w = await Promise.all(params.map(async (p) => Float64Array.from(await p.read())));
    const opt = new SGD(rt, params, { lr: 0.25, lossScale: 4, precision: { grad: { format: 'e5m2' } } });
    setGrads(params, 1, 4);
    opt.step();
    for (const [k, p] of params.entries()) {
      const g = gradOf(k, 1, 4);
      const ref = w[k]!.map((v, i) => v - 0.25 * quantize(e5m2, g[i]! / 4));
      expectClose(await p.read(), ref, 1e-7, 1e-6, `weight ${k}`);
    }
    dispose(params, opt);
  });
});

interface AdamRef {
  w: Float64Array[];
  m: Float64Array[];
  v: Float64Array[];
}

function adamStep(r: AdamRef, step: number, o: { lr: number; b1: number; b2: number; eps: number; wd: number; s: number }, q?: (x: number) => number): void {
  const bc1 = 1 - o.b1 ** step;
  const bc2 = 1 - o.b2 ** step;
  r.w.forEach((w, k) => {
    const g0 = gradOf(k, step, o.s);
    for (let i = 0; i < w.length; i++) {
      const g = g0[i]! / o.s + o.wd * w[i]!;
      const m = o.b1 * r.m[k]![i]! + (1 - o.b1) * g;
      const v = o.b2 * r.v[k]![i]! + (1 - o.b2) * g * g;
      // The update uses the new state before it is quantized for storage (QPyTorch's OptimLP order).
      w[i] = w[i]! - (o.lr / bc1) * (m / (Math.sqrt(v) / Math.sqrt(bc2) + o.eps));
      r.m[k]![i] = q ? q(m) : m;
      r.v[k]![i] = q ? q(v) : v;
      if (q) w[i] = q(w[i]!);
    }
  });
}

describe('Adam', () => {
  const hyper = { lr: 0.01, b1: 0.8, b2: 0.95, eps: 1e-6, wd: 0.02, s: 16 };
  const adamOpts = { lr: hyper.lr, betas: [hyper.b1, hyper.b2] as const, eps: hyper.eps, weightDecay: hyper.wd, lossScale: hyper.s };

  it('matches a float64 reference over 5 steps (bias correction, weight decay, loss scale)', async () => {
    const params = makeParams(3);
    const r: AdamRef = { w: await Promise.all(params.map(async (p) => Float64Array.from(await p.read()))), m: [], v: [] };
    r.m = r.w.map((x) => new Float64Array(x.length));
    r.v = r.w.map((x) => new Float64Array(x.length));
    const opt = new Adam(rt, params, adamOpts);
    for (let step = 1; step <= 5; step++) {
      setGrads(params, step, hyper.s);
      opt.step();
      adamStep(r, step, hyper);
      for (const [k, p] of params.entries()) expectClose(await p.read(), r.w[k]!, 1e-6, 1e-5, `weight ${k} after step ${step}`);
    }
    const s = await opt.state();
    for (const k of r.m.keys()) {
      expectClose(s.buffers[`p${k}.exp_avg`]!, r.m[k]!, 1e-7, 1e-5, `exp_avg ${k}`);
      expectClose(s.buffers[`p${k}.exp_avg_sq`]!, r.v[k]!, 1e-9, 1e-5, `exp_avg_sq ${k}`);
    }
    expect(s.steps).toEqual({ p0: 5, p1: 5, p2: 5 });
    dispose(params, opt);
  });

  it('p16e2 state and master weights, p8e2 forward copy with t = 4: every value on its lattice', async () => {
    const params = makeParams(4);
    const opt = new Adam(rt, params, {
      ...adamOpts,
      precision: { state: { format: 'p16e2' }, master: { format: 'p16e2' }, forwardCopy: { format: 'p8e2', bias: 4 } },
    });
    // The constructor already put the weights on the master lattice.
    const r: AdamRef = { w: await Promise.all(params.map(async (p) => Float64Array.from(await p.read()))), m: [], v: [] };
    for (const w of r.w) for (const x of w) expect(quantize(p16, x)).toBe(x);
    r.m = r.w.map((x) => new Float64Array(x.length));
    r.v = r.w.map((x) => new Float64Array(x.length));
    for (let step = 1; step <= 4; step++) {
      setGrads(params, step, hyper.s);
      opt.step();
      adamStep(r, step, hyper, (x) => quantize(p16, x));
    }
    const s = await opt.state();
    expect(s.stateFormat).toBe('p16e2');
    for (const [k, p] of params.entries()) {
      const w = await p.read();
      expect(p.lattice).toEqual(p16);
      // Master weights: float32 values that p16e2 represents exactly.
      for (const x of w) expect(quantize(p16, x)).toBe(x);
      // Within a few p16e2 steps of the reference that quantizes at the same points (f32 vs f64
      // arithmetic may round across a p16e2 boundary; p16e2 has >= 10 fraction bits on [2^-8, 2^8]).
      expectClose(w, r.w[k]!, 1e-4, 4e-3, `weight ${k}`);
      // State: packed 16-bit codes, each a valid p16e2 code (unpackCodes rejects wider garbage).
      for (const [name, ref] of [['exp_avg', r.m[k]!], ['exp_avg_sq', r.v[k]!]] as const) {
        const codes = unpackCodes(p16, s.buffers[`p${k}.${name}`] as Uint32Array, p.size);
        const values = Array.from(codes, (c) => decode(p16, c));
        expectClose(values, ref, 1e-6, 4e-3, `${name} ${k}`);
      }
      // Forward copy: exactly the p8e2 codes of w * 2^4 (the TS codec is the oracle).
      const copy = opt.forwardCopy(p);
      expect(copy.encoding).toEqual({ format: p8, bias: 4 });
      const codes = unpackCodes(p8, await copy.readWords(), p.size);
      expect(Array.from(codes)).toEqual(Array.from(w, (x) => encode(p8, x, { bias: 4 })));
    }
    dispose(params, opt);
  });

  it('stochastic rounding of the state: on the lattice, same seed same result, other seed differs', async () => {
    const run = async (seed: number) => {
      const params = makeParams(5);
      const opt = new Adam(rt, params, { ...adamOpts, precision: { state: { format: 'p16e2', rounding: 'stochastic' }, seed } });
      for (let step = 1; step <= 2; step++) {
        setGrads(params, step, hyper.s);
        opt.step();
      }
      const s = await opt.state();
      dispose(params, opt);
      return s.buffers['p0.exp_avg'] as Uint32Array;
    };
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    unpackCodes(p16, a, SHAPES[0]![0]!);
  });
});

describe('optimizer state and bookkeeping', () => {
  it('state()/load() resumes bit for bit (p16e2 state, forward copies)', async () => {
    const precision = { state: { format: 'p16e2' }, master: { format: 'p16e2' }, forwardCopy: { format: 'p8e2', bias: 3 } };
    const a = makeParams(6);
    const optA = new Adam(rt, a, { lr: 0.01, precision });
    for (let step = 1; step <= 2; step++) {
      setGrads(a, step);
      optA.step();
    }
    const saved = await optA.state();
    const weights = await Promise.all(a.map((p) => p.read()));
    const b = a.map((p, k) => {
      const t = rt.keep(Tensor.fromArray(rt, weights[k]!, p.shape));
      t.requiresGrad = true;
      return t;
    });
    const optB = new Adam(rt, b.map((t, k) => [`p${k}`, t] as const), { lr: 0.5, precision: { ...precision, forwardCopy: { format: 'p8e2', bias: 0 } } });
    optB.load(saved);
    expect(optB.lr).toBe(0.01);
    setGrads(a, 3);
    setGrads(b, 3);
    optA.step();
    optB.step();
    for (const k of a.keys()) {
      expect(await b[k]!.read()).toEqual(await a[k]!.read());
      expect(await optB.forwardCopy(b[k]!).readWords()).toEqual(await optA.forwardCopy(a[k]!).readWords());
    }
    expect((await optB.state()).buffers).toEqual((await optA.state()).buffers);
    dispose(a, optA);
    dispose(b, optB);
  });

  it('load() names what is missing, unexpected or mismatched', async () => {
    const params = makeParams(7);
    const opt = new SGD(rt, params, { lr: 0.1, momentum: 0.9 });
    const s = await opt.state();
    const without = { ...s, buffers: { ...s.buffers } };
    delete without.buffers['p1.momentum_buffer'];
    expect(() => opt.load(without)).toThrow(/missing state buffer 'p1.momentum_buffer'/);
    expect(() => opt.load({ ...s, steps: { ...s.steps, extra: 1 } })).toThrow(/unexpected parameter 'extra'/);
    expect(() => opt.load({ ...s, buffers: { ...s.buffers, 'p0.momentum_buffer': new Float32Array(3) } })).toThrow(
      /'p0.momentum_buffer' has 3 Float32Array entries, expected 37/,
    );
    expect(() => opt.load({ ...s, kind: 'adam' })).toThrow(/from a 'adam' optimizer/);
    expect(() => opt.load({ ...s, stateFormat: 'p16e2' })).toThrow(/stored as p16e2, this optimizer keeps float32/);
    dispose(params, opt);
  });

  it('counts each update in the optimizer phase under its parameter module, with its conversions', () => {
    const t = rt.keep(Tensor.fromArray(rt, new Float32Array(10), [10]));
    const opt = new Adam(rt, [['enc.fc.weight', t] as const], { lr: 0.1, precision: { state: { format: 'p16e2' } } });
    t.grad = rt.keep(Tensor.fromArray(rt, new Float32Array(10).fill(1), [10]));
    rt.recorder = new OpRecorder();
    opt.step();
    const recs = rt.recorder.records();
    rt.recorder = undefined;
    expect(recs.every((r) => r.phase === 'optimizer' && r.layer === 'enc.fc')).toBe(true);
    expect(recs).toContainEqual({ kind: 'convert', from: 'fp32', to: 'p16e2', rounding: 'nearest', count: 20, phase: 'optimizer', layer: 'enc.fc' });
    expect(recs).toContainEqual({ kind: 'sqrt', format: 'p16e2', count: 10, phase: 'optimizer', layer: 'enc.fc' });
    opt.zeroGrad();
    opt.dispose();
    t.dispose();
  });

  it('skips parameters without a gradient and rejects a mis-shaped gradient', async () => {
    const params = makeParams(8);
    const before = await params[1]!.read();
    const opt = new SGD(rt, params, { lr: 0.1 });
    setGrads(params, 1);
    params[1]!.grad!.dispose();
    params[1]!.grad = null;
    opt.step();
    expect(await params[1]!.read()).toEqual(before);
    expect((await opt.state()).steps).toEqual({ p0: 1, p1: 0, p2: 1 });
    params[0]!.grad!.dispose();
    params[0]!.grad = rt.keep(Tensor.fromArray(rt, [1, 2], [2]));
    expect(() => opt.step()).toThrow(/gradient of 'p0' is .*\[2\] but the parameter is \[37\]/);
    dispose(params, opt);
  });
});
