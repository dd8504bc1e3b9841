// Op counts of one whole training step of a tiny model under the paper's P8+ recipe, against numbers
// worked out by hand from the shapes, per kind, format, phase and layer, memory included; and proof
// that recording adds no GPU work.
//
// Model: Linear(5, 6) -> BatchNorm1d(6) -> LeakyReLU(0.2) -> Linear(6, 3), batch B = 8, under
// PrecisionPolicy(p8+) with Adam and the recipe's optimizer precision (weights' forward copies packed
// p8e2 with exponent bias 3; gradients, Adam state and master weights p16e2), loss scale 16:
//   loss = 16 * mean((y - target)^2), backward, one Adam step.
// P8+ (engine/quant/recipe.ts): matmul inputs and weights p8e2, outputs p16e2, errors p8e2, input
// errors p16e2; other layers' outputs and errors p16e2. A quantizer whose input already lies on the
// target lattice passes it through uncounted.
//
// Conventions as in matmul-counts.test.ts. Memory: each tensor a kernel reads or writes once, in its
// value bits: lattice values in their format's width, plain float32 in 32. A quantizer is fused into
// the kernel that produces its input (engine/ops/round.ts): batch norm and the activation write their
// outputs already rounded, and each backward kernel writes its gradient rounded as the quantizer
// after it asks, so those writes are in the quantized format; the conversions stay counted in the
// quantizer's layer. The optimizer's master weights and biases lie on the p16e2 lattice from
// construction on (Adam's sync rounds them).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { BatchNorm1d, InitRng, LeakyReLU, Linear, Sequential } from '../../engine/nn/index.ts';
import * as ops from '../../engine/ops/index.ts';
import { Adam } from '../../engine/optim/adam.ts';
import { optimizerPrecision, PrecisionPolicy } from '../../engine/quant/policy.ts';
import { recipeByName } from '../../engine/quant/recipe.ts';
import type { OpEntry, OpRecord } from '../../engine/record/schema.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { openTestRuntime, randomArray } from '../engine/harness.ts';
import { at, convert, expectRecords, mac, mem, op, recordOps } from './counts.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const B = 8;
const [IN, HID, OUT] = [5, 6, 3];
const SCALE = 16;

/** Builds the model and its optimizer, then runs one training step. */
function trainStep(): void {
  const recipe = recipeByName('p8+');
  const rng = new InitRng(7);
  const model = new Sequential(rt, new Linear(rt, IN, HID, { rng }), new BatchNorm1d(rt, HID), new LeakyReLU(rt, 0.2), new Linear(rt, HID, OUT, { rng }));
  const opt = new Adam(rt, model.namedParameters(), { lr: 1e-3, precision: optimizerPrecision(recipe, 3) });
  opt.lossScale = SCALE;
  model.setHook(new PrecisionPolicy(recipe, { forwardWeight: (w) => opt.forwardWeight(w) }));
  rt.scope(() => {
    rt.phase = 'forward';
    const x = Tensor.fromArray(rt, Float32Array.from(randomArray(B * IN, 1)), [B, IN]);
    const target = Tensor.fromArray(rt, Float32Array.from(randomArray(B * OUT, 2)), [B, OUT]);
    const y = model.forward(x);
    ops.backward(ops.affine(ops.mseLoss(y, target), SCALE));
    opt.step();
    rt.phase = 'forward';
  });
  opt.zeroGrad();
  opt.dispose();
  model.dispose();
}

// ---- the hand computation ------------------------------------------------------------------------

const P8 = 'p8e2';
const P16 = 'p16e2';

/** Linear(i, o) forward on a batch of B under P8+ (no activation in the epilogue). */
function linearForward(i: number, o: number, inputFrom: string): OpEntry[] {
  return [
    convert(inputFrom, P8, B * i), // the input quantizer
    mac(P8, P8, 'fp32', B * o * i),
    op('add', 'fp32', B * o), // bias
    convert('fp32', P16, B * o), // the epilogue's output rounding
    mem('read', 'activations', P8, B * i, 8),
    mem('read', 'weights', P8, o * i, 8), // the packed forward copy
    mem('write', 'activations', P16, B * o, 16),
    // (the bias read: biasRead below)
  ];
}

/** The bias each Linear reads in its epilogue: o values on the p16e2 master lattice. */
const biasRead = (o: number): OpEntry => mem('read', 'weights', P16, o, 16);

