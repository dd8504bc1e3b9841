import { join } from 'node:path';
import { openNodeGpu } from '../../../engine/device/node.ts';
import { evaluateRun } from '../../experiments/evaluate-run.ts';
import { writeFileAtomicSync } from '../../io/atomic.ts';
import { provenance } from '../../io/provenance.ts';
import { referenceCacheFilesIn } from '../../train/fid-curve.ts';
import { int, oneOf, str, UsageError, type Command } from '../command.ts';
import { GPU_OPTIONS, GPU_OPTIONS_HELP, gpuOptionsFrom } from '../gpu-options.ts';

const evalCommand: Command = {
  name: 'eval',
  summary: 'FID (LeNet and autoencoder features) and classifier accuracy of a trained run',
  help: `Usage: posit-gan eval --checkpoint DIR [--n N] [--seed S] [--precision trained|fp32] [--json]
                      [--allow-older] [--reference-cache DIR]

Generates N samples (default 10000; for the cgan, labels 0..9 in turn) with the generator of the run in
DIR and reports, against the 10000 MNIST test images:
  fid                  Frechet distance of the features of posit-gan's LeNet-5 classifier
                       (gan/metrics/lenet-mnist.weights), in float64
  second.fid           the same on the code of posit-gan's MLP autoencoder
                       (gan/metrics/mnist-autoencoder.weights): a second network built differently
                       (no labels, no convolutions), so an ordering that holds under both does not
                       rest on one network's quirks
  classifier accuracy  (cgan) the classifier's accuracy on the samples against their labels
Writes DIR/eval.json (with the code's commit and this command line). These FIDs are on another scale
than the paper's Inception-feature FIDs: compare the ordering of recipes, never the values.

  --precision trained  the generator under the recipe it was trained with (default)
  --precision fp32     float32 on the trained master weights
  --allow-older        if the newest checkpoint is damaged, use the newest good one (with a warning)
                       instead of refusing
  --reference-cache DIR  keep the test images' feature statistics of both networks in DIR (computed
                       when missing or made with other weights or data; read otherwise)

${GPU_OPTIONS_HELP}`,
  options: { ...GPU_OPTIONS, checkpoint: { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' }, precision: { type: 'string' }, json: { type: 'boolean' }, 'allow-older': { type: 'boolean' }, 'reference-cache': { type: 'string' } },
  async run(values) {
    const dir = str(values, 'checkpoint');
    if (!dir) throw new UsageError('--checkpoint DIR (a run directory written by posit-gan train) is required');
    const n = int(values, 'n', 10_000, 2, 1_000_000);
    const seed = int(values, 'seed', 0, 0, 0xffffffff);
    const precision = oneOf(values, 'precision', ['trained', 'fp32'] as const, 'trained');
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
        process.stdout.write(
          `${e.model} ${e.recipe} step ${e.step} (${precision}), ${e.n} samples vs MNIST test:\n` +
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
