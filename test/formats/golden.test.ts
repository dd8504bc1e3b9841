// The reference codec against the posit golden tables (test/fixtures/posit-golden, vendored in the
// repository; produced by an independent C implementation, see its README): decode of every pattern,
// and exhaustive add / multiply computed as decode -> exact arithmetic -> encode.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../formats/codec.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import { hex, mismatches } from './cases.ts';
import { add, fromDouble, mul, positDecode, positEncode, toDouble } from './oracle.ts';

const DIR = fileURLToPath(new URL('../fixtures/posit-golden/', import.meta.url));

function read(name: string): string {
  const path = DIR + name;
  if (!existsSync(path)) throw new Error(`golden table ${path} is missing: the tables are part of the repository (test/fixtures/posit-golden); restore them with \`git checkout -- test/fixtures/posit-golden\``);
  return readFileSync(path, 'utf8');
}

const ALL = ['p6e1', 'p6e2', 'p8e0', 'p8e1', 'p8e2', 'p16e1', 'p16e2'];

describe('decode equals decode_<fmt>.csv', () => {
  it.each(ALL)('%s', (name) => {
    const f = parseFormat(name);
    if (f.family !== 'posit') throw new Error('not a posit');
    const rows = read(`decode_${name}.csv`).trim().split('\n').slice(1);
    expect(rows.length).toBe(2 ** f.bits);
    const bad = mismatches(rows, (row) => {
      const [bits, text] = row.split(',') as [string, string];
      const code = parseInt(bits, 16);
      const got = decode(f, code);
      const oracle = positDecode(f.n, f.es, code);
      if (text === 'NaR') return Number.isNaN(got) && oracle === 'NaR' ? undefined : `${bits}: ${got}, expected NaR`;
      const want = Number(text);
      return Object.is(got, want) && oracle !== 'NaR' && toDouble(oracle) === want ? undefined : `${bits}: ${got}, expected ${text}`;
    });
    expect(bad).toEqual([]);
  });
});

describe('add / mul via decode -> exact arithmetic -> encode equal add_<fmt>.hex / mul_<fmt>.hex', () => {
  const cases = ['p6e1', 'p6e2', 'p8e0', 'p8e1', 'p8e2'].flatMap((n) => [
    [n, 'add'],
    [n, 'mul'],
  ]);
  it.each(cases)('%s %s, every pair', (name, op) => {
    const f = parseFormat(name);
    if (f.family !== 'posit') throw new Error('not a posit');
    const n = f.bits;
    const width = Math.ceil(n / 4);
    const nar = 2 ** (n - 1);
    const lines = read(`${op}_${name}.hex`).trim().split('\n');
    expect(lines.length).toBe(2 ** n);
    const pairs = function* () {
      for (let a = 0; a < 2 ** n; a++) for (let b = 0; b < 2 ** n; b++) yield [a, b] as const;
    };
    const bad = mismatches(pairs(), ([a, b]) => {
      const want = parseInt(lines[a]!.slice(b * width, (b + 1) * width), 16);
      let got: number;
      let oracle: number;
      if (a === nar || b === nar) {
        got = oracle = nar;
      } else {
        const [x, y] = [fromDouble(decode(f, a)), fromDouble(decode(f, b))];
        const exact = toDouble(op === 'add' ? add(x, y) : mul(x, y)); // throws if not exact in float64
        got = encode(f, exact);
        oracle = positEncode(f, exact);
      }
      return got === want && oracle === want ? undefined : `${hex(a)} ${op} ${hex(b)}: codec ${hex(got)}, oracle ${hex(oracle)}, table ${hex(want)}`;
    });
    expect(bad).toEqual([]);
  });
});
