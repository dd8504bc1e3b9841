// The generated subgroup-matrix kernel, rewritten to plain WGSL that any adapter runs: the matrix
// types become structs holding the whole fragment in every invocation, and the builtins become
// functions with the semantics the chromium_experimental_subgroup_matrix proposal gives them (an
// 8-bit element [r, c] lives at byte offset + stride * r + c row-major, offset + stride * c + r
// column-major; offset and stride in the units the conventions name; results are i32 elements).
// Every invocation computes the fragment redundantly and writes the same values. This checks what
// the generator decides (which rows, columns and k each subgroup loads, staging, offsets and
// strides in either unit, where the results go), not Dawn's implementation of the builtins: that is
// the GPU check's job (`posit-gan bench quire --check`).

import type { SubgroupMatrixConventions } from '../../shaders/subgroup-matrix.ts';

/** Splits the arguments of a call whose '(' is at `open`: [args, index after ')']. */
function callArgs(code: string, open: number): [string[], number] {
  const args: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = open + 1; i < code.length; i++) {
    const ch = code[i]!;
    if (ch === '(' || ch === '<') depth++;
    if ((ch === ')' || ch === '>') && depth > 0) {
      depth--;
      cur += ch;
      continue;
    }
    if (ch === ')' && depth === 0) {
      args.push(cur.trim());
      return [args, i + 1];
    }
    if (ch === ',' && depth === 0) {
      args.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  throw new Error('unbalanced call');
}

/** Rewrites every call of `name` (with optional <template args>) by `f(templateArgs, args)`. */
function rewriteCalls(code: string, name: string, f: (templ: string[], args: string[]) => string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const at = code.indexOf(name, i);
    if (at < 0) return out + code.slice(i);
    out += code.slice(i, at);
    let j = at + name.length;
    let templ: string[] = [];
    if (code[j] === '<') {
      const close = code.indexOf('>(', j);
      templ = code
        .slice(j + 1, close)
        .split(',')
        .map((s) => s.trim());
      j = close + 1;
    }
    if (code[j] !== '(') throw new Error(`${name} without a call at ${at}`);
    const [args, end] = callArgs(code, j);
    out += f(templ, args);
    i = end;
  }
}

/** `code` with its subgroup matrices emulated: fragments of cm x ck (left), ck x cn (right) and
 *  cm x cn (result), the builtins read as the conventions `cv` say. */
export function emulateSubgroupMatrix(code: string, shape: { cm: number; cn: number; ck: number }, cv: SubgroupMatrixConventions): string {
  const { cm, cn, ck } = shape;
  const offMul = cv.offsetUnit === 'word' ? 4 : 1;
  const strideMul = cv.strideUnit === 'word' ? 4 : 1;
  const buffers = new Set<string>();
  const stored = new Set<string>();
  let body = code
    .replace(/^enable chromium_experimental_subgroup_matrix;\n/m, '')
    .replace(/^diagnostic\(off, [\w.]+\);\n/gm, '')
    .replace(/alias LeftT = subgroup_matrix_left<i8, (\d+), (\d+)>;/, (_, k, m) => `struct LeftT { v: array<i32, ${Number(k) * Number(m)}> }`)
    .replace(/alias RightT = subgroup_matrix_right<i8, (\d+), (\d+)>;/, (_, n, k) => `struct RightT { v: array<i32, ${Number(k) * Number(n)}> }`)
    .replace(/alias ResultT = subgroup_matrix_result<i32, (\d+), (\d+)>;/, (_, n, m) => `struct ResultT { v: array<i32, ${Number(n) * Number(m)}> }`);
  const ptr = (p: string) => {
    if (!p.startsWith('&')) throw new Error(`pointer argument expected, got ${p}`);
    return p.slice(1);
  };
  body = rewriteCalls(body, 'subgroupMatrixLoad', (templ, args) => {
    const type = templ[0]!;
    let col: string;
    let off: string;
    let stride: string;
    if (cv.dialect === 'template') {
      if (templ.length !== 2 || args.length !== 3) throw new Error(`template-form load expected: <${templ}>(${args})`);
      col = String(templ[1] === 'col_major');
      [, off, stride] = args as [string, string, string];
    } else {
      if (templ.length !== 1 || args.length !== 4) throw new Error(`argument-form load expected: <${templ}>(${args})`);
      [, off, col, stride] = args as [string, string, string, string];
    }
    const buf = ptr(args[0]!);
    buffers.add(buf);
    return `emu_load_${type}_${buf}(${off}, ${col}, ${stride})`;
  });
  body = rewriteCalls(body, 'subgroupMatrixStore', (templ, args) => {
    let col: string;
    let off: string;
    let value: string;
    let stride: string;
    if (cv.dialect === 'template') {
      if (templ.length !== 1 || args.length !== 4) throw new Error(`template-form store expected: <${templ}>(${args})`);
      col = String(templ[0] === 'col_major');
      [, off, value, stride] = args as [string, string, string, string];
    } else {
      if (templ.length !== 0 || args.length !== 5) throw new Error(`argument-form store expected: (${args})`);
      [, off, value, col, stride] = args as [string, string, string, string, string];
    }
    const buf = ptr(args[0]!);
    stored.add(buf);
    return `emu_store_${buf}(${off}, ${value}, ${col}, ${stride})`;
  });
  body = body.replaceAll('subgroupMatrixMultiplyAccumulate(', 'emu_mma(');
  if (/subgroup_matrix|subgroupMatrix/.test(body)) throw new Error('a subgroup-matrix construct was left unemulated');
  const shapes = { LeftT: [cm, ck], RightT: [ck, cn] } as const;
  const helpers: string[] = [];
  for (const buf of buffers) {
    helpers.push(`fn emu_byte_${buf}(addr: u32) -> i32 {
  let w = ${buf}[addr / 4u];
  return (w << (24u - 8u * (addr % 4u))) >> 24u;
}`);
    for (const [type, [rows, cols]] of Object.entries(shapes)) {
      helpers.push(`fn emu_load_${type}_${buf}(off: u32, col: bool, stride: u32) -> ${type} {
  var m: ${type};
  let ob = off * ${offMul}u;
  let sb = stride * ${strideMul}u;
  for (var r = 0u; r < ${rows}u; r++) {
    for (var c = 0u; c < ${cols}u; c++) {
      m.v[r * ${cols}u + c] = emu_byte_${buf}(select(ob + sb * r + c, ob + sb * c + r, col));
    }
  }
  return m;
}`);
    }
  }
  helpers.push(`fn emu_mma(l: LeftT, r: RightT, acc: ResultT) -> ResultT {
  var o = acc;
  for (var i = 0u; i < ${cm}u; i++) {
    for (var j = 0u; j < ${cn}u; j++) {
      var s = o.v[i * ${cn}u + j];
      for (var k = 0u; k < ${ck}u; k++) { s = s + l.v[i * ${ck}u + k] * r.v[k * ${cn}u + j]; }
      o.v[i * ${cn}u + j] = s;
    }
  }
  return o;
}`);
  for (const buf of stored) {
    helpers.push(`fn emu_store_${buf}(off: u32, v: ResultT, col: bool, stride: u32) {
  for (var i = 0u; i < ${cm}u; i++) {
    for (var j = 0u; j < ${cn}u; j++) {
      ${buf}[off + select(i * stride + j, j * stride + i, col)] = v.v[i * ${cn}u + j];
    }
  }
}`);
  }
  return `${body}\n${helpers.join('\n')}\n`;
}
