import { describe, expect, it } from 'vitest';
import type { OpRecord } from '../../engine/record/schema.ts';
import { library } from '../../hw-model/default-tables.ts';
import { estimate } from '../../hw-model/estimate.ts';
import { parseOpCounts } from '../../hw-model/opcounts.ts';
import { MissingEntryError } from '../../hw-model/table.ts';
import { close, counts } from './helpers.ts';

const lib = library();

const records: OpRecord[] = [
  { kind: 'mac', a: 'p8e2', b: 'p8e2', acc: 'quire', count: 1000, phase: 'forward', layer: 'L1' },
  { kind: 'mac', a: 'fp16', b: 'fp16', acc: 'fp32', count: 100, phase: 'backward', layer: 'L2' },
  { kind: 'add', format: 'fp32', count: 50, phase: 'optimizer', layer: 'L2' },
  { kind: 'convert', from: 'fp32', to: 'p8e2', rounding: 'nearest', count: 10, phase: 'forward', layer: 'L1' },
  { kind: 'activation', fn: 'tanh', format: 'p16e0', fast: true, count: 4, phase: 'forward', layer: 'L1' },
  { kind: 'quire_round', format: 'p16e2', quireBits: 128, count: 20, phase: 'forward', layer: 'L1' },
  { kind: 'memory', direction: 'read', role: 'weights', format: 'p8e2', bits: 8000, phase: 'forward', layer: 'L1' },
];
const file = counts('hand', records, 2);

// Hand-computed energies at 45 nm, kappa 1.3 (table values: Horowitz 2014 and derived-45nm.json).
const P8_MUL = 1.3 * 0.35024; // kappa x e4m3 mul
const QUIRE_ACC = (128 / 32) * 0.1 + 128 * (0.1 / 32); // int128 add (linear from int32) + 128-bit shift = 0.8
const REG = 0.009; // per bit
const RF = 0.0520833; // per bit, as stored (20/64/6)
const SRAM = 20 / 64; // 32 kB, per bit, read or write
const EXPECTED = {
  multiply: 1000 * P8_MUL + 100 * 1.1,
  accumulate: 1000 * QUIRE_ACC + 100 * 0.9,
  register_write: 1000 * 128 * REG + 100 * 32 * REG,
  register_file: (1000 * 16 + 100 * 32) * RF,
  arithmetic: 50 * 0.9,
  convert: 10 * 0.2,
  activation: 4 * 3 * 0.05, // fast tanh = 3 int16 adds
  quire_round: 20 * 2 * 0.4, // 2 x int128 add
  dram: 8000 * 8, // LPDDR4
  sram: 8000 * 2 * SRAM, // one write + one read per recorded bit
};
const TOTAL = Object.values(EXPECTED).reduce((a, b) => a + b, 0); // 72699.71136 pJ

