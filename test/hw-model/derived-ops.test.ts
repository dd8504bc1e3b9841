// The derived division, square-root and general activation entries (hw-model/tables/
// derived-ops-45nm.json): every entry equals its stated formula over its stated inputs, the inputs are
// the library's own entries, the iteration counts follow from the formats' precision, the
// approximations' error bounds hold, and posits reach them through kappa. Hand-computed values at
// 45 nm from Horowitz's fp16 / fp32 units and the fits of docs/energy-sources.md section 7.

import { describe, expect, it } from 'vitest';
import { CostModel } from '../../hw-model/components.ts';
import { defaultTables, library } from '../../hw-model/default-tables.ts';
import { parseHwFormat } from '../../hw-model/formats.ts';
import { resolveParams } from '../../hw-model/params.ts';
import { MissingEntryError } from '../../hw-model/table.ts';
import { close } from './helpers.ts';

const lib = library();
const m = new CostModel(lib, resolveParams(lib, {}));
const table = defaultTables().find((t) => t.name === 'derived-ops-45nm')!;
const unit = (e: number, mm: number, action: string) => lib.lookup('float_unit', { e, m: mm }, action).energy_pJ;

describe('derived div, sqrt, tanh and sigmoid entries', () => {
  it('hold the hand-computed values (45 nm)', () => {
    // fp32 (P = 24): S = 3 iterations either way; div 8 mul + 4 add, sqrt 14 mul + 4 add
    expect(close(unit(8, 23, 'div'), 8 * 3.7 + 4 * 0.9)).toBe(true); // 33.2 pJ
    expect(close(unit(8, 23, 'sqrt'), 14 * 3.7 + 4 * 0.9)).toBe(true); // 55.4 pJ
    // fp16 (P = 11): S = 2; div 6 mul + 3 add, sqrt 10 mul + 3 add
    expect(close(unit(5, 10, 'div'), 6 * 1.1 + 3 * 0.4)).toBe(true); // 7.8 pJ
    expect(close(unit(5, 10, 'sqrt'), 10 * 1.1 + 3 * 0.4)).toBe(true); // 12.2 pJ
    // e4m3 (P = 4): S = 1; div 4 mul + 2 add, sqrt 6 mul + 2 add
    const e4m3 = { mul: 0.00449 * 16 + 0.0348 * 8, add: 0.4 * (8 / 16) ** 1.17 };
    expect(close(unit(4, 3, 'div'), 4 * e4m3.mul + 2 * e4m3.add, 1e-5)).toBe(true); // 1.757 pJ
    expect(close(unit(4, 3, 'sqrt'), 6 * e4m3.mul + 2 * e4m3.add, 1e-5)).toBe(true); // 2.457 pJ
    // e5m2 (P = 3): the first approximation alone (4.09 bits) suffices for division
    expect(close(unit(5, 2, 'div'), 2 * (0.00449 * 9 + 0.0348 * 8) + e4m3.add, 1e-5)).toBe(true);
    // tanh of e4m3: the fp16 unit (3 int16 adds / 0.087) x e4m3 mul / fp16 mul
    expect(close(unit(4, 3, 'tanh'), ((3 * 0.05) / 0.087) * (e4m3.mul / 1.1), 1e-5)).toBe(true); // 0.549 pJ
    expect(unit(4, 3, 'sigmoid')).toBe(unit(4, 3, 'tanh'));
  });

  it('every entry is derived, equals its formula over its inputs, and its inputs are the tables own entries', () => {
    expect(table.entries.length).toBe(24);
    for (const e of table.entries) {
      const p = e.provenance;
      expect(p.kind).toBe('derived');
      expect(p.formula).toBeTruthy();
      const i = p.inputs as Record<string, number>;
      const { e: ex, m: mx } = e.attributes as { e: number; m: number };
      if (e.action === 'div' || e.action === 'sqrt') {
        const P = mx + 1;
        const firstBits = e.action === 'div' ? Math.log2(17) : 3.5403;
        const S = Math.max(0, Math.ceil(Math.log2((P + 1) / firstBits)));
        expect(i).toMatchObject({ P, S, muls: e.action === 'div' ? 2 + 2 * S : 2 + 4 * S, adds: 1 + S });
        expect(i.E_mul_pJ).toBe(unit(ex, mx, 'mul'));
        expect(i.E_add_pJ).toBe(unit(ex, mx, 'add'));
        expect(close(e.energy_pJ, i.muls! * i.E_mul_pJ! + i.adds! * i.E_add_pJ!, 1e-5)).toBe(true);
      } else {
        expect(['tanh', 'sigmoid']).toContain(e.action);
        expect(i.E_fp16_tanh_pJ).toBe(unit(5, 10, 'tanh'));
        expect(i.E_fp16_mul_pJ).toBe(unit(5, 10, 'mul'));
        expect(i.E_mul_pJ).toBe(unit(ex, mx, 'mul'));
        expect(close(e.energy_pJ, (i.E_fp16_tanh_pJ! * i.E_mul_pJ!) / i.E_fp16_mul_pJ!, 1e-5)).toBe(true);
      }
    }
  });

  it('rest on first approximations and a tanh approximant whose error bounds hold', () => {
    // Division: X0 = 48/17 - 32/17 D on D in [0.5, 1] is within 1/17 of 1/D (relative).
    // rsqrt: y0 = a + b x on [1, 4] with b = -2 / (6 + (14/3) sqrt(7/3)), a = -7 b equioscillates at
    // x = 1, 7/3, 4 with relative error 0.08595 (3.54 bits).
    const b = -2 / (6 + (14 / 3) * Math.sqrt(7 / 3));
    const a = -7 * b;
    let div = 0;
    let rs = 0;
    let tanh = 0;
    for (let k = 0; k <= 100000; k++) {
      const d = 0.5 + (0.5 * k) / 100000;
      div = Math.max(div, Math.abs((48 / 17 - (32 / 17) * d) * d - 1));
      const x = 1 + (3 * k) / 100000;
      rs = Math.max(rs, Math.abs((a + b * x) * Math.sqrt(x) - 1));
      const t = (8 * (k + 1)) / 100000; // tanh is odd: x in (0, 8], beyond 8 both are 1 to within 2^-22
      const approx = Math.min(1, (t * (15 + t * t)) / (15 + 6 * t * t));
      tanh = Math.max(tanh, Math.abs(approx - Math.tanh(t)) / Math.tanh(t));
    }
    expect(div).toBeLessThanOrEqual(1 / 17 + 1e-12);
    expect(rs).toBeLessThan(0.08596);
    expect(-Math.log2(rs)).toBeGreaterThan(3.5402);
    // the [3/2] Pade approximant, clamped: within 1.95% everywhere, less than half an ulp (>= 2^-5
    // relative) of a format with 3 fraction bits
    expect(tanh).toBeLessThan(0.0195);
    expect(tanh).toBeLessThan(2 ** -5);
  });

  it('posits take kappa x the float unit of the same width; P6 against e3m2', () => {
    const f = parseHwFormat;
    expect(close(m.unit(f('p16e2'), 'div', '').energy_pJ, 1.3 * 7.8)).toBe(true);
    expect(close(m.unit(f('p16e2'), 'sqrt', '').energy_pJ, 1.3 * 12.2)).toBe(true);
    expect(close(m.unit(f('p8e2'), 'sqrt', '').energy_pJ, 1.3 * unit(4, 3, 'sqrt'))).toBe(true);
    expect(close(m.unit(f('p6e1'), 'sqrt', '').energy_pJ, 1.3 * unit(3, 2, 'sqrt'))).toBe(true);
    expect(close(m.activation('tanh', f('p8e1'), false, '').energy_pJ, 1.3 * unit(4, 3, 'tanh'))).toBe(true);
    expect(close(m.activation('sigmoid', f('p6e1'), false, '').energy_pJ, 1.3 * unit(3, 2, 'sigmoid'))).toBe(true);
  });

  it('leave exp and log missing: no source gives them, and a count that needs one is an error', () => {
    expect(() => m.unit(parseHwFormat('fp16'), 'exp', 'ctx')).toThrow(MissingEntryError);
    expect(() => m.unit(parseHwFormat('p16e2'), 'log', 'ctx')).toThrow(/'float_unit' with attributes \{e=5,m=10\} and action 'log'/);
  });
});
