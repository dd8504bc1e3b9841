// The estimator: an op-count file -> energy (total, per step, and broken down by part, op kind, format,
// layer and phase, every term with the table entries it used), time and arithmetic area.
//
// Memory mapping (parameters in params.ts, README.md "Memory"):
// - The recorded `memory` traffic is the traffic between memory and the compute units. By default it
//   all crosses DRAM once (the accelerator streams layers; nothing is assumed to stay on chip), and each
//   bit passes once through the SRAM buffer (one SRAM write + one SRAM read). Roles listed in
//   memory.onChipRoles stay on chip: one SRAM access per recorded bit, no DRAM.
// - Every MAC reads its two operands from the register file (rfReadsPerMacOperand times each) and
//   writes its accumulator register (part of the MAC's compute cost).
//
// Time: compute cycles = MACs / macUnits (one MAC per unit per cycle, perfect utilisation), at the
// clock; memory time = DRAM bits / DRAM bandwidth. On-chip traffic and non-MAC arithmetic are assumed
// to keep pace with the MAC array (they add energy, not time). overlap 'none' (default): the two add up
// (no double buffering, an upper bound); 'full': the larger one hides the other (a lower bound).
//
// Browser-safe: no Node modules.

import type { OpCountsFile, OpRecord, Phase } from '../engine/record/schema.ts';
import { CostModel, CountsError, formatOf, type Cost, type Use } from './components.ts';
import { resolveParams, type ModelParams, type OpKind, type ParamOverrides } from './params.ts';
import { scaleEntry } from './scaling.ts';
import type { Library, Override, Provenance } from './table.ts';

export type Part =
  | 'multiply'
  | 'accumulate'
  | 'register_write'
  | 'arithmetic'
  | 'convert'
  | 'quire_round'
  | 'activation'
  | 'register_file'
  | 'sram'
  | 'dram';

export const MEMORY_PARTS: readonly Part[] = ['register_file', 'sram', 'dram'];

export interface Term {
  readonly phase: Phase;
  readonly layer: string;
  readonly kind: OpKind;
  /** The format(s): `fp16`, `p8e2*p8e2->quire`, `fp32->p8e2`, `weights p8e2`. */
  readonly format: string;
  readonly part: Part;
  readonly category: 'compute' | 'memory';
  /** Scalar operations, or bits for memory parts. */
  readonly amount: number;
  readonly unit: 'ops' | 'bits';
  readonly perUnit_pJ: number;
  readonly energy_pJ: number;
  readonly formula: string;
  readonly uses: readonly Use[];
}

export interface SourceInfo {
  readonly table: string;
  readonly per: string;
  readonly bitsPerAccess: number | null;
  /** As written in the table, at the entry's own node. */
  readonly energy_pJ: number;
  readonly energyRange_pJ: readonly [number, number] | null;
  /** Node scaling applied to reach the estimate's node, and how. */
  readonly scale: number;
  readonly scaling: string;
  readonly area_um2: number | null;
  readonly areaNote: string | null;
  readonly provenance: Provenance;
}

export interface MacArea {
  readonly label: string;
  readonly multiply_um2: number | null;
  readonly accumulate_um2: number | null;
  readonly register_um2: number | null;
  /** One MAC unit; null if any part's area is unknown. */
  readonly unit_um2: number | null;
  readonly missing: readonly string[];
}

export interface Estimate {
  readonly run: OpCountsFile['run'];
  /** Counts built by hw-model/synthetic.ts from a described shape, not recorded by the engine. */
  readonly synthetic: boolean;
  readonly params: ModelParams;
  readonly node: { readonly name: string; readonly label: string };
  readonly energy: {
    readonly total_pJ: number;
    readonly perStep_pJ: number;
    readonly byCategory: Readonly<Record<string, number>>;
    readonly byPart: Readonly<Record<string, number>>;
    readonly byKind: Readonly<Record<string, number>>;
    readonly byFormat: Readonly<Record<string, number>>;
    readonly byLayer: Readonly<Record<string, number>>;
    readonly byPhase: Readonly<Record<string, number>>;
    readonly terms: readonly Term[];
  };
  readonly time: {
    readonly macs: number;
    readonly macUnits: number;
    readonly clock_Hz: number;
    readonly computeCycles: number;
    readonly compute_s: number;
    readonly dramBits: number;
    readonly dramBandwidth_Bps: number;
    readonly memory_s: number;
    readonly overlap: 'none' | 'full';
    readonly total_s: number;
    readonly perStep_s: number;
    readonly bound: 'compute' | 'memory';
  };
  readonly area: {
    readonly macUnits: number;
    readonly macs: readonly MacArea[];
    /** macUnits x the largest MAC unit (one array serves all the run's MAC kinds); null if unknown. */
    readonly array_um2: number | null;
    readonly others: readonly { readonly label: string; readonly area_um2: number | null; readonly missing: readonly string[] }[];
  };
  /** Op kinds left out via params.exclude, with how much of each was left out. */
  readonly excluded: readonly { readonly kind: string; readonly amount: number; readonly unit: 'ops' | 'bits' }[];
  readonly sources: Readonly<Record<string, SourceInfo>>;
  readonly overrides: readonly Override[];
}

