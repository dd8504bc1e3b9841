// `posit-gan classifier train|test`: trains an FID classifier (gan/metrics/classifier.ts) on MNIST or
// Fashion-MNIST and writes its weights file, or measures a weights file's accuracy on the test set.

import { relative } from 'node:path';
import { openNodeGpu } from '../../../engine/device/node.ts';
import { Runtime } from '../../../engine/runtime.ts';
import { DATASET_NAMES, DATASET_TITLES, loadDataset, type DatasetName } from '../../data/datasets.ts';
import { defaultWeights, LeNetClassifier, saveWeights, sidecarPath } from '../../metrics/classifier.ts';
import { testAccuracy, trainClassifier } from '../../metrics/classifier-train.ts';
import { int, num, oneOf, str, UsageError, type Command } from '../command.ts';
import { GPU_OPTIONS, GPU_OPTIONS_HELP, gpuOptionsFrom } from '../gpu-options.ts';
import { Progress } from '../progress.ts';

/** The least test accuracy a trained classifier must reach to be written: issue 4's 98.5% for
 *  MNIST; for Fashion-MNIST, where LeNet-5 reaches about 89-91%, 87% (a broken run stays far below). */
const MIN_ACCURACY: Readonly<Record<DatasetName, number>> = { mnist: 0.985, fashion: 0.87 };

const DEFAULTS = { epochs: 2, seed: 1, batch: 32, lr: 1e-3 };

const pct = (x: number) => `${+(x * 100).toFixed(2)}%`;

