// Energy: the op counts the page's runs recorded (training steps, deployment forward passes), turned
// into ESTIMATED energy on a hypothetical accelerator by the hardware model's tables (hw-model/), at
// a chosen technology node. Every figure comes from a table entry with its provenance; the entries
// used are listed in a details element under the chart. Nothing here is measured on this device.

import type { OpCountsFile } from '../../engine/record/schema.ts';
import { library } from '../../hw-model/default-tables.ts';
import { estimate, type Estimate } from '../../hw-model/estimate.ts';
import { OP_KINDS, type OpKind } from '../../hw-model/params.ts';
import { describeParams, renderSources } from '../../hw-model/report.ts';
import { entryId, MissingEntryError, type Library } from '../../hw-model/table.ts';
import { formatCount, formatEnergy } from '../../hw-model/units.ts';
import { byId, el, fillSelect } from './dom.ts';

/** Op kinds the tables cannot cost, each with the entries they lack. */
type Gaps = Map<OpKind, Set<string>>;

function addGap(gaps: Gaps, kind: OpKind, entry: string): void {
  const ids = gaps.get(kind) ?? new Set<string>();
  gaps.set(kind, ids.add(entry));
}

const describeGaps = (gaps: Gaps) => [...gaps].map(([k, ids]) => `${k} (no entry ${[...ids].join(', ')})`).join('; ');

/**
 * Adds to `gaps` the op kinds of `counts` that the tables cannot cost (e.g. Adam's division and square
 * root, or a general tanh in an 8-bit format). Found by costing one kind at a time; the panel then
 * leaves them out of every run of a group alike (as `energy --exclude` does) and lists them, rather
 * than showing no estimate at all.
 */
function findGaps(counts: OpCountsFile, lib: Library, node: string, gaps: Gaps): void {
  for (const kind of new Set(counts.records.map((r) => r.kind))) {
    try {
      estimate(counts, lib, { node, exclude: OP_KINDS.filter((k) => k !== kind) });
    } catch (e) {
      if (!(e instanceof MissingEntryError)) throw e;
      addGap(gaps, kind, entryId(e.component, e.attributes, e.action));
    }
  }
}

export interface CountsItem {
  label: string;
  counts: OpCountsFile;
  /** Divides the per-step energy: 1 for a training step, the batch for a generated image. */
  per: number;
}

export interface CountsGroup {
  title: string;
  unit: string;
  items: CountsItem[];
}

export class EnergyPanel {
  private readonly lib = library();
  private readonly node = byId('energy-node', HTMLSelectElement);
  private readonly chart = byId('energy-chart', HTMLDivElement);
  private readonly sources = byId('energy-sources', HTMLPreElement);
  private groups: CountsGroup[] = [];

  constructor(private readonly onError: (title: string, e: unknown) => void) {
    const points = [...this.lib.points.values()].sort((a, b) => b.node_nm - a.node_nm);
    fillSelect(this.node, points.map((p) => [p.name, p.label] as const), this.lib.base?.name ?? points[0]!.name);
    this.node.addEventListener('change', () => this.render());
  }

  show(groups: CountsGroup[]): void {
    this.groups = groups;
    this.render();
  }

  private render(): void {
    try {
      this.renderOrThrow();
    } catch (e) {
      this.chart.replaceChildren(el('p', { textContent: 'The estimate failed (see the message above).' }));
      this.onError('Energy estimate failed', e);
    }
  }

  private renderOrThrow(): void {
    const node = this.node.value;
    const estimates: Estimate[] = [];
    const blocks: HTMLElement[] = [];
    const notCosted: Gaps = new Map();
    for (const g of this.groups) {
      const items = g.items.filter((i) => i.counts.run.steps > 0);
      if (items.length === 0) continue;
      const missing: Gaps = new Map();
      for (const i of items) findGaps(i.counts, this.lib, node, missing);
      missing.forEach((ids, k) => ids.forEach((id) => addGap(notCosted, k, id)));
      const exclude = [...missing.keys()];
      const rows = items.map((i) => {
        const e = estimate(i.counts, this.lib, { node, exclude });
        estimates.push(e);
        const steps = e.run.steps * i.per;
        return { label: i.label, total: e.energy.total_pJ / steps, compute: (e.energy.byCategory.compute ?? 0) / steps, memory: (e.energy.byCategory.memory ?? 0) / steps, excluded: e.excluded };
      });
      const max = Math.max(...rows.map((r) => r.total));
      const ref = rows.find((r) => r.label === 'fp32') ?? rows[0]!;
      const list = el('ul', { className: 'bars' });
      for (const r of rows) {
        const bar = el('span', { className: 'bar' });
        bar.setAttribute('aria-hidden', 'true');
        for (const part of ['compute', 'memory'] as const) {
          const seg = el('span', { className: `seg ${part}` });
          seg.style.width = `${(100 * r[part]) / max}%`;
          bar.append(seg);
        }
        const ratio = r === ref ? '' : ` (${(r.total / ref.total).toFixed(2)}x ${ref.label})`;
        const value = el('span', { className: 'bar-value', textContent: `${formatEnergy(r.total, 3)}${ratio}` });
        value.title = `compute ${formatEnergy(r.compute, 3)}, memory ${formatEnergy(r.memory, 3)}`;
        const li = el('li', {}, el('span', { className: 'bar-label', textContent: r.label }), bar, value);
        li.dataset.energyPj = String(r.total);
        list.append(li);
      }
      const left = rows.flatMap((r) => r.excluded.map((x) => `${r.label} ${formatCount(x.amount)} ${x.kind} ${x.unit}`));
      blocks.push(
        el('div', { className: 'energy-group' }, el('h3', { textContent: `${g.title}, ${g.unit}` }), list),
        ...(left.length ? [el('p', { className: 'hint', textContent: `Not costed in this group, for every recipe alike: ${describeGaps(missing)}. Left out: ${left.join('; ')}.` })] : []),
      );
    }
    if (blocks.length === 0) {
      this.chart.replaceChildren(el('p', { className: 'hint', textContent: 'Train a few steps (or deploy) to see estimates.' }));
      this.sources.textContent = 'No estimate yet.';
      return;
    }
    this.chart.replaceChildren(...blocks);
    const merged = Object.assign({}, ...estimates.map((e) => e.sources)) as Estimate['sources'];
    this.sources.textContent = [
      `Parameters: ${describeParams(estimates[0]!)}`,
      `Not costed: ${notCosted.size ? describeGaps(notCosted) : 'nothing'}`,
      '',
      renderSources(merged, estimates[0]!.overrides),
    ].join('\n');
  }
}
