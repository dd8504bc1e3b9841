// `posit-gan experiment table1`: the paper's Table I for one model (gan/experiments/table1.ts).

import { openNodeGpu } from '../../engine/device/node.ts';
import { int, oneOf, str, timeLimit, UsageError, type Command } from '../cli/command.ts';
import { gpuArgsFrom, gpuOptionsFrom } from '../cli/gpu-options.ts';
import { catchInterrupts } from '../cli/interrupt.ts';
import { commandLine } from '../io/provenance.ts';
import { ConfigError, DEFAULT_CONFIG, flagName, resolveConfigLayers } from '../train/config.ts';
import { loadRecipe } from '../train/run.ts';
import { runTable1, Table1Interrupted, TABLE1_RECIPES, taskOf } from './table1.ts';

/** --seeds: a count N (seeds S..S+N-1, S = --seed) or a comma-separated list of seeds. */
export function parseSeeds(text: string | undefined, first: number): number[] {
  if (text === undefined) return [first];
  const items = text.split(',').map((x) => x.trim());
  if (!items.every((x) => /^\d+$/.test(x))) throw new UsageError(`--seeds must be a count (e.g. 3) or a list of seeds (e.g. 1,2,3), got '${text}'`);
  const nums = items.map(Number);
  const seeds = items.length === 1 ? Array.from({ length: nums[0]! }, (_, i) => first + i) : nums;
  if (seeds.length === 0) throw new UsageError('--seeds 0 trains nothing; give at least 1');
  if (seeds.length > 100) throw new UsageError(`--seeds asks for ${seeds.length} seeds; at most 100`);
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`--seeds lists a seed twice: ${text}`);
  for (const s of seeds) if (s > 0xffffffff) throw new UsageError(`--seeds: ${s} is not a 32-bit seed`);
  return seeds;
}

const MODELS = ['cgan', 'dcgan', 'acgan', 'cyclegan', 'srgan'] as const;
const PROGRESS = ['bar', 'quiet', 'jsonl'] as const;

