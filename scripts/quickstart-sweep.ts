// Measures how fast a training configuration gets to digits that read as the requested one, for
// choosing the quick-start defaults (results/quickstart/). Trains in memory (no run directory) and,
// every --every steps, records:
//   cpuTrainSec   process CPU time (user + system; lavapipe's threads run inside this process) spent
//                 in training steps so far, evaluation excluded: the load-independent cost
//   wallTrainSec  wall time of the same steps (disturbed when the machine is shared)
//   grid          LeNet accuracy of the 100-digit sample grid `train` writes (same latent vectors and
//                 labels as samples/latest.png: row i asks for digit i)
//   eval          LeNet accuracy and LeNet-feature FID of --eval-n samples (labels i mod 10), as
//                 `posit-gan eval` computes them (FID against the 10,000 test images)
// One JSON object per line on stdout; the first describes the run (config, adapter, start-up cost).
//
//   node --import tsx scripts/quickstart-sweep.ts --config '{"model":"acgan","width":256,"lr":5e-4}' --steps 1500 --every 100

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openNodeGpu } from '../engine/device/node.ts';
import { recipeByName } from '../engine/quant/recipe.ts';
import { Runtime } from '../engine/runtime.ts';
import { loadMnist } from '../gan/data/mnist.ts';
import { writeFileAtomicSync } from '../gan/io/atomic.ts';
import { imageGrid } from '../gan/io/image-grid.ts';
import { pngBytes } from '../gan/io/png-node.ts';
import { MnistClassifier } from '../gan/metrics/classifier.ts';
import { evaluate } from '../gan/metrics/evaluate.ts';
import { gridLabelAccuracy } from '../gan/metrics/grid-accuracy.ts';
import { generateImages } from '../gan/models/generate.ts';
import { resolveConfig } from '../gan/train/config.ts';
import { evaluationInputs } from '../gan/train/restore.ts';
import { GanTrainer, latentNoise } from '../gan/train/trainer.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: '{}' },
    steps: { type: 'string', default: '600' },
    every: { type: 'string', default: '100' },
    'eval-n': { type: 'string', default: '1000' },
    /** Also write each point's grid as DIR/step-N.png. */
    png: { type: 'string' },
  },
});
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const cpu0 = cpu();
const wall0 = performance.now();
const config = resolveConfig(JSON.parse(values.config!));
const steps = Number(values.steps);
const every = Number(values.every);
const evalN = Number(values['eval-n']);
const gpu = await openNodeGpu({ notice: () => {} });
const rt = new Runtime(gpu);
const data = loadMnist('train', { pad32: config.model === 'dcgan' && config.size === 32 });
const trainer = new GanTrainer(rt, config, recipeByName(config.recipe), data);
const gan = trainer.gan;
const classifier = MnistClassifier.load(rt);
const [, h, w] = gan.imageShape;
const gridZ = latentNoise(config.seed, 0x7fffffff, 100, gan.latent);
const gridLabels = Uint32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10));
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
out({ type: 'start', gan: gan.describe().split('\n')[0], config, steps, every, evalN, adapter: gpu.adapter.description, startupCpuSec: cpu() - cpu0, startupWallSec: (performance.now() - wall0) / 1000 });

let cpuTrain = 0;
let wallTrain = 0;
while (trainer.step < steps) {
  const c = cpu();
  const t = performance.now();
  const s = await trainer.trainStep();
  // The optimizer updates were submitted, not waited for: wait, so that their cost counts here.
  await rt.device.queue.onSubmittedWorkDone();
  cpuTrain += cpu() - c;
  wallTrain += (performance.now() - t) / 1000;
  if (s.diverged) {
    out({ type: 'diverged', step: trainer.step, reason: s.diverged });
    break;
  }
  if (trainer.step % every === 0 || trainer.step === steps) {
    const c1 = cpu();
    const t1 = performance.now();
    const gridImages = await trainer.generate(gridZ, gridLabels);
    const grid = await gridLabelAccuracy(classifier, gridImages, gridLabels, { height: h, width: w });
    if (values.png) {
      mkdirSync(values.png, { recursive: true });
      writeFileAtomicSync(join(values.png, `step-${trainer.step}.png`), pngBytes(imageGrid(gridImages, 100, { channels: 1, height: h, width: w }, { cols: 10, rows: 10 })));
    }
    const { z, labels } = evaluationInputs(gan, evalN, 0);
    const e = await evaluate(classifier, {
      n: evalN,
      async batch(start, count) {
        const images = await generateImages(rt, gan, z.subarray(start * gan.latent, (start + count) * gan.latent), labels?.subarray(start, start + count));
        return { n: count, height: h, width: w, images, ...(labels ? { labels: labels.subarray(start, start + count) } : {}) };
      },
    });
    out({
      type: 'point',
      step: trainer.step,
      cpuTrainSec: +cpuTrain.toFixed(2),
      wallTrainSec: +wallTrain.toFixed(2),
      lossG: s.lossG,
      lossD: s.lossD,
      grid: grid.accuracy,
      gridPerClass: grid.perClass,
      evalAccuracy: e.labelAccuracy?.accuracy ?? null,
      fid: +e.fid.toFixed(2),
      evalCpuSec: +(cpu() - c1).toFixed(2),
      evalWallSec: +((performance.now() - t1) / 1000).toFixed(2),
    });
  }
}
gpu.destroy();
