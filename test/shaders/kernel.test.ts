// The kernel-family building blocks (shaders/kernel.ts): a parameter table's WGSL struct and its
// packer agree on every offset, values are checked, binding tables emit the declarations in order,
// variants are memoized by key, and 1-D grids split past the per-dimension limit.

import { describe, expect, it } from 'vitest';
import { bindingDecls, bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable } from '../../shaders/kernel.ts';

/** Word offset of each struct member, by WGSL's layout rules for u32/i32/f32 and array<vec4<u32>, n>. */
function wgslOffsets(struct: string): Map<string, number> {
  const out = new Map<string, number>();
  let offset = 0;
  for (const m of struct.matchAll(/^ {2}(\w+): (.+),$/gm)) {
    const [, name, type] = m;
    const arr = /^array<vec4<u32>, (\d+)>$/.exec(type!);
    if (arr) offset = Math.ceil(offset / 4) * 4;
    out.set(name!, offset);
    offset += arr ? 4 * Number(arr[1]) : 1;
  }
  return out;
}

describe('parameter tables', () => {
  const layout = new ParamLayout(
    paramTable([
      ['count', 'u32'],
      ['t', 'i32'],
      ['scale', 'f32'],
      ['shape', 'u32[]', 8],
      ['tail', 'u32'],
      ['none', 'u32[]', 0],
    ]),
  );

  it('declares the struct the packer writes: same fields at the same offsets, padded to 16 bytes', () => {
    expect(layout.struct).toBe(
      [
        'struct Params {',
        '  count: u32,',
        '  t: i32,',
        '  scale: f32,',
        '  _pad0: u32,',
        '  shape: array<vec4<u32>, 2>,',
        '  tail: u32,',
        '  _pad1: u32,',
        '  _pad2: u32,',
        '  _pad3: u32,',
        '};',
        '@group(0) @binding(0) var<uniform> P: Params;',
      ].join('\n'),
    );
    expect(layout.words).toBe(16);
    const words = layout.pack({ count: 7, t: -3, scale: 0.5, shape: [1, 2, 3], tail: 0xffffffff, none: [] }, 'test');
    const at = wgslOffsets(layout.struct);
    expect(words.length).toBe(16);
    expect(words[at.get('count')!]).toBe(7);
    expect(words[at.get('t')!]).toBe(0xfffffffd);
    expect(words[at.get('scale')!]).toBe(0x3f000000);
    expect(Array.from(words.subarray(at.get('shape')!, at.get('shape')! + 8))).toEqual([1, 2, 3, 0, 0, 0, 0, 0]);
    expect(words[at.get('tail')!]).toBe(0xffffffff);
  });

  it('refuses missing fields and values their type cannot hold, naming the kernel and the field', () => {
    const ok = { count: 1, t: 0, scale: 1, shape: [], tail: 0, none: [] };
    expect(() => layout.pack({ ...ok, count: undefined } as unknown as typeof ok, 'k')).toThrow(/k: kernel parameter 'count' is missing/);
    expect(() => layout.pack({ ...ok, count: -1 }, 'k')).toThrow(/count=-1 is not a u32/);
    expect(() => layout.pack({ ...ok, t: 1.5 }, 'k')).toThrow(/t=1.5 is not an i32/);
    expect(() => layout.pack({ ...ok, shape: Array(9).fill(0) }, 'k')).toThrow(/'shape' takes at most 8 values, got 9/);
    expect(() => layout.pack({ ...ok, none: [1] }, 'k')).toThrow(/'none' takes at most 0 values/);
  });

  it('refuses malformed tables', () => {
    expect(() => new ParamLayout(paramTable([['a', 'u32'], ['a', 'f32']]))).toThrow(/appears twice/);
    expect(() => new ParamLayout(paramTable([['a', 'u32[]', 6]]))).toThrow(/multiple of 4/);
    expect(() => new ParamLayout(paramTable([['_a', 'u32']]))).toThrow(/identifiers/);
  });
});

describe('bindings and variants', () => {
  it('declares storage bindings in table order, after the parameter block', () => {
    const b = bindingTable([['src', 'read', 'array<f32>'], ['dst', 'read_write', 'array<u32>']]);
    expect(bindingDecls(b, 1, 'buf_')).toBe(
      '@group(0) @binding(1) var<storage, read> buf_src: array<f32>;\n@group(0) @binding(2) var<storage, read_write> buf_dst: array<u32>;',
    );
    const params = new ParamLayout(paramTable([['n', 'u32']]));
    const v = kernelVariant({ label: 'k', key: 'k', params, bindings: b, source: (h) => `${h}\n// body` });
    expect(v.code).toBe(`${params.struct}\n${bindingDecls(b, 1)}\n// body`);
    const bare = kernelVariant({ label: 'k', key: 'k', params: null, bindings: b, source: (h) => h });
    expect(bare.code).toBe(bindingDecls(b, 0));
  });

  it('memoizes variants by key: the same object for the same key', () => {
    let generated = 0;
    const family = memoByKey(
      (n: number, key) => {
        generated++;
        return { key, n };
      },
      (n) => String(n % 2),
    );
    expect(family(1)).toBe(family(3));
    expect(family(2)).not.toBe(family(1));
    expect(family(1).key).toBe('1');
    expect(generated).toBe(2);
  });
});

describe('grid1d', () => {
  const limits = { maxComputeWorkgroupsPerDimension: 65535 };
  it('keeps small grids on x and splits large ones over y, covering every workgroup', () => {
    expect(grid1d(limits, 0)).toEqual([1, 1, 1]);
    expect(grid1d(limits, 65535)).toEqual([65535, 1, 1]);
    const g = grid1d(limits, 65537);
    expect(g[1]).toBe(2);
    expect(g[0] * g[1]).toBeGreaterThanOrEqual(65537);
    expect(() => grid1d(limits, 65536 * 65535)).toThrow(/exceeds the device's 2-D grid/);
  });
});
