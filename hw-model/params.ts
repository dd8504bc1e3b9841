// The model's named parameters, their defaults and their validation. Defaults that a source gives
// (kappa, the quire width) come from the tables' constants, so they carry provenance; the others are
// architecture assumptions, documented here and in README.md and printed with every report.

import { TENSOR_ROLES, type TensorRole } from '../engine/record/schema.ts';
import { HwFormatError, parseHwFormat } from './formats.ts';
import { targetPoint } from './scaling.ts';
import type { Library } from './table.ts';

export { TENSOR_ROLES };
export const OP_KINDS = ['mac', 'mul', 'add', 'div', 'sqrt', 'exp', 'log', 'max', 'quire_round', 'convert', 'activation', 'memory'] as const;
export type OpKind = (typeof OP_KINDS)[number];

export interface MemoryParams {
  /** DRAM type: the `type` attribute of the `dram` table entries (LPDDR4, DDR3, HBM2, HBM3, horowitz-2014). */
  readonly dram: string;
  /** On-chip SRAM buffer size: the `size_kB` attribute of the `sram` entries (8, 32, 1024 shipped). */
  readonly sramKB: number;
  /** Register-file reads per MAC operand (each MAC reads a and b once: 1; operands held in the
   *  multiplier's input latches across reuse: less). */
  readonly rfReadsPerMacOperand: number;
  /** Passes through the SRAM buffer per recorded bit that crosses DRAM; one pass is one SRAM write and
   *  one SRAM read (DRAM -> SRAM -> array, or array -> SRAM -> DRAM). 0: DRAM feeds the array directly. */
  readonly sramPassesPerRecordedBit: number;
  /** Tensor roles that live on chip: their recorded traffic is one SRAM access per bit, no DRAM. */
  readonly onChipRoles: readonly TensorRole[];
}

export interface ModelParams {
  /** Scaling point name (`--node`): 45 (the base), 65, 28, 7 with the shipped tables. */
  readonly node: string;
  /** Posit/float cost ratio for units of the same width (energy and area). */
  readonly kappa: number;
  /** Quire width = this x n bits for posit(n) (16: the 2022 posit standard). */
  readonly quireBitsPerPositBit: number;
  /** Accumulator of MACs with posit operands: 'recorded' (as the counts say), 'quire', or a format. */
  readonly positAccumulator: string;
  /** Posit width -> the float format whose unit a posit unit of that width costs kappa times. */
  readonly positReference: Readonly<Record<string, string>>;
  readonly memory: MemoryParams;
  readonly clock_Hz: number;
  /** MAC units working in parallel, each finishing one MAC per cycle. */
  readonly macUnits: number;
  /** DRAM bandwidth in bytes per second. */
  readonly dramBandwidth_Bps: number;
  /** 'none': time = compute + memory (no double buffering); 'full': time = max(compute, memory). */
  readonly overlap: 'none' | 'full';
  /** Op kinds left out of the estimate on purpose (listed in the report with their counts). */
  readonly exclude: readonly OpKind[];
}

export type ParamOverrides = Partial<Omit<ModelParams, 'memory'>> & { memory?: Partial<MemoryParams> };

/** Architecture assumptions with no published source (see README.md "Parameters"). */
export const ASSUMED_DEFAULTS = {
  positAccumulator: 'recorded',
  // docs/energy-sources.md section 7: P8 against e4m3, P16 against fp16; fp32 for P32 and e3m2 (OCP FP6, the same 3-bit
  // significand as p6e1) for P6 by the same rule. P6 mul and add follow that section's narrowing from P8
  // instead (components.ts); the P6 reference prices its other ops (div, sqrt, tanh, sigmoid).
  positReference: { '6': 'e3m2', '8': 'e4m3', '16': 'fp16', '32': 'fp32' } as Readonly<Record<string, string>>,
  memory: { dram: 'LPDDR4', sramKB: 32, rfReadsPerMacOperand: 1, sramPassesPerRecordedBit: 1, onChipRoles: [] as TensorRole[] },
  clock_Hz: 1e9, // the paper's 1 GHz
  macUnits: 256, // a 16 x 16 array; the paper does not say
  dramBandwidth_Bps: 25.6e9, // LPDDR4-3200 on a 64-bit bus
  overlap: 'none' as const,
  exclude: [] as OpKind[],
};

