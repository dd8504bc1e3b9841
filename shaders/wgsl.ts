// A small template mechanism for generating WGSL variants from one source (in the spirit of
// wgsl-preprocessor): a tagged template whose interpolations are pasted in, plus line directives
//   #if ${cond} / #elif ${cond} / #else / #endif
// evaluated on the interpolated booleans. Kernels in shaders/ are functions of their parameters that
// return `wgsl\`...\``; every variant (format, tile size, accumulation mode) comes from one source.

export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string {
  let text = strings[0]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    text += (typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v)) + strings[i + 1]!;
  }
  return preprocess(text);
}

/** Evaluates #if/#elif/#else/#endif directives whose conditions are the literals true / false. */
export function preprocess(text: string): string {
  const out: string[] = [];
  // Each frame: is the enclosing region emitting, has a branch of this #if been taken, is this branch on.
  const stack: { parentOn: boolean; taken: boolean; on: boolean }[] = [];
  const on = () => (stack.length === 0 ? true : stack[stack.length - 1]!.on);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const d = /^\s*#(if|elif|else|endif)\b\s*(.*)$/.exec(line);
    if (!d) {
      if (on()) out.push(line);
      continue;
    }
    const [, kind, rest] = d;
    const cond = () => {
      const c = rest!.trim();
      if (c !== 'true' && c !== 'false') throw new Error(`wgsl template line ${i + 1}: #${kind} needs a boolean, got '${c}'`);
      return c === 'true';
    };
    if (kind === 'if') {
      const parentOn = on();
      const c = cond();
      stack.push({ parentOn, taken: c, on: parentOn && c });
    } else {
      const top = stack[stack.length - 1];
      if (!top) throw new Error(`wgsl template line ${i + 1}: #${kind} without #if`);
      if (kind === 'elif') {
        const c = cond();
        top.on = top.parentOn && !top.taken && c;
        top.taken ||= c;
      } else if (kind === 'else') {
        top.on = top.parentOn && !top.taken;
        top.taken = true;
      } else {
        stack.pop();
      }
    }
  }
  if (stack.length) throw new Error('wgsl template: #if without #endif');
  return out.join('\n');
}

/** A WGSL literal for an i32 constant (WGSL has no negative literals in all positions: use i32(-n)). */
export function i32(n: number): string {
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw new Error(`not an i32: ${n}`);
  return n < 0 ? `i32(${n})` : `${n}i`;
}

/** A WGSL literal for a u32 constant. */
export function u32(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`not a u32: ${n}`);
  return `${n >>> 0}u`;
}

/** A WGSL f32 literal that round-trips exactly (as a bit pattern, so no decimal rounding). */
export function f32(x: number): string {
  const b = new Float32Array([x]);
  if (b[0] !== x && !Number.isNaN(x)) throw new Error(`not exactly representable as f32: ${x}`);
  return `bitcast<f32>(${new Uint32Array(b.buffer)[0]}u)`;
}
