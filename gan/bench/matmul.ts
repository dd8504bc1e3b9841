// `posit-gan bench matmul`: throughput of the GEMM kernel (shaders/matmul.ts) on square n x n x n
// products, per operand variant (gemm-common.ts): float32 with the planner's tile and with each
// square tile forced, packed 8/16-bit code operands, the P8+ layer (p8e2 in, p16e2 out) and quire
// accumulation. GFLOP/s counts 2 n^3 per product; "vs f32" divides by the planned f32 kernel's rate
// at the same size. --sizes gives n (default 256..4096 on a GPU, 128..512 on a software adapter).

import { Runtime } from '../../engine/runtime.ts';
import { matmulGemm } from '../../engine/ops/matmul.ts';
import type { TimingMethod } from '../../engine/kernels/timing.ts';
import { DEFAULT_OPERAND_FORMATS, gemmRows, gemmTable, randomOperand, timeGemms, variants, type GemmRow } from './gemm-common.ts';
import { openBenchGpu, saveResult, type Benchmark, type BenchContext } from './report.ts';

type Row = GemmRow & { n: number };

async function run(ctx: BenchContext): Promise<void> {
  const gpu = await openBenchGpu(ctx.gpuOptions);
  const rt = new Runtime(gpu);
  try {
    const a = gpu.adapter;
    const sizes = ctx.sizes ?? (a.software ? [128, 256, 512] : [256, 512, 1024, 2048, 4096]);
    const list = variants(ctx.formats ?? DEFAULT_OPERAND_FORMATS);
    process.stdout.write(
      `posit-gan bench matmul on ${a.description} (${a.software ? 'software' : 'hardware'}, ${a.runtime}); ` +
        `n x n x n; median of ${ctx.reps} rounds over the variants, each timed run right after an untimed one (${ctx.warmup} warm-up first)\n`,
    );
    const results: Row[] = [];
    let method: TimingMethod = 'timestamp';
    for (const n of sizes) {
      const rows = await rt.scope(async () => {
        const calls = list.map((v) => {
          const x = randomOperand(rt, [n, n], v.operands, 1);
          const y = randomOperand(rt, [n, n], v.operands, 2);
          const call = matmulGemm(x, y, {
            ...(v.output ? { output: { format: v.output } } : {}),
            ...(v.accumulate ? { accumulate: v.accumulate } : {}),
            ...(v.tile ? { tile: v.tile } : {}),
          });
          return { label: `matmul ${v.name} ${n}`, call };
        });
        const times = await timeGemms(rt, calls, ctx);
        method = times[0]!.method;
        return gemmRows(list, times, 2 * n ** 3).map((r): Row => ({ ...r, n }));
      });
      results.push(...rows);
      process.stdout.write(`\nn = ${n} (${method})\n${gemmTable(rows)}\n`);
    }
    saveResult(ctx, 'matmul', a, method, { flops: '2 n^3 per n x n x n product', results });
  } finally {
    gpu.destroy();
  }
}

const benchmark: Benchmark = { run };
export default benchmark;
