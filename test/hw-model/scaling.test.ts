import { describe, expect, it } from 'vitest';
import { CostModel } from '../../hw-model/components.ts';
import { defaultTables, library } from '../../hw-model/default-tables.ts';
import { resolveParams } from '../../hw-model/params.ts';
import { scaleEntry, targetPoint, UnknownNodeError } from '../../hw-model/scaling.ts';
import { Library, parseTable, TableError } from '../../hw-model/table.ts';
import { close, entry, tableDoc } from './helpers.ts';

const lib = library();
const at = (node: string, l = lib) => new CostModel(l, resolveParams(l, { node }));

describe('technology scaling', () => {
  it('scales 45 nm entries by the Stillmaker & Baas factors (hand-computed)', () => {
    // int8 add: 0.03 pJ, 36 um^2 at 45 nm
    const e65 = at('65').entry('int_unit', { width: 8 }, 'add', '');
    expect(close(e65.energy_pJ, 0.03 * 2.49)).toBe(true); // 0.0747 pJ
    expect(close(e65.area_um2!, 36 * 1.5)).toBe(true); // 54 um^2
    const e7 = at('7').entry('float_unit', { e: 5, m: 10 }, 'mul', '');
    expect(close(e7.energy_pJ, 1.1 * 0.057)).toBe(true); // 0.0627 pJ
    expect(close(e7.area_um2!, 1640 * 0.059)).toBe(true); // 96.76 um^2
    const e28 = at('28').entry('float_unit', { e: 8, m: 23 }, 'add', '');
    expect(close(e28.energy_pJ, 0.9 * 0.51)).toBe(true);
    expect(close(e28.area_um2!, 4184 * 0.38)).toBe(true);
    expect(at('45').entry('int_unit', { width: 32 }, 'mul', '').energy_pJ).toBe(3.1);
  });

  it('never scales DRAM', () => {
    for (const node of ['45', '65', '28', '7']) expect(at(node).entry('dram', { type: 'LPDDR4' }, 'read', '').energy_pJ).toBe(8);
  });

  it('scales an entry given at another node through the base: factor(target) / factor(own node)', () => {
    const user = parseTable(
      tableDoc([entry({ component: 'posit_unit', attributes: { n: 8 }, action: 'mul', energy_pJ: 1.0, area_um2: 100, provenance: { citation: 'x', kind: 'synthesis', node_nm: 65, voltage_V: 1.2 } })]),
      'user.json',
    );
    const l = new Library([...defaultTables(), user]);
    const e = l.lookup('posit_unit', { n: 8 }, 'mul');
    const s = scaleEntry(l, e, targetPoint(l, '28'));
    expect(close(s.energy, 0.51 / 2.49)).toBe(true);
    expect(close(s.area, 0.38 / 1.5)).toBe(true);
    expect(scaleEntry(l, e, targetPoint(l, '65'))).toMatchObject({ energy: 1, area: 1, delay: 1 });
  });

  it('makes a latency not available away from its own node when a delay factor is missing', () => {
    const user = parseTable(tableDoc([entry({ latency_cycles: 2 })]), 'user.json');
    const l = new Library([...defaultTables(), user]);
    expect(at('45', l).entry('int_unit', { width: 8 }, 'add', '').latency_cycles).toBe(2);
    expect(at('65', l).entry('int_unit', { width: 8 }, 'add', '').latency_cycles).toBeNull();
  });

  it('uses a delay factor where one is given', () => {
    const user = parseTable(
      tableDoc([entry({ latency_cycles: 2 })], {
        scaling: {
          base: { name: '45', node_nm: 45, voltage_V: 0.9, label: '45 nm @ 0.9 V' },
          nodes: [{ name: '16', node_nm: 16, voltage_V: 0.8, label: '16 nm', energy_factor: 0.2, area_factor: 0.15, delay_factor: 0.5, provenance: { citation: 'x', kind: 'library' } }],
        },
      }),
      'user.json',
    );
    const l = new Library([...defaultTables(), user]);
    const c = at('16', l).entry('int_unit', { width: 8 }, 'add', '');
    expect(c.latency_cycles).toBe(1);
    expect(close(c.energy_pJ, 0.03 * 0.2)).toBe(true);
  });

  it('rejects an unknown node and an entry at a node no scaling point matches', () => {
    expect(() => targetPoint(lib, '90')).toThrow(UnknownNodeError);
    expect(() => targetPoint(lib, '90')).toThrow(/unknown node '90': the tables define 45, 65, 28, 7/);
    const user = parseTable(tableDoc([entry({ provenance: { citation: 'x', kind: 'synthesis', node_nm: 40, voltage_V: 0.9 } })]), 'user.json');
    const l = new Library([...defaultTables(), user]);
    expect(() => at('65', l).entry('int_unit', { width: 8 }, 'add', '')).toThrow(TableError);
    expect(() => at('65', l).entry('int_unit', { width: 8 }, 'add', '')).toThrow(/int_unit\{width=8\}\.add is at 40 nm @ 0.9 V, which no scaling point matches/);
  });

  it('rejects a user scaling section with another base', () => {
    const user = parseTable(tableDoc([], { scaling: { base: { name: '65', node_nm: 65, voltage_V: 1.2, label: '65' }, nodes: [] } }), 'user.json');
    expect(() => new Library([...defaultTables(), user])).toThrow(/all scaling factors must be relative to one base/);
  });
});
