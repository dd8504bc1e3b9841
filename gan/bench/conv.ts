// `posit-gan bench conv`: throughput of the implicit-GEMM convolutions on DCGAN-like layers (NCHW),
// per operand variant (gemm-common.ts). --sizes gives the batch (default 16, 64, 256 on a GPU; 1 and
// 2 on a software adapter). GFLOP/s counts 2 * the true multiply-accumulates (the transposed
// convolution runs as one GEMM per stride phase, each over only the taps that reach its pixels).

import { Runtime } from '../../engine/runtime.ts';
import { conv2dGemm, convTranspose2dGemm } from '../../engine/ops/conv.ts';
import type { GemmCall } from '../../engine/ops/gemm.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';
import type { Conv2dOptions } from '../../engine/ops/conv.ts';
import { DEFAULT_OPERAND_FORMATS, randomOperand, timeGemms, variants } from './gemm-common.ts';
import { defaultResultPath, hostInfo, openBenchGpu, table, writeResult, type Benchmark, type BenchContext } from './report.ts';

interface Layer {
  name: string;
  x: (n: number) => number[];
  w: number[];
  /** Multiply-accumulates for batch n. */
  macs: (n: number) => number;
  gemm: (x: Tensor, w: Tensor, o: Conv2dOptions) => GemmCall;
}

const LAYERS: Layer[] = [
  {
    name: 'conv 3x3 s1 p1, 64 -> 64, 32x32',
    x: (n) => [n, 64, 32, 32],
    w: [64, 64, 3, 3],
    macs: (n) => n * 64 * 32 * 32 * 64 * 9,
    gemm: (x, w, o) => conv2dGemm(x, w, { ...o, padding: 1 }),
  },
  {
    name: 'conv 4x4 s2 p1, 64 -> 128, 32x32 -> 16x16',
    x: (n) => [n, 64, 32, 32],
    w: [128, 64, 4, 4],
    macs: (n) => n * 128 * 16 * 16 * 64 * 16,
    gemm: (x, w, o) => conv2dGemm(x, w, { ...o, stride: 2, padding: 1 }),
  },
  {
    name: 'convT 4x4 s2 p1, 128 -> 64, 16x16 -> 32x32',
    x: (n) => [n, 128, 16, 16],
    w: [128, 64, 4, 4],
    macs: (n) => n * 128 * 16 * 16 * 64 * 16,
    gemm: (x, w, o) => convTranspose2dGemm(x, w, { ...o, stride: 2, padding: 1 }),
  },
];

interface Row {
  layer: string;
  variant: string;
  batch: number;
  tile: string;
  splits: number;
  medianNs: number;
  ns: number[];
  gflops: number;
  vsF32: number;
}

async function run(ctx: BenchContext): Promise<void> {
  const gpu = await openBenchGpu(ctx.gpuOptions);
  const rt = new Runtime(gpu);
  try {
    const a = gpu.adapter;
    const sizes = ctx.sizes ?? (a.software ? [1, 2] : [16, 64, 256]);
    // Forced tiles are a matmul question; here the planner picks.
    const list = variants(ctx.formats ?? DEFAULT_OPERAND_FORMATS).filter((v) => !v.tile);
    process.stdout.write(
      `posit-gan bench conv on ${a.description} (${a.software ? 'software' : 'hardware'}, ${a.runtime}); ` +
        `NCHW; median of ${ctx.reps} rounds over the variants, each timed run right after an untimed one (${ctx.warmup} warm-up first)\n`,
    );
    const results: Row[] = [];
    let method = 'timestamp';
    for (const layer of LAYERS) {
      for (const n of sizes) {
        const rows = await rt.scope(async () => {
          const calls = list.map((v) => {
            const x = randomOperand(rt, layer.x(n), v.operands, 1);
            const w = randomOperand(rt, layer.w, v.operands, 2);
            const call = layer.gemm(x, w, {
              ...(v.output ? { output: { format: v.output } } : {}),
              ...(v.accumulate ? { accumulate: v.accumulate } : {}),
            });
            return { label: `${layer.name} ${v.name} ${n}`, call };
          });
          const times = await timeGemms(gpu, calls, ctx);
          method = times[0]!.method;
          const f32 = (2 * layer.macs(n)) / times[0]!.medianNs; // variants()[0] is the f32 kernel
          return times.map((t, i): Row => {
            const gflops = (2 * layer.macs(n)) / t.medianNs;
            return { layer: layer.name, variant: list[i]!.name, batch: n, tile: t.tile, splits: t.splits, medianNs: t.medianNs, ns: t.ns, gflops, vsF32: gflops / f32 };
          });
        });
        results.push(...rows);
        process.stdout.write(
          `\n${layer.name}, batch ${n} (${method})\n` +
            table(
              ['variant', 'tile', 'ms', 'GFLOP/s', 'vs f32'],
              rows.map((r) => [r.variant, r.splits > 1 ? `${r.tile}, split ${r.splits}` : r.tile, (r.medianNs / 1e6).toFixed(2), r.gflops.toFixed(2), `${r.vsF32.toFixed(2)}x`]),
            ) +
            '\n',
        );
      }
    }
    const path = writeResult(ctx.out ?? defaultResultPath('conv', a), {
      benchmark: 'conv',
      adapter: a,
      timing: method as 'timestamp' | 'wall-clock',
      date: new Date().toISOString(),
      node: process.version,
      host: hostInfo(),
      reps: ctx.reps,
      warmup: ctx.warmup,
      flops: '2 x true multiply-accumulates',
      results,
    });
    process.stdout.write(`\nwrote ${path}\n`);
  } finally {
    gpu.destroy();
  }
}

const benchmark: Benchmark = { run };
export default benchmark;
