// `posit-gan quantize` end to end, through bin/posit-gan: both backends agree line for line with each
// other, with the independent posit oracle (test/formats/oracle.ts) on every value, midpoint and
// float32 neighbour of the seven golden posit formats plus subnormal, infinite and NaN patterns, and
// with the golden decode tables for --values; --bias, stochastic reproducibility, and the error paths.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decode, encodeF32Bits } from '../../formats/codec.ts';
import { parseFormat, type Format, type PositFormat } from '../../formats/descriptor.ts';
import { random } from '../../formats/rng.ts';
import { positEncode } from '../formats/oracle.ts';
import { f32Bits, gridInputs, randomU32, specialInputs } from '../gpu/codec-inputs.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../fixtures/posit-golden/', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], input: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['bin/posit-gan', 'quantize', ...args], { cwd: ROOT });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    // The command may exit (bad usage) before reading its input.
    p.stdin.on('error', () => undefined);
    p.stdin.end(input);
  });
}

const hex8 = (b: number) => (b >>> 0).toString(16).padStart(8, '0');
const lines = (bits: ArrayLike<number>) => Array.from(bits, hex8).join('\n') + '\n';
const f32Value = (b: number) => new Float32Array(new Uint32Array([b]).buffer)[0]!;

/** Runs both backends with the same arguments; expects success and identical output. */
async function bothBackends(args: string[], input: string): Promise<string[]> {
  const [gpu, cpu] = await Promise.all([cli([...args, '--backend', 'gpu'], input), cli([...args, '--backend', 'cpu'], input)]);
  expect(gpu.code, gpu.stderr).toBe(0);
  expect(cpu.code, cpu.stderr).toBe(0);
  const g = gpu.stdout.split('\n');
  const c = cpu.stdout.split('\n');
  expect(g.length).toBe(c.length);
  const differ = g.flatMap((l, i) => (l === c[i] ? [] : [`line ${i + 1}: gpu '${l}' cpu '${c[i]}'`]));
  expect(differ.slice(0, 8), `${differ.length} lines differ`).toEqual([]);
  expect(g.pop()).toBe(''); // the last line ends with a newline, and nothing else follows
  return g;
}

/** The golden table of a posit format: code -> exact value ('NaR' for NaR). */
function golden(name: string): Map<number, string> {
  const rows = readFileSync(`${GOLDEN}decode_${name}.csv`, 'utf8').trim().split('\n').slice(1);
  return new Map(rows.map((r) => [parseInt(r.split(',')[0]!, 16), r.split(',')[1]!]));
}

describe('posit-gan quantize: the seven golden posit formats', () => {
  it.each(['p6e1', 'p6e2', 'p8e0', 'p8e1', 'p8e2', 'p16e1', 'p16e2'])(
    '%s: gpu = cpu = the oracle on every value, midpoint, neighbour and special; --values = the golden table',
    async (name) => {
      const f = parseFormat(name) as Format & PositFormat;
      const table = golden(name);
      // Every pattern's value first (each is a float32), then the midpoints and specials.
      const codes = [...table.keys()];
      const valueInputs = codes.map((c) => (table.get(c) === 'NaR' ? 0x7fc00000 : f32Bits(Number(table.get(c)))));
      const inputs = [...valueInputs, ...gridInputs(f), ...specialInputs(), ...randomU32(2000, 1)];
      const out = await bothBackends(['--format', name, '--values'], lines(inputs));
      expect(out.length).toBe(inputs.length);
      const digits = Math.ceil(f.n / 4);
      const bad: string[] = [];
      inputs.forEach((x, i) => {
        const want = positEncode(f, f32Value(x)).toString(16).padStart(digits, '0');
        const [code, value] = out[i]!.split(' ');
        if (code !== want) bad.push(`input ${hex8(x)}: got ${code}, oracle ${want}`);
        if (i < codes.length) {
          const g = table.get(codes[i]!)!;
          if (code !== codes[i]!.toString(16).padStart(digits, '0')) bad.push(`value of ${codes[i]} did not encode to itself`);
          if (g === 'NaR' ? value !== 'NaN' : Number(value) !== Number(g)) bad.push(`code ${code}: value ${value}, golden ${g}`);
        }
      });
      expect(bad.slice(0, 8), `${bad.length} mismatches`).toEqual([]);
    },
  );
});

describe('posit-gan quantize: options', () => {
  const inputs = [...specialInputs().slice(0, 60), ...randomU32(500, 3)];

  it.each(['e4m3q', 'fp16', 'fixed(wl=8,fl=4)', 'p32e2'])('%s with --bias -5 and 3: both backends = the reference', async (name) => {
    const f = parseFormat(name);
    const digits = Math.ceil(f.bits / 4);
    for (const t of [-5, 3]) {
      const out = await bothBackends(['--format', name, `--bias=${t}`, '--values'], lines(inputs));
      const want = inputs.map((x) => {
        const c = encodeF32Bits(f, x, { bias: t });
        const v = decode(f, c, t);
        return `${c.toString(16).padStart(digits, '0')} ${Object.is(v, -0) ? '-0' : String(v)}`;
      });
      expect(out).toEqual(want);
    }
  });

  it('stochastic rounding: line i draws random(seed, i); same seed, same output on both backends', async () => {
    const f = parseFormat('p8e2');
    const args = ['--format', 'p8e2', '--rounding', 'stochastic', '--seed', '4000000000'];
    const first = await bothBackends(args, lines(inputs));
    expect(first).toEqual(inputs.map((x, i) => encodeF32Bits(f, x, { rounding: 'stochastic', random: random(4000000000, i) }).toString(16).padStart(2, '0')));
    expect(await bothBackends(args, lines(inputs))).toEqual(first);
    const other = await bothBackends(['--format', 'p8e2', '--rounding', 'stochastic', '--seed', '1'], lines(inputs));
    expect(other).not.toEqual(first);
  });

  it('empty input gives empty output', async () => {
    expect(await bothBackends(['--format', 'p8e2'], '')).toEqual([]);
  });
});

describe('posit-gan quantize: errors', () => {
  it('an invalid format exits 2 and says what is allowed', async () => {
    const r = await cli(['--format', 'p8e9'], '3f800000\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid number format 'p8e9'.*es=9 is outside 0\.\.4/);
    expect(r.stdout).toBe('');
  });

  it.each(['gpu', 'cpu'])('a malformed line exits 2 naming its number and content (%s), after the lines before it', async (backend) => {
    const r = await cli(['--format', 'p8e2', '--backend', backend], '3f800000\n40000000\n3f80000g\n3f800000\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('input line 3 is "3f80000g"');
    expect(r.stdout).toBe('40\n48\n');
  });

  it.each([
    [['--format', 'p8e2', '--bogus'], /Unknown option '--bogus'/],
    [['--backend', 'cpu'], /--format is required/],
    [['--format', 'p8e2', '--rounding', 'up'], /--rounding must be one of nearest, stochastic/],
    [['--format', 'p8e2', '--bias', '300'], /--bias must be in -256\.\.256/],
    [['--format', 'p8e2', '--seed=-1'], /--seed must be in 0\.\.4294967295/],
    [['--format', 'p8e2', '--backend', 'tpu'], /--backend must be one of gpu, cpu/],
  ])('bad usage %j exits 2', async (args, message) => {
    const r = await cli(args as string[], '3f800000\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stdout).toBe('');
  });
});
