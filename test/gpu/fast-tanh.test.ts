// The WGSL fast posit tanh (shaders/fast-tanh.ts) against the TypeScript reference, bit for bit, on
// the device: a dense grid of [-8, 8), every rounding boundary of the p16e0 encoder with its f32
// neighbours, random f32 bit patterns (NaNs, infinities, subnormals included) and special values.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNodeGpu } from '../../engine/device/node.ts';
import type { Gpu } from '../../engine/device/gpu.ts';
import { Runtime } from '../../engine/runtime.ts';
import { fastTanh } from '../../formats/fast-tanh.ts';
import { fastTanhGrid, fastTanhKernel } from '../../shaders/fast-tanh.ts';
import { boundaryInputs, lcgWords } from '../formats/p16e0-oracle.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  gpu = await openNodeGpu({ notice: () => {} });
  rt = new Runtime(gpu);
});
afterAll(() => gpu?.destroy());

async function runOnGpu(input: Float32Array, corrected: boolean): Promise<Float32Array> {
  const src = gpu.upload(input, 'fast-tanh:src');
  const dst = gpu.device.createBuffer({
    label: 'fast-tanh:dst',
    size: input.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  try {
    rt.run(fastTanhKernel(corrected), {}, { src, dst }, fastTanhGrid(input.length, gpu.limits));
    return new Float32Array(await rt.readBuffer(dst, input.byteLength, 'fast-tanh'));
  } finally {
    src.destroy();
    dst.destroy();
  }
}

function inputs(): Float32Array {
  const grid = Array.from({ length: 16 * 4096 }, (_, i) => (i - 8 * 4096) / 4096);
  const specials = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40, 3.4e38, -3.4e38, 2 ** 13, 2 ** 14, -(2 ** 14)];
  const random = new Float32Array(lcgWords(100_000, 987654321).buffer);
  return Float32Array.from([...grid, ...specials, ...boundaryInputs(), ...random]);
}

describe('WGSL fast posit tanh', () => {
  for (const corrected of [false, true]) {
    it(`equals the TypeScript reference bit for bit (${corrected ? 'corrected' : 'plain'})`, async () => {
      const x = inputs();
      const y = await runOnGpu(x, corrected);
      const bits = new Uint32Array(y.buffer);
      const bad: string[] = [];
      let maxErr = 0;
      for (let i = 0; i < x.length; i++) {
        const want = fastTanh(x[i]!, corrected);
        const ok = Number.isNaN(want) ? bits[i] === 0x7fc00000 : Object.is(y[i], want);
        if (!ok && bad.push(`x=${x[i]} (i=${i}): gpu ${y[i]} (0x${bits[i]!.toString(16)}), reference ${want}`) >= 5) break;
        if (i < 16 * 4096) maxErr = Math.max(maxErr, Math.abs(y[i]! - Math.tanh(x[i]!)));
      }
      expect(bad).toEqual([]);
      console.log(
        `WGSL fast tanh (${corrected ? 'corrected' : 'plain'}) on ${gpu.adapter.description}: ${x.length} inputs bit-exact; ` +
          `max |err| on [-8, 8) step 2^-12: ${maxErr.toFixed(6)}`,
      );
      expect(Math.abs(maxErr - (corrected ? 0.038 : 0.098))).toBeLessThan(0.001);
    });
  }
});