const classifier: Command = {
  name: 'classifier',
  summary: 'train the LeNet-5 used for FID (MNIST or Fashion-MNIST), or measure its test accuracy',
  help: `Usage: posit-gan classifier train [--dataset mnist|fashion] [--epochs N] [--seed S] [--batch B] [--lr LR] [--out FILE]
       posit-gan classifier test [--dataset mnist|fashion] [--weights FILE]

train  trains the LeNet-5 classifier whose penultimate activations are the FID features
       (gan/metrics/classifier.ts) in fp32 with Adam on the data set's 60,000 training images
       (seeded initialisation and data order; the learning rate halves every epoch), measures it on
       the 10,000 test images and, if its accuracy is at least ${pct(MIN_ACCURACY.mnist)} (MNIST) or
       ${pct(MIN_ACCURACY.fashion)} (Fashion-MNIST), writes FILE (float32 weights) and FILE.json (data set,
       architecture, SHA-256, seed, epochs, command, adapter, accuracy). Both are written to
       temporary files and renamed. Below the threshold nothing is written and the exit code is 1.
test   loads and verifies a weights file (it must be the data set's) and prints its accuracy on the
       data set's 10,000 test images.

  --dataset NAME  mnist (default) or fashion (Fashion-MNIST, the split of gan/data/fashion-mnist-core.ts)
  --epochs N      passes over the training set (default ${DEFAULTS.epochs})
  --seed S        initialisation and data-order seed (default ${DEFAULTS.seed})
  --batch B       batch size (default ${DEFAULTS.batch})
  --lr LR         Adam learning rate of the first epoch (default ${DEFAULTS.lr})
  --out FILE      weights file to write (default: the committed ${relative(process.cwd(), defaultWeights('mnist')).replace('-mnist.', '-<dataset>.')})
  --weights FILE  weights file to test (default: the committed one of the data set)
  --progress bar|quiet|jsonl   progress display (default bar)

${GPU_OPTIONS_HELP}`,
  options: {
    ...GPU_OPTIONS,
    dataset: { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    out: { type: 'string' },
    weights: { type: 'string' },
    progress: { type: 'string' },
  },
  positionals: true,
  async run(values, positionals) {
    const [action, ...extra] = positionals;
    if (action !== 'train' && action !== 'test') throw new UsageError(`expected 'train' or 'test', got ${action === undefined ? 'nothing' : `'${action}'`}`);
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const epochs = int(values, 'epochs', DEFAULTS.epochs, 1, 1000);
    const seed = int(values, 'seed', DEFAULTS.seed, 0, 0xffffffff);
    const batchSize = int(values, 'batch', DEFAULTS.batch, 1, 60000);
    const lr = num(values, 'lr', DEFAULTS.lr);
    if (!(lr > 0)) throw new UsageError(`--lr must be positive, got ${lr}`);
    const mode = oneOf(values, 'progress', ['bar', 'quiet', 'jsonl'] as const, 'bar');
    const dataset = oneOf(values, 'dataset', DATASET_NAMES, 'mnist');
    const title = DATASET_TITLES[dataset];
    const gpu = await openNodeGpu(gpuOptionsFrom(values));
    try {
      const rt = new Runtime(gpu);
      const test = loadDataset(dataset, 'test');
      if (action === 'test') {
        const path = str(values, 'weights') ?? defaultWeights(dataset);
        const c = LeNetClassifier.load(rt, path, dataset);
        const acc = await testAccuracy(c, test);
        process.stdout.write(`${path}: ${acc.correct}/${acc.n} ${title} test images correct (${(100 * acc.accuracy).toFixed(2)}%) on ${gpu.adapter.description}\n`);
        return 0;
      }
      const out = str(values, 'out') ?? defaultWeights(dataset);
      const train = loadDataset(dataset, 'train');
      const stepsPerEpoch = Math.floor(train.n / batchSize);
      const progress = new Progress({ mode, total: stepsPerEpoch * epochs });
      const note = (line: string) => (mode === 'jsonl' ? process.stdout.write(JSON.stringify({ type: 'note', text: line }) + '\n') : process.stderr.write(line + '\n'));
      const started = performance.now();
      let evalSeconds = 0;
      const result = await trainClassifier(rt, train, {
        seed,
        epochs,
        batchSize,
        lr,
        reportEvery: 10,
        onStep: (step, epoch, loss) => progress.update({ step, epoch: epoch + 1, losses: { loss } }),
        onEpoch: async (epoch, model) => {
          const t0 = performance.now();
          const acc = await testAccuracy(await LeNetClassifier.fromModel(model, dataset), test);
          evalSeconds += (performance.now() - t0) / 1000;
          note(`epoch ${epoch + 1}: test accuracy ${(100 * acc.accuracy).toFixed(2)}%`);
        },
      });
      // Training alone: the per-epoch test passes are left out.
      const trainSeconds = (performance.now() - started) / 1000 - evalSeconds;
      progress.finish();
      const trained = await LeNetClassifier.fromModel(result.model, dataset);
      const acc = await testAccuracy(trained, test);
      const accuracy = (100 * acc.accuracy).toFixed(2);
      if (acc.accuracy < MIN_ACCURACY[dataset]) {
        process.stderr.write(`${title} test accuracy ${accuracy}% (${acc.correct}/${acc.n}) is below ${pct(MIN_ACCURACY[dataset])}: ${out} was not written; try more --epochs\n`);
        return 1;
      }
      const outArg = str(values, 'out') === undefined ? '' : ` --out ${str(values, 'out')}`;
      const datasetArg = dataset === 'mnist' ? '' : ` --dataset ${dataset}`;
      const sidecar = await saveWeights(result.model, dataset, out, {
        seed,
        epochs,
        batchSize,
        optimizer: `Adam(lr ${lr}, halved every epoch; betas 0.9, 0.999; eps 1e-8)`,
        command: `bin/posit-gan classifier train${datasetArg} --epochs ${epochs} --seed ${seed} --batch ${batchSize} --lr ${lr}${outArg}`,
        adapter: gpu.adapter,
        trainSeconds: Math.round(trainSeconds),
        testAccuracy: acc.accuracy,
        testCorrect: acc.correct,
        testN: acc.n,
        createdAt: new Date().toISOString(),
      });
      process.stdout.write(
        `${title} test accuracy ${accuracy}% (${acc.correct}/${acc.n}) after ${epochs} epochs in ${Math.round(trainSeconds)} s on ${gpu.adapter.description}\n` +
          `wrote ${out} (${sidecar.bytes} bytes, sha256 ${sidecar.sha256}) and ${sidecarPath(out)}\n`,
      );
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
export default classifier;
