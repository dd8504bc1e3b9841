// The page: finds WebGPU, loads the packaged MNIST subset, and wires the controls to the training runs,
// the deploy panel and the energy panel. States: no run (settings editable) -> running <-> paused,
// Reset returns to no run. Every failure ends up in the page's alert box and the console.

import { browserHasWebGpu, openBrowserGpu } from '../../engine/device/browser.ts';
import type { AdapterDescription, Gpu } from '../../engine/device/gpu.ts';
import { NoAdapterError } from '../../engine/device/errors.ts';
import { BUILTIN_RECIPES } from '../../engine/quant/recipe.ts';
import type { DeployInputs } from '../../gan/deploy/evaluate.ts';
import { loadMnistSubset, MNIST_SUBSET, trainingData, type DemoData } from './data.ts';
import { DeployPanel, type DeployCounts } from './deploy-panel.ts';
import { byId, clearProblem, fillSelect, showProblem } from './dom.ts';
import { EnergyPanel, type CountsGroup } from './energy-panel.ts';
import { gridInputs, Lane } from './lane.ts';
import { LaneView } from './lane-view.ts';
import { TrainingLoop } from './loop.ts';
import { describeSize, MODEL_KINDS, RECIPE_NAMES, SIZE_NAMES, SIZES, settingsFromUrl, trainConfig, type Settings, type SizeName } from './settings.ts';

const ui = {
  adapter: byId('adapter', HTMLParagraphElement),
  form: byId('settings', HTMLFormElement),
  model: byId('model', HTMLSelectElement),
  size: byId('size', HTMLSelectElement),
  recipe: byId('recipe', HTMLSelectElement),
  compareOn: byId('compare-on', HTMLInputElement),
  compare: byId('compare', HTMLSelectElement),
  seed: byId('seed', HTMLInputElement),
  sizeDesc: byId('size-desc', HTMLParagraphElement),
  start: byId('start', HTMLButtonElement),
  reset: byId('reset', HTMLButtonElement),
  status: byId('status', HTMLParagraphElement),
  dataInfo: byId('data-info', HTMLParagraphElement),
  lanes: byId('lanes', HTMLDivElement),
};

interface Run {
  settings: Settings;
  lanes: Lane[];
  views: LaneView[];
  loop: TrainingLoop;
  /** The latent-vector GANs' grid inputs (null for the image-to-image models). */
  inputs: DeployInputs | null;
}

const kB = (bytes: number) => `${(bytes / 1024).toFixed(0)} kB`;
const MB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

function adapterText(a: AdapterDescription): string {
  const name = [a.vendor, a.architecture, a.description !== a.vendor ? a.description : ''].filter((s) => s && s !== 'unknown').join(' ');
  return `WebGPU adapter: ${name || 'unnamed'}${a.software ? ' (software: runs on the CPU, expect slow training; the Tiny size suits it)' : ''}`;
}

function readSettings(): Settings {
  return {
    model: ui.model.value as Settings['model'],
    size: ui.size.value as SizeName,
    recipe: ui.recipe.value,
    compare: ui.compareOn.checked ? ui.compare.value : null,
    seed: Number(ui.seed.value),
  };
}

function showSettings(s: Settings): void {
  fillSelect(ui.model, MODEL_KINDS.map((m) => [m, m] as const), s.model);
  fillSelect(ui.size, SIZE_NAMES.map((n) => [n, SIZES[n].label] as const), s.size);
  const recipes = RECIPE_NAMES.map((r) => [r, r] as const);
  fillSelect(ui.recipe, recipes, s.recipe);
  fillSelect(ui.compare, recipes, s.compare ?? 'fp32');
  ui.compareOn.checked = s.compare !== null;
  ui.seed.value = String(s.seed);
  describeChoice();
}

/** The chosen recipe and size in words (the recipe's description is also the select's tooltip). */
function describeChoice(): void {
  const s = readSettings();
  ui.recipe.title = BUILTIN_RECIPES[s.recipe]!.description;
  ui.sizeDesc.textContent = describeSize(s.model, s.size);
}

/** Keeps the address bar in step with the settings, so a setup can be shared as a link. */
function linkSettings(s: Settings): void {
  const p = new URLSearchParams(location.search);
  p.set('model', s.model);
  p.set('size', s.size);
  p.set('recipe', s.recipe);
  if (s.compare) p.set('compare', s.compare);
  else p.delete('compare');
  p.set('seed', String(s.seed));
  history.replaceState(null, '', `?${p}`);
}