function expectedStep(): OpRecord[] {
  const n = B * HID; // batch-norm elements: 48
  const c = HID; // channels: 6
  const m = B * OUT; // outputs of the model: 24
  const adam = (elements: number): OpEntry[] => [
    // per element: g / s (1 div); m: 2 mul 1 add; v: 3 mul 1 add; w - step m / (sqrt(v)/bc2 + eps):
    // 1 sqrt, 2 div, 1 mul, 2 add; all in the state format
    op('mul', P16, 6 * elements),
    op('add', P16, 4 * elements),
    op('div', P16, 3 * elements),
    op('sqrt', P16, elements),
    convert('fp32', P16, 4 * elements), // gradient, m, v, master weight
    convert('fp32', P8, elements), // the forward copy (made for every parameter)
    mem('read', 'gradients', 'fp32', elements, 32),
    mem('read', 'weights', P16, elements, 16),
    mem('read', 'optimizer_state', P16, 2 * elements, 16),
    mem('write', 'optimizer_state', P16, 2 * elements, 16),
    mem('write', 'weights', P16, elements, 16),
    mem('write', 'weights', P8, elements, 8),
  ];
  return [
    // ---- forward
    ...at('forward', '0', [...linearForward(IN, HID, 'fp32'), biasRead(HID)]),
    ...at('forward', '1', [
      // training batch norm with running statistics (engine/ops/batchnorm.ts, by its shader's formulas),
      // statistics and normalisation in one pass (the statistics stay in registers)
      op('add', P16, n - c + n + (n - c) + c + 2 * n + 2 * c), // 246
      op('mul', P16, n + 2 * n + 5 * c), // 174
      op('div', P16, 3 * c),
      op('sqrt', P16, c),
      mem('read', 'activations', P16, 3 * n, 16), // x: mean pass, variance pass, apply
      mem('write', 'activations', 'fp32', 2 * c, 32), // saved [mean | invstd]
      mem('read', 'weights', 'fp32', 2 * c, 32), // running mean and variance
      mem('write', 'weights', 'fp32', 2 * c, 32),
      mem('read', 'weights', P16, 2 * c, 16), // weight and bias
      mem('write', 'activations', P16, n, 16), // rounded by the layer's output quantizer, fused
      convert('fp32', P16, n), // the layer's output quantizer
    ]),
    ...at('forward', '2', [
      { kind: 'activation', fn: 'leaky_relu', format: P16, fast: false, count: n },
      mem('read', 'activations', P16, n, 16),
      mem('write', 'activations', P16, n, 16),
      convert('fp32', P16, n),
    ]),
    ...at('forward', '3', [...linearForward(HID, OUT, P16), biasRead(OUT)]),
    ...at('forward', '', [
      // (y - t)^2: 1 add, 1 mul per element, in y's format
      op('add', P16, m),
      op('mul', P16, m),
      mem('read', 'activations', P16, m, 16),
      mem('read', 'activations', 'fp32', m, 32), // target
      mem('write', 'activations', 'fp32', m, 32),
      // mean: m - 1 adds (its 1/m scale is folded into the kernel)
      op('add', 'fp32', m - 1),
      mem('read', 'activations', 'fp32', m, 32),
      mem('write', 'activations', 'fp32', 1, 32),
      // 16 * loss (+ 0)
      op('mul', 'fp32', 1),
      op('add', 'fp32', 1),
      mem('read', 'activations', 'fp32', 1, 32),
      mem('write', 'activations', 'fp32', 1, 32),
      // backward()'s seed gradient, written before the backward phase starts
      mem('write', 'activations', 'fp32', 1, 32),
    ]),
    // ---- backward
    ...at('backward', '', [
      // d(16 L) = 16 g
      op('mul', 'fp32', 1),
      op('add', 'fp32', 1),
      mem('read', 'errors', 'fp32', 1, 32),
      mem('write', 'errors', 'fp32', 1, 32),
      // mean: g broadcast to m values and scaled by 1/m (a*k + 0), in one kernel
      mem('read', 'errors', 'fp32', 1, 32),
      op('mul', 'fp32', m),
      op('add', 'fp32', m),
      mem('write', 'errors', 'fp32', m, 32),
      // 2 g (y - t): 2 mul, 1 add per element, reading g, y and t
      op('mul', 'fp32', 2 * m),
      op('add', 'fp32', m),
      mem('read', 'errors', 'fp32', 2 * m, 32),
      mem('read', 'errors', P16, m, 16),
      mem('write', 'errors', P8, m, 8), // rounded as layer 3's output error quantizer asks
    ]),
    ...at('backward', '3', [
      convert('fp32', P8, m), // the output's error quantizer
      // dX = G W (B x 6 over 3), dW = G^T X (3 x 6 over B)
      mac(P8, P8, 'fp32', B * HID * OUT + OUT * HID * B),
      mem('read', 'errors', P8, m, 8),
      mem('read', 'weights', P8, OUT * HID, 8),
      mem('write', 'errors', P16, B * HID, 16), // the input's error quantizer, in the epilogue
      mem('read', 'errors', P8, m, 8),
      mem('read', 'activations', P8, B * HID, 8),
      mem('write', 'gradients', 'fp32', OUT * HID, 32),
      // dbias: OUT sums of B terms
      op('add', P8, OUT * (B - 1)),
      mem('read', 'errors', P8, m, 8),
      mem('write', 'errors', 'fp32', OUT, 32),
      convert('fp32', P16, B * HID), // the input's error quantizer
    ]),
    ...at('backward', '2', [
      // g * leaky_relu'(x): 1 mul, 1 compare; g arrives on the p16e2 lattice, so the output
      // quantizer's backward passes it through uncounted
      op('mul', P16, n),
      op('max', P16, n),
      mem('read', 'errors', P16, 2 * n, 16),
      mem('write', 'errors', P16, n, 16), // rounded as layer 1's output quantizer asks
    ]),
    ...at('backward', '1', [
      convert('fp32', P16, n), // the output quantizer's backward
      // channel sums (n add for x - mean, 2n mul, 2(n - c) add), then the input gradient
      // (3n add, 4n mul, n div)
      op('add', P16, n + 2 * (n - c) + 3 * n), // 276
      op('mul', P16, 2 * n + 4 * n), // 288
      op('div', P16, n),
      mem('read', 'errors', P16, 4 * n, 16), // g and x, for the sums and for the input gradient
      mem('read', 'errors', 'fp32', 2 * c, 32), // saved statistics (then kept in registers, as the sums)
      mem('write', 'gradients', 'fp32', 2 * c, 32), // gw, gb
      mem('read', 'weights', P16, c, 16),
      mem('write', 'errors', P8, n, 8), // rounded as layer 0's output error quantizer asks
    ]),
    ...at('backward', '0', [
      convert('fp32', P8, n),
      // no dX (the model's input needs no gradient); dW = G^T X: 6 x 5 over B
      mac(P8, P8, 'fp32', HID * IN * B),
      mem('read', 'errors', P8, n, 8),
      mem('read', 'activations', P8, B * IN, 8),
      mem('write', 'gradients', 'fp32', HID * IN, 32),
      op('add', P8, HID * (B - 1)),
      mem('read', 'errors', P8, n, 8),
      mem('write', 'errors', 'fp32', HID, 32),
    ]),
    // ---- optimizer: parameters per layer: 0: 6x5 + 6, 1: 6 + 6, 3: 3x6 + 3
    ...at('optimizer', '0', adam(HID * IN + HID)),
    ...at('optimizer', '1', adam(2 * HID)),
    ...at('optimizer', '3', adam(OUT * HID + OUT)),
  ];
}

describe('a tiny model training step under P8+', () => {
  it('counts every op by kind, format, phase and layer as computed by hand', async () => {
    const records = await recordOps(rt, trainStep);
    expectRecords(records, expectedStep());
  });

  it('recording adds no GPU work: the same dispatches with and without a recorder', async () => {
    const trace = async (record: boolean) => {
      const calls: string[] = [];
      const run = rt.run.bind(rt);
      rt.run = (v, params, buffers, groups, label) => {
        calls.push(`${label ?? v.label} [${groups.join(', ')}] ${JSON.stringify(params)} ${v.bindings.length} bindings`);
        run(v, params, buffers, groups, label);
      };
      try {
        if (record) await recordOps(rt, trainStep);
        else trainStep();
        await rt.sync('trace');
      } finally {
        rt.run = run;
      }
      return calls;
    };
    const withRecorder = await trace(true);
    const without = await trace(false);
    expect(withRecorder.length).toBeGreaterThan(20);
    expect(withRecorder).toEqual(without);
  });
});
