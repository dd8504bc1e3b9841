// Records the op counts of GAN training steps, and nothing else, for the hardware comparison
// (results/hw-model/README.md): the same GanTrainer as `posit-gan train` (layers under 'G.' and 'D.'),
// but per steady-state step. `posit-gan train`'s own file counts the whole run, calibration included;
// here `--warmup N` steps run first, uncounted: the first step of a calibrating recipe (p8+) runs at
// loss scale 1 and calibrates, so steady-state steps start at the second.
//
//   npx tsx results/hw-model/record-training.ts --model cgan --recipe p8+ --warmup 1 --steps 2 \
//     --data-limit 640 --out results/hw-model/opcounts/cgan-train-p8+.opcounts.json

import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { openNodeGpu } from '../../engine/device/node.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import { Runtime } from '../../engine/runtime.ts';
import { loadMnist } from '../../gan/data/mnist.ts';
import { writeFileAtomicSync } from '../../gan/io/atomic.ts';
import { resolveConfig } from '../../gan/train/config.ts';
import { loadRecipe } from '../../gan/train/run.ts';
import { GanTrainer } from '../../gan/train/trainer.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'cgan' },
    recipe: { type: 'string', default: 'p8+' },
    steps: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    'data-limit': { type: 'string', default: '640' },
    batch: { type: 'string' },
    size: { type: 'string' },
    ngf: { type: 'string' },
    ndf: { type: 'string' },
    width: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!values.out) throw new Error('give --out FILE.opcounts.json');
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const config = resolveConfig({
  model: values.model,
  recipe: values.recipe,
  steps: warmup + steps,
  dataLimit: values['data-limit'],
  batch: values.batch,
  size: values.size,
  ngf: values.ngf,
  ndf: values.ndf,
  width: values.width,
});
const recipe = loadRecipe(config.recipe);
const gpu = await openNodeGpu();
const rt = new Runtime(gpu);
const data = loadMnist('train', { pad32: config.model === 'dcgan' && config.size === 32, ...(config.dataLimit ? { limit: config.dataLimit } : {}) });
const trainer = new GanTrainer(rt, config, recipe, data);

const skipped: string[] = [];
for (let i = 0; i < warmup + steps; i++) {
  if (i === warmup) rt.recorder = new OpRecorder();
  const s = await trainer.trainStep();
  if (s.diverged) throw new Error(`step ${s.step}: ${s.diverged}`);
  if (s.skippedG || s.skippedD) skipped.push(`step ${s.step}: ${s.skippedG ? 'G ' : ''}${s.skippedD ? 'D ' : ''}update skipped (loss-scale overflow)`);
}
const counts = rt.recorder!.toFile({
  name: basename(values.out).replace(/\.opcounts\.json$/, ''),
  command: 'train',
  model: config.model,
  recipe: recipe.name,
  steps,
  batch: config.batch,
  device: gpu.adapter.description,
  created: new Date().toISOString(),
});
writeFileAtomicSync(values.out, JSON.stringify(counts, null, 1) + '\n');
const describe = config.model === 'cgan' ? `width ${config.width}` : `size ${config.size}, ngf ${config.ngf}, ndf ${config.ndf}`;
process.stdout.write(
  `${values.out}: ${config.model} (${describe}) ${recipe.name}, batch ${config.batch}, ${steps} counted steps after ${warmup} warm-up; ` +
    `${counts.records.length} records${skipped.length ? `; ${skipped.join('; ')}` : ''}\n`,
);
gpu.destroy();