class App {
  private run: Run | null = null;
  private busy = false;
  private deployCounts: DeployCounts[] = [];
  private readonly deploy: DeployPanel;
  private readonly energy: EnergyPanel;

  constructor(
    private readonly gpu: Gpu,
    private readonly data: DemoData,
  ) {
    this.energy = new EnergyPanel((title, e) => showProblem(title, e));
    this.deploy = new DeployPanel({
      pauseTraining: () => this.pause(),
      busy: (on) => {
        this.busy = on;
        this.syncControls();
      },
      onCounts: (counts) => {
        this.deployCounts = counts;
        this.updateEnergy();
      },
      onError: (title, e) => showProblem(title, e),
    });
    ui.start.addEventListener('click', () => void this.toggle());
    ui.reset.addEventListener('click', () => void this.reset());
    ui.compareOn.addEventListener('change', () => this.syncControls());
    for (const c of [ui.model, ui.size, ui.recipe]) c.addEventListener('change', describeChoice);
    ui.form.addEventListener('submit', (e) => e.preventDefault());
    window.addEventListener('resize', () => this.run?.views.forEach((v) => v.redrawChart()));
    this.updateEnergy();
    this.syncControls();
  }

  private get running(): boolean {
    return this.run?.loop.running ?? false;
  }

  private syncControls(): void {
    const running = this.running;
    const hasRun = this.run !== null;
    for (const c of [ui.model, ui.size, ui.recipe, ui.compareOn, ui.seed]) c.disabled = hasRun;
    ui.compare.disabled = hasRun || !ui.compareOn.checked;
    ui.start.textContent = running ? 'Pause' : hasRun ? 'Resume' : 'Start';
    ui.start.disabled = this.busy || (hasRun && !running && this.run!.lanes.every((l) => l.stopped));
    ui.reset.disabled = this.busy || !hasRun;
    this.deploy.setEnabled(!this.busy);
    this.run?.views.forEach((v) => v.setSaveEnabled(!running && !this.busy));
  }

  private createRun(): Run {
    const settings = readSettings();
    if (!Number.isInteger(settings.seed) || settings.seed < 0 || settings.seed > 0xffffffff) throw new Error(`the seed must be an integer in 0..4294967295, got '${ui.seed.value}'`);
    linkSettings(settings);
    const names = settings.compare ? [settings.recipe, settings.compare] : [settings.recipe];
    const lanes = names.map((r) => {
      const config = trainConfig(settings, r);
      return new Lane(this.gpu, config, trainingData(config, this.data));
    });
    const noise = lanes[0]!.generatesFromNoise;
    const gan = noise ? lanes[0]!.trainer.gan : null;
    const columns = SIZES[settings.size].columns;
    const views = lanes.map((l, i) => new LaneView(l, names.length > 1 ? `${'AB'[i]}: ${l.recipe}` : l.recipe, columns, gan?.conditional ?? false));
    ui.lanes.replaceChildren(...views.map((v) => v.root));
    ui.lanes.classList.toggle('two', lanes.length > 1);
    // The image-to-image models' grids and deployment use test images (Lane.sampleGrid, deployTarget).
    const inputs = gan ? gridInputs(lanes[0]!.config, gan.latent, gan.conditional, columns) : null;
    const loop: TrainingLoop = new TrainingLoop(lanes, {
      afterRound: () => this.afterRound(),
      // The sample grids show the weights training stopped at.
      beforeStop: async () => {
        if (run.views.some((v, i) => v.sampledStep !== run.lanes[i]!.trainer.step)) await this.sample(run);
      },
      onStop: (error) => this.onStop(error),
    });
    const run: Run = { settings, lanes, views, loop, inputs };
    this.deploy.setLanes(lanes, inputs, columns);
    return run;
  }

  private async afterRound(): Promise<void> {
    const run = this.run!;
    run.views.forEach((v) => v.update());
    const step = Math.max(...run.lanes.map((l) => l.trainer.step));
    ui.status.textContent = `Training: step ${step}`;
    if (step === 1 || step % SIZES[run.settings.size].sampleEvery === 0) await this.sample(run);
  }

  private async sample(run: Run): Promise<void> {
    for (const [i, lane] of run.lanes.entries()) {
      if (run.inputs) {
        run.views[i]!.showSamples(await lane.generate(run.inputs), lane.trainer.gan.imageShape);
      } else {
        const grid = await lane.sampleGrid();
        run.views[i]!.showSamples(grid.images, grid.shape, grid.cols);
      }
    }
    this.updateEnergy();
  }

