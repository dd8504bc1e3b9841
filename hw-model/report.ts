// Reports: the comparison of several runs normalised to one, and the text tables (explicit,
// human-scaled units). Browser-safe: strings in, strings out.

import { MEMORY_PARTS, type Estimate, type Part, type SourceInfo } from './estimate.ts';
import { formatArea, formatCount, formatEnergy, formatTime } from './units.ts';

/** Order in which parts are listed and stacked: compute first, then memory from near to far. */
export const PART_ORDER: readonly Part[] = [
  'multiply',
  'accumulate',
  'register_write',
  'arithmetic',
  'convert',
  'quire_round',
  'activation',
  'register_file',
  'sram',
  'dram',
];

export interface ComparisonRow {
  readonly label: string;
  readonly energyPerStep_pJ: number;
  readonly timePerStep_s: number;
  /** Relative to the reference run (per step), 1 for the reference itself. */
  readonly energyRatio: number;
  readonly timeRatio: number;
  readonly computeEnergyRatio: number;
  readonly memoryEnergyRatio: number;
}

export interface Comparison {
  readonly reference: string;
  readonly rows: readonly ComparisonRow[];
  /** Differences that make per-step ratios less comparable (batch sizes, run kinds). */
  readonly warnings: readonly string[];
}

const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? 1 : Infinity) : a / b);

/** Compares runs per step (per training step or per forward pass), normalised to `reference`
 *  (an index into `labels`). */
export function compare(estimates: readonly Estimate[], labels: readonly string[], reference: number): Comparison {
  const ref = estimates[reference]!;
  const cat = (e: Estimate, c: string) => (e.energy.byCategory[c] ?? 0) / e.run.steps;
  const rows = estimates.map((e, i) => ({
    label: labels[i]!,
    energyPerStep_pJ: e.energy.perStep_pJ,
    timePerStep_s: e.time.perStep_s,
    energyRatio: ratio(e.energy.perStep_pJ, ref.energy.perStep_pJ),
    timeRatio: ratio(e.time.perStep_s, ref.time.perStep_s),
    computeEnergyRatio: ratio(cat(e, 'compute'), cat(ref, 'compute')),
    memoryEnergyRatio: ratio(cat(e, 'memory'), cat(ref, 'memory')),
  }));
  const warnings: string[] = [];
  const batches = new Set(estimates.map((e) => e.run.batch));
  if (batches.size > 1) warnings.push(`batch sizes differ (${[...batches].join(', ')}): per-step ratios compare unequal work`);
  const commands = new Set(estimates.map((e) => e.run.command));
  if (commands.size > 1) warnings.push(`runs of different kinds (${[...commands].join(', ')}) are compared`);
  if (estimates.some((e) => e.synthetic)) warnings.push('some counts are SYNTHETIC (built from a described shape by hw-model/synthetic.ts), not recorded by the engine');
  return { reference: labels[reference]!, rows, warnings };
}

function table(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => (right[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].map((l) => '  ' + l).join('\n');
}

const pct = (x: number, total: number) => (total === 0 ? '-' : `${((100 * x) / total).toFixed(1)}%`);

function shares(m: Readonly<Record<string, number>>, total: number, limit = 12): string {
  const sorted = Object.entries(m).sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, limit).map(([k, v]) => `${k} ${formatEnergy(v)} (${pct(v, total)})`);
  if (sorted.length > limit) shown.push(`... ${sorted.length - limit} more`);
  return shown.join('; ');
}

/** One parameter point in words: what every number of the run depends on. */
export function describeParams(e: Estimate): string {
  const p = e.params;
  const m = p.memory;
  return [
    `node ${e.node.label}, kappa ${p.kappa}, quire ${p.quireBitsPerPositBit}n bits, posit accumulator ${p.positAccumulator}`,
    `${p.macUnits} MAC units @ ${p.clock_Hz / 1e9} GHz, DRAM ${m.dram} @ ${p.dramBandwidth_Bps / 1e9} GB/s, SRAM ${m.sramKB} kB x ${m.sramPassesPerRecordedBit} pass(es)/bit, ` +
      `RF reads/operand ${m.rfReadsPerMacOperand}, on chip: ${m.onChipRoles.length ? m.onChipRoles.join(',') : 'none'}, overlap ${p.overlap}`,
  ].join('\n  ');
}