const add = (m: Record<string, number>, k: string, v: number) => {
  m[k] = (m[k] ?? 0) + v;
};

/** Estimates one op-count file. `overrides` change the model's parameters (params.ts). Throws
 *  MissingEntryError for a needed entry the tables lack, CountsError for counts it cannot cost. */
export function estimate(counts: OpCountsFile, lib: Library, overrides: ParamOverrides = {}): Estimate {
  const params = resolveParams(lib, overrides);
  const cm = new CostModel(lib, params);
  const terms: Term[] = [];
  const excluded = new Map<string, { amount: number; unit: 'ops' | 'bits' }>();
  const macAreas = new Map<string, MacArea>();
  const otherAreas = new Map<string, { label: string; area_um2: number | null; missing: readonly string[] }>();
  let macs = 0;
  let dramBits = 0;

  const push = (r: OpRecord, format: string, part: Part, amount: number, unit: 'ops' | 'bits', c: Cost) => {
    if (amount === 0) return;
    const category = MEMORY_PARTS.includes(part) ? 'memory' : 'compute';
    terms.push({ phase: r.phase, layer: r.layer, kind: r.kind, format, part, category, amount, unit, perUnit_pJ: c.energy_pJ, energy_pJ: amount * c.energy_pJ, formula: c.formula, uses: c.uses });
    if (category === 'compute' && r.kind !== 'mac' && !otherAreas.has(`${part} ${format}`)) {
      otherAreas.set(`${part} ${format}`, { label: `${r.kind} ${format}`, area_um2: c.area_um2, missing: c.areaMissing });
    }
  };

  counts.records.forEach((r, i) => {
    const ctx = `run '${counts.run.name}' records[${i}] (${r.kind}, ${r.phase}, layer '${r.layer}')`;
    if (params.exclude.includes(r.kind)) {
      const e = excluded.get(r.kind) ?? { amount: 0, unit: r.kind === 'memory' ? 'bits' : 'ops' };
      e.amount += r.kind === 'memory' ? r.bits : r.count;
      excluded.set(r.kind, e);
      return;
    }
    switch (r.kind) {
      case 'mac': {
        const a = formatOf(r.a, ctx);
        const b = formatOf(r.b, ctx);
        const positOperands = a.family === 'posit' || b.family === 'posit';
        const accName = positOperands && params.positAccumulator !== 'recorded' ? params.positAccumulator : r.acc;
        const acc = accName === 'quire' ? 'quire' : formatOf(accName, ctx);
        const m = cm.mac(a, b, acc, ctx);
        const label = `${r.a}*${r.b}->${accName}`;
        push(r, label, 'multiply', r.count, 'ops', m.multiply);
        push(r, label, 'accumulate', r.count, 'ops', m.accumulate);
        push(r, label, 'register_write', r.count, 'ops', m.registerWrite);
        const operandBits = (a.bits + b.bits) * params.memory.rfReadsPerMacOperand;
        push(r, label, 'register_file', r.count * operandBits, 'bits', cm.memoryBit('register_file', 'read', ctx));
        macs += r.count;
        if (!macAreas.has(label)) {
          const parts = [m.multiply, m.accumulate, m.registerWrite];
          const unit = parts.some((p) => p.area_um2 === null) ? null : parts.reduce((s, p) => s + p.area_um2!, 0);
          macAreas.set(label, {
            label,
            multiply_um2: m.multiply.area_um2,
            accumulate_um2: m.accumulate.area_um2,
            register_um2: m.registerWrite.area_um2,
            unit_um2: unit,
            missing: [...new Set(parts.flatMap((p) => p.areaMissing))],
          });
        }
        break;
      }
      case 'mul':
      case 'add':
      case 'div':
      case 'sqrt':
      case 'exp':
      case 'log':
        push(r, r.format, 'arithmetic', r.count, 'ops', cm.unit(formatOf(r.format, ctx), r.kind, ctx));
        break;
      case 'max':
        push(r, r.format, 'arithmetic', r.count, 'ops', cm.compare(formatOf(r.format, ctx), ctx));
        break;
      case 'quire_round': {
        if (formatOf(r.format, ctx).family !== 'posit') throw new CountsError(`${ctx}: quire_round needs a posit format, got ${r.format}`);
        push(r, `quire${r.quireBits}->${r.format}`, 'quire_round', r.count, 'ops', cm.quireRound(r.quireBits, ctx));
        break;
      }
      case 'convert':
        push(r, `${r.from}->${r.to}`, 'convert', r.count, 'ops', cm.convert(formatOf(r.from, ctx), formatOf(r.to, ctx), r.rounding, ctx));
        break;
      case 'activation':
        push(r, `${r.fn}${r.fast ? ' (fast)' : ''} ${r.format}`, 'activation', r.count, 'ops', cm.activation(r.fn, formatOf(r.format, ctx), r.fast, ctx));
        break;
      case 'memory': {
        const label = `${r.role} ${r.format}`;
        if (params.memory.onChipRoles.includes(r.role)) {
          push(r, label, 'sram', r.bits, 'bits', cm.memoryBit('sram', r.direction, ctx));
          break;
        }
        push(r, label, 'dram', r.bits, 'bits', cm.memoryBit('dram', r.direction, ctx));
        dramBits += r.bits;
        const passes = params.memory.sramPassesPerRecordedBit;
        push(r, label, 'sram', r.bits * passes, 'bits', cm.memoryBit('sram', 'write', ctx));
        push(r, label, 'sram', r.bits * passes, 'bits', cm.memoryBit('sram', 'read', ctx));
        break;
      }
    }
  });

  const byCategory: Record<string, number> = {};
  const byPart: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const byFormat: Record<string, number> = {};
  const byLayer: Record<string, number> = {};
  const byPhase: Record<string, number> = {};
  let total = 0;
  const sources: Record<string, SourceInfo> = {};
  for (const t of terms) {
    total += t.energy_pJ;
    add(byCategory, t.category, t.energy_pJ);
    add(byPart, t.part, t.energy_pJ);
    add(byKind, t.kind, t.energy_pJ);
    add(byFormat, t.format, t.energy_pJ);
    add(byLayer, t.layer, t.energy_pJ);
    add(byPhase, t.phase, t.energy_pJ);
    for (const u of t.uses) {
      if (sources[u.entry]) continue;
      const e = lib.entries.get(u.entry)!;
      const s = scaleEntry(lib, e, cm.target);
      sources[u.entry] = {
        table: e.source,
        per: e.per,
        bitsPerAccess: e.bitsPerAccess,
        energy_pJ: e.energy_pJ,
        energyRange_pJ: e.energyRange_pJ,
        scale: s.energy,
        scaling: s.note,
        area_um2: e.area_um2,
        areaNote: e.areaNote,
        provenance: e.provenance,
      };
    }
  }

  const steps = counts.run.steps;
  const computeCycles = macs / params.macUnits;
  const compute_s = computeCycles / params.clock_Hz;
  const memory_s = dramBits / 8 / params.dramBandwidth_Bps;
  const total_s = params.overlap === 'none' ? compute_s + memory_s : Math.max(compute_s, memory_s);
  const macList = [...macAreas.values()];
  const array_um2 =
    macList.length === 0 || macList.some((m) => m.unit_um2 === null) ? null : params.macUnits * Math.max(...macList.map((m) => m.unit_um2!));
  const point = cm.target;

  return {
    run: counts.run,
    synthetic: counts.run.device === 'synthetic',
    params,
    node: { name: point.name, label: point.label },
    energy: { total_pJ: total, perStep_pJ: total / steps, byCategory, byPart, byKind, byFormat, byLayer, byPhase, terms },
    time: {
      macs,
      macUnits: params.macUnits,
      clock_Hz: params.clock_Hz,
      computeCycles,
      compute_s,
      dramBits,
      dramBandwidth_Bps: params.dramBandwidth_Bps,
      memory_s,
      overlap: params.overlap,
      total_s,
      perStep_s: total_s / steps,
      bound: compute_s >= memory_s ? 'compute' : 'memory',
    },
    area: { macUnits: params.macUnits, macs: macList, array_um2, others: [...otherAreas.values()] },
    excluded: [...excluded].map(([kind, e]) => ({ kind, ...e })),
    sources,
    overrides: lib.overrides,
  };
}
