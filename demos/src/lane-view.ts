// The card of one training run: its sample grid, its loss curves, its numbers, and a button that saves
// its op counts (the file `posit-gan energy` reads) while it is paused.

import { drawGrid } from './grid.ts';
import { drawLossChart } from './chart.ts';
import { el } from './dom.ts';
import type { Lane } from './lane.ts';

// Colours with enough contrast on the light and the dark theme; the curves also differ by dash.
const COLORS = { G: '#2f7fd8', D: '#e0762b' };

const STATS = [
  ['step', 'Step'],
  ['rate', 'Steps/s'],
  ['lossG', 'Generator loss'],
  ['lossD', 'Discriminator loss'],
  ['scale', 'Loss scale G / D'],
] as const;
type StatKey = (typeof STATS)[number][0];

/** Loss scales are powers of two (dynamic or calibrated scaling): shown as such. */
function power(x: number): string {
  const e = Math.log2(x);
  return Number.isInteger(e) ? `2^${e}` : x.toPrecision(3);
}

export class LaneView {
  readonly root: HTMLElement;
  private readonly samples: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private readonly chart: HTMLCanvasElement;
  private readonly note: HTMLElement;
  private readonly save: HTMLButtonElement;
  private savedUrl: string | null = null;
  private readonly values = new Map<StatKey, HTMLElement>();
  /** The training step the sample grid shows, or null before the first. */
  sampledStep: number | null = null;

  constructor(
    private readonly lane: Lane,
    title: string,
    private readonly columns: number,
    conditional: boolean,
  ) {
    this.samples = el('canvas', { className: 'samples' });
    this.samples.setAttribute('role', 'img');
    this.samples.setAttribute('aria-label', 'generated samples (not yet drawn)');
    this.caption = el('figcaption', { textContent: 'Samples appear after the first steps.' });
    this.chart = el('canvas', { className: 'losses' });
    this.chart.setAttribute('role', 'img');
    this.chart.setAttribute('aria-label', 'generator and discriminator loss curves');
    const legend = el(
      'figcaption',
      { className: 'legend' },
      el('span', { className: 'key g' }, 'generator'),
      el('span', { className: 'key d' }, 'discriminator'),
    );
    const stats = el('dl', { className: 'stats' });
    for (const [key, label] of STATS) {
      const dd = el('dd', { textContent: '-' });
      dd.dataset.stat = key;
      this.values.set(key, dd);
      stats.append(el('div', {}, el('dt', { textContent: label }), dd));
    }
    this.note = el('p', { className: 'lane-note' });
    this.note.hidden = true;
    this.save = el('button', {
      className: 'save-counts',
      textContent: 'Save op counts',
      title: 'The op counts of the training steps so far, as an .opcounts.json file (for `posit-gan energy`); while paused',
    });
    this.save.type = 'button';
    this.save.disabled = true;
    this.save.addEventListener('click', () => this.saveCounts());
    // About 40 CSS pixels per image, whatever the grid's size; narrower screens shrink it (max-width).
    this.samples.style.width = `${columns * 2.5}rem`;
    this.root = el(
      'article',
      { className: 'lane' },
      el('h3', { textContent: title }),
      el('p', { className: 'recipe-desc', textContent: lane.trainer.recipe.spec.description }),
      el(
        'div',
        { className: 'lane-body' },
        el('figure', {}, this.samples, this.caption, el('p', { className: 'hint', textContent: conditional ? 'Fixed latent vectors; row i shows digit i.' : 'Fixed latent vectors.' })),
        el('div', {}, el('figure', {}, this.chart, legend), stats, this.note, this.save),
      ),
    );
    this.root.dataset.recipe = lane.recipe;
  }

  /** Saving needs a paused run (the counts of whole steps) with at least one step. */
  setSaveEnabled(paused: boolean): void {
    this.save.disabled = !paused || this.lane.trainer.step === 0;
  }

  /** Offers the run's op counts as a download (a Blob URL kept until the next save). */
  private saveCounts(): void {
    const file = this.lane.opCounts();
    if (this.savedUrl) URL.revokeObjectURL(this.savedUrl);
    this.savedUrl = URL.createObjectURL(new Blob([`${JSON.stringify(file, null, 2)}\n`], { type: 'application/json' }));
    const a = el('a');
    a.href = this.savedUrl;
    a.download = `${file.run.name}.opcounts.json`;
    a.click();
  }

  private set(key: StatKey, text: string, value?: number): void {
    const dd = this.values.get(key)!;
    dd.textContent = text;
    if (value !== undefined) dd.dataset.value = String(value);
  }

  /** Numbers and curves after a step (cheap: no GPU work). */
  update(): void {
    const l = this.lane;
    const s = l.last;
    this.set('step', String(l.trainer.step), l.trainer.step);
    const r = l.rate.perSecond;
    this.set('rate', r === null ? '-' : r.toPrecision(3), r ?? undefined);
    if (s && !s.diverged) {
      this.set('lossG', s.lossG.toPrecision(4), s.lossG);
      if (s.lossD !== null) this.set('lossD', s.lossD.toPrecision(4), s.lossD);
      this.set('scale', `${power(s.lossScaleG)} / ${power(s.lossScaleD)}`);
    }
    if (l.stopped) {
      this.note.textContent = `Stopped: ${l.stopped}. The last good weights are kept; Reset to start again.`;
      this.note.hidden = false;
    }
    this.redrawChart();
  }

  redrawChart(): void {
    drawLossChart(this.chart, [
      { label: 'generator', values: this.lane.lossG, color: COLORS.G, dashed: false },
      { label: 'discriminator', values: this.lane.lossD, color: COLORS.D, dashed: true },
    ]);
  }

  showSamples(images: Float32Array, shape: readonly [number, number, number], columns = this.columns): void {
    drawGrid(this.samples, images, shape, columns);
    const step = this.lane.trainer.step;
    this.sampledStep = step;
    this.caption.textContent = `Samples at step ${step}`;
    this.samples.dataset.step = String(step);
    this.samples.setAttribute('aria-label', `generated samples at step ${step}`);
  }
}
