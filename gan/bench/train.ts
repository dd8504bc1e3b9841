// `posit-gan bench train`: training speed of the GAN, in iterations (one generator and one
// discriminator update) per second and training images per second, per recipe and batch size.
// Wall-clock time over whole iterations (each ends with the one read back of its losses, so queued GPU
// work is included); the first iterations, which compile the pipelines, are warm-up and not timed.
// Two rates per row: the median iteration's, and the mean over the timed window (iterations / the
// wall-clock time from the start of the first timed iteration to the end of the last), which is how
// the PyTorch peer (scripts/peers/pytorch-cgan.py) measures, after the same number of warm-up
// iterations by default (30). A peer's figure belongs in its own file, from its own command.

import { defaultSubmitEvery, Runtime } from '../../engine/runtime.ts';
import { loadMnist } from '../data/mnist.ts';
import { resolveConfig } from '../train/config.ts';
import { loadRecipe } from '../train/run.ts';
import { GanTrainer } from '../train/trainer.ts';
import { openBenchGpu, saveResult, table, type Benchmark, type BenchContext } from './report.ts';

const DEFAULT_RECIPES = ['fp32', 'fp16', 'bf16', 'p8+', 'p8', 'p8-all', 'fp8'];

interface Row {
  /** Dispatches per submit while recording. */
  submitEvery: number;
  /** Per-kernel GPU time of one profiled iteration (with --profile). */
  kernels?: { kernel: string; dispatches: number; ms: number }[];
  model: string;
  recipe: string;
  batch: number;
  iterations: number;
  /** Each timed iteration's wall-clock time. */
  seconds: number[];
  medianSeconds: number;
  /** 1 / medianSeconds. */
  iterationsPerSecond: number;
  imagesPerSecond: number;
  /** Wall-clock seconds from the start of the first timed iteration to the end of the last. */
  windowSeconds: number;
  /** iterations / windowSeconds: the mean rate over the timed window (the peer's measure). */
  meanIterationsPerSecond: number;
  meanImagesPerSecond: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const bench: Benchmark = {
  async run(ctx: BenchContext) {
    const gpu = await openBenchGpu(ctx.gpuOptions);
    try {
      const model = ctx.model ?? 'cgan';
      const recipes = ctx.recipes ?? DEFAULT_RECIPES;
      for (const r of recipes) loadRecipe(r); // an unknown recipe fails before any training
      const batches = ctx.batches ?? [64, 256];
      const iterations = ctx.reps;
      const rows: Row[] = [];
      const data = loadMnist('train', { pad32: model === 'dcgan', limit: Math.max(...batches) * 4 });
      for (const recipeName of recipes) {
        const recipe = loadRecipe(recipeName);
        for (const batch of batches) {
          const rt = new Runtime(gpu, ctx.submitEvery ? { submitEvery: ctx.submitEvery } : {});
          const config = resolveConfig({ model, recipe: recipeName, batch, steps: ctx.warmup + iterations, dataLimit: data.n });
          const trainer = new GanTrainer(rt, config, recipe, data);
          try {
            for (let i = 0; i < Math.max(1, ctx.warmup); i++) await trainer.trainStep();
            const seconds: number[] = [];
            const start = performance.now();
            for (let i = 0; i < iterations; i++) {
              const t0 = performance.now();
              const s = await trainer.trainStep();
              seconds.push((performance.now() - t0) / 1000);
              if (s.diverged) throw new Error(`${recipeName} diverged during the benchmark: ${s.diverged}`);
            }
            const windowSeconds = (performance.now() - start) / 1000;
            const m = median(seconds);
            const row: Row = {
              submitEvery: ctx.submitEvery ?? defaultSubmitEvery(gpu),
              model,
              recipe: recipeName,
              batch,
              iterations,
              seconds,
              medianSeconds: m,
              iterationsPerSecond: 1 / m,
              imagesPerSecond: batch / m,
              windowSeconds,
              meanIterationsPerSecond: iterations / windowSeconds,
              meanImagesPerSecond: (iterations * batch) / windowSeconds,
            };
            if (ctx.profile) {
              rt.startProfile();
              await trainer.trainStep();
              row.kernels = await rt.stopProfile();
              const total = row.kernels.reduce((a, k) => a + k.ms, 0);
              process.stdout.write(
                `\n${model} ${recipeName} batch ${batch}: GPU time by kernel in one iteration (${total.toFixed(1)} ms in all)\n` +
                  table(['kernel', 'dispatches', 'ms', 'share'], row.kernels.map((k) => [k.kernel, String(k.dispatches), k.ms.toFixed(2), `${((100 * k.ms) / total).toFixed(1)}%`])) +
                  '\n',
              );
            }
            rows.push(row);
            process.stderr.write(`bench train: ${model} ${recipeName} batch ${batch}: ${(1 / m).toFixed(2)} it/s\n`);
          } finally {
            trainer.dispose();
            rt.pool.trim();
          }
        }
      }
      process.stdout.write(
        `${gpu.adapter.description}: ${model} training, ${iterations} timed iterations after ${Math.max(1, ctx.warmup)} warm-up: ` +
          'the median iteration and the mean over the timed window\n' +
          table(
            ['recipe', 'batch', 'iter/s (median)', 'iter/s (mean)', 'images/s (mean)', 'ms/iter (median)'],
            rows.map((r) => [r.recipe, String(r.batch), r.iterationsPerSecond.toFixed(2), r.meanIterationsPerSecond.toFixed(2), r.meanImagesPerSecond.toFixed(1), (r.medianSeconds * 1000).toFixed(1)]),
          ) +
          '\n',
      );
      saveResult(ctx, 'train', gpu.adapter, 'wall-clock', {
        reps: iterations,
        // At least one warm-up iteration always runs (the first compiles the pipelines).
        warmup: Math.max(1, ctx.warmup),
        rates:
          'iterationsPerSecond = 1 / the median timed iteration; meanIterationsPerSecond = iterations / windowSeconds, the wall-clock time from ' +
          'the start of the first timed iteration to the end of the last (each iteration ends with its loss read back, so the GPU is idle at ' +
          'both ends), after `warmup` untimed iterations: the measure and, by default (30), the warm-up of scripts/peers/pytorch-cgan.py',
        results: rows,
      });
    } finally {
      gpu.destroy();
    }
  },
};
export default bench;