describe('estimator on a hand-built count file', () => {
  const e = estimate(file, lib);

  it('gives the hand-computed energy, total and by part', () => {
    expect(close(e.energy.total_pJ, TOTAL, 1e-9)).toBe(true);
    expect(close(e.energy.total_pJ, 72699.71136, 1e-9)).toBe(true);
    for (const [part, pJ] of Object.entries(EXPECTED)) expect(close(e.energy.byPart[part]!, pJ, 1e-9), part).toBe(true);
    expect(close(e.energy.perStep_pJ, TOTAL / 2)).toBe(true);
    expect(close(e.energy.byCategory.memory!, EXPECTED.register_file + EXPECTED.dram + EXPECTED.sram)).toBe(true);
  });

  it('breaks down by phase, layer, kind and format', () => {
    const backward = 100 * (1.1 + 0.9 + 32 * REG) + 100 * 32 * RF;
    expect(close(e.energy.byPhase.backward!, backward)).toBe(true);
    expect(close(e.energy.byPhase.optimizer!, 45)).toBe(true);
    expect(close(e.energy.byPhase.forward!, TOTAL - backward - 45)).toBe(true);
    expect(close(e.energy.byLayer.L2!, backward + 45)).toBe(true);
    expect(close(e.energy.byKind.memory!, EXPECTED.dram + EXPECTED.sram)).toBe(true);
    expect(close(e.energy.byFormat['p8e2*p8e2->quire']!, 1000 * (P8_MUL + QUIRE_ACC + 128 * REG + 16 * RF))).toBe(true);
  });

  it('traces every term to the table entries it used', () => {
    for (const t of e.energy.terms) {
      expect(t.uses.length).toBeGreaterThan(0);
      expect(close(t.uses.reduce((s, u) => s + u.energy_pJ, 0), t.perUnit_pJ)).toBe(true);
      for (const u of t.uses) expect(e.sources[u.entry], u.entry).toBeDefined();
    }
    expect(e.sources['float_unit{e=4,m=3}.mul']!.provenance.kind).toBe('derived');
    expect(e.sources['dram{type=LPDDR4}.read']!.scaling).toBe('not node-scaled');
  });

  it('estimates time: MACs / units at the clock, plus DRAM bits at the bandwidth', () => {
    const compute = 1100 / 256 / 1e9;
    const memory = 8000 / 8 / 25.6e9;
    expect(close(e.time.compute_s, compute)).toBe(true);
    expect(close(e.time.memory_s, memory)).toBe(true);
    expect(close(e.time.total_s, compute + memory)).toBe(true);
    expect(close(e.time.perStep_s, (compute + memory) / 2)).toBe(true);
    expect(e.time.bound).toBe('memory');
    const full = estimate(file, lib, { overlap: 'full', macUnits: 1, clock_Hz: 2e9 });
    expect(close(full.time.total_s, Math.max(1100 / 2e9, memory))).toBe(true);
  });

  it('reports MAC area where the tables give it, and "not available" (null) otherwise', () => {
    const fp16 = e.area.macs.find((m) => m.label === 'fp16*fp16->fp32')!;
    expect(close(fp16.unit_um2!, 1640 + 4184 + 32 * 5.98)).toBe(true);
    const p8 = e.area.macs.find((m) => m.label === 'p8e2*p8e2->quire')!;
    expect(p8.unit_um2).toBeNull();
    expect(p8.missing).toContain('float_unit{e=4,m=3}.mul');
    expect(e.area.array_um2).toBeNull();
    const onlyFp16 = estimate(counts('f', [records[1]!]), lib);
    expect(close(onlyFp16.area.array_um2!, 256 * (1640 + 4184 + 32 * 5.98))).toBe(true);
  });

  it('scales to 65 nm: logic and SRAM by 2.49, DRAM not at all', () => {
    const e65 = estimate(file, lib, { node: '65' });
    expect(close(e65.energy.total_pJ, (TOTAL - EXPECTED.dram) * 2.49 + EXPECTED.dram, 1e-9)).toBe(true);
    expect(e65.node.label).toBe('65 nm LP @ 1.2 V');
  });

  it('follows the memory and accumulator parameters', () => {
    const onChip = estimate(file, lib, { memory: { onChipRoles: ['weights'] } });
    expect(onChip.energy.byPart.dram).toBeUndefined();
    expect(close(onChip.energy.byPart.sram!, 8000 * SRAM)).toBe(true);
    expect(onChip.time.memory_s).toBe(0);
    const hbm = estimate(file, lib, { memory: { dram: 'HBM2' } });
    expect(close(hbm.energy.byPart.dram!, 8000 * 6.25)).toBe(true);
    const noRf = estimate(file, lib, { memory: { rfReadsPerMacOperand: 0, sramPassesPerRecordedBit: 0 } });
    expect(noRf.energy.byPart.register_file).toBeUndefined();
    expect(noRf.energy.byPart.sram).toBeUndefined();
    const fp32acc = estimate(file, lib, { positAccumulator: 'fp32' });
    expect(close(fp32acc.energy.byPart.accumulate!, 1000 * 0.9 + 100 * 0.9)).toBe(true);
    expect(close(fp32acc.energy.byPart.register_write!, 1100 * 32 * REG)).toBe(true);
  });

  it('leaves out excluded kinds and says how much it left out', () => {
    const ex = estimate(file, lib, { exclude: ['convert'] });
    expect(close(ex.energy.total_pJ, TOTAL - EXPECTED.convert)).toBe(true);
    expect(ex.excluded).toEqual([{ kind: 'convert', amount: 10, unit: 'ops' }]);
  });

  it('fails on a missing entry, naming the component, attributes, action and the record', () => {
    const bad = counts('needs-exp', [...records, { kind: 'exp', format: 'fp32', count: 5, phase: 'forward', layer: 'loss' }]);
    expect(() => estimate(bad, lib)).toThrow(MissingEntryError);
    expect(() => estimate(bad, lib)).toThrow(
      /no energy entry for component 'float_unit' with attributes \{e=8,m=23\} and action 'exp' \(needed for run 'needs-exp' records\[7\] \(exp, forward, layer 'loss'\)\)/,
    );
  });
});

describe('op-count file checks', () => {
  it('accepts a valid file and rejects wrong schema, version and records, naming the file', () => {
    expect(parseOpCounts(JSON.parse(JSON.stringify(file)), 'a.json').records.length).toBe(7);
    expect(() => parseOpCounts({ ...file, schema: 'x' }, 'a.json')).toThrow(/^a\.json: schema must be "posit-gan\/opcounts" \(the file is not an op-count file\), got "x"$/);
    expect(() => parseOpCounts({ ...file, version: 2 }, 'a.json')).toThrow(/^a\.json: version must be 1: this posit-gan reads op-count files of version 1, got 2$/);
    expect(() => parseOpCounts({ ...file, run: { ...file.run, steps: 0 } }, 'a.json')).toThrow(/^a\.json: run\.steps must be a finite number > 0, got 0$/);
    // A newer posit-gan may describe its runs with more fields.
    expect(() => parseOpCounts({ ...file, run: { ...file.run, commit: 'abc' } }, 'a.json')).not.toThrow();
    const badRecord = { ...file, records: [{ kind: 'mac', a: 'p8e2', b: 'p8e2', acc: 'quire', count: -1, phase: 'forward', layer: 'L1' }] };
    expect(() => parseOpCounts(badRecord, 'a.json')).toThrow(/^a\.json: records\[0\] \(mac\)\.count must be a finite number >= 0, got -1$/);
    const badKind = { ...file, records: [{ kind: 'fma', phase: 'forward', layer: 'L1' }] };
    expect(() => parseOpCounts(badKind, 'a.json')).toThrow(/^a\.json: records\[0\] \(fma\)\.kind must be one of "mac", "mul", "add", .*"memory", got "fma"$/);
    const badRole = { ...file, records: [{ kind: 'memory', direction: 'read', role: 'biases', format: 'fp16', bits: 8, phase: 'forward', layer: 'L1' }] };
    expect(() => parseOpCounts(badRole, 'a.json')).toThrow(/records\[0\] \(memory\)\.role must be one of "weights", "activations", .*, got "biases"$/);
    const extra = { ...file, records: [{ ...file.records[0], colour: 'red' }] };
    expect(() => parseOpCounts(extra, 'a.json')).toThrow(/records\[0\] \(\w+\)\.colour is not a field/);
  });
});
