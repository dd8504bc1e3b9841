// posit-gan energy: op-count files -> ASIC energy, time and area estimates (hw-model/), compared and
// normalised to one run, with sweeps over kappa, node and DRAM type. Writes text, JSON and an SVG chart.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParamError, TENSOR_ROLES, OP_KINDS, type OpKind, type ParamOverrides } from '../../../hw-model/params.ts';
import { library } from '../../../hw-model/default-tables.ts';
import { loadOpCounts, loadTable } from '../../../hw-model/load.ts';
import { renderComparison, renderRun, renderSources } from '../../../hw-model/report.ts';
import { UnknownNodeError } from '../../../hw-model/scaling.ts';
import { buildReport, type EnergyReport } from '../../../hw-model/sweep.ts';
import { breakdownSvg } from '../../../hw-model/svg.ts';
import type { TensorRole } from '../../../engine/record/schema.ts';
import { num, oneOf, str, UsageError, type Command, type Values } from '../command.ts';

const OVERLAP = ['none', 'full'] as const;

function list(values: Values, key: string): string[] | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`--${key} must be a comma-separated list, got '${v}'`);
  return items;
}

function numbers(values: Values, key: string): number[] | undefined {
  return list(values, key)?.map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new UsageError(`--${key}: '${s}' is not a number`);
    return n;
  });
}

