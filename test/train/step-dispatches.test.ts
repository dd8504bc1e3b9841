// The dispatches of one GAN training step, and the fusions that cut them keep the arithmetic:
//   - quantizers fused into the kernels that produce their inputs (engine/ops/round.ts) train bit for
//     bit like separate quantize passes: same losses, weights and optimizer state, the same op counts
//     by kind, format, phase and layer (only the producers' memory writes narrow to the quantized
//     format), with nearest and with stochastic rounding;
//   - the dispatch count of a steady cgan step under p8+ and fp32 is pinned per kernel, so a change
//     that adds dispatches shows here. Two parts depend on the adapter and are computed, not pinned:
//     split-K reductions (the GEMM planner splits by the device's parallelism) and the multi-tensor
//     optimizer's groups (as many parameters per dispatch as the storage-buffer limit allows).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { BUILTIN_RECIPES, resolveRecipe, type Recipe } from '../../engine/quant/recipe.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import type { OpRecord } from '../../engine/record/schema.ts';
import { Runtime } from '../../engine/runtime.ts';
import { groupSize } from '../../shaders/optim.ts';
import { loadMnist } from '../../gan/data/mnist.ts';
import { resolveConfig, type TrainConfig } from '../../gan/train/config.ts';
import { loadRecipe } from '../../gan/train/run.ts';
import { GanTrainer } from '../../gan/train/trainer.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openNodeGpu({ notice: () => {} });
});
afterAll(() => gpu?.destroy());

interface Run {
  losses: number[][];
  /** Every parameter, buffer and optimizer state tensor, as bits. */
  state: Record<string, Uint32Array>;
  records: OpRecord[];
  /** Dispatches of the last step, by kernel label. */
  lastStep: Record<string, number>;
}

async function train(config: TrainConfig, recipe: Recipe, steps: number, fuse: boolean): Promise<Run> {
  const rt = new Runtime(gpu);
  rt.fuseRounding = fuse;
  const data = loadMnist('train', { pad32: config.model === 'dcgan', limit: config.dataLimit! });
  const trainer = new GanTrainer(rt, config, recipe, data);
  rt.recorder = new OpRecorder();
  const tally = new Map<string, number>();
  const run = rt.run.bind(rt);
  rt.run = (v, params, buffers, groups, label) => {
    const k = label ?? v.label;
    tally.set(k, (tally.get(k) ?? 0) + 1);
    run(v, params, buffers, groups, label);
  };
  try {
    const losses: number[][] = [];
    for (let i = 0; i < steps; i++) {
      tally.clear();
      const s = await trainer.trainStep();
      expect(s.diverged).toBeNull();
      expect(s.lossD).not.toBeNull();
      losses.push([s.lossG, s.lossD!]);
    }
    const st = await trainer.state();
    const state = Object.fromEntries(Object.entries(st.tensors).map(([k, v]) => [k, new Uint32Array(v.buffer, v.byteOffset, v.length)]));
    return { losses, state, records: rt.recorder.records(), lastStep: Object.fromEntries(tally) };
  } finally {
    trainer.dispose();
  }
}

const arithmetic = (rs: OpRecord[]) => rs.filter((r) => r.kind !== 'memory').map((r) => JSON.stringify(r)).sort();
const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

const cgan = (recipe: string): TrainConfig => resolveConfig({ model: 'cgan', recipe, width: 8, batch: 16, dataLimit: 256, steps: 3, seed: 5 });

