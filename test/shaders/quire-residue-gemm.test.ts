// The generated text of the sliced quire's integer GEMM: the subgroup-matrix variant cannot be
// compiled on an adapter without the feature, so its structure is checked here (directives, types
// of the configuration, one load per fragment and one multiply-accumulate per fragment pair,
// offsets that no per-invocation value enters, the builtins' form and units); its arithmetic runs
// emulated in test/engine/quire-sliced.test.ts and for real under `posit-gan bench quire --check`.

import { describe, expect, it } from 'vitest';
import { dot4Inner, subgroupMatrixInner } from '../../shaders/quire-plan.ts';
import { residueGemmKernel, residueGemmKey, residueGemmSharedBytes, residueGemmTile, type SubgroupMatrixInner } from '../../shaders/quire-residue-gemm.ts';
import { SUBGROUP_MATRIX_CONVENTIONS, type SubgroupMatrixConventions } from '../../shaders/subgroup-matrix.ts';

const M16 = { componentType: 'i8', resultComponentType: 'i32', M: 16, N: 16, K: 32 };
const TEMPLATE_WORDS: SubgroupMatrixConventions = { dialect: 'template', offsetUnit: 'word', strideUnit: 'word' };

/** The argument lists of every call of `name` (top-level commas split). */
function calls(code: string, name: string): { templ: string; args: string[] }[] {
  const out: { templ: string; args: string[] }[] = [];
  let at = code.indexOf(name);
  while (at >= 0) {
    let i = at + name.length;
    let templ = '';
    if (code[i] === '<') {
      const close = code.indexOf('>(', i);
      templ = code.slice(i + 1, close);
      i = close + 1;
    }
    let depth = 0;
    let cur = '';
    const args: string[] = [];
    for (i = i + 1; ; i++) {
      const ch = code[i]!;
      if (ch === '(') depth++;
      if (ch === ')' && depth-- === 0) break;
      if (ch === ',' && depth === 0) {
        args.push(cur.trim());
        cur = '';
      } else cur += ch;
    }
    args.push(cur.trim());
    out.push({ templ, args });
    at = code.indexOf(name, i);
  }
  return out;
}

describe('subgroup-matrix residue GEMM text', () => {
  const inner = subgroupMatrixInner(M16, 32, TEMPLATE_WORDS, 'workgroup', 16384);

  it('is the 128 x 128 tile of 2 x 2 subgroups with 4 x 4 fragments of 16 x 16, 64-byte slices in 16 KiB', () => {
    expect(inner).toMatchObject({ sgRows: 2, sgCols: 2, fragRows: 4, fragCols: 4, sliceBytes: 64 });
    expect(residueGemmTile(inner)).toEqual({ bm: 128, bn: 128 });
    expect(residueGemmSharedBytes(inner)).toBe(16384);
    // Less workgroup memory: thinner slices; too little: an error naming the need.
    expect(subgroupMatrixInner(M16, 32, TEMPLATE_WORDS, 'workgroup', 8192).sliceBytes).toBe(32);
    expect(() => subgroupMatrixInner(M16, 32, TEMPLATE_WORDS, 'workgroup', 4096)).toThrow(/needs 8192 bytes of workgroup memory; this device has 4096/);
  });

  it('starts with the enables, declares the configuration and a workgroup of whole subgroups', () => {
    const code = residueGemmKernel(inner).code;
    expect(code.trimStart().startsWith('enable subgroups;\nenable chromium_experimental_subgroup_matrix;\n')).toBe(true);
    expect(code).toContain('alias LeftT = subgroup_matrix_left<i8, 32, 16>;');
    expect(code).toContain('alias RightT = subgroup_matrix_right<i8, 16, 32>;');
    expect(code).toContain('alias ResultT = subgroup_matrix_result<i32, 16, 16>;');
    expect(code).toContain('@compute @workgroup_size(128)');
    expect(code).toContain('@builtin(subgroup_id) sg: u32');
    expect(code).toContain('var<workgroup> sh_a: array<i32, 2048>;');
  });

  for (const cv of SUBGROUP_MATRIX_CONVENTIONS) {
    for (const staging of ['workgroup', 'storage'] as const) {
      it(`${staging} staging, ${cv.dialect} form, ${cv.offsetUnit} offsets, ${cv.strideUnit} strides: loads, products and stores`, () => {
        const i: SubgroupMatrixInner = subgroupMatrixInner(M16, 32, cv, staging, 16384);
        const code = residueGemmKernel(i).code;
        const loads = calls(code, 'subgroupMatrixLoad');
        const mmas = calls(code, 'subgroupMatrixMultiplyAccumulate');
        const stores = calls(code, 'subgroupMatrixStore');
        expect(loads).toHaveLength(i.fragRows + i.fragCols);
        expect(mmas).toHaveLength(i.fragRows * i.fragCols);
        expect(stores).toHaveLength(i.fragRows * i.fragCols);
        for (const l of loads) {
          const left = l.templ.startsWith('LeftT');
          if (cv.dialect === 'template') {
            expect(l.templ).toBe(left ? 'LeftT, row_major' : 'RightT, col_major');
            expect(l.args).toHaveLength(3);
          } else {
            expect(l.templ).toBe(left ? 'LeftT' : 'RightT');
            expect(l.args).toHaveLength(4);
            expect(l.args[2]).toBe(left ? 'false' : 'true');
          }
          expect(l.args[0]).toBe(staging === 'workgroup' ? (left ? '&sh_a' : '&sh_b') : left ? '&buf_res_a' : '&buf_res_b');
          const [off, stride] = [l.args[1]!, l.args[l.args.length - 1]!];
          expect(off.endsWith('/ 4u)')).toBe(cv.offsetUnit === 'word');
          expect(stride.endsWith('/ 4u)')).toBe(cv.strideUnit === 'word');
          // Uniform per subgroup: workgroup id, subgroup id, uniforms and loop counters only.
          for (const a of l.args) expect(a).not.toMatch(/\blid\b|local_invocation|\bu\b/);
        }
        for (const s of stores) {
          expect(s.args[0]).toBe('&buf_g');
          expect(s.args.at(-1)).toBe('P.np');
          expect(s.args.join()).not.toMatch(/\blid\b/);
        }
        expect(code.includes('var<workgroup> sh_a')).toBe(staging === 'workgroup');
        expect(residueGemmKey(i)).toContain(cv.dialect);
      });
    }
  }

  it('variants have distinct keys and are memoized', () => {
    const keys = new Set(SUBGROUP_MATRIX_CONVENTIONS.map((cv) => residueGemmKey(subgroupMatrixInner(M16, 32, cv, 'workgroup', 16384))));
    expect(keys.size).toBe(SUBGROUP_MATRIX_CONVENTIONS.length);
    expect(residueGemmKernel(inner)).toBe(residueGemmKernel({ ...inner }));
  });
});

describe('plain residue GEMM text', () => {
  it('one dot4I8Packed per thread output and k word; software and hardware tiles', () => {
    const hw = dot4Inner(false);
    const code = residueGemmKernel(hw).code;
    expect((code.match(/dot4I8Packed\(/g) ?? []).length).toBe(hw.tm * hw.tn);
    expect(code).toContain(`@compute @workgroup_size(${(hw.bm / hw.tm) * (hw.bn / hw.tn)})`);
    expect(code).not.toContain('subgroup');
    expect(residueGemmSharedBytes(hw)).toBeLessThanOrEqual(16384);
    expect(dot4Inner(true)).toMatchObject({ bm: 32, bn: 32 });
  });
});
