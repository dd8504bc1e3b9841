import { join } from 'node:path';
import { openNodeGpu } from '../../../engine/device/node.ts';
import { evaluateRun } from '../../experiments/evaluate-run.ts';
import { writeFileAtomicSync } from '../../io/atomic.ts';
import { provenance } from '../../io/provenance.ts';
import { referenceCacheFilesIn } from '../../train/fid-curve.ts';
import { int, oneOf, str, UsageError, type Command } from '../command.ts';
import { GPU_OPTIONS, gpuOptionsFrom } from '../gpu-options.ts';

const PRECISIONS = ['trained', 'fp32'] as const;

const evalCommand: Command = {
  name: 'eval',
  summary: 'FID (LeNet and autoencoder features), classifier accuracy, PSNR / SSIM of a trained run',
  usage: `posit-gan eval --checkpoint DIR [--n N] [--seed S] [--precision trained|fp32] [--json]
                      [--allow-older] [--reference-cache DIR]`,
  help: [
    `Generates N samples (default 10000; for the conditional acgan and cgan, labels 0..9 in turn) with the
generator of the run in DIR and reports, against the 10000 MNIST test images:
  fid                  Frechet distance of the features of posit-gan's LeNet-5 classifier
                       (gan/metrics/lenet-mnist.safetensors), in float64
  second.fid           the same on the code of posit-gan's MLP autoencoder
                       (gan/metrics/mnist-autoencoder.safetensors): a second network built differently
                       (no labels, no convolutions), so an ordering that holds under both does not
                       rest on one network's quirks
  classifier accuracy  (acgan, cgan) the classifier's accuracy on the samples against their labels
On Fashion-MNIST (--dataset fashion) the features are the Fashion LeNet's (lenet-fashion.safetensors)
and there is no second network. A cyclegan run translates the first N test images of its source domain
and compares them with the target domain's test images (thin2bold: bold test digits), on the target
data set's LeNet; for thin2bold and bold2thin the accuracy is the MNIST classifier's reading of the
translated digits against their source labels. An srgan run upscales the first N test images from
their box-downsampled versions: psnr and ssim against the originals (8-bit pixels), and FID.
Writes DIR/eval.json (with the code's commit and this command line). These FIDs are on another scale
than the paper's Inception-feature FIDs: compare the ordering of recipes, never the values.`,
    {
      options: [
        { name: 'checkpoint', type: 'string', value: 'DIR', help: 'a run directory written by `posit-gan train`' },
        { name: 'n', type: 'string', value: 'N', default: 10000, help: 'generated samples' },
        { name: 'seed', type: 'string', value: 'S', default: 0, help: 'seed of the latent vectors' },
        {
          name: 'precision',
          type: 'string',
          choices: PRECISIONS,
          help: 'trained: the generator under the recipe it was trained with (default)\nfp32: float32 on the trained master weights',
        },
        { name: 'json', type: 'boolean', help: 'print the results as JSON' },
        { name: 'allow-older', type: 'boolean', help: 'if the newest checkpoint is damaged, use the newest good one (with a warning) instead of refusing' },
        {
          name: 'reference-cache',
          type: 'string',
          value: 'DIR',
          help: "keep the test images' feature statistics of both networks in DIR (computed when missing or made with other weights or data; read otherwise)",
        },
      ],
    },
    GPU_OPTIONS,
  ],
  async run(values) {
    const dir = str(values, 'checkpoint');
    if (!dir) throw new UsageError('--checkpoint DIR (a run directory written by posit-gan train) is required');
    const n = int(values, 'n', 10_000, 2, 1_000_000);
    const seed = int(values, 'seed', 0, 0, 0xffffffff);
    const precision = oneOf(values, 'precision', PRECISIONS, 'trained');
    const gpu = await openNodeGpu(gpuOptionsFrom(values));
    try {
      const referenceCache = str(values, 'reference-cache');
      const e = {
        ...provenance(),
        ...(await evaluateRun(gpu, dir, { n, seed, precision, allowOlder: values['allow-older'] === true, ...(referenceCache ? { cacheFiles: referenceCacheFilesIn(referenceCache) } : {}) })),
      };
      writeFileAtomicSync(join(dir, 'eval.json'), JSON.stringify(e, null, 2) + '\n');
      if (values.json) {
        process.stdout.write(JSON.stringify(e, null, 2) + '\n');
      } else {
        const against = e.translation ? `${e.translation.task}: ${e.translation.source} test images translated, vs ${e.translation.target} test` : `vs ${e.reference.name}`;
        process.stdout.write(
          `${e.model} ${e.recipe} step ${e.step} (${precision}), ${e.n} samples ${against}:\n` +
            (e.superResolution
              ? `  PSNR ${e.superResolution.psnr === null ? 'identical' : e.superResolution.psnr.toFixed(3) + ' dB'}, SSIM ${e.superResolution.ssim.toFixed(4)} (x${e.superResolution.scale})\n`
              : '') +
            `  FID (LeNet features) ${e.fid.toFixed(3)}\n` +
            (e.second ? `  FID (${e.second.network} features) ${e.second.fid.toFixed(3)}\n` : '') +
            (e.labelAccuracy ? `  classifier accuracy  ${(100 * e.labelAccuracy.accuracy).toFixed(2)}%\n` : '') +
            `  written to ${join(dir, 'eval.json')}\n`,
        );
      }
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
export default evalCommand;
