// Technology scaling: every table entry belongs to a (node, voltage) point; the factors in the tables
// are relative to one base point (45 nm @ 0.9 V for the shipped data), so an entry moves from its point
// P to the target T by factor(T) / factor(P), separately for energy, area and delay.
//
// DRAM (node_scaling: false) is never scaled: its energy belongs to the DRAM part and interface.
// A missing delay factor (the shipped Stillmaker & Baas factors give none) means the source does not
// say how the unit's delay changes, so a latency in cycles is "not available" anywhere but at the
// entry's own point. It does not affect the time estimate, which counts throughput cycles at the
// chosen clock (see estimate.ts).

import { TableError, type Library, type ScalingPoint, type TableEntry } from './table.ts';

export class UnknownNodeError extends Error {
  override name = 'UnknownNodeError';
}

export interface NodeScale {
  readonly energy: number;
  readonly area: number;
  /** null: a delay factor is missing at one end, so latencies cannot be carried over. */
  readonly delay: number | null;
  /** `45 nm @ 0.9 V -> 65 nm LP @ 1.2 V`, or why no scaling applies. */
  readonly note: string;
}

/** The scaling point `--node NAME` selects. */
export function targetPoint(lib: Library, name: string): ScalingPoint {
  const p = lib.points.get(name);
  if (!p) {
    const known = [...lib.points.keys()];
    throw new UnknownNodeError(`unknown node '${name}': the tables define ${known.length ? known.join(', ') : 'no scaling points'} (add points with a --tables file's "scaling" section)`);
  }
  return p;
}

function pointOf(lib: Library, e: TableEntry): ScalingPoint {
  const { node_nm, voltage_V } = e.provenance;
  for (const p of lib.points.values()) if (p.node_nm === node_nm && p.voltage_V === voltage_V) return p;
  const known = [...lib.points.values()].map((p) => `${p.node_nm} nm @ ${p.voltage_V} V`).join(', ');
  throw new TableError(
    `${e.source}: entry ${e.id} is at ${node_nm} nm @ ${voltage_V} V, which no scaling point matches (known: ${known || 'none'}); ` +
      `give the entry at a known point or add a scaling point for its node and voltage`,
  );
}

/** Factors that move entry `e` from its own point to `target`. */
export function scaleEntry(lib: Library, e: TableEntry, target: ScalingPoint): NodeScale {
  if (!e.nodeScaling) return { energy: 1, area: 1, delay: 1, note: 'not node-scaled' };
  const from = pointOf(lib, e);
  if (from === target) return { energy: 1, area: 1, delay: 1, note: `at ${target.label}` };
  const delay = from.delayFactor !== null && target.delayFactor !== null ? target.delayFactor / from.delayFactor : null;
  return {
    energy: target.energyFactor / from.energyFactor,
    area: target.areaFactor / from.areaFactor,
    delay,
    note: `${from.label} -> ${target.label}`,
  };
}
