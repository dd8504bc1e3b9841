import { describe, expect, it } from 'vitest';
import { CostModel, CountsError } from '../../hw-model/components.ts';
import { defaultTables, library } from '../../hw-model/default-tables.ts';
import { parseHwFormat } from '../../hw-model/formats.ts';
import { resolveParams, type ParamOverrides } from '../../hw-model/params.ts';
import { Library, MissingEntryError, parseTable } from '../../hw-model/table.ts';
import { close, entry, tableDoc } from './helpers.ts';

const lib = library();
const model = (o: ParamOverrides = {}, l = lib) => new CostModel(l, resolveParams(l, o));
const f = parseHwFormat;

// 45 nm table values used below (Horowitz 2014 and the derived table):
const E4M3_MUL = 0.00449 * 16 + 0.0348 * 8; // 0.35024
const E4M3_ADD = 0.4 * (8 / 16) ** 1.17; // 0.177769
const REG_BIT = 0.009;
const SHIFT_BIT = 0.1 / 32;
const RF_BIT = 20 / 64 / 6;

describe('format names', () => {
  it('reads the widths of canonical names', () => {
    expect(f('fp16')).toMatchObject({ family: 'float', e: 5, m: 10, bits: 16 });
    expect(f('e4m3q')).toMatchObject({ family: 'float', e: 4, m: 3, bits: 8 });
    expect(f('e5m2(sat=0)')).toMatchObject({ family: 'float', e: 5, m: 2 });
    expect(f('float(e=3,m=4,bias=3,subnormals=1)')).toMatchObject({ family: 'float', e: 3, m: 4, bits: 8 });
    expect(f('p8e2')).toMatchObject({ family: 'posit', n: 8, es: 2, bits: 8 });
    expect(f('posit(n=6,es=1)')).toMatchObject({ family: 'posit', n: 6, es: 1 });
    expect(f('fixed(wl=8,fl=4)')).toMatchObject({ family: 'fixed', wl: 8, bits: 8 });
    expect(() => f('int4')).toThrow(/format 'int4' is unknown to the hardware model/);
  });
});

