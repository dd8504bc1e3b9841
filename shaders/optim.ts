// The fused optimizer update: one kernel reads the gradient, the optimizer state and the weight, and
// writes the new state, the new weight and (optionally) the weight's packed forward copy, for a group
// of parameters at once (multi-tensor: each parameter keeps its own buffers, bound side by side, so one
// dispatch updates as many parameters as the device's storage-buffer limit allows; see groupSize).
// SGD (momentum, dampening, Nesterov, weight decay) and Adam (bias correction, weight decay) follow
// PyTorch's formulas; the order of quantization follows QPyTorch's OptimLP:
//   g = Q_grad(grad / loss_scale)                               gradient unscaling, then quantization
//   (the rule's update in f32, with the state read as stored)
//   state = Q_state(new state)                                  stored quantized; this step's update
//                                                               used the unquantized new state
//   w = Q_master(w - lr * update)                               master weights, float32 on the lattice
//   copy = encode_fwd(w * 2^t)                                  packed forward copy (exponent bias t)
// A `sync` variant (no gradient) only applies Q_master and writes the forward copy: it brings fresh or
// loaded weights onto the master lattice.
//
// Storage: the gradient and the weight are float32; the state is float32 or packed codes of its
// format (docs/number-formats.md packing); the forward copy is packed codes. Every buffer is bound as
// u32 words (float loads and stores may flush subnormals). Each thread owns 4 consecutive elements of
// one parameter, so it owns whole words of 8- and 16-bit packed buffers and no two threads write the
// same word. Parameter k of a group takes the threads [start[k], start[k + 1]); a thread finds its
// parameter, copies its words into registers (a switch over the group's bindings: WGSL cannot index
// bindings), runs the update, and copies the results back. The arithmetic per element is the same
// whatever the group: one parameter per dispatch gives the same bits as any grouping.
// Stochastic rounding: element i of stream s of parameter k draws random(seed_s[k], i); the host picks
// per-step, per-parameter seeds.

import { codesPerWord, containerBits, type Format, type Rounding } from '../formats/descriptor.ts';
import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { u32, wgsl } from './wgsl.ts';
import { codecLibrary, decoderName, encoderName, type CodecNeeds } from './codecs/index.ts';

export const OPTIM_WORKGROUP = 64;
/** Elements per thread: a whole word of every packed width. */
export const OPTIM_ELEMENTS = 4;
/** Most parameters one dispatch updates (the uniform block holds a few numbers per parameter). */
export const MAX_GROUP = 32;

export interface Quant {
  format: Format;
  rounding: Rounding;
}

export interface UpdateSpec {
  rule: 'sgd' | 'adam' | 'sync';
  /** SGD: keep a momentum buffer. */
  momentum?: boolean;
  nesterov?: boolean;
  /** Quantizers; null: float32. */
  grad: Quant | null;
  state: Quant | null;
  master: Quant | null;
  /** Forward copy format and rounding (its exponent bias is a run-time parameter). */
  forward: Quant | null;
  /** Parameters the dispatch updates (1 to MAX_GROUP; default 1). */
  group?: number;
}

/** The state buffers a rule keeps, by PyTorch's names. */
export function stateNames(s: Pick<UpdateSpec, 'rule' | 'momentum'>): string[] {
  if (s.rule === 'adam') return ['exp_avg', 'exp_avg_sq'];
  if (s.rule === 'sgd' && s.momentum) return ['momentum_buffer'];
  return [];
}

/** Storage buffers one parameter binds: its gradient (not in sync), weight, state buffers and
 *  forward copy. */
export function bindingsPerParameter(s: Omit<UpdateSpec, 'group'>): number {
  return (s.rule === 'sync' ? 0 : 1) + 1 + stateNames(s).length + (s.forward ? 1 : 0);
}

