// Several op-count files x several parameter points -> one report: an estimate per (point, run), a
// comparison per point normalised to one run, and the JSON document the `energy` command writes.
// Browser-safe.

import type { OpCountsFile } from '../engine/record/schema.ts';
import { estimate, type Estimate } from './estimate.ts';
import { ParamError, type ParamOverrides } from './params.ts';
import { compare, type Comparison } from './report.ts';
import type { Library } from './table.ts';

export const REPORT_SCHEMA = 'posit-gan/energy-report';
export const REPORT_VERSION = 1;

export interface Sweeps {
  readonly kappa?: readonly number[];
  readonly node?: readonly string[];
  readonly dram?: readonly string[];
}

/** The cartesian product of the sweeps over the base parameters (one point when nothing is swept). */
export function sweepPoints(base: ParamOverrides, sweeps: Sweeps): ParamOverrides[] {
  let points: ParamOverrides[] = [base];
  const axis = <T>(values: readonly T[] | undefined, apply: (o: ParamOverrides, v: T) => ParamOverrides) => {
    if (values) points = points.flatMap((p) => values.map((v) => apply(p, v)));
  };
  axis(sweeps.node, (o, v) => ({ ...o, node: v }));
  axis(sweeps.kappa, (o, v) => ({ ...o, kappa: v }));
  axis(sweeps.dram, (o, v) => ({ ...o, memory: { ...o.memory, dram: v } }));
  return points;
}

export interface CountsInput {
  readonly file: string;
  readonly counts: OpCountsFile;
}

/** Run names, made unique with the file name where two files share one. */
export function runLabels(inputs: readonly CountsInput[]): string[] {
  const names = inputs.map((i) => i.counts.run.name);
  return inputs.map((i, k) => (names.filter((n) => n === names[k]).length > 1 ? `${names[k]} [${i.file}]` : names[k]!));
}

/** Index of the reference run: `want` is a label, a unique run name or a file; default the first. */
export function referenceIndex(inputs: readonly CountsInput[], labels: readonly string[], want: string | undefined): number {
  if (want === undefined) return 0;
  let k = labels.indexOf(want);
  if (k < 0) k = inputs.findIndex((i) => i.file === want);
  if (k < 0) throw new ParamError(`--normalize-to '${want}' names no run (runs: ${labels.join(', ')})`);
  return k;
}

export interface ReportPoint {
  /** The parameter point in words: node, kappa, DRAM type. */
  readonly heading: string;
  readonly estimates: readonly Estimate[];
  readonly comparison: Comparison;
}

export interface EnergyReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly version: typeof REPORT_VERSION;
  readonly files: readonly string[];
  readonly labels: readonly string[];
  readonly points: readonly ReportPoint[];
}

export function buildReport(inputs: readonly CountsInput[], lib: Library, base: ParamOverrides, sweeps: Sweeps, normalizeTo?: string): EnergyReport {
  const labels = runLabels(inputs);
  const ref = referenceIndex(inputs, labels, normalizeTo);
  const points = sweepPoints(base, sweeps).map((p) => {
    const estimates = inputs.map((i) => estimate(i.counts, lib, p));
    const first = estimates[0]!;
    const heading = `${first.node.label}, kappa ${first.params.kappa}, DRAM ${first.params.memory.dram}`;
    return { heading, estimates, comparison: compare(estimates, labels, ref) };
  });
  return { schema: REPORT_SCHEMA, version: REPORT_VERSION, files: inputs.map((i) => i.file), labels, points };
}
