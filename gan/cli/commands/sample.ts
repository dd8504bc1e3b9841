import { openNodeGpu } from '../../../engine/device/node.ts';
import type { Runtime } from '../../../engine/runtime.ts';
import { isImageModel, type ImageExportModel } from '../../deploy/export-format.ts';
import { exportModelOf } from '../../deploy/export.ts';
import { openExport } from '../../deploy/files.ts';
import type { DeployedNets } from '../../deploy/target.ts';
import { writeFileAtomicSync } from '../../io/atomic.ts';
import { imageGrid } from '../../io/image-grid.ts';
import { pngBytes } from '../../io/png-node.ts';
import { generateImages } from '../../models/generate.ts';
import { loadDataset } from '../../data/datasets.ts';
import { loadTranslationTask } from '../../data/translation.ts';
import type { SampleGrid } from '../../train/objective.ts';
import { restoreRun } from '../../train/restore.ts';
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
image and the original. With --export FILE, the same grids from the exported generator under its
deployment recipe (a cyclegan export holds G_AB only: the domain A rows above their translations).`,
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
      const { runtime } = exported ?? run!;
      const nets: DeployedNets = exported ? exported.nets : run!.model;
      const what = exported
        ? `export ${exportFile}: deployment recipe ${exported.deployment.recipe.name}, step ${exported.file.header.source.step}`
        : `${run!.recipe.name}, step ${run!.step}, ${precision}`;
      if (nets.family !== 'noise') {
        const model = exported ? exported.file.header.model : exportModelOf(run!.config);
        if (!isImageModel(model)) throw new Error(`sample: a ${nets.family} model's generator does not fit a ${model.kind} model's options`);
        if (rows) throw new UsageError(`--labels applies to the conditional GANs; this ${exported ? 'export holds' : 'run trained'} a ${model.kind}`);
        const grid = await imageModelGrid(runtime, nets, model, int(values, 'n', 20, 1, 10_000));
        const [c, h, w] = grid.shape;
        writeFileAtomicSync(out, pngBytes(imageGrid(grid.images, grid.count, { channels: c as 1, height: h, width: w }, { cols: grid.cols, rows: grid.rows })));
        process.stdout.write(`${out}: ${model.kind} ${model.kind === 'cyclegan' ? model.task : model.dataset} test images (${what})\n`);
        return 0;
      }
      const { gan } = nets;
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
      process.stdout.write(`${out}: ${n} samples of ${gan.kind} (${what})\n`);
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
export default sample;

/** The sample grid of an image-to-image generator on the test images its model names: a translation
 *  model's source-domain images above their translations (both domains when G_BA is there; an export
 *  holds G_AB only), or an SR model's low-resolution inputs, upscaled images and originals. */
function imageModelGrid(rt: Runtime, nets: DeployedNets, model: ImageExportModel, n: number): Promise<SampleGrid> {
  if (nets.family === 'translation' && model.kind === 'cyclegan') {
    return translationGrid(rt, nets.cyclegan, loadTranslationTask(model.task, { pad32: model.size === 32, trainLimit: 30, testLimit: 3 * n }), n);
  }
  if (nets.family === 'sr' && model.kind === 'srgan') return superResolutionGrid(rt, nets.G, loadDataset(model.dataset, 'test', { limit: n }), n);
  throw new Error(`sample: a ${nets.family} model's generator does not fit a ${model.kind} model's options`);
}