  private onStop(error: unknown): void {
    const run = this.run;
    if (error) {
      showProblem('Training stopped with an error', error);
      ui.status.textContent = 'Stopped by an error.';
    } else if (run && run.lanes.every((l) => l.stopped)) {
      ui.status.textContent = 'Stopped: every run diverged.';
    } else if (run) {
      ui.status.textContent = `Paused at step ${Math.max(...run.lanes.map((l) => l.trainer.step))}. Resume, or Reset to change the settings.`;
    }
    run?.views.forEach((v) => v.update());
    this.updateEnergy();
    this.syncControls();
  }

  private async toggle(): Promise<void> {
    if (this.running) {
      try {
        await this.pause();
      } catch (e) {
        showProblem('Pausing failed', e);
      }
      this.syncControls();
      return;
    }
    try {
      clearProblem();
      this.run ??= this.createRun();
      ui.status.textContent = this.run.lanes[0]!.trainer.step === 0 ? 'Training: compiling the kernels for the first step...' : 'Training...';
      this.run.loop.start();
    } catch (e) {
      showProblem('Could not start training', e);
    }
    this.syncControls();
  }

  /** Pauses training; resolves when no GPU work of the training loop is in flight. */
  async pause(): Promise<void> {
    const run = this.run;
    if (!run) return;
    const pending = run.loop.pause();
    this.syncControls();
    await pending;
    run.lanes.forEach((l) => l.rate.clear());
  }

  private async reset(): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.busy = true;
    this.syncControls();
    try {
      await run.loop.pause();
      this.run = null;
      this.deployCounts = [];
      ui.lanes.replaceChildren();
      this.deploy.setLanes([], null, 1);
      await Promise.all(run.lanes.map((l) => l.dispose()));
      ui.status.textContent = 'Ready: choose a model and recipe, then Start.';
      clearProblem();
    } catch (e) {
      showProblem('Reset failed', e);
    } finally {
      this.busy = false;
      this.updateEnergy();
      this.syncControls();
    }
  }

  private updateEnergy(): void {
    const groups: CountsGroup[] = [];
    const run = this.run;
    if (run) {
      groups.push({ title: 'Training', unit: `per step (batch ${run.lanes[0]!.config.batch}, generator and discriminator)`, items: run.lanes.map((l) => ({ label: l.recipe, counts: l.opCounts(), per: 1 })) });
    }
    if (this.deployCounts.length) {
      groups.push({ title: 'Deployment', unit: 'per generated image', items: this.deployCounts.map((d) => ({ label: d.label, counts: d.counts, per: d.imagesPerPass })) });
    }
    this.energy.show(groups);
  }
}

async function main(): Promise<void> {
  ui.dataInfo.textContent =
    `Data: ${MNIST_SUBSET.source}, packaged with the page: ${kB(MNIST_SUBSET.images.bytes + MNIST_SUBSET.labels.bytes)} ` +
    `gzip-compressed (${MB(MNIST_SUBSET.images.rawBytes + MNIST_SUBSET.labels.rawBytes)} as IDX files).`;
  let gpu: Gpu;
  try {
    gpu = await openBrowserGpu({ notice: (line) => console.info(line) });
  } catch (e) {
    if (e instanceof NoAdapterError) {
      // Not a failure of the page: say what is missing and how to get it, and hide the controls.
      ui.adapter.textContent = browserHasWebGpu() ? 'WebGPU: this browser has it, but found no adapter.' : 'WebGPU: not available in this browser.';
      showProblem('This demo needs WebGPU', `${e.message}\nThen reload this page.`, false);
      byId('app', HTMLElement).hidden = true;
      console.warn(e.message);
      return;
    }
    throw e;
  }
  ui.adapter.textContent = adapterText(gpu.adapter);
  ui.adapter.dataset.software = String(gpu.adapter.software);
  showSettings(settingsFromUrl(new URLSearchParams(location.search), gpu.adapter.software ? 'tiny' : 'small'));
  ui.status.textContent = 'Loading the MNIST subset...';
  const data = await loadMnistSubset();
  new App(gpu, data);
  ui.status.textContent = `Ready: ${data.set.n} training images loaded. Choose a model and recipe, then Start.`;
}

window.addEventListener('error', (e) => showProblem('Unexpected error', e.error ?? e.message, false));
window.addEventListener('unhandledrejection', (e) => showProblem('Unexpected error', e.reason, false));
main().catch((e) => showProblem('The demo could not start', e));