function positiveInt(values: Values, key: string): number | undefined {
  if (values[key] === undefined) return undefined;
  const n = num(values, key, 0);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${key} must be a positive integer, got ${n}`);
  return n;
}

function optNum(values: Values, key: string): number | undefined {
  return values[key] === undefined ? undefined : num(values, key, 0);
}

function exclusive(values: Values, a: string, b: string): void {
  if (values[a] !== undefined && values[b] !== undefined) throw new UsageError(`give --${a} or --${b}, not both`);
}

/** The command line's parameter overrides (undefined fields keep the model's defaults). */
function overridesFrom(values: Values): ParamOverrides {
  const roles = list(values, 'on-chip');
  for (const r of roles ?? []) if (!(TENSOR_ROLES as readonly string[]).includes(r)) throw new UsageError(`--on-chip: unknown role '${r}' (roles: ${TENSOR_ROLES.join(', ')})`);
  const exclude = list(values, 'exclude');
  for (const k of exclude ?? []) if (!(OP_KINDS as readonly string[]).includes(k)) throw new UsageError(`--exclude: unknown op kind '${k}' (kinds: ${OP_KINDS.join(', ')})`);
  const ghz = optNum(values, 'clock-ghz');
  const gbs = optNum(values, 'bandwidth-gbs');
  const memory: Record<string, unknown> = {
    dram: str(values, 'dram'),
    sramKB: optNum(values, 'sram-kb'),
    rfReadsPerMacOperand: optNum(values, 'rf-reads'),
    sramPassesPerRecordedBit: optNum(values, 'sram-passes'),
    onChipRoles: roles as TensorRole[] | undefined,
  };
  const o: Record<string, unknown> = {
    node: str(values, 'node'),
    kappa: optNum(values, 'kappa'),
    quireBitsPerPositBit: positiveInt(values, 'quire-factor'),
    positAccumulator: str(values, 'accumulator'),
    clock_Hz: ghz === undefined ? undefined : ghz * 1e9,
    macUnits: positiveInt(values, 'mac-units'),
    dramBandwidth_Bps: gbs === undefined ? undefined : gbs * 1e9,
    overlap: values.overlap === undefined ? undefined : oneOf(values, 'overlap', OVERLAP, 'none'),
    exclude: exclude as OpKind[] | undefined,
  };
  const defined = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
  return { ...defined(o), memory: defined(memory) } as ParamOverrides;
}

/** Writes under a temporary name, then renames: a reader never sees half a file. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function renderText(report: EnergyReport, details: boolean): string {
  const out: string[] = [];
  for (const p of report.points) {
    if (details) {
      p.estimates.forEach((e, i) => out.push(renderRun(e, report.labels[i]!), ''));
      const sources = Object.assign({}, ...p.estimates.map((e) => e.sources));
      out.push(renderSources(sources, p.estimates[0]!.overrides), '');
    }
    out.push(renderComparison(p.comparison, p.heading), '');
  }
  return out.join('\n');
}

const energy: Command = {
  name: 'energy',
  summary: 'estimate ASIC energy, time and area from op-count files (hardware model)',
  usage: 'posit-gan energy COUNTS.json... [options]',
  help: [
    `Turns op-count files (<run>.opcounts.json) into ASIC energy, time and arithmetic-area estimates with the
hardware model in hw-model/ (tables with provenance, technology scaling, compound components; see
hw-model/README.md). Prints a report per run (breakdown by part, phase, layer, kind and format, every
table entry used with its source) and a comparison per step normalised to one run. With sweeps, stdout
shows the comparisons only; --out DIR keeps the full text.`,
    {
      title: 'Model:',
      options: [
        { name: 'node', type: 'string', value: 'N', help: 'technology node: 45 (default, the data\'s own), 65 (65 nm LP), 28, 7' },
        { name: 'kappa', type: 'string', value: 'K', help: 'posit/float cost ratio for units of the same width (default 1.3, from the tables)' },
        { name: 'tables', type: 'string', value: 'FILE', multiple: true, help: 'extra table file(s), overriding shipped entries (repeatable)' },
        { name: 'accumulator', type: 'string', value: 'A', help: 'accumulator of posit MACs: recorded (default), quire, or a format (e.g. fp32)' },
        { name: 'quire-factor', type: 'string', value: 'F', help: 'quire width = F x n bits (default 16)' },
        { name: 'mac-units', type: 'string', value: 'N', help: 'MAC units in parallel (default 256)' },
        { name: 'clock-ghz', type: 'string', value: 'F', help: 'clock (default 1)' },
        { name: 'bandwidth-gbs', type: 'string', value: 'F', help: 'DRAM bandwidth in GB/s (default 25.6)' },
        { name: 'overlap', type: 'string', choices: OVERLAP, help: 'compute and memory time add up (none, default) or overlap fully' },
        { name: 'dram', type: 'string', value: 'TYPE', help: 'LPDDR4 (default), DDR3, HBM2, HBM3, horowitz-2014' },
        { name: 'sram-kb', type: 'string', value: 'N', help: 'SRAM buffer size: 8, 32 (default) or 1024 kB' },
        { name: 'sram-passes', type: 'string', value: 'N', help: 'SRAM write+read passes per recorded DRAM bit (default 1)' },
        { name: 'rf-reads', type: 'string', value: 'N', help: 'register-file reads per MAC operand (default 1)' },
        { name: 'on-chip', type: 'string', value: 'ROLES', help: 'tensor roles kept on chip (SRAM only, no DRAM), e.g. weights,optimizer_state' },
        { name: 'exclude', type: 'string', value: 'KINDS', help: 'op kinds not to cost (e.g. div,sqrt), listed in the report as excluded' },
      ],
    },
    {
      title: 'Sweeps (one report per combination):',
      options: [
        { name: 'sweep-kappa', type: 'string', value: 'LIST', help: 'e.g. 1.0,1.3,1.6' },
        { name: 'sweep-node', type: 'string', value: 'LIST', help: 'e.g. 65,45,28,7' },
        { name: 'sweep-dram', type: 'string', value: 'LIST', help: 'e.g. LPDDR4,DDR3,HBM2' },
      ],
    },
    {
      title: 'Output:',
      options: [
        { name: 'normalize-to', type: 'string', value: 'NAME', help: 'reference run (run name, or file) for the comparison; default the first file' },
        { name: 'out', type: 'string', value: 'DIR', help: 'write DIR/energy.txt, DIR/energy.json and DIR/energy.svg (breakdown chart)' },
        { name: 'json', type: 'boolean', help: 'print the JSON report instead of text' },
      ],
    },
  ],
  positionals: true,
  async run(values, positionals) {
    if (positionals.length === 0) throw new UsageError('give at least one op-count file (COUNTS.json)');
    exclusive(values, 'kappa', 'sweep-kappa');
    exclusive(values, 'node', 'sweep-node');
    exclusive(values, 'dram', 'sweep-dram');
    const base = overridesFrom(values);
    const sweeps = { kappa: numbers(values, 'sweep-kappa'), node: list(values, 'sweep-node'), dram: list(values, 'sweep-dram') };
    const tables = ((values.tables as string[] | undefined) ?? []).map(loadTable);
    const lib = library(tables);
    const inputs = positionals.map((file) => ({ file, counts: loadOpCounts(file) }));
    let report: EnergyReport;
    try {
      report = buildReport(inputs, lib, base, sweeps, str(values, 'normalize-to'));
    } catch (e) {
      if (e instanceof ParamError || e instanceof UnknownNodeError) throw new UsageError(e.message);
      throw e;
    }
    const swept = report.points.length > 1;
    const json = JSON.stringify(report, null, 2) + '\n';
    const out = str(values, 'out');
    if (out !== undefined) {
      mkdirSync(out, { recursive: true });
      writeAtomic(join(out, 'energy.txt'), renderText(report, true));
      writeAtomic(join(out, 'energy.json'), json);
      writeAtomic(join(out, 'energy.svg'), breakdownSvg(report.points, `Energy per step by part (${report.labels.join(', ')})`));
    }
    process.stdout.write(values.json ? json : renderText(report, !swept));
    if (out !== undefined && !values.json) process.stdout.write(`wrote ${join(out, 'energy.txt')}, energy.json, energy.svg\n`);
    return 0;
  },
};
export default energy;
