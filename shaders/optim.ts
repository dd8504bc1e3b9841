// The fused optimizer update: one kernel per parameter and step reads the gradient, the optimizer
// state and the weight, and writes the new state, the new weight and (optionally) the weight's packed
// forward copy. SGD (momentum, dampening, Nesterov, weight decay) and Adam (bias correction, weight
// decay) follow PyTorch's formulas; the order of quantization follows QPyTorch's OptimLP:
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
// u32 words (float loads and stores may flush subnormals). Each thread owns 4 consecutive elements,
// so it owns whole words of 8- and 16-bit packed buffers and no two threads write the same word.
// Stochastic rounding: element i of stream k draws random(seed_k, i); the host picks per-step seeds.

import { codesPerWord, containerBits, type Format, type Rounding } from '../formats/descriptor.ts';
import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits, type KernelVariant } from './kernel.ts';
import { u32, wgsl } from './wgsl.ts';
import { codecLibrary, decoderName, encoderName, type CodecNeeds } from './codecs/index.ts';

export const OPTIM_WORKGROUP = 64;
/** Elements per thread: a whole word of every packed width. */
export const OPTIM_ELEMENTS = 4;

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
}

/** The state buffers a rule keeps, by PyTorch's names. */
export function stateNames(s: Pick<UpdateSpec, 'rule' | 'momentum'>): string[] {
  if (s.rule === 'adam') return ['exp_avg', 'exp_avg_sq'];
  if (s.rule === 'sgd' && s.momentum) return ['momentum_buffer'];
  return [];
}

/** Per-step scalars: sizes and the first-step flag, the forward copy's exponent bias, one seed per
 *  rounding stream, the rule's hyperparameters (unused ones are 0). */
export const OPTIM_PARAMS = new ParamLayout(
  paramTable([
    ['count', 'u32'], ['grid_x', 'u32'], ['first', 'u32'], ['fwd_t', 'i32'],
    ['seed_grad', 'u32'], ['seed_state0', 'u32'], ['seed_state1', 'u32'], ['seed_master', 'u32'], ['seed_fwd', 'u32'],
    ['lr', 'f32'], ['loss_scale', 'f32'], ['weight_decay', 'f32'], ['momentum', 'f32'],
    ['dampening', 'f32'], ['beta1', 'f32'], ['beta2', 'f32'], ['eps', 'f32'],
    ['step_size', 'f32'], ['bc2_sqrt', 'f32'],
  ]),
);

type OptimBinding = 'grad' | 'weight' | 'state0' | 'state1' | 'fwd';
/** Bindings, all u32 words: grad (not in sync), weight, the state buffers state0, state1 (as
 *  stateNames lists them), fwd (with a forward copy). */
export type UpdateKernel = KernelVariant<typeof OPTIM_PARAMS.table, 'weight', Exclude<OptimBinding, 'weight'>>;

/** The spec's cache key (formats by their canonical names). */
export function updateKey(s: UpdateSpec): string {
  return JSON.stringify([s.rule, s.momentum, s.nesterov, ...[s.grad, s.state, s.master, s.forward].map((q) => q && [q.format.name, q.rounding])]);
}

export const updateKernel = memoByKey(
  (s: UpdateSpec, key): UpdateKernel => {
    const written: OptimBinding[] = ['weight', ...stateNames(s).map((_, k) => (k === 0 ? 'state0' : 'state1') as OptimBinding), ...(s.forward ? ['fwd' as const] : [])];
    return kernelVariant({
      label: `optim:${s.rule}`,
      key,
      params: OPTIM_PARAMS,
      // Binding order: grad (not in sync), weight, state buffers, forward copy.
      bindings: bindingTable<OptimBinding>([
        ...(s.rule === 'sync' ? [] : [['grad', 'read', 'array<u32>'] as const]),
        ...written.map((n) => [n, 'read_write', 'array<u32>'] as const),
      ]),
      source: (header) => updateSource(s, header),
    });
  },
  updateKey,
);

/** A thread per OPTIM_ELEMENTS elements. */
export function updateGrid(count: number, limits: GridLimits): [number, number, number] {
  return grid1d(limits, Math.ceil(count / OPTIM_ELEMENTS / OPTIM_WORKGROUP));
}

/** Quantize-to-lattice of an f32 expression (decode(encode(x))), drawing from stream `seed`. */
function quantized(q: Quant | null, expr: string, seed: string): string {
  if (!q) return expr;
  const r = q.rounding === 'stochastic' ? `pg_random(P.${seed}, i)` : '0u';
  return `${decoderName(q.format)}(${encoderName(q.format, q.rounding)}(bitcast<u32>(${expr}), 0, ${r}), 0)`;
}

