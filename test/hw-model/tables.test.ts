import { describe, expect, it } from 'vitest';
import { defaultTables, library } from '../../hw-model/default-tables.ts';
import { Library, parseTable, TableError } from '../../hw-model/table.ts';
import { entry, tableDoc } from './helpers.ts';

const parse = (doc: unknown) => () => parseTable(doc, 'user.json');

describe('shipped tables', () => {
  const lib = library();

  it('load and hold the published data of docs/energy-sources.md as published', () => {
    expect(lib.lookup('int_unit', { width: 8 }, 'add').energy_pJ).toBe(0.03);
    expect(lib.lookup('int_unit', { width: 32 }, 'mul').energy_pJ).toBe(3.1);
    expect(lib.lookup('float_unit', { e: 5, m: 10 }, 'mul').energy_pJ).toBe(1.1);
    expect(lib.lookup('float_unit', { e: 8, m: 23 }, 'add').area_um2).toBe(4184);
    expect(lib.lookup('sram', { size_kB: 1024 }, 'read').energy_pJ).toBe(100);
    expect(lib.lookup('dram', { type: 'HBM3' }, 'read').energy_pJ).toBe(4.05);
    expect(lib.lookup('dram', { type: 'DDR3' }, 'write').nodeScaling).toBe(false);
    expect(lib.lookup('dram', { type: 'horowitz-2014' }, 'read').energyRange_pJ).toEqual([1300, 2600]);
    expect(lib.constant('kappa').value).toBe(1.3);
    expect(lib.constant('kappa').range).toEqual([1.0, 1.6]);
    expect(lib.constant('quire_bits_per_posit_bit').value).toBe(16);
    expect(lib.points.get('65')).toMatchObject({ energyFactor: 2.49, areaFactor: 1.5, delayFactor: null });
    expect(lib.points.get('28')).toMatchObject({ energyFactor: 0.51, areaFactor: 0.38 });
    expect(lib.points.get('7')).toMatchObject({ energyFactor: 0.057, areaFactor: 0.059 });
  });

  it('mark every Horowitz area as not yet checked against the PDF', () => {
    const horowitz = defaultTables().find((t) => t.name === 'horowitz-2014')!;
    const withArea = horowitz.entries.filter((e) => e.area_um2 !== null);
    expect(withArea.length).toBe(9);
    for (const e of withArea) expect(e.areaNote).toMatch(/not yet checked against the PDF/);
  });

  it('derived float entries equal their stated formulas', () => {
    const derivedFloats = [...lib.entries.values()].filter((e) => e.component === 'float_unit' && e.provenance.kind === 'derived' && (e.action === 'mul' || e.action === 'add'));
    expect(derivedFloats.length).toBe(10);
    for (const e of derivedFloats) {
      const inputs = e.provenance.inputs as Record<string, number>;
      const w = 1 + (e.attributes.e as number) + (e.attributes.m as number);
      expect(inputs.w).toBe(w);
      const expected = e.action === 'mul' ? 0.00449 * inputs.p! ** 2 + 0.0348 * w : 0.4 * (w / 16) ** 1.17;
      if (e.action === 'mul') expect(inputs.p).toBe((e.attributes.m as number) + 1);
      expect(Math.abs(e.energy_pJ - expected) / expected).toBeLessThan(1e-5);
    }
    // docs/energy-sources.md section 7's own examples
    expect(lib.lookup('float_unit', { e: 8, m: 7 }, 'mul').energy_pJ).toBeCloseTo(0.84, 2);
    expect(lib.lookup('float_unit', { e: 4, m: 3 }, 'mul').energy_pJ).toBeCloseTo(0.35, 2);
    expect(lib.lookup('float_unit', { e: 5, m: 2 }, 'mul').energy_pJ).toBeCloseTo(0.32, 2);
    expect(lib.lookup('float_unit', { e: 4, m: 3 }, 'add').energy_pJ).toBeCloseTo(0.18, 2);
  });

  it('derived FP8 multiplier lies inside the published FP8/INT8 range (van Baalen et al.)', () => {
    const r = lib.lookup('float_unit', { e: 4, m: 3 }, 'mul').energy_pJ / lib.lookup('int_unit', { width: 8 }, 'mul').energy_pJ;
    const [lo, hi] = lib.constant('fp8_over_int8_compute_energy').range!;
    expect(r).toBeGreaterThanOrEqual(lo);
    expect(r).toBeLessThanOrEqual(hi);
  });

  it('every shipped entry carries a citation and a known kind, derived ones their formula', () => {
    for (const e of library().entries.values()) {
      expect(e.provenance.citation.length).toBeGreaterThan(0);
      if (e.provenance.kind === 'derived') expect(e.provenance.formula).toBeTruthy();
    }
  });
});

