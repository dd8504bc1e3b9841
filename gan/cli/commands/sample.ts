import { openNodeGpu } from '../../../engine/device/node.ts';
import { openExport } from '../../deploy/files.ts';
import { writeFileAtomicSync } from '../../io/atomic.ts';
import { imageGrid } from '../../io/image-grid.ts';
import { pngBytes } from '../../io/png-node.ts';
import { generateImages } from '../../models/generate.ts';
import { loadDataset } from '../../data/datasets.ts';
import { loadTranslationTask } from '../../data/translation.ts';
import type { SampleGrid } from '../../train/objective.ts';
import { restoreRun, type RestoredRun } from '../../train/restore.ts';
import { superResolutionGrid } from '../../train/sr-objective.ts';
import { translationGrid } from '../../train/translation-objective.ts';
import { latentNoise } from '../../train/trainer.ts';
import { int, oneOf, str, UsageError, type Command } from '../command.ts';
import { GPU_OPTIONS, gpuOptionsFrom } from '../gpu-options.ts';

const PRECISIONS = ['trained', 'fp32'] as const;

const sample: Command = {
  name: 'sample',
  summary: 'write a grid of generated images (or translations, or upscaled images) from a trained run',
  usage: `posit-gan sample --checkpoint DIR --out FILE.png [--n N] [--labels 0,1,...] [--seed S]
                        [--precision trained|fp32] [--allow-older]
       posit-gan sample --export FILE --out FILE.png [--n N] [--labels 0,1,...] [--seed S]`,
  help: [
    `Generates N images with the generator of the run in DIR (its newest good checkpoint) and writes them as
one PNG grid. For the conditional GAN, each label in --labels gives one row (default 0,1,...,9: row i is
digit i) and N is spread over the rows (default 10 per row); for the DCGAN, N images in a square grid
(default 64). For a cyclegan run: the first N test images of each domain (default 20) in rows of ten,
each row above its translation (domain A by G_AB, then domain B by G_BA). For an srgan run: the first N
test images (default 20) in groups of three rows: the low-resolution input (enlarged), the upscaled
image and the original.`,
    {
      options: [
        { name: 'checkpoint', type: 'string', value: 'DIR', help: 'a run directory written by `posit-gan train`' },
        { name: 'out', type: 'string', value: 'FILE.png', help: 'the PNG grid to write' },
        { name: 'n', type: 'string', value: 'N', help: 'images (cgan: default 10 per row; dcgan: default 64)' },
        { name: 'labels', type: 'string', value: '0,1,...', help: 'cgan: the digit of each row (default 0,1,...,9)' },
        { name: 'seed', type: 'string', value: 'S', default: 0, help: 'seed of the latent vectors' },
        {
          name: 'precision',
          type: 'string',
          choices: PRECISIONS,
          help: 'trained: run the generator under the recipe it was trained with (default)\nfp32: run it in float32 on the trained master weights',
        },
        { name: 'allow-older', type: 'boolean', help: 'if the newest checkpoint is damaged, use the newest good one (with a warning) instead of refusing' },
        { name: 'export', type: 'string', value: 'FILE', help: 'instead of a run: the generator of an export file (posit-gan export), under the deployment recipe it was exported with' },
      ],
    },
    GPU_OPTIONS,
  ],
  async run(values) {
    const dir = str(values, 'checkpoint');
    const exportFile = str(values, 'export');
    const out = str(values, 'out');
    if (!dir && !exportFile) throw new UsageError('--checkpoint DIR (a run directory written by posit-gan train) or --export FILE is required');
    if (dir && exportFile) throw new UsageError('give --checkpoint or --export, not both');
    if (exportFile && values.precision !== undefined) throw new UsageError('--precision applies to --checkpoint; an export runs under the recipe it was exported with');
    if (!out) throw new UsageError('--out FILE.png is required');
    const seed = int(values, 'seed', 0, 0, 0xffffffff);
    const precision = oneOf(values, 'precision', PRECISIONS, 'trained');
    const labelList = str(values, 'labels');
    let rows: number[] | null = null;
    if (labelList !== undefined) {
      rows = labelList.split(',').map((s) => {
        const v = Number(s.trim());
        if (!Number.isInteger(v) || v < 0 || v > 9) throw new UsageError(`--labels: '${s}' is not a digit 0..9`);
        return v;
      });
    }
    const gpu = await openNodeGpu(gpuOptionsFrom(values));
    try {
      const exported = exportFile ? await openExport(gpu, exportFile) : null;
      const run = exported ? null : restoreRun(gpu, dir!, { asTrained: precision === 'trained', allowOlder: values['allow-older'] === true });
      if (run && run.model.family !== 'noise') {
        if (rows) throw new UsageError(`--labels applies to the conditional GANs; this run trained a ${run.config.model}`);
        const grid = await imageModelGrid(run, int(values, 'n', 20, 1, 10_000));
        const [c, h, w] = grid.shape;
        writeFileAtomicSync(out, pngBytes(imageGrid(grid.images, grid.count, { channels: c as 1, height: h, width: w }, { cols: grid.cols, rows: grid.rows })));
        process.stdout.write(`${out}: ${run.config.model} ${run.config.task ?? run.config.dataset} test images (${run.recipe.name}, step ${run.step}, ${precision})\n`);
        return 0;
      }
      const { gan, runtime } = exported ?? run!;
      let n: number;
      let cols: number;
      let labels: Uint32Array | undefined;
      if (gan.conditional) {
        rows ??= [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        n = int(values, 'n', rows.length * 10, rows.length, 100_000);
        cols = Math.ceil(n / rows.length);
        n = cols * rows.length;
        labels = Uint32Array.from({ length: n }, (_, i) => rows![Math.floor(i / cols)]!);
      } else {
        if (rows) throw new UsageError(`--labels applies to the conditional GAN; this run trained a ${gan.kind}`);
        n = int(values, 'n', 64, 1, 100_000);
        cols = Math.ceil(Math.sqrt(n));
      }
      const z = latentNoise(seed, 0x5a3f1e, n, gan.latent);
      const images = await generateImages(runtime, gan, z, labels);
      const [c, h, w] = gan.imageShape;
      writeFileAtomicSync(out, pngBytes(imageGrid(images, n, { channels: c as 1, height: h, width: w }, { cols })));
      const what = exported
        ? `export ${exportFile}: deployment recipe ${exported.deployment.recipe.name}, step ${exported.file.header.source.step}`
        : `${run!.recipe.name}, step ${run!.step}, ${precision}`;
      process.stdout.write(`${out}: ${n} samples of ${gan.kind} (${what})\n`);
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
export default sample;

/** The sample grid of a translation or super-resolution run on its test images. */
function imageModelGrid(run: RestoredRun, n: number): Promise<SampleGrid> {
  const c = run.config;
  switch (run.model.family) {
    case 'translation':
      return translationGrid(run.runtime, run.model.cyclegan, loadTranslationTask(c.task!, { pad32: c.size === 32, trainLimit: 30, testLimit: 3 * n }), n);
    case 'sr':
      return superResolutionGrid(run.runtime, run.model.G, loadDataset(c.dataset, 'test', { limit: n }), n);
    case 'noise':
      throw new Error('a latent-vector GAN samples from latent vectors');
  }
}
