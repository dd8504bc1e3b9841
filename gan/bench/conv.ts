// `posit-gan bench conv`: throughput of the implicit-GEMM convolutions on DCGAN-like layers (NCHW),
// per operand variant (gemm-common.ts). --sizes gives the batch (default 16, 64, 256 on a GPU; 1 and
// 2 on a software adapter). GFLOP/s counts 2 * the true multiply-accumulates (the transposed
// convolution runs as one GEMM per stride phase, each over only the taps that reach its pixels).

import { Runtime } from '../../engine/runtime.ts';
import { conv2dGemm, convTranspose2dGemm } from '../../engine/ops/conv.ts';
import type { GemmCall } from '../../engine/ops/gemm.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';
import type { Conv2dOptions } from '../../engine/ops/conv.ts';
import type { TimingMethod } from '../../engine/kernels/timing.ts';
import { DEFAULT_OPERAND_FORMATS, gemmRows, gemmTable, randomOperand, timeGemms, variants, type GemmRow } from './gemm-common.ts';
import { openBenchGpu, saveResult, type Benchmark, type BenchContext } from './report.ts';

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

type Row = GemmRow & { layer: string; batch: number };

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
    let method: TimingMethod = 'timestamp';
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
          const times = await timeGemms(rt, calls, ctx);
          method = times[0]!.method;
          return gemmRows(list, times, 2 * layer.macs(n)).map((r): Row => ({ ...r, layer: layer.name, batch: n }));
        });
        results.push(...rows);
        process.stdout.write(`\n${layer.name}, batch ${n} (${method})\n${gemmTable(rows)}\n`);
      }
    }
    saveResult(ctx, 'conv', a, method, { flops: '2 x true multiply-accumulates', results });
  } finally {
    gpu.destroy();
  }
}

const benchmark: Benchmark = { run };
export default benchmark;
