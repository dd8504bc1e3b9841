// Buffer reuse by WebGPU queue order (tensor/pool.ts) and the bind-group cache it makes possible:
// a buffer released inside the encoder being recorded is reused at once by kernel outputs but not by
// uploads (queue.writeBuffer would overtake the recorded kernels that still read it), values stay
// right across such reuse, free buffers go lowest id first, and a training step that repeats finds
// every bind group in the cache after its first iterations.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import * as ops from '../../engine/ops/index.ts';
import { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { loadMnist } from '../../gan/data/mnist.ts';
import { resolveConfig } from '../../gan/train/config.ts';
import { loadRecipe } from '../../gan/train/run.ts';
import { GanTrainer } from '../../gan/train/trainer.ts';
import { openTestRuntime } from './harness.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

describe('buffer pool', () => {
  it('reuses a released buffer at once for kernel outputs, for uploads only once submitted', () => {
    rt.flush();
    const bytes = 4096;
    const a = rt.pool.acquire(bytes, 'a');
    // Record a use of `a`, then release it while that use is still unsubmitted.
    rt.commandEncoder().clearBuffer(a, 0, bytes);
    rt.pool.release(a);
    expect(rt.pool.report().pendingBuffers).toBeGreaterThan(0);
    const upload = rt.pool.acquire(bytes, 'upload', true);
    expect(upload).not.toBe(a);
    const output = rt.pool.acquire(bytes, 'output');
    expect(output).toBe(a);
    rt.pool.release(output);
    rt.flush();
    expect(rt.pool.report().pendingBuffers).toBe(0);
    expect(rt.pool.acquire(bytes, 'upload again', true)).toBe(a);
    rt.pool.release(a);
    rt.pool.release(upload);
  });

  it('hands out free buffers lowest id first, whatever order they came back in', () => {
    rt.flush();
    const bytes = 8192;
    const bufs = [0, 1, 2].map((i) => rt.pool.acquire(bytes, `b${i}`));
    rt.pool.release(bufs[1]!);
    rt.pool.release(bufs[2]!);
    rt.pool.release(bufs[0]!);
    expect([0, 1, 2].map((i) => rt.pool.acquire(bytes, `again${i}`))).toEqual(bufs);
    for (const b of bufs) rt.pool.release(b);
  });

  it('values stay right when kernels and uploads reuse buffers released in the same encoder', async () => {
    const n = 1000;
    const got = await rt.scope(async () => {
      const x = Tensor.fromArray(rt, Float32Array.from({ length: n }, (_, i) => i), [n]);
      let y = ops.mul(x, ops.full(rt, [n], 2)); // 2i
      for (let k = 0; k < 5; k++) {
        const next = ops.add(y, ops.full(rt, [n], 1)); // takes buffers just released below
        y.dispose();
        y = next;
      }
      // An upload while the encoder above is unsubmitted: it must not land in a buffer those kernels use.
      const z = Tensor.fromArray(rt, new Float32Array(n).fill(1000), [n]);
      return ops.add(y, z).read();
    });
    expect(Array.from(got)).toEqual(Array.from({ length: n }, (_, i) => 2 * i + 5 + 1000));
  });
});

describe('bind-group cache', () => {
  it('a repeated training step creates no bind group after its first iterations', async () => {
    const steps = new Runtime(gpu);
    const config = resolveConfig({ model: 'cgan', recipe: 'p8+', width: 8, batch: 16, dataLimit: 256, steps: 5, seed: 2 });
    const trainer = new GanTrainer(steps, config, loadRecipe('p8+'), loadMnist('train', { limit: 256 }));
    try {
      const created: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = steps.bindGroupStats().misses;
        await trainer.trainStep();
        created.push(steps.bindGroupStats().misses - before);
      }
      expect(created[0]).toBeGreaterThan(50);
      expect(created.slice(3)).toEqual([0, 0]);
      expect(steps.bindGroupStats().hits).toBeGreaterThan(100);
    } finally {
      trainer.dispose();
    }
  }, 120_000);
});
