// GPU timing (engine/kernels/timing.ts, Runtime.timeDispatches): timestamps per pass when the device
// has them, the wall-clock fallback otherwise, and the PassTimer's bookkeeping. Timings are only checked for sanity (positive,
// ordered), never against a speed: performance lives in benchmarks.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNodeGpu } from '../../engine/device/node.ts';
import type { Gpu } from '../../engine/device/gpu.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import { runCodec } from '../../engine/kernels/quantize.ts';
import { median, PassTimer, TIMING_DAWN_FLAGS } from '../../engine/kernels/timing.ts';
import { Runtime } from '../../engine/runtime.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  gpu = await openNodeGpu({ notice: () => {}, dawnFlags: [...TIMING_DAWN_FLAGS] });
  rt = new Runtime(gpu);
});
afterAll(() => gpu?.destroy());

describe('GPU timing', () => {
  it('times each repetition of a compute pass', async () => {
    const n = 1 << 18;
    const src = gpu.upload(new Float32Array(n).fill(1.5), 'src');
    const dst = gpu.device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    try {
      const job = { op: 'quantize' as const, format: parseFormat('p8e2'), count: n, input: src, output: dst };
      const t = await rt.timeDispatches('quantize p8e2', () => expect(runCodec(rt, job)).toBe(1), { reps: 4, warmup: 1 });
      expect(t.method).toBe(gpu.hasTimestamps ? 'timestamp' : 'wall-clock');
      expect(t.ns).toHaveLength(4);
      for (const ns of t.ns) expect(ns).toBeGreaterThan(0);
      expect(t.medianNs).toBe(median(t.ns));
      expect(new Float32Array(await rt.readBuffer(dst, n * 4, 'quantized'))[n - 1]).toBe(1.5);
    } finally {
      src.destroy();
      dst.destroy();
    }
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('a PassTimer refuses passes beyond its capacity', () => {
    if (!gpu.hasTimestamps) {
      expect(() => new PassTimer(gpu, 1)).toThrow(/timestamp-query/);
      return;
    }
    const timer = new PassTimer(gpu, 1);
    try {
      const enc = gpu.device.createCommandEncoder();
      timer.beginPass(enc).end();
      expect(() => timer.beginPass(enc)).toThrow(/all 1 timed passes are used/);
    } finally {
      timer.destroy();
    }
  });
});