describe('table validation', () => {
  it('accepts a minimal table and converts units to pJ and um^2', () => {
    const t = parseTable(tableDoc([entry({ energy_pJ: undefined, energy_fJ: 500, area_mm2: 0.002 })]), 'user.json');
    expect(t.entries[0]!.energy_pJ).toBeCloseTo(0.5, 12);
    expect(t.entries[0]!.area_um2).toBeCloseTo(2000, 9);
    expect(t.entries[0]!.area_um2).not.toBeNull();
    expect(t.entries[0]!.latency_cycles).toBeNull();
  });

  it('rejects an unknown energy unit, naming file, entry and field', () => {
    expect(parse(tableDoc([entry({ energy_pJ: undefined, energy_mJ: 1 })]))).toThrow(TableError);
    expect(parse(tableDoc([entry({ energy_pJ: undefined, energy_mJ: 1 })]))).toThrow(
      /^user\.json: entries\[0\] \(int_unit\{width=8\}\.add\)\.energy_mJ has an unknown unit 'mJ' \(allowed: energy_fJ, energy_pJ, energy_nJ; the model works in pJ\)$/,
    );
    expect(parse(tableDoc([entry({ area_cm2: 1 })]))).toThrow(/\.area_cm2 has an unknown unit 'cm2'/);
    expect(parse(tableDoc([entry({ latency_ns: 1 })]))).toThrow(/\.latency_ns has an unknown unit 'ns'/);
    expect(parse(tableDoc([entry({ energy_range_mJ: [0, 1] })]))).toThrow(/\.energy_range_mJ has an unknown unit 'mJ' \(allowed: energy_range_fJ/);
  });

  it('rejects a missing energy, two energies, and unknown fields', () => {
    expect(parse(tableDoc([entry({ energy_pJ: undefined })]))).toThrow(/entries\[0\] .*\.energy_pJ is missing: every entry needs an energy/);
    expect(parse(tableDoc([entry({ energy_nJ: 1 })]))).toThrow(/\.energy_nJ is one of 2 energy fields \(energy_pJ, energy_nJ\): give one energy field$/);
    expect(parse(tableDoc([entry({ colour: 'red' })]))).toThrow(/\.colour is not a field of a table entry \(allowed: component, /);
    expect(parse(tableDoc([entry({ energy: 1 })]))).toThrow(/\.energy is not an energy field: write energy_<unit>/);
    expect(parse(tableDoc([entry({ energy_pJ: -1 })]))).toThrow(/\.energy_pJ must be a finite number >= 0, got -1$/);
    expect(parse(tableDoc([entry({ component: undefined })]))).toThrow(/entries\[0\] \(\?\{width=8\}\.add\)\.component is missing/);
    expect(parse(tableDoc([entry({ component: 'Int Unit' })]))).toThrow(/\.component must be lower_snake_case, got "Int Unit"$/);
    expect(parse(tableDoc([entry({ attributes: undefined })]))).toThrow(/\.attributes is missing \(what tells this component apart/);
    expect(parse(tableDoc([entry({ attributes: { width: true } })]))).toThrow(/\.attributes\.width must be a string or a number, got true$/);
    expect(parse(tableDoc([entry({ energy_range_pJ: [0.5, 1] })]))).toThrow(/\.energy_range_pJ must contain the energy \(0\.03 pJ\)/);
  });

  it('rejects bad provenance', () => {
    expect(parse(tableDoc([entry({ provenance: undefined })]))).toThrow(/\.provenance is missing \(every number needs its source: \{citation, kind/);
    expect(parse(tableDoc([entry({ provenance: { kind: 'synthesis', node_nm: 45, voltage_V: 0.9 } })]))).toThrow(/\.provenance\.citation is missing \(where the number comes from\)$/);
    expect(parse(tableDoc([entry({ provenance: { citation: 'x', kind: 'guess', node_nm: 45, voltage_V: 0.9 } })]))).toThrow(
      /\.provenance\.kind must be one of "derived", "measured", "synthesis", "library", got "guess"$/,
    );
    expect(parse(tableDoc([entry({ provenance: { citation: 'x', kind: 'synthesis', voltage_V: 0.9 } })]))).toThrow(/\.provenance\.node_nm is missing: a node-scaled figure needs its node and voltage/);
    expect(parse(tableDoc([entry({ provenance: { citation: 'x', kind: 'derived', node_nm: 45, voltage_V: 0.9 } })]))).toThrow(/\.provenance\.formula is missing/);
    expect(parse(tableDoc([entry({ provenance: { citation: 'x', kind: 'derived', node_nm: 45, voltage_V: 0.9, formula: 'a+b' } })]))).toThrow(/\.provenance\.inputs is missing \(the inputs of the formula/);
    expect(parse(tableDoc([entry({ provenance: { citation: 'x', kind: 'derived', node_nm: 45, voltage_V: 0.9, formula: 'a+b', inputs: {} } })]))).toThrow(/\.provenance\.inputs must list the inputs of the formula/);
    expect(parse(tableDoc([entry({ provenance: { citation: 'x', kind: 'measured', node_nm: 45, voltage_V: 0.9, formula: 'a' } })]))).toThrow(/\.provenance\.formula is only for derived figures/);
    // DRAM-like entries need no node: they are not node-scaled
    expect(parse(tableDoc([entry({ node_scaling: false, provenance: { citation: 'x', kind: 'library' } })]))).not.toThrow();
  });

  it('checks per / bits_per_access, duplicates, schema and version', () => {
    expect(parse(tableDoc([entry({ per: 'vector' })]))).toThrow(/\.per must be one of "op", "bit", "access", got "vector"$/);
    expect(parse(tableDoc([entry({ per: 'access' })]))).toThrow(/\.bits_per_access is missing: per "access" needs the bits one access moves/);
    expect(parse(tableDoc([entry({ bits_per_access: 64 })]))).toThrow(/\.bits_per_access is only for per "access" \(this entry is per "op"\)$/);
    expect(parse(tableDoc([entry(), entry()]))).toThrow(/^user\.json: entries\[1\] \(int_unit\{width=8\}\.add\) repeats entries\[0\]: one entry per \(component, attributes, action\)$/);
    expect(parse(tableDoc([entry()], { schema: 'other' }))).toThrow(/^user\.json: schema must be "posit-gan\/hw-table", got "other"$/);
    expect(parse(tableDoc([entry()], { version: 2 }))).toThrow(/^user\.json: version must be 1: this hw-model reads version 1, got 2$/);
    expect(parse(tableDoc([]))).toThrow(/^user\.json holds no entries, constants or scaling points$/);
    expect(parse(tableDoc([entry()], { colour: 1 }))).toThrow(/^user\.json: colour is not a field of a table file \(allowed: schema, version, name, /);
  });

  it('lets a user table override a shipped entry and lists the override', () => {
    const user = parseTable(tableDoc([entry({ energy_pJ: 0.5 })]), 'user.json');
    const lib = new Library([...defaultTables(), user]);
    expect(lib.lookup('int_unit', { width: 8 }, 'add').energy_pJ).toBe(0.5);
    expect(lib.overrides).toEqual([{ id: 'int_unit{width=8}.add', replaced: 'horowitz-2014 (hw-model/tables/horowitz-2014.json)', by: 'user (user.json)' }]);
  });
});