/** Read / write helpers for a buffer of f32 or packed codes of `q.format`. */
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
  load(i: string): string {
    if (!this.q) return `bitcast<f32>(${this.name}[${i}])`;
    const mask = u32(2 ** this.q.format.bits - 1);
    return `${decoderName(this.q.format)}((${this.name}[${i} / ${this.cpw}u] >> ((${i} % ${this.cpw}u) * ${this.cb}u)) & ${mask}, 0)`;
  }
  /** Statement packing element j's code into the thread's private words. */
  pack(code: string): string {
    return `${this.name}_out[j / ${this.cpw}u] |= ${code} << ((j % ${this.cpw}u) * ${this.cb}u);`;
  }
  /** Statements writing the thread's private words back (whole words, only those in range). */
  flush(): string {
    return `  for (var k = 0u; k < ${this.words}u; k = k + 1u) {
    if (first + k * ${this.cpw}u < P.count) { ${this.name}[gid * ${this.words}u + k] = ${this.name}_out[k]; }
  }`;
  }
}

function updateSource(s: UpdateSpec, header: string): string {
  const adam = s.rule === 'adam';
  const sync = s.rule === 'sync';
  const names = stateNames(s);
  const states = names.map((_, k) => new Slot(`state${k}`, s.state));
  const fwd = s.forward ? new Slot('fwd', s.forward) : null;
  const needs: CodecNeeds[] = [];
  for (const q of [s.grad, s.state, s.master]) if (q) needs.push({ format: q.format, encoders: [q.rounding] });
  if (s.forward) needs.push({ format: s.forward.format, encoders: [s.forward.rounding], decoder: false });
  const packed = [...states.filter((st) => st.q), ...(fwd ? [fwd] : [])];
  const fwdCode = s.forward ? `${encoderName(s.forward.format, s.forward.rounding)}(bitcast<u32>(w), P.fwd_t, ${s.forward.rounding === 'stochastic' ? 'pg_random(P.seed_fwd, i)' : '0u'})` : '';
  // Stores the new value of state k (quantized as stored) and returns nothing; the update keeps
  // using the unquantized value.
  const storeState = (k: number, v: string) => {
    const st = states[k]!;
    if (!st.q) return `${st.name}[i] = bitcast<u32>(${v});`;
    return st.pack(`${encoderName(st.q.format, st.q.rounding)}(bitcast<u32>(${v}), 0, ${st.q.rounding === 'stochastic' ? `pg_random(P.seed_state${k}, i)` : '0u'})`);
  };
  return wgsl`
${needs.length ? codecLibrary(needs) : ''}
${header}

@compute @workgroup_size(${OPTIM_WORKGROUP})
fn main(@builtin(global_invocation_id) g3: vec3<u32>) {
  let gid = g3.x + g3.y * P.grid_x * ${OPTIM_WORKGROUP}u;
  let first = gid * ${OPTIM_ELEMENTS}u;
  if (first >= P.count) { return; }
${packed.map((p) => `  var ${p.name}_out: array<u32, ${p.words}>;`).join('\n')}
  for (var j = 0u; j < ${OPTIM_ELEMENTS}u; j = j + 1u) {
    let i = first + j;
    if (i >= P.count) { break; }
    var w = bitcast<f32>(weight[i]);
#if ${!sync}
    var g = ${quantized(s.grad, 'bitcast<f32>(grad[i]) / P.loss_scale', 'seed_grad')};
    g = g + P.weight_decay * w;
#if ${adam}
    let m = P.beta1 * ${states[0]?.load('i') ?? ''} + (1.0 - P.beta1) * g;
    let v = P.beta2 * ${states[1]?.load('i') ?? ''} + (1.0 - P.beta2) * g * g;
    ${adam ? storeState(0, 'm') : ''}
    ${adam ? storeState(1, 'v') : ''}
    w = w - P.step_size * m / (sqrt(v) / P.bc2_sqrt + P.eps);
#elif ${!!s.momentum}
    // PyTorch starts the buffer at the first gradient (no dampening on the first step).
    let b = select(P.momentum * ${states[0]?.load('i') ?? ''} + (1.0 - P.dampening) * g, g, P.first == 1u);
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
    weight[i] = bitcast<u32>(w);
${fwd ? `    ${fwd.pack(fwdCode)}` : ''}
  }
${packed.map((p) => p.flush()).join('\n')}
}
`;
}
