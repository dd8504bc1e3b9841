// Deploy: the generator trained in the page, run under deployment recipes (posit(8,1), posit(6,1), with
// the calibrated exponent bias "+", with the fast posit tanh "t", ...) on the sample grid's inputs,
// next to the float32 generator, with PSNR and SSIM of each recipe's images against float32's.

import type { OpCountsFile } from '../../engine/record/schema.ts';
import { evaluateRecipes, type DeployInputs, type GeneratedRun } from '../../gan/deploy/evaluate.ts';
import { outputTanhPath } from '../../gan/deploy/hook.ts';
import { BUILTIN_DEPLOY_RECIPES, deployRecipeByName } from '../../gan/deploy/recipes.ts';
import { byId, el, fillSelect } from './dom.ts';
import { drawGrid } from './grid.ts';
import type { Lane } from './lane.ts';

/** The paper's deployment comparison the issue asks for; the other recipes are one click away. */
const DEFAULT_RECIPES = ['p8', 'p6', 'p6+', 'p6+t'];

export interface DeployCounts {
  label: string;
  /** Images per forward pass: the energy panel reports per generated image. */
  imagesPerPass: number;
  counts: OpCountsFile;
}

export interface DeployHooks {
  /** Pauses training (the weights must not change under the comparison) and resolves when idle. */
  pauseTraining(): Promise<void>;
  busy(on: boolean): void;
  onCounts(counts: DeployCounts[]): void;
  onError(title: string, e: unknown): void;
}

function countsOf(run: GeneratedRun, lane: Lane, recipe: string, batch: number): OpCountsFile {
  return run.recorder.toFile({
    name: `demo-deploy-${lane.config.model}-${recipe}`,
    command: 'deploy',
    model: lane.config.model,
    recipe,
    steps: run.passes,
    batch,
    device: lane.rt.gpu.adapter.description,
    created: new Date().toISOString(),
  });
}

function fmtBias(bias: Readonly<Record<string, number>>): string {
  const ts = [...new Set(Object.values(bias))];
  if (ts.length === 0) return '-';
  return ts.length === 1 ? String(ts[0]) : `${Math.min(...ts)}..${Math.max(...ts)} (per layer)`;
}

export class DeployPanel {
  private lanes: readonly Lane[] = [];
  private inputs: DeployInputs | null = null;
  private columns = 1;
  private readonly button = byId('deploy-run', HTMLButtonElement);
  private readonly laneSelect = byId('deploy-lane', HTMLSelectElement);
  private readonly status = byId('deploy-status', HTMLParagraphElement);
  private readonly body = byId('deploy-rows', HTMLTableSectionElement);
  private readonly boxes: HTMLInputElement[] = [];

  constructor(private readonly hooks: DeployHooks) {
    const list = byId('deploy-recipes', HTMLDivElement);
    for (const [name, spec] of Object.entries(BUILTIN_DEPLOY_RECIPES)) {
      if (name === 'fp32') continue; // always run: it is the reference
      const box = el('input');
      box.type = 'checkbox';
      box.value = name;
      box.checked = DEFAULT_RECIPES.includes(name);
      this.boxes.push(box);
      list.append(el('label', { className: 'check', title: spec.description }, box, ` ${name}`));
    }
    this.button.addEventListener('click', () => void this.run());
  }

  /** The runs the panel can deploy from, and the inputs the sample grids use. */
  setLanes(lanes: readonly Lane[], inputs: DeployInputs | null, columns: number): void {
    this.lanes = lanes;
    this.inputs = inputs;
    this.columns = columns;
    fillSelect(this.laneSelect, lanes.map((l, i) => [String(i), `${l.recipe} run`] as const), '0');
    this.laneSelect.disabled = lanes.length < 2;
    this.body.replaceChildren();
    this.status.textContent = '';
  }

  /** The button works while there is a run and nothing else is busy. */
  setEnabled(on: boolean): void {
    this.button.disabled = !on || this.lanes.length === 0;
  }

