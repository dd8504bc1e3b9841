// `posit-gan experiment fig9`: the SSIM distribution of deployed outputs per recipe across models
// (gan/experiments/fig9.ts).

import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { commandLine } from '../io/provenance.ts';
import { str, UsageError, type Command } from '../cli/command.ts';
import { Fig9Error, writeFig9 } from './fig9.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const fig9: Command = {
  name: 'fig9',
  summary: "the paper's Fig. 9: SSIM of deployed outputs per recipe, pooled over the models `experiment deploy` ran on",
  usage: 'posit-gan experiment fig9 --from DIR[,DIR...] [--name NAME] [--results ROOT]',
  help: [
    `Reads DIR/deploy.json of each directory \`posit-gan experiment deploy\` wrote (one per trained
generator: a cgan, a dcgan, each CycleGAN direction, the srgan, ...), pools the SSIM of every image
per deployment recipe, and writes:
  ROOT/NAME/fig9.svg    a box per recipe (quartiles, median, whiskers to min and max) with a dot per
                        model at its mean SSIM
  ROOT/NAME/fig9.json   {commit, command, sources: [{dir (relative to ROOT/NAME), model, checkpoint,
                        step, device, commit}],
                        recipes: [{recipe, ssim: {min, q1, median, q3, max, n}, per_model}], notes}
  ROOT/NAME/fig9.md     the same as a table`,
    {
      options: [
        { name: 'from', type: 'string', value: 'DIR[,DIR...]', help: 'directories written by `posit-gan experiment deploy`' },
        { name: 'name', type: 'string', value: 'NAME', default: 'fig9', help: '' },
        { name: 'results', type: 'string', value: 'ROOT', default: 'results/ in the repository', help: '' },
      ],
    },
  ],
  async run(values) {
    const from = str(values, 'from');
    if (!from) throw new UsageError('--from DIR[,DIR...] (directories written by `posit-gan experiment deploy`) is required');
    const name = str(values, 'name') ?? 'fig9';
    if (!/^[a-zA-Z0-9+._-]+$/.test(name)) throw new UsageError(`--name '${name}' must be a plain file name (letters, digits, + . _ -)`);
    const out = join(str(values, 'results') ?? join(ROOT, 'results'), name);
    const dirs = from.split(',').map((d) => d.trim()).filter(Boolean).map((d) => resolve(d));
    try {
      mkdirSync(out, { recursive: true });
      const f = writeFig9(dirs, out, commandLine());
      process.stdout.write(
        f.recipes.map((r) => `${r.recipe.padEnd(8)} SSIM median ${r.ssim.median.toFixed(4)} (Q1 ${r.ssim.q1.toFixed(4)}, Q3 ${r.ssim.q3.toFixed(4)}, ${r.ssim.n} images)`).join('\n') +
          `\nwrote fig9.svg, fig9.json, fig9.md in ${out}\n`,
      );
      return 0;
    } catch (e) {
      if (e instanceof Fig9Error) throw new UsageError(e.message);
      throw e;
    }
  },
};
export default fig9;
