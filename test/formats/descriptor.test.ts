// The format spec syntax: named formats and their fields (as docs/number-formats.md states them),
// case-insensitivity, canonical names that parse back to the same format, and clear errors.

import { describe, expect, it } from 'vitest';
import { codesPerWord, containerBits, FormatSpecError, parseFormat } from '../../formats/descriptor.ts';

describe('valid specs', () => {
  it('posits', () => {
    expect(parseFormat('p8e2')).toMatchObject({ family: 'posit', n: 8, es: 2, bits: 8, name: 'p8e2' });
    expect(parseFormat('posit(n=16,es=1)')).toMatchObject({ family: 'posit', n: 16, es: 1, name: 'p16e1' });
    expect(parseFormat('p2e0').bits).toBe(2);
    expect(parseFormat('p32e4').bits).toBe(32);
  });
  it('named floats carry the documented fields', () => {
    const ieee = { subnormals: true, inf: true, nan: true, saturate: false, ties: 'even', underflow: 'nearest' };
    expect(parseFormat('fp32')).toMatchObject({ e: 8, m: 23, bias: 127, bits: 32, ...ieee });
    expect(parseFormat('fp16')).toMatchObject({ e: 5, m: 10, bias: 15, bits: 16, ...ieee });
    expect(parseFormat('bf16')).toMatchObject({ e: 8, m: 7, bias: 127, bits: 16, ...ieee });
    expect(parseFormat('e4m3')).toMatchObject({ e: 4, m: 3, bias: 7, subnormals: true, inf: false, nan: true, saturate: true });
    expect(parseFormat('e5m2')).toMatchObject({ e: 5, m: 2, bias: 15, subnormals: true, inf: true, nan: true, saturate: true });
    for (const [s, e, m] of [['e3m2', 3, 2], ['e2m3', 2, 3], ['e2m1', 2, 1]] as const) {
      expect(parseFormat(s)).toMatchObject({ e, m, subnormals: true, inf: false, nan: false, saturate: true });
    }
    const q = { subnormals: false, inf: false, nan: false, saturate: true, ties: 'away', underflow: 'qtorch' };
    expect(parseFormat('e4m3q')).toMatchObject({ e: 4, m: 3, bias: 8, ...q });
    expect(parseFormat('e5m2q')).toMatchObject({ e: 5, m: 2, bias: 16, ...q });
  });
  it('generic floats, overrides and fixed point', () => {
    expect(parseFormat('e3m4')).toMatchObject({ e: 3, m: 4, bias: 3, inf: true, name: 'e3m4' });
    expect(parseFormat('e4m3(sat=0)')).toMatchObject({ e: 4, m: 3, inf: false, nan: true, saturate: false });
    expect(parseFormat('float(e=4,m=3,subnormals=0,inf=0,nan=0,sat=1,ties=away)')).toMatchObject({ bias: 7, ties: 'away', underflow: 'nearest' });
    expect(parseFormat('fixed(wl=8,fl=4)')).toMatchObject({ family: 'fixed', wl: 8, fl: 4, saturate: true, ties: 'even', bits: 8 });
    expect(parseFormat('fixed(wl=16,fl=-3,sat=0,ties=away)')).toMatchObject({ fl: -3, saturate: false, ties: 'away' });
  });
  it('is case-insensitive, ignores spaces and knows the aliases', () => {
    expect(parseFormat('P8E2')).toEqual(parseFormat('p8e2'));
    expect(parseFormat(' E4M3 ( SAT = 0 ) ')).toEqual(parseFormat('e4m3(sat=0)'));
    expect(parseFormat('Float(E=4, M=3, Ties=Away)')).toEqual(parseFormat('float(e=4,m=3,ties=away)'));
    expect(parseFormat('half')).toEqual(parseFormat('fp16'));
    expect(parseFormat('float32')).toEqual(parseFormat('fp32'));
    expect(parseFormat('BFloat16')).toEqual(parseFormat('bf16'));
  });
  it('canonical names parse back to the same format', () => {
    const specs = [
      'p8e2', 'posit(n=6,es=1)', 'fp32', 'fp16', 'bf16', 'e4m3', 'e5m2', 'e3m2', 'e2m3', 'e2m1', 'e4m3q', 'e5m2q', 'e3m4',
      'e4m3(sat=0)', 'e5m2(sat=0)', 'e4m3q(ties=even)', 'fp16(subnormals=0)',
      'float(e=4,m=3)', // IEEE-like e4m3: not OCP's e4m3, so its canonical name must not be 'e4m3'
      'float(e=5,m=2)', 'float(e=3,m=2)', 'float(e=8,m=23,bias=100)', 'fixed(wl=8,fl=4)', 'fixed(wl=32,fl=-8,sat=0,ties=away)',
    ];
    for (const s of specs) {
      const f = parseFormat(s);
      expect(parseFormat(f.name), `${s} -> ${f.name}`).toEqual(f);
    }
    expect(parseFormat('float(e=4,m=3)').name).not.toBe('e4m3');
  });
  it('storage containers: 8 bits for 2-8, 16 for 9-16, 32 above', () => {
    const c = (s: string): [number, number] => [containerBits(parseFormat(s)), codesPerWord(parseFormat(s))];
    expect([c('p2e0'), c('p6e1'), c('e4m3'), c('p9e0'), c('fp16'), c('p17e1'), c('fp32')]).toEqual([
      [8, 4], [8, 4], [8, 4], [16, 2], [16, 2], [32, 1], [32, 1],
    ]);
  });
});

describe('invalid specs throw FormatSpecError naming the problem and what is allowed', () => {
  const cases: [string, RegExp][] = [
    ['p8e9', /es=9 is outside 0..4/],
    ['p1e0', /n=1 is outside 2..32/],
    ['p40e2', /n=40 is outside 2..32/],
    ['e0m3', /e=0 are outside 1..8/],
    ['e4m24', /m=24 are outside 0..23/],
    ['fp8', /ambiguous: say e4m3/],
    ['p8', /needs its exponent size/],
    ['posit8', /needs its exponent size/],
    ['int8', /unknown format name/],
    ['', /empty format name/],
    ['float(e=4,m=3,foo=1)', /unknown key\(s\) for float: foo/],
    ['float(e=4)', /needs e= and m=/],
    ['fixed(wl=8)', /needs wl= and fl=/],
    ['fixed(wl=1,fl=0)', /wl=1 is outside 2..32/],
    ['p8e2(n=3)', /unknown key\(s\) for posit: n/],
    ['e4m3(sat=2)', /sat=2 must be 0 or 1/],
    ['float(e=4,m=3,ties=up)', /ties=up must be one of even, away/],
    ['float(e=4,m=3,bias=x)', /bias=x is not an integer/],
    ['float(e=4,m=3,inf=1,nan=0)', /inf=1 needs nan=1/],
    ['e1m2', /inf=1 needs e >= 2/],
    ['float(e=4,m=3,subnormals=1,underflow=qtorch)', /underflow=qtorch applies to formats without subnormals/],
    ['float(e=4,m=3,inf=0,nan=0,sat=0)', /must saturate/],
    ['p8e2,p16e1', /expected NAME or NAME\(key=value/],
  ];
  it.each(cases)('%j', (spec, problem) => {
    let err: unknown;
    try {
      parseFormat(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatSpecError);
    const msg = (err as Error).message;
    expect(msg).toMatch(problem);
    expect(msg).toContain(`invalid number format '${spec}'`);
    expect(msg).toContain('Allowed formats:');
    expect(msg).toMatch(/p<n>e<es> \(n in 2\.\.32, es in 0\.\.4\)/);
  });
});
