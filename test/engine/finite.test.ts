// nonFiniteCount: NaN and +-inf counted over many tensors of ragged sizes (more tensors than one
// dispatch scans), against a count on the CPU; finite extremes and subnormals are not counted.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { nonFiniteBatch, nonFiniteCount } from '../../engine/ops/finite.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { openTestRuntime, randomArray } from './harness.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  ({ gpu, rt } = await openTestRuntime());
});
afterAll(() => gpu?.destroy());

const SPECIAL = [NaN, Infinity, -Infinity];
const FINITE_EXTREMES = [3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -0, 0];

describe('nonFiniteCount', () => {
  it('counts NaN and infinities across more tensors than one dispatch takes', async () => {
    const sizes = [5, 0, 1000, 1, 257, 33, 4096, 7, 300, 2, 513, 64, 9, 1, 1500, 3];
    expect(sizes.length).toBeGreaterThan(2 * nonFiniteBatch(rt));
    let expected = 0;
    const arrays = sizes.map((n, i) => {
      const a = Float32Array.from(randomArray(n, 100 + i, -1e3, 1e3));
      // Specials in every third tensor, at its ends and in its middle; finite extremes elsewhere.
      for (let j = 0; j < n; j += Math.max(1, Math.floor(n / 4))) {
        if (i % 3 === 0) {
          a[j] = SPECIAL[(i + j) % 3]!;
          expected++;
        } else {
          a[j] = FINITE_EXTREMES[(i + j) % FINITE_EXTREMES.length]!;
        }
      }
      return a;
    });
    const cpu = arrays.reduce((s, a) => s + a.filter((v) => !Number.isFinite(v)).length, 0);
    expect(cpu).toBe(expected);
    expect(expected).toBeGreaterThan(10);
    const got = await rt.scope(async () => {
      const ts = arrays.map((a) => Tensor.fromArray(rt, a, [a.length]));
      return (await nonFiniteCount(rt, ts).read())[0];
    });
    expect(got).toBe(expected);
  });

  it('counts across many workgroups of a large tensor', async () => {
    // 300k elements: over a hundred workgroups, each adding its own count to the total.
    const n = 300_007;
    const a = Float32Array.from(randomArray(n, 7, -1, 1));
    let expected = 0;
    for (let j = 3; j < n; j += 997) {
      a[j] = SPECIAL[j % 3]!;
      expected++;
    }
    a[n - 1] = NaN;
    expected++;
    const got = await rt.scope(async () => (await nonFiniteCount(rt, [Tensor.fromArray(rt, a, [n])]).read())[0]);
    expect(got).toBe(expected);
  });

  it('is 0 for finite tensors and for none at all', async () => {
    await rt.scope(async () => {
      const ts = [Tensor.fromArray(rt, Float32Array.from(FINITE_EXTREMES), [FINITE_EXTREMES.length])];
      expect((await nonFiniteCount(rt, ts).read())[0]).toBe(0);
      expect((await nonFiniteCount(rt, []).read())[0]).toBe(0);
    });
  });
});