// Its device options are the experiment command's (gan/cli/commands/experiment.ts), listed once there.
const table1: Command = {
  name: 'table1',
  summary: "the paper's Table I: every recipe with every seed (same data order per seed), FID on two feature networks, FID curves",
  usage: `posit-gan experiment table1 --model cgan|dcgan|acgan|cyclegan|srgan [--task T] [--dataset D]
                                   [--steps N | --epochs N] [--recipes LIST]
                                   [--seeds N|LIST] [--seed S] [--batch B] [--eval-n N]
                                   [--eval-every K] [--curve-n N] [--name NAME] [--width W]
                                   [--size 28|32] [--ngf N] [--ndf N] [--jobs N] [--time-limit S]
                                   [--resume] [--progress bar|quiet|jsonl]`,
  help: [
    `Trains the model under each recipe (default ${TABLE1_RECIPES.join(', ')}) with each seed; a seed fixes
the initialisation, data order and noise, the same for every recipe. Evaluates each run from --eval-n
generated samples against the 10000 MNIST test images: FID on posit-gan's LeNet-5 features, FID on
its autoencoder's code (a second network built differently: no labels, no convolutions), classifier
accuracy for the cgan. Writes
  results/NAME/table1.md, table1.json     one row per recipe: mean and standard deviation over the
                                          seeds (and every seed's values), the paper's FIDs beside
                                          them, and for each pair the paper orders whether the runs
                                          separate it (Welch's t-test, p < 0.05) under both networks
  results/NAME/table1-fid-curve.svg, table1-fid-curve-ae.svg   FID against training steps per recipe
                                          (mean over seeds, band min..max; the -ae curve on MNIST
                                          only); table1.md says where FID was still falling at the
                                          end (not converged)
  results/NAME/table1-samples.png         one row of samples per recipe (first seed; cgan: digits 0..9)
  results/NAME/opcounts/train-*.opcounts.json   each recipe's op counts (for posit-gan energy)
Both JSON and Markdown record the code's commit (POSIT_GAN_COMMIT when set, else git) and this
command line.
The runs are a sweep (as \`posit-gan sweep run\` runs one, on its embedded queue) in runs/NAME-table1
(not for committing): each run trains in its own \`posit-gan train\` process and is evaluated by
\`posit-gan eval\`; runs/NAME-table1/<recipe>-s<seed> links to its run directory (checkpoints and
fid.csv included) and <recipe>-s<seed>.log to its log. \`posit-gan sweep status NAME --dir
runs/NAME-table1\` shows where the runs stand (from another terminal, while the table trains).
A new call (without --resume) replaces what an earlier table left there.
A run that diverges is reported as diverged (no FID), not as an error. A run that fails (its process
exits with an error) stops the others at a checkpoint and fails the table, naming the run and its log.
Ctrl-C (SIGINT) or SIGTERM stops the runs in training at a checkpoint (every child gets the signal
once) and exits 130 / 143 without writing the table (--resume continues them); a second Ctrl-C exits
at once (the children follow).`,
    {
      options: [
        { name: 'model', type: 'string', choices: MODELS, default: 'cgan', help: 'the model, as for `posit-gan train`' },
        {
          name: 'task',
          type: 'string',
          value: 'thin2bold|bold2thin|digit2fashion|fashion2digit',
          help: 'cyclegan: the translation task (FID of the translated source test images against the target test images)',
        },
        { name: 'dataset', type: 'string', value: 'mnist|fashion', help: 'cgan, dcgan, acgan, srgan: the image set (srgan default fashion; rows then carry PSNR and SSIM)' },
        { name: 'blocks', type: 'string', value: 'N', help: 'cyclegan, srgan: residual blocks, as for `posit-gan train`' },
        { name: 'scale', type: 'string', value: '2|4', help: 'srgan: upscaling factor' },
        { name: 'pretrain-steps', type: 'string', value: 'N', help: 'srgan: pixel-loss pre-training steps' },
        { name: 'steps', type: 'string', value: 'N', default: DEFAULT_CONFIG.steps, help: 'iterations per run' },
        { name: 'epochs', type: 'string', value: 'N', help: 'train each run for N passes over the data instead of --steps' },
        { name: 'recipes', type: 'string', value: 'LIST', default: TABLE1_RECIPES.join(','), help: 'comma-separated training recipes (names or recipe JSON files)' },
        { name: 'seed', type: 'string', value: 'S', default: DEFAULT_CONFIG.seed, help: 'the first seed of --seeds' },
        { name: 'batch', type: 'string', value: 'B', default: DEFAULT_CONFIG.batch, help: 'batch size' },
        { name: 'width', type: 'string', value: 'W', default: DEFAULT_CONFIG.width, help: 'cgan: first generator layer width' },
        { name: 'size', type: 'string', value: '28|32', default: DEFAULT_CONFIG.size, help: 'dcgan, cyclegan: image size' },
        { name: 'ngf', type: 'string', value: 'N', default: DEFAULT_CONFIG.ngf, help: 'dcgan, cyclegan, srgan: generator width' },
        { name: 'ndf', type: 'string', value: 'N', default: DEFAULT_CONFIG.ndf, help: 'dcgan, cyclegan, srgan: discriminator width' },
        { name: 'data-limit', type: 'string', value: 'N', help: 'use only the first N training images' },
        { name: 'name', type: 'string', value: 'NAME', default: 'the model name', help: '' },
        {
          name: 'seeds',
          type: 'string',
          value: 'N|LIST',
          default: '1 seed: --seed',
          help: 'N: the seeds S, S+1, ..., S+N-1 with S = --seed (default 1);\nLIST: those seeds, e.g. 1,2,3',
        },
        { name: 'eval-n', type: 'string', value: 'N', default: 10000, help: "generated samples per run for the table's FIDs" },
        { name: 'eval-every', type: 'string', value: 'K', default: 'a tenth of the run', help: 'FID-curve evaluation every K steps and at the end (0: none)' },
        { name: 'curve-n', type: 'string', value: 'N', default: 2000, help: 'generated samples per FID-curve evaluation' },
        {
          name: 'jobs',
          type: 'string',
          value: 'N',
          default: 1,
          help:
            'runs trained at once, each in its own `posit-gan train` process (its log: runs/NAME-table1/<recipe>-s<seed>.log). ' +
            'A step is bound by the host\'s time to record it, so on a GPU with CPU cores to spare the processes share the GPU and use more ' +
            'cores; every run is still the one `train` makes alone with the same seed.',
        },
        {
          name: 'time-limit',
          type: 'string',
          value: 'S',
          help:
            'stop training S seconds from now even if steps remain (then evaluate what was trained; such runs are marked stopped_early and ' +
            "the notes say so). Runs start in seed order (every recipe's first seed before any second seed).",
        },
        {
          name: 'resume',
          type: 'boolean',
          help:
            'continue the sweep an earlier call (same NAME and options) left in runs/NAME-table1: finished runs (evaluated, or diverged) are kept, ' +
            'runs stopped by a time limit (or killed) go on from their newest checkpoint exactly as an uninterrupted run would, missing ' +
            "ones start; then the table is written. With --time-limit, a table longer than one call's time is trained " +
            'over several calls.',
        },
        {
          name: 'progress',
          type: 'string',
          choices: PROGRESS,
          default: 'bar',
          help: "bar: each run's start and end, and every 30 s the running runs' steps, on stderr; quiet: nothing; jsonl: the same as JSON lines on stdout",
        },
      ],
    },
  ],
  async run(values) {
    const model = oneOf(values, 'model', MODELS, 'cgan');
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
      task: str(values, 'task'),
      dataset: str(values, 'dataset'),
      blocks: str(values, 'blocks'),
      scale: str(values, 'scale'),
      pretrainSteps: str(values, 'pretrain-steps'),
    };
    let base;
    try {
      base = resolveConfigLayers([{ values: { ...overrides, model }, name: flagName, text: true }]);
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(e.message);
      throw e;
    }
    const seeds = parseSeeds(str(values, 'seeds'), base.seed);
    const recipes = str(values, 'recipes')?.split(',').map((r) => r.trim()) ?? [...TABLE1_RECIPES];
    for (const r of recipes) {
      try {
        loadRecipe(r);
      } catch (e) {
        throw new UsageError(`--recipes: ${(e as Error).message}`);
      }
    }
    const name = str(values, 'name') ?? taskOf(base);
    if (!/^[a-zA-Z0-9+._-]+$/.test(name)) throw new UsageError(`--name '${name}' must be a plain file name (letters, digits, + . _ -)`);
    const evalEvery = str(values, 'eval-every') === undefined ? undefined : int(values, 'eval-every', 0, 0, 1e9);
    // Every option is checked before the device opens.
    const options = {
      name,
      model,
      // The options as numbers (checked above, in the command line's names), for runTable1.
      config: { ...base },
      recipes,
      seeds,
      evalSamples: int(values, 'eval-n', 10_000, 2, 1_000_000),
      ...(evalEvery !== undefined ? { evalEvery } : {}),
      curveSamples: int(values, 'curve-n', 2000, 2, 1_000_000),
      command: commandLine(),
      progress: oneOf(values, 'progress', PROGRESS, 'bar'),
      jobs: int(values, 'jobs', 1, 1, 64),
      childArgs: gpuArgsFrom(values),
      ...timeLimit(values),
      resume: values.resume === true,
    };
    const gpu = await openNodeGpu(gpuOptionsFrom(values));
    const interrupts = catchInterrupts('stopping the training at a checkpoint; the table will not be written');
    try {
      const t = await runTable1(gpu, { ...options, signal: interrupts.signal });
      const f = (x: number | null, sd: number | null) => (x === null ? '—' : `${x.toFixed(2)}${sd === null ? '' : ` ± ${sd.toFixed(2)}`}`);
      for (const r of t.rows) {
        process.stdout.write(
          `${r.recipe.padEnd(8)} ${r.diverged ? 'diverged' : `FID ${f(r.fid, r.fid_std)}  FID(ae) ${f(r.fid_ae, r.fid_ae_std)}`}${r.classifier_accuracy !== null ? `  accuracy ${(100 * r.classifier_accuracy).toFixed(1)}%` : ''}` +
            `${r.diverged_seeds && !r.diverged ? `  (${r.diverged_seeds} of ${r.seeds.length} seeds diverged)` : ''}\n`,
        );
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
