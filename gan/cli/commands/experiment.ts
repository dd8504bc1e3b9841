// `posit-gan experiment <name>`: the paper's tables, each an experiment sub-command that writes
// results/<name>/<table>.md and .json. Sub-commands are ordinary Commands in a registry (adding one is
// one line). The experiment command accepts the union of their options and then checks that every
// option given belongs to the chosen sub-command, so each keeps strict option checking.

import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNodeGpu } from '../../../engine/device/node.ts';
import { compareDeployments, writeComparison } from '../../deploy/files.ts';
import { deployRecipesHelp, PAPER_DEPLOY_RECIPES } from '../../deploy/recipes.ts';
import { deployTable } from '../../deploy/report.ts';
import { commandLine } from '../../io/provenance.ts';
import { parseOptions, str, UsageError, type Command } from '../command.ts';
import { GPU_OPTIONS, gpuOptionsFrom } from '../gpu-options.ts';
import { INPUT_OPTIONS, inputOptions, recipesOption } from './deploy.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const deployExperiment: Command = {
  name: 'deploy',
  summary: "the deployment table: PSNR / SSIM of every deployment recipe against the fp32 generator, with the paper's ranges",
  usage: `posit-gan experiment deploy --checkpoint DIR [--recipes LIST] [--n N] [--seed S] [--batch B]
                                   [--name NAME] [--results ROOT] [--allow-older]`,
  help: [
    `Runs \`posit-gan deploy\` on the run in DIR and writes the results for the record:
  ROOT/NAME/deploy.md      the table (device, command, model and step, PSNR, SSIM, identical images,
                           the paper's reported ranges beside them as a reference)
  ROOT/NAME/deploy.json    the same as JSON: {device, command, checkpoint, model, step, n, seed,
                           rows: [{recipe, psnr, ssim, identical, ..., paper_psnr, paper_ssim}]}
  ROOT/NAME/deploy.png     the recipes side by side on the same inputs, fp32 first
  ROOT/NAME/<recipe>.opcounts.json   op counts per recipe (phase 'inference')`,
    {
      options: [
        { name: 'checkpoint', type: 'string', value: 'DIR', help: 'a run directory written by `posit-gan train`' },
        { name: 'recipes', type: 'string', value: 'LIST', default: PAPER_DEPLOY_RECIPES.join(','), help: '' },
        { name: 'name', type: 'string', value: 'NAME', default: "the run directory's name", help: '' },
        { name: 'results', type: 'string', value: 'ROOT', default: 'results/ in the repository', help: '' },
        { name: 'allow-older', type: 'boolean', help: 'if the newest checkpoint is damaged, use the newest good one (with a warning) instead of refusing' },
        ...INPUT_OPTIONS,
      ],
    },
    deployRecipesHelp(),
  ],
  async run(values) {
    const checkpoint = str(values, 'checkpoint');
    if (!checkpoint) throw new UsageError('--checkpoint DIR (a run directory written by posit-gan train) is required');
    const recipes = recipesOption(values);
    const inputs = inputOptions(values);
    const name = str(values, 'name') ?? basename(resolve(checkpoint));
    if (!/^[a-zA-Z0-9+._-]+$/.test(name)) throw new UsageError(`--name '${name}' must be a plain file name (letters, digits, + . _ -)`);
    const dir = join(str(values, 'results') ?? join(ROOT, 'results'), name);
    const gpu = await openNodeGpu(gpuOptionsFrom(values));
    try {
      const c = await compareDeployments(gpu, {
        ...inputs,
        checkpoint,
        allowOlder: values['allow-older'] === true,
        recipes,
        defaultRecipes: values.recipes === undefined,
        command: commandLine(),
        commandName: 'experiment',
        onRow: (r) => process.stderr.write(`  ${r.label}: ${r.seconds.toFixed(1)} s\n`),
      });
      const written = writeComparison(dir, c, `Deployment: ${name}`);
      process.stdout.write(`${deployTable(c.result)}\n\nwrote ${written.length} files in ${dir}\n`);
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};

/** The experiments by name: each loads a Command (its options, help and run). Adding one is a line:
 *    table1: async () => (await import('../../experiments/table1-command.ts')).default, */
const EXPERIMENTS: Record<string, () => Promise<Command>> = {
  table1: async () => (await import('../../experiments/table1-command.ts')).default,
  deploy: async () => deployExperiment,
  fig9: async () => (await import('../../experiments/fig9-command.ts')).default,
};

const loaded = new Map(await Promise.all(Object.entries(EXPERIMENTS).map(async ([k, load]) => [k, await load()] as const)));

const gpuOptionNames = parseOptions({ usage: '', help: [GPU_OPTIONS] });

const experiment: Command = {
  name: 'experiment',
  summary: "reproduce the paper's tables (experiment table1, experiment deploy), writing results/<name>/",
  usage: 'posit-gan experiment <name> [options]',
  // Each experiment's own section, then the device options they share. The command accepts the union
  // of their options (declaredOptions refuses one name with two meanings) and run() checks that every
  // option given belongs to the chosen experiment.
  help: [['Experiments:', ...[...loaded].map(([k, c]) => `  ${k.padEnd(8)}  ${c.summary}`)].join('\n'), ...loaded.values(), GPU_OPTIONS],
  positionals: true,
  async run(values, positionals) {
    const [name, ...extra] = positionals;
    const sub = name === undefined ? undefined : loaded.get(name);
    if (!sub) throw new UsageError(`${name === undefined ? 'no experiment given' : `unknown experiment '${name}'`} (known: ${[...loaded.keys()].join(', ')})`);
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    for (const k of Object.keys(values)) {
      if (values[k] !== undefined && !(k in parseOptions(sub)) && !(k in gpuOptionNames) && k !== 'help') {
        throw new UsageError(`--${k} is not an option of experiment ${name}`);
      }
    }
    return sub.run(values, []);
  },
};
export default experiment;
