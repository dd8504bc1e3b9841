// posit-gan's command line: a registry of subcommands, each loaded only when used (so `formats` does
// not load dawn.node). Exit codes: 0 success, 1 failure, 2 bad usage.

import { isUsageError, parseCommandLine, type Command } from './command.ts';
import { adoptRelayedTerminal, relayThroughChild, RELAYED_ENV } from './relay.ts';
import { versionLine } from './version.ts';
import { exitWithParent } from './exit-with-parent.ts';

type Loader = () => Promise<Command>;

/** Commands that never open the GPU (run without the stderr relay of gan/cli/relay.ts). */
const NO_GPU = new Set(['formats', 'energy']);

const COMMANDS: Record<string, { summary: string; load: Loader }> = {
  train: { summary: 'train a GAN on MNIST under a precision recipe (the main job)', load: async () => (await import('./commands/train.ts')).default },
  sample: { summary: 'write a grid of generated digits from a trained run', load: async () => (await import('./commands/sample.ts')).default },
  eval: { summary: 'FID (LeNet features) and classifier accuracy of a trained run', load: async () => (await import('./commands/eval.ts')).default },
  info: { summary: 'show the WebGPU adapter, its features and compute limits', load: async () => (await import('./commands/info.ts')).default },
  formats: { summary: 'show the range, precision and special values of number formats', load: async () => (await import('./commands/formats.ts')).default },
  bench: { summary: 'run a performance benchmark (prints a table, writes results/bench/<name>-<adapter>.json)', load: async () => (await import('./commands/bench.ts')).default },
  quantize: { summary: 'encode float32 bit patterns from stdin into a number format (GPU or CPU reference)', load: async () => (await import('./commands/quantize.ts')).default },
  energy: { summary: 'estimate ASIC energy, time and area from op-count files (hardware model)', load: async () => (await import('./commands/energy.ts')).default },
  classifier: { summary: 'train the LeNet-5 used for FID (MNIST or Fashion-MNIST), or measure its test accuracy', load: async () => (await import('./commands/classifier.ts')).default },
  deploy: { summary: 'run a trained generator under deployment recipes (p8, p6+t, fp8, ...) and compare with fp32 (PSNR, SSIM)', load: async () => (await import('./commands/deploy.ts')).default },
  export: { summary: 'write a trained generator as a deployable file (packed codes, exponent bias, formats)', load: async () => (await import('./commands/export.ts')).default },
  experiment: { summary: "reproduce the paper's tables (experiment table1, experiment deploy), writing results/<name>/", load: async () => (await import('./commands/experiment.ts')).default },
  sweep: { summary: 'run a grid of training runs (recipes x seeds x settings) here, or queue it for workers on many machines', load: async () => (await import('./commands/sweep.ts')).default },
  worker: { summary: 'take sweep jobs from a Redis queue (BullMQ), train and evaluate them (one per GPU machine)', load: async () => (await import('./commands/worker.ts')).default },
  data: { summary: 'pack the images runs use into compact files (for the GPU machine), or draw a data set or translation task', load: async () => (await import('./commands/data.ts')).default },
};

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'posit-gan — train and deploy GANs in posit and small-float formats on WebGPU',
    '',
    'Usage: posit-gan <command> [options]      posit-gan help <command>      posit-gan --version',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

/**
 * The entry point of bin/posit-gan (`script` is its path): a command that opens the GPU runs in a
 * child process whose stderr is relayed without Dawn's two limit warnings (see relay.ts), unless
 * --verbose asks to see them or this already is that child.
 */
export async function launch(script: string, argv: string[]): Promise<number> {
  const [name] = argv;
  const relay =
    name !== undefined && name in COMMANDS && !NO_GPU.has(name) && !argv.includes('--verbose') && !argv.includes('--help') && !argv.includes('-h') &&
    process.env[RELAYED_ENV] !== '1' && process.platform !== 'win32';
  if (relay) return relayThroughChild(script, argv);
  adoptRelayedTerminal();
  return main(argv);
}

export async function main(argv: string[]): Promise<number> {
  exitWithParent();
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(versionLine() + '\n');
    return 0;
  }
  if (name === 'help' && rest.length > 0) {
    // `posit-gan help train` is `posit-gan train --help`.
    const entry = COMMANDS[rest[0]!];
    if (!entry || rest.length > 1) {
      process.stderr.write(`posit-gan help: ${entry ? `unexpected argument '${rest[1]}'` : `unknown command '${rest[0]}'`}\n\n${topHelp()}\n`);
      return 2;
    }
    process.stdout.write((await entry.load()).help.trimEnd() + '\n');
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const out = topHelp() + '\n';
    if (name === undefined) {
      process.stderr.write(out);
      return 2;
    }
    process.stdout.write(out);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`posit-gan: unknown command '${name}'\n\n${topHelp()}\n`);
    return 2;
  }
  const cmd = await entry.load();
  try {
    const { values, positionals } = parseCommandLine(cmd, rest);
    if (values.help) {
      process.stdout.write((cmd.helpFor?.(positionals) ?? cmd.help).trimEnd() + '\n');
      return 0;
    }
    const code = await cmd.run(values, positionals);
    return code ?? 0;
  } catch (e) {
    if (isUsageError(e)) {
      process.stderr.write(`posit-gan ${name}: ${(e as Error).message}\n(see posit-gan ${name} --help)\n`);
      return 2;
    }
    // The message names the problem and the fix; the error's class name would add nothing for a user.
    const err = e as Error;
    process.stderr.write(`posit-gan ${name}: ${err.message}\n`);
    if (process.env.POSIT_GAN_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
