// `posit-gan energy` end to end: spawns bin/posit-gan on a hand-built pair of op-count files.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { close, counts, entry, tableDoc } from './helpers.ts';

const BIN = resolve(import.meta.dirname, '../../bin/posit-gan');
const dir = mkdtempSync(join(tmpdir(), 'hw-energy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'energy', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const fp16 = join(dir, 'fp16.opcounts.json');
const p8 = join(dir, 'p8.opcounts.json');
writeFileSync(
  fp16,
  JSON.stringify(
    counts('fp16-like', [
      { kind: 'mac', a: 'fp16', b: 'fp16', acc: 'fp32', count: 1000, phase: 'forward', layer: 'fc' },
      { kind: 'memory', direction: 'read', role: 'weights', format: 'fp16', bits: 16000, phase: 'forward', layer: 'fc' },
    ], 1, { batch: 8 }),
  ),
);
writeFileSync(
  p8,
  JSON.stringify(
    counts('p8-like', [
      { kind: 'mac', a: 'p8e2', b: 'p8e2', acc: 'fp32', count: 1000, phase: 'forward', layer: 'fc' },
      { kind: 'memory', direction: 'read', role: 'weights', format: 'p8e2', bits: 8000, phase: 'forward', layer: 'fc' },
    ], 1, { batch: 8 }),
  ),
);

// Hand-computed at 45 nm (pJ): MAC compute + RF operand reads + DRAM (LPDDR4 8 pJ/bit) + SRAM (2 x 0.3125 pJ/bit).
const RF = 0.0520833;
const FP16 = 1000 * (1.1 + 0.9 + 32 * 0.009) + 1000 * 32 * RF + 16000 * 8 + 16000 * 2 * 0.3125; // 141954.6656
const p8Energy = (kappa: number) => 1000 * (kappa * 0.35024 + 0.9 + 32 * 0.009) + 1000 * 16 * RF + 8000 * 8 + 8000 * 2 * 0.3125;
const COMPUTE_S = 1000 / 256 / 1e9;
const TIME_RATIO = (COMPUTE_S + 2000 / 25.6e9) / (COMPUTE_S + 1000 / 25.6e9); // 1.90909...

describe('posit-gan energy', () => {
  it('compares two runs normalised to one and writes text, JSON and SVG', () => {
    const out = join(dir, 'out');
    const r = cli(fp16, p8, '--normalize-to', 'p8-like', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/== Comparison, 45 nm @ 0.9 V, kappa 1.3, DRAM LPDDR4; per step, normalised to p8-like/);
    expect(r.out).toMatch(new RegExp(`fp16-like\\s+142\\.0 nJ\\s+${(FP16 / p8Energy(1.3)).toFixed(3)}x`));
    expect(r.out).toMatch(/== fp16-like: test, 1 step\(s\), batch 8/);
    expect(r.out).toMatch(/dram\s+memory\s+128\.0 nJ/);
    expect(r.out).toMatch(/float_unit\{e=4,m=3\}\.mul: 0\.35024 pJ\/op, x1 \(at 45 nm @ 0\.9 V\); derived/);
    expect(readdirSync(out).sort()).toEqual(['energy.json', 'energy.svg', 'energy.txt']);

    const report = JSON.parse(readFileSync(join(out, 'energy.json'), 'utf8'));
    expect(report.schema).toBe('posit-gan/energy-report');
    const [a, b] = report.points[0].comparison.rows;
    expect(a.label).toBe('fp16-like');
    expect(close(a.energyPerStep_pJ, FP16, 1e-9)).toBe(true);
    expect(close(b.energyPerStep_pJ, p8Energy(1.3), 1e-9)).toBe(true);
    expect(close(a.energyRatio, FP16 / p8Energy(1.3), 1e-9)).toBe(true);
    expect(b.energyRatio).toBe(1);
    expect(close(a.timeRatio, TIME_RATIO, 1e-9)).toBe(true);
    expect(report.points[0].estimates[0].energy.terms.length).toBe(7); // multiply, accumulate, register write, RF reads, DRAM, SRAM write, SRAM read

    const svg = readFileSync(join(out, 'energy.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('fp16-like');
    expect(svg).toContain(`${(FP16 / p8Energy(1.3)).toFixed(2)}x energy`);
    expect(svg.match(/<rect /g)!.length).toBeGreaterThan(8);
  });

  it('sweeps kappa and prints JSON', () => {
    const r = cli(fp16, p8, '--normalize-to', 'p8-like', '--sweep-kappa', '1.0,1.6', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.points.map((p: { heading: string }) => p.heading)).toEqual(['45 nm @ 0.9 V, kappa 1, DRAM LPDDR4', '45 nm @ 0.9 V, kappa 1.6, DRAM LPDDR4']);
    for (const [i, kappa] of [1.0, 1.6].entries()) {
      const rows = report.points[i].comparison.rows;
      expect(close(rows[1].energyPerStep_pJ, p8Energy(kappa), 1e-9)).toBe(true);
      expect(close(rows[0].energyRatio, FP16 / p8Energy(kappa), 1e-9)).toBe(true);
    }
  });

  it('applies a user table and reports the override', () => {
    const user = join(dir, 'user-table.json');
    writeFileSync(user, JSON.stringify(tableDoc([entry({ component: 'dram', attributes: { type: 'LPDDR4' }, action: 'read', per: 'bit', energy_pJ: 4, node_scaling: false, provenance: { citation: 'test', kind: 'library' } })])));
    const r = cli(fp16, p8, '--tables', user, '--normalize-to', p8, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    const rows = report.points[0].comparison.rows;
    expect(close(rows[0].energyPerStep_pJ, FP16 - 16000 * 4, 1e-9)).toBe(true);
    expect(report.points[0].estimates[0].overrides[0]).toMatchObject({ id: 'dram{type=LPDDR4}.read', by: `user (${user})` });
  });

  it('exits 2 on usage errors and 1 on bad input, with clear messages', () => {
    const node = cli(fp16, '--node', '90');
    expect(node.code).toBe(2);
    expect(node.err).toMatch(/unknown node '90': the tables define 45, 65, 28, 7/);
    expect(cli(fp16, '--normalize-to', 'nope').err).toMatch(/--normalize-to 'nope' names no run \(runs: fp16-like\)/);
    expect(cli().code).toBe(2);
    expect(cli(fp16, '--kappa', 'x').code).toBe(2);
    const missing = cli(join(dir, 'absent.json'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read op-count file '.*absent\.json': ENOENT/);
    const v2 = join(dir, 'v2.json');
    writeFileSync(v2, JSON.stringify({ ...counts('x', []), version: 2 }));
    const bad = cli(v2);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/v2\.json: version must be 1: this posit-gan reads op-count files of version 1, got 2/);
    expect(existsSync(join(dir, 'out2'))).toBe(false);
  });
});