describe('one GAN training step', { timeout: 300_000 }, () => {
  it('fused quantizers train cgan p8+ bit for bit like separate passes, with fewer dispatches', async () => {
    const recipe = loadRecipe('p8+');
    const separate = await train(cgan('p8+'), recipe, 2, false);
    const fused = await train(cgan('p8+'), recipe, 2, true);
    expect(fused.losses).toEqual(separate.losses);
    expect(Object.keys(fused.state).sort()).toEqual(Object.keys(separate.state).sort());
    for (const k of Object.keys(separate.state)) expect(fused.state[k], k).toEqual(separate.state[k]);
    expect(arithmetic(fused.records)).toEqual(arithmetic(separate.records));
    // 69 of this step's 87 rounding passes are fused into their producers (copies of values already
    // on the target lattice need no pass in either mode), and fusing removes exactly those dispatches.
    const quantizes = (c: Record<string, number>) => total(Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('quantize:'))));
    expect(quantizes(separate.lastStep)).toBe(87);
    expect(quantizes(fused.lastStep)).toBe(18);
    expect(total(fused.lastStep)).toBe(total(separate.lastStep) - (87 - 18));
  });

  it('fused stochastic rounding draws the same random numbers (dcgan, batch norm over images)', async () => {
    // (No matmul output format: what fuseRounding changes is the elementwise and backward roundings;
    // the GEMM epilogue rounds the product in its own kernel in both modes, test/quant/policy.test.ts.)
    const base = BUILTIN_RECIPES['p8+']!;
    const recipe = resolveRecipe({ ...base, name: 'p8+ stochastic', rounding: 'stochastic', matmul: { ...base.matmul, output: null } });
    const config = resolveConfig({ model: 'dcgan', recipe: 'p8+', ngf: 4, ndf: 4, batch: 8, dataLimit: 64, steps: 2, seed: 9 });
    const separate = await train(config, recipe, 2, false);
    const fused = await train(config, recipe, 2, true);
    expect(fused.losses).toEqual(separate.losses);
    for (const k of Object.keys(separate.state)) expect(fused.state[k], k).toEqual(separate.state[k]);
    expect(arithmetic(fused.records)).toEqual(arithmetic(separate.records));
    expect(total(fused.lastStep)).toBeLessThan(total(separate.lastStep));
  });

  it('a steady cgan step records the pinned dispatches under p8+ and fp32', async () => {
    const limit = gpu.limits.maxStorageBuffersPerShaderStage;
    // Parameters with a gradient per step: G 17 (embedding, 5 linear layers, 3 batch norms), D 9.
    const adam = (forward: boolean) => {
      const g = groupSize({ rule: 'adam', grad: null, state: null, master: null, forward: forward ? { format: parseFormat('p8e2'), rounding: 'nearest' } : null }, limit);
      return Math.ceil(17 / g) + Math.ceil(9 / g);
    };
    const shared = {
      // forward: G once, D three times (generated for G's loss, real, generated for D's loss)
      'embedding:gather': 4, concat: 7, 'ew:narrow': 4, 'gemm:linear': 17, 'batchnorm:stats_apply': 3, 'ew:leaky_relu': 13, dropout: 12, 'ew:tanh': 1,
      'ew:fill': 4, 'ew:mse': 3, 'ew:affine': 5, sum: 16, 'ew:add': 10,
      // backward
      'ew:mse_grad': 3, 'gemm:linear:da': 17, 'ew:leaky_relu_grad': 13, 'batchnorm:grad': 3, 'ew:tanh_grad': 1, 'embedding:scatter': 3,
      // the gradients' non-finite check
      'nonfinite:total': 2,
    };
    const expected = {
      // (No weight gradients of D for G's loss: 13 of the 17 linear layers' passes need one.)
      'p8+': { ...shared, 'quantize:p8e2:nearest': 17, 'quantize:p16e2:nearest': 1, 'gemm:linear:db': 13, 'ew:affine': 9 },
      fp32: { ...shared, 'gemm:linear:db': 13 },
    };
    for (const name of ['p8+', 'fp32'] as const) {
      const { lastStep } = await train(cgan(name), loadRecipe(name), 2, true);
      const scan = (k: string) => k.startsWith('nonfinite:') && k !== 'nonfinite:total';
      const planned = Object.fromEntries(Object.entries(lastStep).filter(([k]) => !k.startsWith('gemm-reduce:') && !k.startsWith('optim:') && !scan(k)));
      expect(planned, name).toEqual(expected[name]);
      expect(lastStep['optim:adam'], `${name} optimizer dispatches`).toBe(adam(name === 'p8+'));
      const scans = Object.entries(lastStep).filter(([k]) => scan(k)).reduce((a, [, v]) => a + v, 0);
      const batch = Math.max(1, Math.min(7, limit - 1));
      expect(scans, `${name} non-finite scans`).toBe(Math.ceil(17 / batch) + Math.ceil(9 / batch));
    }
  });
});
