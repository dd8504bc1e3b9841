// The subgroup-matrix probe (engine/device/subgroup-matrix.ts) tells load conventions apart: its
// shader, with the builtins emulated under the semantics it was written for, reproduces the CPU's
// product, and under semantics with another unit for offsets or for strides it does not. (The
// form of the builtins is told apart by compiling, which needs a device with the feature.) Also the
// configuration choice and the message when the adapter has no 8-bit configuration.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { int8Config, probeData, probeSource, probeSubgroupMatrix, runProbe } from '../../engine/device/subgroup-matrix.ts';
import type { SubgroupMatrixConfig, SubgroupMatrixConventions } from '../../shaders/subgroup-matrix.ts';
import { openTestRuntime } from './harness.ts';
import { emulateSubgroupMatrix } from './subgroup-matrix-emulation.ts';

let gpu: Gpu;
beforeAll(async () => {
  ({ gpu } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const C8: SubgroupMatrixConfig = { componentType: 'i8', resultComponentType: 'i32', M: 8, N: 8, K: 32 };

describe('subgroup-matrix probe', () => {
  const cases: [SubgroupMatrixConventions, SubgroupMatrixConventions, boolean][] = [
    [{ dialect: 'template', offsetUnit: 'word', strideUnit: 'word' }, { dialect: 'template', offsetUnit: 'word', strideUnit: 'word' }, true],
    [{ dialect: 'argument', offsetUnit: 'component', strideUnit: 'component' }, { dialect: 'argument', offsetUnit: 'component', strideUnit: 'component' }, true],
    [{ dialect: 'template', offsetUnit: 'word', strideUnit: 'word' }, { dialect: 'template', offsetUnit: 'component', strideUnit: 'word' }, false],
    [{ dialect: 'template', offsetUnit: 'word', strideUnit: 'component' }, { dialect: 'template', offsetUnit: 'word', strideUnit: 'word' }, false],
  ];
  for (const [written, device, match] of cases) {
    it(`written for ${written.offsetUnit} offsets / ${written.strideUnit} strides, run as ${device.offsetUnit} / ${device.strideUnit}: ${match ? 'exact' : 'detected'}`, async () => {
      const { src, want } = probeData(C8);
      const code = emulateSubgroupMatrix(probeSource(C8, written, gpu.adapter.subgroupMaxSize ?? 8), { cm: C8.M, cn: C8.N, ck: C8.K }, device);
      const got = await runProbe(gpu.device, code, src, 2 * want.length);
      if (typeof got === 'string') throw new Error(got);
      const same = want.every((v, i) => got[i] === v && got[i + want.length] === v);
      expect(same).toBe(match);
    });
  }

  it('prefers i8 M16 N16 K32, and says what the adapter offers when it has no i8 configuration', async () => {
    const f16 = { componentType: 'f16', resultComponentType: 'f32', M: 8, N: 8, K: 8 };
    expect(int8Config([f16, C8, { ...C8, M: 16, N: 16 }])).toMatchObject({ M: 16, N: 16, K: 32 });
    expect(int8Config([f16])).toBeUndefined();
    const r = await probeSubgroupMatrix(gpu.device, [f16], 32);
    expect(r.int8).toBeNull();
    expect(r.problem).toMatch(/no i8 x i8 -> i32 subgroup matrix configuration \(it offers: f16 x f16 -> f32, M8 N8 K8\)/);
  });
});
