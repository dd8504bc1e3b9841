// `posit-gan formats` end to end through bin/posit-gan: tables with the documented extremes, JSON
// output, --help, and exit code 2 with nothing on stdout for a bad spec or option.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/posit-gan', 'formats', ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The `label  text` rows of one format's table. */
function table(stdout: string, name: string): Map<string, string> {
  const block = stdout.split('\n\n').find((b) => b.split('\n')[0] === name);
  if (!block) throw new Error(`no table for ${name} in:\n${stdout}`);
  return new Map(block.trimEnd().split('\n').slice(1).map((l) => /^ {2}(\S+(?: \S+)*?) {2,}(.*)$/.exec(l)!.slice(1, 3) as [string, string]));
}

describe('posit-gan formats', () => {
  it('prints the default list with exact extremes (values from docs/number-formats.md and docs/method.md)', async () => {
    const r = await cli();
    expect(r.code, r.stderr).toBe(0);
    for (const n of ['fp32', 'fp16', 'bf16', 'e4m3', 'e5m2', 'e4m3q', 'e5m2q', 'e3m2', 'e2m3', 'p8e0', 'p8e1', 'p8e2', 'p16e1', 'p16e2', 'p6e1', 'p6e2']) {
      expect(table(r.stdout, n).get('bits')).toBeDefined();
    }
    const p8e2 = table(r.stdout, 'p8e2');
    expect(p8e2.get('maxpos')).toBe('2^24 = 16777216');
    expect(p8e2.get('minpos')).toBe('2^-24 = 5.9604644775390625e-8');
    expect(p8e2.get('NaR')).toMatch(/^0x80 /);
    expect(p8e2.get('dynamic range')).toBe('14.45 decades'); // log10(2^48)
    expect(table(r.stdout, 'p6e1').get('NaR')).toMatch(/^0x20 /);
    expect(table(r.stdout, 'p16e2').get('maxpos')).toBe('2^56 = 72057594037927936');
    const fp16 = table(r.stdout, 'fp16');
    expect(fp16.get('max')).toBe('65504 = 1.9990234375 * 2^15');
    expect(fp16.get('min subnormal')).toBe('2^-24 = 5.9604644775390625e-8');
    expect(fp16.get('digits at 1.0')).toMatch(/^3\.01 .*2\^-10/); // 10 fraction bits: log10(2^10)
    expect(fp16.get('zeros')).toBe('+0 0x0000, -0 0x8000');
    expect(table(r.stdout, 'e4m3').get('max')).toBe('448 = 1.75 * 2^8');
    expect(table(r.stdout, 'e4m3q').get('max')).toBe('240 = 1.875 * 2^7');
    expect(table(r.stdout, 'e4m3q').get('min normal')).toBe('2^-7 = 0.0078125');
    expect(table(r.stdout, 'e5m2q').get('max')).toBe('57344 = 1.75 * 2^15');
    expect(table(r.stdout, 'e5m2q').get('min normal')).toBe('2^-15 = 0.000030517578125');
    expect(table(r.stdout, 'fp32').get('min subnormal')).toBe('2^-149 ≈ 1.401298464324817e-45');
  });

  it('takes specs as arguments, case-insensitively, and prints JSON with --json', async () => {
    const r = await cli('--json', 'P8E2', 'fixed(wl=8,fl=4)');
    expect(r.code, r.stderr).toBe(0);
    const ds = JSON.parse(r.stdout) as { name: string; values: { label: string; value: { value: number; dyadic: string } }[]; digitsAt1: number }[];
    expect(ds.map((d) => d.name)).toEqual(['p8e2', 'fixed(wl=8,fl=4)']);
    expect(ds[0]!.values.map((v) => [v.label, v.value.value, v.value.dyadic])).toEqual([
      ['maxpos', 2 ** 24, '2^24'],
      ['minpos', 2 ** -24, '2^-24'],
    ]);
    expect(ds[1]!.values.map((v) => [v.label, v.value.value])).toEqual([['max', 127 / 16], ['min', -8], ['resolution', 1 / 16]]);
    expect(ds[1]!.digitsAt1).toBeCloseTo(4 * Math.log10(2), 12);
  });

  it('--help documents the spec syntax', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const s of ['Usage: posit-gan formats', 'p<n>e<es>', 'float(e=4,m=3', 'fixed(wl=8,fl=4', 'e4m3q', 'e4m3(sat=0)', '--json']) expect(r.stdout).toContain(s);
  });

  it.each([
    [['p8e9'], /es=9 is outside 0\.\.4/],
    [['p8e2', 'bogus'], /unknown format name/],
    [['--bogus'], /Unknown option/],
  ])('%j exits with 2 and prints nothing on stdout', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});