/** The text report of one run. */
export function renderRun(e: Estimate, label: string): string {
  const r = e.run;
  const total = e.energy.total_pJ;
  const out: string[] = [];
  const what = [r.command, r.model && `model ${r.model}`, r.recipe && `recipe ${r.recipe}`, `${r.steps} step(s)`, r.batch !== undefined && `batch ${r.batch}`]
    .filter(Boolean)
    .join(', ');
  out.push(`== ${label}: ${what}`);
  if (e.synthetic) out.push('  SYNTHETIC counts: built from a described model shape by hw-model/synthetic.ts, not recorded by the engine');
  out.push(`  ${describeParams(e)}`);
  out.push(`Energy: total ${formatEnergy(total)}, per step ${formatEnergy(e.energy.perStep_pJ)}`);
  const partRows = PART_ORDER.filter((p) => e.energy.byPart[p] !== undefined).map((p) => {
    const v = e.energy.byPart[p]!;
    return [p, MEMORY_PARTS.includes(p) ? 'memory' : 'compute', formatEnergy(v), pct(v, total)];
  });
  out.push(table(['part', 'category', 'energy', 'share'], partRows, [false, false, true, true]));
  out.push(`  compute ${formatEnergy(e.energy.byCategory.compute ?? 0)} (${pct(e.energy.byCategory.compute ?? 0, total)}), memory ${formatEnergy(e.energy.byCategory.memory ?? 0)} (${pct(e.energy.byCategory.memory ?? 0, total)})`);
  out.push(`By phase:  ${shares(e.energy.byPhase, total)}`);
  out.push(`By layer:  ${shares(e.energy.byLayer, total)}`);
  out.push(`By kind:   ${shares(e.energy.byKind, total)}`);
  out.push(`By format: ${shares(e.energy.byFormat, total)}`);

  // Terms summed over layers and phases: the per-unit cost and its formula, once per (kind, format, part).
  const groups = new Map<string, { kind: string; format: string; part: string; amount: number; unit: string; perUnit: number; energy: number; formula: string }>();
  for (const t of e.energy.terms) {
    const k = `${t.kind}|${t.format}|${t.part}|${t.formula}`;
    const g = groups.get(k);
    if (g) {
      g.amount += t.amount;
      g.energy += t.energy_pJ;
    } else {
      groups.set(k, { kind: t.kind, format: t.format, part: t.part, amount: t.amount, unit: t.unit, perUnit: t.perUnit_pJ, energy: t.energy_pJ, formula: t.formula });
    }
  }
  const termRows = [...groups.values()]
    .sort((a, b) => b.energy - a.energy)
    .map((g) => [g.kind, g.format, g.part, `${formatCount(g.amount)} ${g.unit}`, `${g.perUnit.toPrecision(4)} pJ/${g.unit === 'bits' ? 'bit' : 'op'}`, formatEnergy(g.energy), pct(g.energy, total), g.formula]);
  out.push('Terms (summed over layers and phases):');
  out.push(table(['kind', 'format', 'part', 'amount', 'per unit', 'energy', 'share', 'formula'], termRows, [false, false, false, true, true, true, true, false]));

  const t = e.time;
  out.push(
    `Time: ${formatCount(t.macs)} MACs / ${t.macUnits} MAC units @ ${t.clock_Hz / 1e9} GHz = compute ${formatTime(t.compute_s)}; ` +
      `DRAM ${formatCount(t.dramBits)} bits @ ${t.dramBandwidth_Bps / 1e9} GB/s = memory ${formatTime(t.memory_s)}; ` +
      `overlap ${t.overlap} -> ${formatTime(t.total_s)} (per step ${formatTime(t.perStep_s)}), ${t.bound}-bound`,
  );
  out.push(`Area of the arithmetic units at ${e.node.label} (kappa applies to posit units):`);
  for (const m of e.area.macs) {
    const why = m.unit_um2 === null ? ` (no area for ${m.missing.join(', ')})` : '';
    out.push(`  MAC ${m.label}: multiply ${formatArea(m.multiply_um2)}, accumulate ${formatArea(m.accumulate_um2)}, register ${formatArea(m.register_um2)} -> unit ${formatArea(m.unit_um2)}${why}`);
  }
  if (e.area.macs.length) out.push(`  MAC array (${e.area.macUnits} units of the largest kind): ${formatArea(e.area.array_um2)}`);
  for (const o of e.area.others) out.push(`  ${o.label}: ${formatArea(o.area_um2)}${o.area_um2 === null ? ` (no area for ${o.missing.join(', ')})` : ''}`);
  for (const x of e.excluded) out.push(`EXCLUDED (not costed, by request): ${x.kind} ${formatCount(x.amount)} ${x.unit}`);
  return out.join('\n');
}

/** The comparison table of one parameter point. */
export function renderComparison(c: Comparison, heading: string): string {
  const rows = c.rows.map((r) => [
    r.label,
    formatEnergy(r.energyPerStep_pJ),
    `${r.energyRatio.toFixed(3)}x`,
    `${r.computeEnergyRatio.toFixed(3)}x`,
    `${r.memoryEnergyRatio.toFixed(3)}x`,
    formatTime(r.timePerStep_s),
    `${r.timeRatio.toFixed(3)}x`,
  ]);
  return [
    `== Comparison, ${heading}; per step, normalised to ${c.reference}`,
    table(['run', 'energy/step', 'energy x', 'compute x', 'memory x', 'time/step', 'time x'], rows, [false, true, true, true, true, true, true]),
    ...c.warnings.map((w) => `  note: ${w}`),
  ].join('\n');
}

/** Every table entry the estimates used, with its value, scaling and provenance. */
export function renderSources(sources: Readonly<Record<string, SourceInfo>>, overrides: Estimate['overrides']): string {
  const out = ['== Table entries used (energy as in the table, at the entry\'s node; then the node scaling applied)'];
  for (const id of Object.keys(sources).sort()) {
    const s = sources[id]!;
    const p = s.provenance;
    const per = s.per === 'access' ? `pJ per ${s.bitsPerAccess}-bit access` : `pJ/${s.per}`;
    const range = s.energyRange_pJ ? ` (range ${s.energyRange_pJ[0]}-${s.energyRange_pJ[1]})` : '';
    const at = p.node_nm !== undefined ? ` @ ${p.node_nm} nm ${p.voltage_V} V` : '';
    out.push(`  ${id}: ${s.energy_pJ} ${per}${range}, x${+s.scale.toPrecision(6)} (${s.scaling}); ${p.kind}${at}; ${p.citation}`);
    if (p.formula) out.push(`      formula: ${p.formula}; inputs: ${Object.entries(p.inputs ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    if (p.notes) out.push(`      notes: ${p.notes}`);
    if (s.areaNote) out.push(`      area ${formatArea(s.area_um2)}: ${s.areaNote}`);
    out.push(`      table: ${s.table}`);
  }
  for (const o of overrides) out.push(`  OVERRIDDEN: ${o.id} from ${o.replaced} replaced by ${o.by}`);
  return out.join('\n');
}
