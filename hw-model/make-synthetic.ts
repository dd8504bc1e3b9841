// Writes SYNTHETIC op-count files for a cgan-like model (training: fp16, fp8, p8+; deployment: fp16,
// fp8, p6+t) so the `energy` comparison can be exercised before the engine records real counts:
//   npx tsx hw-model/make-synthetic.ts OUTDIR
//   bin/posit-gan energy OUTDIR/synthetic-cgan-train-*.opcounts.json --normalize-to synthetic-cgan-train-p8+
// The shapes approximate an MLP conditional GAN on MNIST and the recipes follow docs/method.md section 5 in
// outline only; the numbers these files lead to are not results.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dense, synthesizeDeployment, synthesizeTraining, type SyntheticModel, type SyntheticRecipe } from './synthetic.ts';

const g = { deployed: true };
const d = { deployed: false, timesPerStep: 2 }; // the discriminator sees a real and a fake batch
const cgan: SyntheticModel = {
  name: 'cgan',
  layers: [
    dense('G.fc1', 110, 128, { ...g, activation: 'leaky_relu' }),
    dense('G.fc2', 128, 256, { ...g, activation: 'leaky_relu' }),
    dense('G.fc3', 256, 512, { ...g, activation: 'leaky_relu' }),
    dense('G.fc4', 512, 1024, { ...g, activation: 'leaky_relu' }),
    dense('G.out', 1024, 784, { ...g, activation: 'tanh' }),
    dense('D.fc1', 794, 512, { ...d, activation: 'leaky_relu' }),
    dense('D.fc2', 512, 512, { ...d, activation: 'leaky_relu' }),
    dense('D.fc3', 512, 512, { ...d, activation: 'leaky_relu' }),
    dense('D.out', 512, 1, { ...d, activation: 'sigmoid' }),
  ],
};

const train: SyntheticRecipe[] = [
  { name: 'fp16', weights: 'fp16', activations: 'fp16', errors: 'fp16', accumulator: 'fp32', output: 'fp16', master: 'fp32' },
  { name: 'fp8', weights: 'e4m3q', activations: 'e4m3q', errors: 'e5m2q', accumulator: 'fp32', output: 'fp32', master: 'fp32' },
  { name: 'p8+', weights: 'p8e2', activations: 'p8e2', errors: 'p8e2', accumulator: 'quire', output: 'p16e2', master: 'p16e2' },
];
const deploy: SyntheticRecipe[] = [
  { name: 'fp16', weights: 'fp16', activations: 'fp16', errors: 'fp16', accumulator: 'fp32', output: 'fp16', master: 'fp16' },
  { name: 'fp8', weights: 'e4m3q', activations: 'e4m3q', errors: 'e4m3q', accumulator: 'fp32', output: 'fp32', master: 'fp32' },
  { name: 'p6+t', weights: 'p6e1', activations: 'p6e1', errors: 'p6e1', accumulator: 'quire', output: 'p16e1', master: 'p16e1', fastTanh: 'p16e0' },
];

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: npx tsx hw-model/make-synthetic.ts OUTDIR\n');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const files = [
  ...train.map((r) => synthesizeTraining(cgan, r, { batch: 64, steps: 1 })),
  ...deploy.map((r) => synthesizeDeployment(cgan, r, { batch: 64, passes: 1 })),
];
for (const f of files) {
  const path = join(out, `${f.run.name}.opcounts.json`);
  writeFileSync(path, JSON.stringify(f, null, 1) + '\n');
  process.stdout.write(`wrote ${path} (SYNTHETIC)\n`);
}