describe('compound components (45 nm, hand-computed)', () => {
  it('posit units cost kappa x the float unit of the same width', () => {
    const m = model();
    expect(close(m.unit(f('p8e2'), 'mul', '').energy_pJ, 1.3 * E4M3_MUL, 1e-5)).toBe(true); // 0.4553
    expect(close(m.unit(f('p16e1'), 'add', '').energy_pJ, 1.3 * 0.4)).toBe(true); // 0.52
    expect(close(m.unit(f('p16e1'), 'mul', '').energy_pJ, 1.3 * 1.1)).toBe(true); // 1.43, the P16 mul of docs/energy-sources.md section 7
    expect(close(m.unit(f('p32e2'), 'mul', '').energy_pJ, 1.3 * 3.7)).toBe(true);
    expect(close(model({ kappa: 1.6 }).unit(f('p8e2'), 'mul', '').energy_pJ, 1.6 * E4M3_MUL, 1e-5)).toBe(true);
    // area scales the same way where the float unit has one
    expect(close(m.unit(f('p16e2'), 'mul', '').area_um2!, 1.3 * 1640)).toBe(true);
    expect(m.unit(f('p8e2'), 'mul', '').area_um2).toBeNull();
    expect(m.unit(f('p8e2'), 'mul', '').areaMissing).toEqual(['float_unit{e=4,m=3}.mul']);
  });

  it('P6 comes from P8: x (6/8)^2 for mul, x 6/8 for add; its other ops from e3m2', () => {
    const m = model();
    expect(close(m.unit(f('p6e1'), 'mul', '').energy_pJ, 1.3 * (6 / 8) ** 2 * E4M3_MUL, 1e-5)).toBe(true);
    expect(close(m.unit(f('p6e1'), 'add', '').energy_pJ, 1.3 * (6 / 8) * E4M3_ADD, 1e-5)).toBe(true);
    // e3m2 div (derived-ops-45nm.json): no Newton iteration at 3 significant bits, 2 mul + 1 add
    const e3m2 = { mul: 0.00449 * 9 + 0.0348 * 6, add: 0.4 * (6 / 16) ** 1.17 };
    expect(close(m.unit(f('p6e1'), 'div', '').energy_pJ, 1.3 * (2 * e3m2.mul + e3m2.add), 1e-5)).toBe(true);
    expect(() => m.unit(f('p6e1'), 'exp', '')).toThrow(MissingEntryError);
  });

  it('a posit_unit entry in a user table beats the kappa rule', () => {
    const user = parseTable(tableDoc([entry({ component: 'posit_unit', attributes: { n: 8 }, action: 'mul', energy_pJ: 0.3 })]), 'user.json');
    const l = new Library([...defaultTables(), user]);
    expect(model({}, l).unit(f('p8e2'), 'mul', '').energy_pJ).toBe(0.3);
  });

  it('fixed point uses int units; int adds of other widths take the next wider entry or scale linearly', () => {
    const m = model();
    expect(m.unit(f('fixed(wl=8,fl=4)'), 'mul', '').energy_pJ).toBe(0.2);
    expect(m.unit(f('fixed(wl=16,fl=8)'), 'add', '').energy_pJ).toBe(0.05);
    expect(m.intAdd(12, '').energy_pJ).toBe(0.05); // int16 entry
    expect(m.intAdd(6, '').energy_pJ).toBe(0.03); // int8 entry
    expect(close(m.intAdd(128, '').energy_pJ, 0.4)).toBe(true); // 128/32 x 0.1
    expect(() => m.unit(f('fixed(wl=16,fl=8)'), 'mul', '')).toThrow(/'int_unit' with attributes \{width=16\} and action 'mul'/);
  });

  it('MAC = multiply + accumulate + accumulator register write', () => {
    const m = model();
    const fp16 = m.mac(f('fp16'), f('fp16'), f('fp32'), '');
    expect(fp16.multiply.energy_pJ).toBe(1.1);
    expect(fp16.accumulate.energy_pJ).toBe(0.9);
    expect(close(fp16.registerWrite.energy_pJ, 32 * REG_BIT)).toBe(true); // 0.288
    expect(close(fp16.multiply.area_um2! + fp16.accumulate.area_um2! + fp16.registerWrite.area_um2!, 1640 + 4184 + 32 * 5.98)).toBe(true);

    const p8 = m.mac(f('p8e2'), f('p8e2'), 'quire', '');
    expect(p8.accumulatorBits).toBe(128); // 16 n
    expect(close(p8.multiply.energy_pJ, 1.3 * E4M3_MUL, 1e-5)).toBe(true);
    expect(close(p8.accumulate.energy_pJ, (128 / 32) * 0.1 + 128 * SHIFT_BIT)).toBe(true); // 0.4 + 0.4
    expect(close(p8.registerWrite.energy_pJ, 128 * REG_BIT)).toBe(true); // 1.152
    expect(model({ quireBitsPerPositBit: 8 }).mac(f('p8e2'), f('p8e2'), 'quire', '').accumulatorBits).toBe(64);

    const mixed = m.mac(f('e5m2q'), f('e4m3q'), f('fp32'), '');
    expect(close(mixed.multiply.energy_pJ, E4M3_MUL, 1e-5)).toBe(true); // the dearer of e5m2 (0.319) and e4m3 (0.350)
    expect(() => m.mac(f('fp16'), f('fp16'), 'quire', 'ctx')).toThrow(CountsError);
  });

  it('conversions, quire rounding, activations and comparisons', () => {
    const m = model();
    expect(m.convert(f('fp32'), f('p8e2'), 'nearest', '').energy_pJ).toBe(0.2);
    expect(m.convert(f('fp32'), f('e4m3'), 'nearest', '').energy_pJ).toBe(0.1);
    expect(() => m.convert(f('fp32'), f('e4m3'), 'stochastic', '')).toThrow(/'converter' with attributes \{from=float,rounding=stochastic,to=float\}/);
    expect(close(m.quireRound(128, '').energy_pJ, 2 * 0.4)).toBe(true);
    expect(close(m.activation('tanh', f('p16e0'), true, '').energy_pJ, 3 * 0.05)).toBe(true);
    expect(close(m.activation('sigmoid', f('p8e0'), true, '').energy_pJ, 0.03)).toBe(true);
    expect(close(m.activation('tanh', f('fp16'), false, '').energy_pJ, (3 * 0.05) / 0.087, 1e-5)).toBe(true);
    expect(close(m.activation('tanh', f('p16e2'), false, '').energy_pJ, (1.3 * 3 * 0.05) / 0.087, 1e-5)).toBe(true);
    expect(m.activation('relu', f('fp16'), false, '').energy_pJ).toBe(0.05);
    expect(close(m.activation('leaky_relu', f('fp16'), false, '').energy_pJ, 0.05 + 1.1)).toBe(true);
    expect(() => m.activation('tanh', f('fp16'), true, 'ctx')).toThrow(/fast activation is the posit bit trick/);
    expect(close(m.memoryBit('register_file', 'read', '').energy_pJ, RF_BIT, 1e-5)).toBe(true); // stored to 6 digits
    expect(close(m.memoryBit('sram', 'read', '').energy_pJ, 20 / 64)).toBe(true);
  });

  it('a missing entry is an error naming component, attributes and action', () => {
    const m = model();
    const err = (() => {
      try {
        m.unit(f('float(e=3,m=4)'), 'mul', 'run x records[3]');
      } catch (e) {
        return e;
      }
    })() as MissingEntryError;
    expect(err).toBeInstanceOf(MissingEntryError);
    expect(err.component).toBe('float_unit');
    expect(err.attributes).toEqual({ e: 3, m: 4 });
    expect(err.action).toBe('mul');
    expect(err.message).toMatch(/no energy entry for component 'float_unit' with attributes \{e=3,m=4\} and action 'mul' \(needed for run x records\[3\]\)/);
    expect(err.message).toMatch(/--tables FILE/);
    expect(() => m.unit(f('p12e2'), 'mul', '')).toThrow(/component 'posit_unit' with attributes \{n=12\} and action 'mul'/);
    expect(() => m.unit(f('fp32'), 'exp', '')).toThrow(/'float_unit' with attributes \{e=8,m=23\} and action 'exp'/);
  });
});