export class ParamError extends Error {
  override name = 'ParamError';
}

function positive(name: string, v: number, integer = false): number {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new ParamError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new ParamError(`${name} must be a number >= 0, got ${v}`);
  return v;
}

/** Fills in defaults and checks every parameter against the library (node, DRAM type, SRAM size). */
export function resolveParams(lib: Library, o: ParamOverrides = {}): ModelParams {
  const m = { ...ASSUMED_DEFAULTS.memory, ...o.memory };
  const p: ModelParams = {
    node: o.node ?? lib.base?.name ?? '',
    kappa: o.kappa ?? lib.constant('kappa').value,
    quireBitsPerPositBit: o.quireBitsPerPositBit ?? lib.constant('quire_bits_per_posit_bit').value,
    positAccumulator: o.positAccumulator ?? ASSUMED_DEFAULTS.positAccumulator,
    positReference: o.positReference ?? ASSUMED_DEFAULTS.positReference,
    memory: m,
    clock_Hz: o.clock_Hz ?? ASSUMED_DEFAULTS.clock_Hz,
    macUnits: o.macUnits ?? ASSUMED_DEFAULTS.macUnits,
    dramBandwidth_Bps: o.dramBandwidth_Bps ?? ASSUMED_DEFAULTS.dramBandwidth_Bps,
    overlap: o.overlap ?? ASSUMED_DEFAULTS.overlap,
    exclude: o.exclude ?? ASSUMED_DEFAULTS.exclude,
  };
  targetPoint(lib, p.node);
  positive('kappa', p.kappa);
  positive('quire width factor', p.quireBitsPerPositBit, true);
  positive('clock', p.clock_Hz);
  positive('MAC units', p.macUnits, true);
  positive('DRAM bandwidth', p.dramBandwidth_Bps);
  nonNegative('register-file reads per MAC operand', m.rfReadsPerMacOperand);
  nonNegative('SRAM passes per recorded bit', m.sramPassesPerRecordedBit);
  if (p.overlap !== 'none' && p.overlap !== 'full') throw new ParamError(`overlap must be none or full, got '${p.overlap}'`);
  for (const r of m.onChipRoles) if (!TENSOR_ROLES.includes(r)) throw new ParamError(`unknown tensor role '${r}' (roles: ${TENSOR_ROLES.join(', ')})`);
  for (const k of p.exclude) if (!(OP_KINDS as readonly string[]).includes(k)) throw new ParamError(`unknown op kind '${k}' to exclude (kinds: ${OP_KINDS.join(', ')})`);
  try {
    if (p.positAccumulator !== 'recorded' && p.positAccumulator !== 'quire') parseHwFormat(p.positAccumulator);
    for (const f of Object.values(p.positReference)) if (parseHwFormat(f).family !== 'float') throw new ParamError(`posit reference '${f}' must be a float format`);
  } catch (e) {
    if (e instanceof HwFormatError) throw new ParamError(e.message);
    throw e;
  }
  const choices = (component: string, key: string) =>
    lib.family(component, 'read').map((e) => String(e.attributes[key])).join(', ');
  if (!lib.find('dram', { type: m.dram }, 'read')) throw new ParamError(`unknown DRAM type '${m.dram}' (the tables have: ${choices('dram', 'type')})`);
  if (!lib.find('sram', { size_kB: m.sramKB }, 'read')) throw new ParamError(`no SRAM entry of ${m.sramKB} kB (the tables have: ${choices('sram', 'size_kB')} kB)`);
  return p;
}
