// The WGSL template tag (shaders/wgsl.ts): wgsl-preprocessor's #if/#elif/#else/#endif, with directive
// lines removed whole, boolean conditions only, and errors that name the offending line.

import { describe, expect, it } from 'vitest';
import { f32, i32, u32, wgsl } from '../../shaders/wgsl.ts';

describe('wgsl template', () => {
  it('pastes interpolations and removes directive lines whole', () => {
    const on = (a: boolean) => wgsl`let x = ${1};
#if ${a}
  let y = ${'on'};
#else
  let y = off;
#endif
let z = 3;`;
    expect(on(true)).toBe('let x = 1;\n  let y = on;\nlet z = 3;');
    expect(on(false)).toBe('let x = 1;\n  let y = off;\nlet z = 3;');
  });

  it('takes the first true branch of #if / #elif chains, nested to any depth', () => {
    const pick = (a: boolean, b: boolean, c: boolean) => wgsl`
begin
#if ${a}
A
#if ${b}
AB
#elif ${c}
AC
#else
A-
#endif
#elif ${b}
B
#if ${c}
BC
#endif
#else
none
#endif
end
`;
    expect(pick(true, true, true)).toBe('\nbegin\nA\nAB\nend\n');
    expect(pick(true, false, true)).toBe('\nbegin\nA\nAC\nend\n');
    expect(pick(true, false, false)).toBe('\nbegin\nA\nA-\nend\n');
    expect(pick(false, true, true)).toBe('\nbegin\nB\nBC\nend\n');
    expect(pick(false, true, false)).toBe('\nbegin\nB\nend\n');
    expect(pick(false, false, true)).toBe('\nbegin\nnone\nend\n');
  });

  it('ends without a newline when its last line is a directive, as when it is code', () => {
    const t = (a: boolean) => wgsl`x
#if ${a}
y
#endif`;
    expect(t(true)).toBe('x\ny');
    expect(t(false)).toBe('x');
  });

  it('keeps interpolated text as it is (directives in it are not evaluated)', () => {
    expect(wgsl`a ${'#b'} c`).toBe('a #b c');
    expect(wgsl`${true} ${false} ${[1, 2]}`).toBe('true false 1,2');
  });

  it('refuses conditions that are not booleans, and malformed directives', () => {
    expect(() => wgsl`
#if ${'false'}
x
#endif
`).toThrow(/#if needs a boolean condition, got string 'false'/);
    expect(() => wgsl`
#if ${true} trailing
#endif
`).toThrow(/text after an #if/);
    expect(() => wgsl`
  #if ${true}
  #endif
`).toThrow(/column 0/);
    expect(() => wgsl`
#endif // done
`).toThrow(/text after #endif/);
    expect(() => wgsl`
#if ${true}
x
`).toThrow(/Mismatched/);
    expect(() => wgsl`
x
#endif
`).toThrow(/#endif not preceeded by an #if/);
  });

  it('literal helpers round-trip their values', () => {
    expect(i32(-5)).toBe('i32(-5)');
    expect(i32(7)).toBe('7i');
    expect(u32(0xffffffff)).toBe('4294967295u');
    expect(f32(0.5)).toBe('bitcast<f32>(1056964608u)');
    expect(() => u32(-1)).toThrow(/not a u32/);
    expect(() => f32(0.1)).toThrow(/not exactly representable/);
  });
});
