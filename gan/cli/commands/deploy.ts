import { join } from 'node:path';
import { openNodeGpu } from '../../../engine/device/node.ts';
import { compareDeployments, writeComparison } from '../../deploy/files.ts';
import { DeployRecipeError, deployRecipesHelp, PAPER_DEPLOY_RECIPES, parseDeployRecipes, type DeployRecipe } from '../../deploy/recipes.ts';
import { deployTable } from '../../deploy/report.ts';
import { commandLine } from '../../io/provenance.ts';
import { int, str, UsageError, type Command, type OptionSpec, type Values } from '../command.ts';
import { GPU_OPTIONS, gpuOptionsFrom } from '../gpu-options.ts';

/** --recipes as deployment recipes; a bad name is a usage error listing the allowed ones. */
export function recipesOption(values: Values): DeployRecipe[] {
  try {
    return parseDeployRecipes(str(values, 'recipes') ?? PAPER_DEPLOY_RECIPES.join(','));
  } catch (e) {
    if (e instanceof DeployRecipeError) throw new UsageError(e.message);
    throw e;
  }
}

/** --n, --seed and --batch (n must be a whole number of batches: op counts are per forward pass). */
export function inputOptions(values: Values): { n: number; seed: number; batch: number } {
  const n = int(values, 'n', 100, 1, 100_000);
  const batch = int(values, 'batch', Math.min(n, 100), 1, 100_000);
  if (n % batch !== 0) throw new UsageError(`--n ${n} must be a multiple of --batch ${batch}`);
  return { n, seed: int(values, 'seed', 0, 0, 0xffffffff), batch };
}

/** The options inputOptions reads (deploy and experiment deploy). */
export const INPUT_OPTIONS: readonly OptionSpec[] = [
  { name: 'n', type: 'string', value: 'N', default: 100, help: 'evaluation inputs (cgan: labels cycle through 0..9)' },
  { name: 'seed', type: 'string', value: 'S', default: 0, help: 'seed of the latent vectors' },
  { name: 'batch', type: 'string', value: 'B', default: 'min(N, 100)', help: 'images per forward pass (N must be a multiple)' },
];

const deploy: Command = {
  name: 'deploy',
  summary: 'run a trained generator under deployment recipes (p8, p6+t, fp8, ...) and compare with fp32 (PSNR, SSIM)',
  usage: `posit-gan deploy --checkpoint DIR [--recipes LIST] [--n N] [--seed S] [--batch B]
                        [--out DIR2] [--export FILE] [--allow-older]`,
  help: [
    `Runs the generator of the run in DIR (its newest good checkpoint, float32 master weights) under each
deployment recipe on the same N evaluation inputs, and compares every recipe's images with the float32
generator's: PSNR (peak 255) and SSIM on the 8-bit pixels, identical images counted apart. Writes:
  DIR2/deploy.json                 the table as JSON (device, command, one row per recipe)
  DIR2/deploy.png                  the first 10 images of every recipe, one row each, fp32 first
  DIR2/<recipe>.opcounts.json      op counts of each recipe's forward passes (phase 'inference'),
                                   for \`posit-gan energy\`: compare recipes by comparing these files`,
    {
      options: [
        { name: 'checkpoint', type: 'string', value: 'DIR', help: 'a run directory written by `posit-gan train`' },
        { name: 'recipes', type: 'string', value: 'LIST', default: PAPER_DEPLOY_RECIPES.join(','), help: 'comma-separated deployment recipes' },
        { name: 'out', type: 'string', value: 'DIR2', default: 'DIR/deploy', help: '' },
        {
          name: 'export',
          type: 'string',
          value: 'FILE',
          help: "also run the generator of an export file (`posit-gan export`) as a row 'export:<recipe>'; alone (without --checkpoint) it is run without a reference",
        },
        { name: 'allow-older', type: 'boolean', help: 'if the newest checkpoint is damaged, use the newest good one (with a warning) instead of refusing' },
        ...INPUT_OPTIONS,
      ],
    },
    deployRecipesHelp(),
    GPU_OPTIONS,
  ],
  async run(values) {
    const checkpoint = str(values, 'checkpoint');
    const exportFile = str(values, 'export');
    if (!checkpoint && !exportFile) throw new UsageError('--checkpoint DIR (a run directory written by posit-gan train) is required');
    if (!checkpoint && values.recipes !== undefined) throw new UsageError('--recipes needs --checkpoint DIR: recipes run on the trained float32 weights');
    const recipes = checkpoint ? recipesOption(values) : [];
    const inputs = inputOptions(values);
    const out = str(values, 'out') ?? (checkpoint ? join(checkpoint, 'deploy') : 'deploy');
    const gpu = await openNodeGpu(gpuOptionsFrom(values));
    try {
      const c = await compareDeployments(gpu, {
        ...inputs,
        recipes,
        defaultRecipes: values.recipes === undefined,
        ...(checkpoint ? { checkpoint, allowOlder: values['allow-older'] === true } : {}),
        ...(exportFile ? { exportFile } : {}),
        command: commandLine(),
        commandName: 'deploy',
        onRow: (r) => process.stderr.write(`  ${r.label}: ${r.seconds.toFixed(1)} s\n`),
      });
      writeComparison(out, c);
      process.stdout.write(`${deployTable(c.result)}\n\nwrote ${join(out, 'deploy.json')}, ${join(out, 'deploy.png')} and ${c.opcounts.size} op-count files in ${out}\n`);
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
export default deploy;
