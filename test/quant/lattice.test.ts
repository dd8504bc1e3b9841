// Every quantization point a recipe names holds only values of its format's lattice (times 2^-t),
// and the same points under a recipe that does not quantize them do not. A probe hook wraps the
// recipe's policy and captures, for each Linear layer: the input the matmul multiplies, the weight
// copy, the output, the error arriving at the output (after the recipe's error quantizer) and the
// error leaving through the input; plus, after an optimizer step, the master weights and the state.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../engine/autograd/tape.ts';
import type { Gpu } from '../../engine/device/gpu.ts';
import { decode, quantize, unpackCodes } from '../../formats/codec.ts';
import type { Format } from '../../formats/descriptor.ts';
import { BatchNorm1d, LeakyReLU, Linear, Sequential, type LayerHook, type Operands, type Site } from '../../engine/nn/index.ts';
import { backward, mean, square, unaryRaw } from '../../engine/ops/index.ts';
import { Adam } from '../../engine/optim/adam.ts';
import { optimizerPrecision, PrecisionPolicy } from '../../engine/quant/policy.ts';
import { recipeByName, type Recipe } from '../../engine/quant/recipe.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { openTestRuntime, randomArray } from '../engine/harness.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

type Point = 'input' | 'output' | 'error' | 'inputError' | 'elementwise';

/** Wraps a policy; keeps copies of the tensors at each quantization point. */
class Probe implements LayerHook {
  readonly seen: { point: Point; site: string; t: Tensor }[] = [];
  weights: { site: string; t: Tensor }[] = [];
  constructor(private readonly inner: LayerHook) {}

  private keep(point: Point, site: Site, t: Tensor): void {
    this.seen.push({ point, site: site.path, t: rt.keep(unaryRaw(t, 'copy')) });
  }

  /** Identity whose backward records the gradient it passes on. */
  private probeGrad(point: Point, site: Site, x: Tensor): Tensor {
    return record(x.view(x.shape), 'probe', [x], (g) => {
      this.keep(point, site, g);
      return [g];
    });
  }

  operands(site: Site, o: Operands): Operands {
    const q = this.inner.operands!(site, { ...o, input: this.probeGrad('inputError', site, o.input) });
    this.keep('input', site, q.input);
    this.weights.push({ site: site.path, t: q.weight });
    return q;
  }

  output(site: Site, y: Tensor): Tensor {
    if (site.kind === 'Sequential') return y;
    if (site.kind === 'Linear') {
      this.keep('output', site, y);
      return this.inner.output!(site, this.probeGrad('error', site, y));
    }
    const out = this.inner.output!(site, y);
    this.keep('elementwise', site, out);
    return out;
  }
}

function onLattice(values: ArrayLike<number>, f: Format, bias = 0): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (quantize(f, v, { bias }) !== v) return false;
  }
  return true;
}

async function run(recipe: Recipe) {
  const model = new Sequential(
    rt,
    new Linear(rt, 7, 6, { rng: 5 }),
    new BatchNorm1d(rt, 6),
    new LeakyReLU(rt, 0.2),
    new Linear(rt, 6, 3, { rng: 6 }),
  );
  const opt = new Adam(rt, model.namedParameters(), { lr: 1e-2, precision: optimizerPrecision(recipe, 3) });
  const probe = new Probe(new PrecisionPolicy(recipe, { forwardWeight: (w) => opt.forwardWeight(w) }));
  model.setHook(probe);
  await rt.scope(async () => {
    const x = Tensor.fromArray(rt, Float32Array.from(randomArray(5 * 7, 11, -3, 3)), [5, 7]);
    const y = model.forward(x);
    backward(mean(square(y)));
    opt.step();
    await rt.sync();
  });
  return { model, opt, probe };
}

const read = (t: Tensor) => t.read();

describe('every quantization point of a recipe holds only its lattice', () => {
  for (const name of ['p8+', 'p8', 'p8-all', 'fp8', 'fp16']) {
    it(name, async () => {
      const r = recipeByName(name);
      const { model, opt, probe } = await run(r);
      const check = async (point: Point, f: Format | null) => {
        const items = probe.seen.filter((s) => s.point === point);
        expect(items.length, point).toBeGreaterThan(0);
        for (const s of items) expect(onLattice(await read(s.t), f!), `${point} of ${s.site} on ${f!.name}`).toBe(true);
      };
      await check('input', r.matmul.input);
      await check('output', r.matmul.output);
      await check('error', r.matmul.error);
      await check('inputError', r.matmul.inputError);
      await check('elementwise', r.elementwise);
      for (const w of probe.weights) {
        expect(w.t.encoding?.format.name).toBe(r.matmul.weight!.name);
        expect(w.t.encoding?.bias).toBe(3);
      }
      // After the update: master weights on their lattice, optimizer state stored as its codes.
      for (const [, p] of model.namedParameters()) {
        if (r.masterWeights) expect(onLattice(await p.read(), r.masterWeights)).toBe(true);
      }
      const st = await opt.state();
      for (const [k, v] of Object.entries(st.buffers)) {
        if (r.optimizerState) {
          const codes = unpackCodes(r.optimizerState, v as Uint32Array, model.namedParameters().find(([n]) => k.startsWith(`${n}.`))![1].size);
          for (const c of codes) expect(Number.isNaN(decode(r.optimizerState, c)), k).toBe(false);
        } else {
          expect(v).toBeInstanceOf(Float32Array);
        }
      }
      opt.dispose();
    });
  }

  it('fp32 quantizes none of those points (they are not on the p8e2 lattice)', async () => {
    const p8 = recipeByName('p8+').matmul.input!;
    const { opt, probe } = await run(recipeByName('fp32'));
    for (const point of ['input', 'output', 'error', 'inputError', 'elementwise'] as const) {
      const all = (await Promise.all(probe.seen.filter((s) => s.point === point).map((s) => read(s.t)))).flatMap((a) => Array.from(a));
      expect(all.length, point).toBeGreaterThan(0);
      expect(onLattice(all, p8), point).toBe(false);
    }
    expect(probe.weights.every((w) => w.t.encoding === null)).toBe(true);
    opt.dispose();
  });
});
