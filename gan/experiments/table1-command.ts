// `posit-gan experiment table1`: the paper's Table I for one model (gan/experiments/table1.ts).

import { openNodeGpu } from '../../engine/device/node.ts';
import { RecipeError } from '../../engine/quant/recipe.ts';
import { int, oneOf, str, timeLimit, UsageError, type Command } from '../cli/command.ts';
import { GPU_OPTIONS, gpuArgsFrom, gpuOptionsFrom } from '../cli/gpu-options.ts';
import { catchInterrupts } from '../cli/interrupt.ts';
import { ConfigError, flagName, resolveConfigLayers } from '../train/config.ts';
import { loadRecipe } from '../train/run.ts';
import { runTable1, Table1Interrupted, TABLE1_RECIPES } from './table1.ts';

const table1: Command = {
  name: 'table1',
  summary: "the paper's Table I: train every recipe with the same seed and data order, FID of each",
  help: `Usage: posit-gan experiment table1 --model cgan|dcgan [--steps N | --epochs N] [--recipes LIST]
                                   [--batch B] [--seed S] [--eval-n N] [--name NAME] [--width W]
                                   [--size 28|32] [--ngf N] [--ndf N] [--jobs N] [--time-limit S]
                                   [--progress bar|quiet|jsonl]

Trains the model under each recipe (default ${TABLE1_RECIPES.join(', ')}) with the same seed and data
order, evaluates each (FID on posit-gan's LeNet-5 features against the 10000 MNIST test images, from
--eval-n generated samples; classifier accuracy for the cgan), and writes
  results/NAME/table1.md, table1.json     the table, with the paper's FIDs beside it for the ordering
  results/NAME/table1-samples.png         one row of samples per recipe (cgan: digits 0..9)
  results/NAME/opcounts/train-*.opcounts.json   each run's op counts (for posit-gan energy)
Training runs go to runs/NAME-table1/<recipe> (checkpoints included; not for committing), replacing
the runs an earlier table left there.
Ctrl-C (SIGINT) or SIGTERM stops the run in training at a checkpoint (with --jobs, every child gets
the signal) and exits 130 / 143 without writing the table; a second Ctrl-C exits at once (and is
passed on to the children).
A recipe that diverges is reported as diverged (fid null), not as an error.

  --name NAME     [the model name]
  --eval-n N      [10000] generated samples per FID
  --jobs N        [1] recipes trained at once, each in its own \`posit-gan train\` process (its log in
                  runs/NAME-table1/<recipe>.log). A step is bound by the host's time to record it, so
                  on a GPU with CPU cores to spare the processes share the GPU and use more cores;
                  every run is still the one \`train\` makes alone with the same seed.
  --time-limit S  stop training S seconds from now even if steps remain (then evaluate what was
                  trained; such rows are marked stopped_early and the notes say so)`,
  options: {
    ...GPU_OPTIONS,
    model: { type: 'string' },
    steps: { type: 'string' },
    epochs: { type: 'string' },
    recipes: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    'eval-n': { type: 'string' },
    name: { type: 'string' },
    width: { type: 'string' },
    size: { type: 'string' },
    ngf: { type: 'string' },
    ndf: { type: 'string' },
    'data-limit': { type: 'string' },
    jobs: { type: 'string' },
    'time-limit': { type: 'string' },
    progress: { type: 'string' },
  },
  async run(values) {
    const model = oneOf(values, 'model', ['cgan', 'dcgan'] as const, 'cgan');
    if (str(values, 'steps') !== undefined && str(values, 'epochs') !== undefined) throw new UsageError('give --steps or --epochs, not both');
    const overrides: Record<string, unknown> = {
      steps: str(values, 'steps'),
      epochs: str(values, 'epochs') ?? (str(values, 'steps') !== undefined ? null : undefined),
      batch: str(values, 'batch'),
      seed: str(values, 'seed'),
      width: str(values, 'width'),
      size: str(values, 'size'),
      ngf: str(values, 'ngf'),
      ndf: str(values, 'ndf'),
      dataLimit: str(values, 'data-limit'),
    };
    const recipes = str(values, 'recipes')?.split(',').map((r) => r.trim()) ?? [...TABLE1_RECIPES];
    // The options as numbers (checked here, in the command line's names), for runTable1.
    let config: Record<string, unknown>;
    try {
      config = { ...resolveConfigLayers([{ values: { ...overrides, model }, name: flagName, text: true }]) };
      for (const r of recipes) loadRecipe(r);
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(e.message);
      if (e instanceof RecipeError) throw new UsageError(`--recipes: ${e.message}`);
      throw e;
    }
    const name = str(values, 'name') ?? model;
    if (!/^[a-zA-Z0-9+._-]+$/.test(name)) throw new UsageError(`--name '${name}' must be a plain file name (letters, digits, + . _ -)`);
    const gpu = await openNodeGpu(gpuOptionsFrom(values));
    const interrupts = catchInterrupts('stopping the training at a checkpoint; the table will not be written');
    try {
      const t = await runTable1(gpu, {
        signal: interrupts.signal,
        name,
        model,
        config,
        recipes,
        evalSamples: int(values, 'eval-n', 10_000, 2, 1_000_000),
        command: ['posit-gan', ...process.argv.slice(2)].join(' '),
        progress: oneOf(values, 'progress', ['bar', 'quiet', 'jsonl'] as const, 'bar'),
        jobs: int(values, 'jobs', 1, 1, 64),
        childArgs: gpuArgsFrom(values),
        ...timeLimit(values),
      });
      for (const r of t.rows) {
        process.stdout.write(`${r.recipe.padEnd(8)} ${r.diverged ? 'diverged' : `FID ${r.fid?.toFixed(2)}`}${r.classifier_accuracy !== null ? `  accuracy ${(100 * r.classifier_accuracy).toFixed(1)}%` : ''}\n`);
      }
      process.stdout.write(`wrote results/${name}/table1.md and table1.json\n`);
      return 0;
    } catch (e) {
      if (!(e instanceof Table1Interrupted)) throw e;
      process.stderr.write(`posit-gan experiment table1: ${e.message}\n`);
      return interrupts.exitCode() ?? 130;
    } finally {
      interrupts.dispose();
      gpu.destroy();
    }
  },
};
export default table1;
