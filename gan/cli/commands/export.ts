import { openNodeGpu } from '../../../engine/device/node.ts';
import { createExport, exportModelOf } from '../../deploy/export.ts';
import { readExportFile, writeExportFile } from '../../deploy/files.ts';
import { prepareDeployment } from '../../deploy/hook.ts';
import { deployedGenerator, targetOf } from '../../deploy/target.ts';
import { DeployRecipeError, deployRecipeByName, deployRecipesHelp, type DeployRecipe } from '../../deploy/recipes.ts';
import { restoreRun } from '../../train/restore.ts';
import { str, UsageError, type Command } from '../command.ts';
import { GPU_OPTIONS, gpuOptionsFrom } from '../gpu-options.ts';

const exportCommand: Command = {
  name: 'export',
  summary: 'write a trained generator as a deployable file (packed codes, exponent bias, formats)',
  usage: 'posit-gan export --checkpoint DIR --recipe R --out FILE.safetensors [--allow-older]',
  help: [
    `Writes the generator of the run in DIR (its newest good checkpoint) prepared for deployment recipe R:
every Linear / Conv weight as codes of R's weight format with its exponent bias t (calibrated from
the trained weights when R asks), the label embedding in R's activation format, everything else as
fp32, with the model's shape, the recipe and a SHA-256, in a safetensors file that Python's
\`safetensors\` opens too (format: docs/export-format.md). Every model exports: cgan, dcgan and acgan
(latent vectors to images), cyclegan (its A-to-B generator, the one \`deploy\` runs, with the task
whose source domain it translates) and srgan (the SR generator, with its data set and scale; it has
no output Tanh, so the fast-tanh recipes do not apply). The file runs with \`posit-gan deploy --export
FILE\` and \`posit-gan sample --export FILE\`, and in the browser (gan/deploy/export-format.ts), giving
exactly the images of \`deploy --recipes R\` on the run.`,
    {
      options: [
        { name: 'checkpoint', type: 'string', value: 'DIR', help: 'a run directory written by `posit-gan train`' },
        { name: 'recipe', type: 'string', value: 'R', help: 'a deployment recipe (below)' },
        { name: 'out', type: 'string', value: 'FILE.safetensors', help: 'the export file to write' },
        { name: 'allow-older', type: 'boolean', help: 'if the newest checkpoint is damaged, use the newest good one (with a warning) instead of refusing' },
      ],
    },
    deployRecipesHelp(),
    GPU_OPTIONS,
  ],
  async run(values) {
    const dir = str(values, 'checkpoint');
    const name = str(values, 'recipe');
    const out = str(values, 'out');
    if (!dir) throw new UsageError('--checkpoint DIR (a run directory written by posit-gan train) is required');
    if (!name) throw new UsageError('--recipe R (a deployment recipe, see --help) is required');
    if (!out) throw new UsageError('--out FILE is required');
    let recipe: DeployRecipe;
    try {
      recipe = deployRecipeByName(name);
    } catch (e) {
      if (e instanceof DeployRecipeError) throw new UsageError(e.message);
      throw e;
    }
    const gpu = await openNodeGpu(gpuOptionsFrom(values));
    try {
      const run = restoreRun(gpu, dir, { allowOlder: values['allow-older'] === true });
      const model = exportModelOf(run.config);
      const deployment = await prepareDeployment(targetOf(run.model, model).G, recipe);
      const bytes = await createExport(deployedGenerator(run.model), model, deployment, { checkpoint: dir, step: run.step, trainRecipe: run.recipe.name });
      writeExportFile(out, bytes);
      // Read back what was written: the file on disk must verify and parse.
      const file = await readExportFile(out);
      const ts = [...new Set(Object.values(deployment.weightBias))];
      const generator = model.kind === 'cyclegan' ? `cyclegan A-to-B generator (${model.task})` : `${model.kind} generator`;
      process.stdout.write(
        `${out}: ${generator} (step ${run.step}) under ${recipe.name}: ${file.header.tensors.length} tensors, ` +
          `${bytes.length} bytes, weights ${recipe.weights?.name ?? 'fp32'}${ts.length ? ` t=${ts.join(',')}` : ''}, sha256 ${file.sha256}\n`,
      );
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
export default exportCommand;