/** Parameters per dispatch on a device with `maxStorageBuffers` storage buffers per shader stage. */
export function groupSize(s: Omit<UpdateSpec, 'group'>, maxStorageBuffers: number): number {
  return Math.max(1, Math.min(MAX_GROUP, Math.floor(maxStorageBuffers / bindingsPerParameter(s))));
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** Per-step scalars shared by the group (the rule's hyperparameters; unused ones are 0), then per
 *  parameter k: its first thread (start[k]; start[group] ends the last), element count, first-step
 *  flag, forward-copy exponent bias (i32 bits), Adam step size and bias correction (f32 bits), and
 *  one seed per rounding stream. */
export const optimParams = memoByKey(
  (group: number) =>
    new ParamLayout(
      paramTable([
        ['grid_x', 'u32'], ['lr', 'f32'], ['loss_scale', 'f32'], ['weight_decay', 'f32'],
        ['momentum', 'f32'], ['dampening', 'f32'], ['beta1', 'f32'], ['beta2', 'f32'], ['eps', 'f32'],
        ['start', 'u32[]', pad4(group + 1)],
        ['count', 'u32[]', pad4(group)], ['first', 'u32[]', pad4(group)], ['fwd_t', 'u32[]', pad4(group)],
        ['step_size', 'u32[]', pad4(group)], ['bc2_sqrt', 'u32[]', pad4(group)],
        ['seed_grad', 'u32[]', pad4(group)], ['seed_state0', 'u32[]', pad4(group)], ['seed_state1', 'u32[]', pad4(group)],
        ['seed_master', 'u32[]', pad4(group)], ['seed_fwd', 'u32[]', pad4(group)],
      ]),
    ),
  String,
);
export type OptimParams = ReturnType<typeof optimParams>['table'];

/** Bindings, all u32 words, per parameter k: grad_k (not in sync), weight_k, the state buffers
 *  state0_k, state1_k (as stateNames lists them), fwd_k (with a forward copy). */
export type UpdateKernel = KernelVariant<OptimParams, string, string>;
/** The binding names of parameter k. */
export const updateBinding = (name: 'grad' | 'weight' | 'state0' | 'state1' | 'fwd', k: number) => `${name}_${k}`;

/** The spec's cache key (formats by their canonical names). */
export function updateKey(s: UpdateSpec): string {
  return JSON.stringify([s.rule, s.momentum, s.nesterov, s.group ?? 1, ...[s.grad, s.state, s.master, s.forward].map((q) => q && [q.format.name, q.rounding])]);
}

export const updateKernel = memoByKey((s: UpdateSpec, key): UpdateKernel => {
  const group = s.group ?? 1;
  if (!Number.isInteger(group) || group < 1 || group > MAX_GROUP) throw new Error(`optimizer update: a group of ${group} parameters (1 to ${MAX_GROUP})`);
  const states = stateNames(s).map((_, k) => (k === 0 ? 'state0' : 'state1') as 'state0' | 'state1');
  const rows: (readonly [string, 'read' | 'read_write', string])[] = [];
  for (let k = 0; k < group; k++) {
    if (s.rule !== 'sync') rows.push([updateBinding('grad', k), 'read', 'array<u32>']);
    rows.push([updateBinding('weight', k), 'read_write', 'array<u32>']);
    for (const st of states) rows.push([updateBinding(st, k), 'read_write', 'array<u32>']);
    if (s.forward) rows.push([updateBinding('fwd', k), 'read_write', 'array<u32>']);
  }
  return kernelVariant({ label: `optim:${s.rule}`, key, params: optimParams(group), bindings: bindingTable(rows), source: (header) => updateSource(s, group, header) });
}, updateKey);

/** A thread per OPTIM_ELEMENTS elements of each parameter (`counts`: the group's element counts). */
export function updateThreads(counts: readonly number[]): number[] {
  const start = [0];
  for (const c of counts) start.push(start[start.length - 1]! + Math.ceil(c / OPTIM_ELEMENTS));
  return start;
}

export function updateGrid(threads: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(threads / OPTIM_WORKGROUP));
}

/** Element k of a u32[] parameter array. */
const at = (name: string, k: string) => `P.${name}[${k} / 4u][${k} % 4u]`;

/** Quantize-to-lattice of an f32 expression (decode(encode(x))), drawing from stream `seed`. */
function quantized(q: Quant | null, expr: string, seed: string): string {
  if (!q) return expr;
  const r = q.rounding === 'stochastic' ? `pg_random(${at(seed, 'k')}, i)` : '0u';
  return `${decoderName(q.format)}(${encoderName(q.format, q.rounding)}(bitcast<u32>(${expr}), 0, ${r}), 0)`;
}

/** A buffer of f32 or packed codes of `q.format`, copied through the thread's registers: `<name>_in`
 *  (the words it reads) and `<name>_out` (the words it writes). */
class Slot {
  readonly cpw: number;
  readonly cb: number;
  constructor(
    readonly name: string,
    readonly q: Quant | null,
  ) {
    this.cpw = q ? codesPerWord(q.format) : 1;
    this.cb = q ? containerBits(q.format) : 32;
  }
  /** Words of this buffer a thread owns. */
  get words(): number {
    return OPTIM_ELEMENTS / this.cpw;
  }
  /** Element j (0..3) of the thread's elements, as f32. */
  load(j: string): string {
    if (!this.q) return `bitcast<f32>(${this.name}_in[${j}])`;
    const mask = u32(2 ** this.q.format.bits - 1);
    return `${decoderName(this.q.format)}((${this.name}_in[${j} / ${this.cpw}u] >> ((${j} % ${this.cpw}u) * ${this.cb}u)) & ${mask}, 0)`;
  }
  /** Statement storing element j's new value (f32 expression, or a code of the packed format). */
  store(v: string): string {
    if (!this.q) return `${this.name}_out[j] = bitcast<u32>(${v});`;
    return `${this.name}_out[j / ${this.cpw}u] |= ${v} << ((j % ${this.cpw}u) * ${this.cb}u);`;
  }
  /** Copies parameter k's words of this buffer in (reading) or out (writing), those in range. */
  copy(k: number, dir: 'in' | 'out'): string {
    const buf = `${this.name}_${k}`;
    const w = `gid * ${u32(this.words)} + w`;
    const body = dir === 'in' ? `${this.name}_in[w] = ${buf}[${w}];` : `${buf}[${w}] = ${this.name}_out[w];`;
    return `for (var w = 0u; w < ${u32(this.words)}; w = w + 1u) { if (first + w * ${u32(this.cpw)} < count) { ${body} } }`;
  }
}

function updateSource(s: UpdateSpec, group: number, header: string): string {
  const adam = s.rule === 'adam';
  const sync = s.rule === 'sync';
  const states = stateNames(s).map((_, k) => new Slot(`state${k}`, s.state));
  const weight = new Slot('weight', null);
  const grad = sync ? null : new Slot('grad', null);
  const fwd = s.forward ? new Slot('fwd', s.forward) : null;
  const read = [...(grad ? [grad] : []), weight, ...states];
  const written = [weight, ...states, ...(fwd ? [fwd] : [])];
  const needs: CodecNeeds[] = [];
  for (const q of [s.grad, s.state, s.master]) if (q) needs.push({ format: q.format, encoders: [q.rounding] });
  if (s.forward) needs.push({ format: s.forward.format, encoders: [s.forward.rounding], decoder: false });
  const random = (q: Quant, seed: string) => (q.rounding === 'stochastic' ? `pg_random(${at(seed, 'k')}, i)` : '0u');
  const fwdCode = s.forward ? `${encoderName(s.forward.format, s.forward.rounding)}(bitcast<u32>(w), bitcast<i32>(${at('fwd_t', 'k')}), ${random(s.forward, 'seed_fwd')})` : '';
  // Stores the new value of state k (quantized as stored); the update keeps using the unquantized value.
  const storeState = (k: number, v: string) => {
    const st = states[k]!;
    if (!st.q) return st.store(v);
    return st.store(`${encoderName(st.q.format, st.q.rounding)}(bitcast<u32>(${v}), 0, ${random(st.q, `seed_state${k}`)})`);
  };
  // Copies of every parameter's words, selected by the thread's parameter k.
  const copies = (slots: Slot[], dir: 'in' | 'out') =>
    `  switch k {\n${Array.from({ length: group }, (_, k) => `    case ${u32(k)}: { ${slots.map((sl) => sl.copy(k, dir)).join(' ')} }`).join('\n')}\n    default: {}\n  }`;
  return wgsl`
${needs.length ? codecLibrary(needs) : ''}
${header}

@compute @workgroup_size(${OPTIM_WORKGROUP})
fn main(@builtin(global_invocation_id) g3: vec3<u32>) {
  let t = g3.x + g3.y * P.grid_x * ${OPTIM_WORKGROUP}u;
  if (t >= ${at('start', u32(group))}) { return; }
  var k = 0u;
  for (var p = 1u; p < ${u32(group)}; p = p + 1u) { if (t >= ${at('start', 'p')}) { k = p; } }
  let gid = t - ${at('start', 'k')};
  let count = ${at('count', 'k')};
  let first = gid * ${OPTIM_ELEMENTS}u;
${read.map((sl) => `  var ${sl.name}_in: array<u32, ${sl.words}>;`).join('\n')}
${written.map((sl) => `  var ${sl.name}_out: array<u32, ${sl.words}>;`).join('\n')}
${copies(read, 'in')}
  for (var j = 0u; j < ${OPTIM_ELEMENTS}u; j = j + 1u) {
    let i = first + j;
    if (i >= count) { break; }
    var w = ${weight.load('j')};
#if ${!sync}
    var g = ${quantized(s.grad, `${grad?.load('j') ?? ''} / P.loss_scale`, 'seed_grad')};
    g = g + P.weight_decay * w;
#if ${adam}
    let m = P.beta1 * ${states[0]?.load('j') ?? ''} + (1.0 - P.beta1) * g;
    let v = P.beta2 * ${states[1]?.load('j') ?? ''} + (1.0 - P.beta2) * g * g;
    ${adam ? storeState(0, 'm') : ''}
    ${adam ? storeState(1, 'v') : ''}
    w = w - bitcast<f32>(${at('step_size', 'k')}) * m / (sqrt(v) / bitcast<f32>(${at('bc2_sqrt', 'k')}) + P.eps);
#elif ${!!s.momentum}
    // PyTorch starts the buffer at the first gradient (no dampening on the first step).
    let b = select(P.momentum * ${states[0]?.load('j') ?? ''} + (1.0 - P.dampening) * g, g, ${at('first', 'k')} == 1u);
    ${s.momentum ? storeState(0, 'b') : ''}
#if ${!!s.nesterov}
    w = w - P.lr * (g + P.momentum * b);
#else
    w = w - P.lr * b;
#endif
#else
    w = w - P.lr * g;
#endif
#endif
    w = ${quantized(s.master, 'w', 'seed_master')};
    ${weight.store('w')}
${fwd ? `    ${fwd.store(fwdCode)}` : ''}
  }
${copies(written, 'out')}
}
`;
}