  private async run(): Promise<void> {
    const lane = this.lanes[Number(this.laneSelect.value)];
    const inputs = this.inputs;
    if (!lane) return;
    const recipes = this.boxes.filter((b) => b.checked).map((b) => deployRecipeByName(b.value));
    this.hooks.busy(true);
    try {
      await this.hooks.pauseTraining();
      this.status.textContent = `Deploying the ${lane.recipe} generator (step ${lane.trainer.step}) under ${['fp32', ...recipes.map((r) => r.name)].join(', ')}...`;
      this.body.replaceChildren();
      // A latent-vector GAN deploys on the sample grid's latent vectors; an image-to-image model on
      // test images (the first ten).
      const own = lane.deployTarget(10);
      const target = own.target;
      const shape = target.imageShape;
      const runInputs = own.inputs ?? inputs;
      if (!runInputs) throw new Error('no deployment inputs: the run has no sample grid yet');
      // A generator without an output Tanh (ESRGAN's) has nothing for a fast tanh to replace.
      const skipped = outputTanhPath(target.G) === null ? recipes.filter((r) => r.tanh === 'fast') : [];
      const used = recipes.filter((r) => !skipped.includes(r));
      // One forward pass over all inputs: the op counts are then per pass of `runInputs.n` images.
      const { reference, rows } = await evaluateRecipes(lane.rt, target, used, runInputs, runInputs.n, (row) => {
        const q = row.quality!;
        const psnr = q.meanPsnr === null ? 'identical' : q.meanPsnr.toFixed(2);
        const identical = q.identical > 0 && q.meanPsnr !== null ? ` (${q.identical} of ${q.n} identical)` : '';
        this.addRow(row.label, row.recipe.spec.weights ?? 'fp32', row.recipe.spec.activations ?? 'fp32', fmtBias(row.weightBias), `${psnr}${identical}`, q.meanSsim.toFixed(4), row.images, shape);
      });
      this.addRow('fp32', 'fp32', 'fp32', '-', 'reference', 'reference', reference.images, shape, true);
      this.status.textContent =
        `${lane.recipe} generator at step ${lane.trainer.step}: ${runInputs.n} images per recipe, PSNR and SSIM against the fp32 generator's images (mean over the images; PSNR over those that differ).` +
        (skipped.length ? ` ${skipped.map((r) => r.name).join(' and ')} left out: this generator has no output Tanh for a fast tanh to replace.` : '');
      this.hooks.onCounts([
        { label: 'fp32', imagesPerPass: runInputs.n, counts: countsOf(reference, lane, 'fp32', runInputs.n) },
        ...rows.map((r) => ({ label: r.label, imagesPerPass: runInputs.n, counts: countsOf(r, lane, r.label, runInputs.n) })),
      ]);
    } catch (e) {
      this.status.textContent = 'Deployment failed (see the message above).';
      this.hooks.onError('Deployment failed', e);
    } finally {
      this.hooks.busy(false);
    }
  }

  private addRow(label: string, weights: string, activations: string, bias: string, psnr: string, ssim: string, images: Float32Array, shape: readonly [number, number, number], first = false): void {
    // One image per grid row (for a cgan, one of each digit).
    const size = shape[0] * shape[1] * shape[2];
    const rows = Math.ceil(images.length / size / this.columns);
    const strip = new Float32Array(rows * size);
    for (let r = 0; r < rows; r++) strip.set(images.subarray(r * this.columns * size, (r * this.columns + 1) * size), r * size);
    const canvas = el('canvas', { className: 'strip' });
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${label} outputs`);
    drawGrid(canvas, strip, shape, rows);
    const cell = (text: string, key?: string) => {
      const td = el('td', { textContent: text });
      if (key) td.dataset.metric = key;
      return td;
    };
    const head = el('th', { textContent: label });
    head.scope = 'row';
    const tr = el('tr', {}, head, cell(`${weights} / ${activations}`), cell(bias), cell(psnr, 'psnr'), cell(ssim, 'ssim'), el('td', {}, canvas));
    tr.dataset.recipe = label;
    if (first) this.body.prepend(tr);
    else this.body.append(tr);
  }
}
