// The optimizer base: parameters by name, their state buffers, format-aware precision (gradient,
// state and master-weight quantizers, the packed forward copy of each weight), the loss scale that is
// divided out of the gradients, and state()/load() for checkpoints. Each step is one fused kernel per
// parameter (shaders/optim.ts); SGD and Adam (sgd.ts, adam.ts) supply the rule's scalars.
//
// Precision, as the paper's P8+ recipe uses it (docs/method.md sections 2, 3, 5):
//   new Adam(rt, model.namedParameters(), { lr: 2e-4, lossScale: 2 ** 9, precision: {
//     state: { format: 'p16e2' }, master: { format: 'p16e2' },
//     forwardCopy: { format: 'p8e2', bias: 4 } } })
// keeps m and v as packed p16e2 codes, rounds every updated weight to the p16e2 lattice (the weights
// stay float32 tensors, tagged with their lattice), and after each update encodes w * 2^4 as packed
// p8e2 codes: `forwardWeight(w)` is what a layer multiplies with (gradients reach w straight through).
//
// A step updates its parameters in groups, one dispatch per group (shaders/optim.ts, multi-tensor:
// as many parameters as the device's storage-buffer limit lets one dispatch bind); the arithmetic of
// every element is the same as with one dispatch per parameter.

import { groupSize, MAX_GROUP, stateNames, updateBinding, updateGrid, updateKernel, updateThreads, type Quant, type UpdateSpec } from '../../shaders/optim.ts';
import { parseFormat, type Format, type Rounding } from '../../formats/descriptor.ts';
import { random } from '../../formats/rng.ts';
import { substitute } from '../ops/substitute.ts';
import type { TensorRole } from '../record/schema.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';

export interface QuantOption {
  format: Format | string;
  /** Default 'nearest'. */
  rounding?: Rounding;
}

export interface OptimizerPrecision {
  /** Gradients (after unscaling) are quantized to this before the update. */
  grad?: QuantOption | null;
  /** Optimizer state (momentum buffer; Adam's m and v) is stored as packed codes of this format. */
  state?: QuantOption | null;
  /** Master weights are rounded to this format's lattice after each update (kept as float32). */
  master?: QuantOption | null;
  /** After each update, the weight times 2^bias is encoded as packed codes of this format. */
  forwardCopy?: (QuantOption & { bias?: number }) | null;
  /** u32 seed of stochastic rounding (default 0). */
  seed?: number;
}

export interface OptimizerOptions {
  lr: number;
  weightDecay?: number;
  /** Loss scale s: gradients are divided by s at update time (default 1). */
  lossScale?: number;
  precision?: OptimizerPrecision;
  /** Most parameters one update dispatch takes (default: as many as the device's storage-buffer
   *  limit allows, up to MAX_GROUP). The same bits with any grouping. */
  group?: number;
}

/** Parameters: tensors (named by position) or [name, tensor] pairs (Module.namedParameters()). */
export type ParamList = readonly Tensor[] | Iterable<readonly [string, Tensor]>;

/** What state() returns and load() takes. */
export interface OptimizerState {
  kind: string;
  lr: number;
  lossScale: number;
  /** Canonical name of the state format; null: float32 buffers. */
  stateFormat: string | null;
  /** Completed steps per parameter (PyTorch keeps one count per parameter too). */
  steps: Record<string, number>;
  /** Exponent bias of each parameter's forward copy (absent without forward copies). */
  forwardBias?: Record<string, number>;
  /** State buffers by `<param>.<buffer>` (PyTorch's buffer names): float32 values, or the packed
   *  code words of stateFormat. */
  buffers: Record<string, Float32Array | Uint32Array>;
}

interface Entry {
  readonly name: string;
  readonly param: Tensor;
  readonly index: number;
  readonly states: Tensor[];
  copy: Tensor | null;
  bias: number;
  steps: number;
}

/** The scalars a rule puts in the kernel's parameter block for one step of one parameter. */
export interface RuleScalars {
  momentum?: number;
  dampening?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  stepSize?: number;
  bc2Sqrt?: number;
}

// Scratch for the f32 bit patterns of per-parameter scalars.
const F32 = new Float32Array(1);
const F32_BITS = new Uint32Array(F32.buffer);

function quant(o: QuantOption | null | undefined, what: string): Quant | null {
  if (!o) return null;
  const format = typeof o.format === 'string' ? parseFormat(o.format) : o.format;
  const rounding = o.rounding ?? 'nearest';
  if (rounding !== 'nearest' && rounding !== 'stochastic') throw new Error(`optimizer: ${what} rounding must be 'nearest' or 'stochastic', got '${String(rounding)}'`);
  return { format, rounding };
}

function checkU32(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`optimizer: ${what} must be a u32, got ${v}`);
  return v;
}

function namedList(params: ParamList): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  let i = 0;
  for (const p of params as Iterable<Tensor | readonly [string, Tensor]>) {
    out.push(p instanceof Tensor ? [p.name ?? String(i), p] : [p[0], p[1]]);
    i++;
  }
  return out;
}

export abstract class Optimizer {
  lr: number;
  weightDecay: number;
  /** Divides the gradients at update time; may change between steps (e.g. after calibration). */
  lossScale: number;
  /** The quantizers in use (null: float32). */
  readonly quant: { readonly grad: Quant | null; readonly state: Quant | null; readonly master: Quant | null; readonly forward: Quant | null };
  private readonly seed: number;
  private readonly group: number;
  private readonly entries: Entry[] = [];
  private readonly byTensor = new Map<Tensor, Entry>();

  protected constructor(
    readonly rt: Runtime,
    readonly kind: string,
    params: ParamList,
    o: OptimizerOptions,
    private readonly rule: Pick<UpdateSpec, 'rule' | 'momentum' | 'nesterov'>,
  ) {
    this.lr = o.lr;
    this.weightDecay = o.weightDecay ?? 0;
    this.lossScale = o.lossScale ?? 1;
    this.checkHyper();
    const p = o.precision ?? {};
    this.quant = { grad: quant(p.grad, 'grad'), state: quant(p.state, 'state'), master: quant(p.master, 'master'), forward: quant(p.forwardCopy, 'forwardCopy') };
    this.seed = checkU32('seed', p.seed ?? 0);
    if (o.group !== undefined && !(Number.isInteger(o.group) && o.group >= 1 && o.group <= MAX_GROUP)) {
      throw new Error(`${kind}: group must be an integer from 1 to ${MAX_GROUP} (parameters per update dispatch), got ${o.group}`);
    }
    this.group = o.group ?? MAX_GROUP;
    const bias = p.forwardCopy?.bias ?? 0;
    const names = new Set<string>();
    for (const [name, param] of namedList(params)) {
      if (!param.isF32) throw new Error(`optimizer: parameter '${name}' holds packed codes; parameters must be float32`);
      if (names.has(name)) throw new Error(`optimizer: two parameters are named '${name}'`);
      if (this.byTensor.has(param)) throw new Error(`optimizer: parameter '${name}' is listed twice`);
      names.add(name);
      const states = stateNames(this.rule).map((s) => {
        const t = rt.keep(Tensor.empty(rt, param.shape, this.quant.state ? { format: this.quant.state.format, bias: 0 } : null, `${name}.${s}`));
        // Zeros (also the zero code of every format); PyTorch starts m, v at zero.
        if (t.bytes > 0) rt.commandEncoder().clearBuffer(t.buffer, 0, t.bytes);
        return t;
      });
      const e: Entry = { name, param, index: this.entries.length, states, copy: null, bias, steps: 0 };
      this.entries.push(e);
      this.byTensor.set(param, e);
    }
    this.sync();
  }

  /** Rejects hyperparameters the rules cannot use (called at construction and each step). */
  protected checkHyper(): void {
    if (!(this.lr >= 0)) throw new Error(`${this.kind}: learning rate must be >= 0, got ${this.lr}`);
    if (!(this.weightDecay >= 0)) throw new Error(`${this.kind}: weight decay must be >= 0, got ${this.weightDecay}`);
    if (!(this.lossScale > 0) || !Number.isFinite(this.lossScale)) throw new Error(`${this.kind}: loss scale must be a positive finite number, got ${this.lossScale}`);
  }

  /** The rule's scalars for a parameter's step number `step` (1 on its first update). */
  protected abstract scalars(step: number): RuleScalars;

  /** One update of every parameter that has a gradient (others are skipped, as in PyTorch). */
  step(): void {
    this.checkHyper();
    const rt = this.rt;
    const was = rt.phase;
    rt.phase = 'optimizer';
    try {
      const due: { e: Entry; read: { format: string; bits: number } }[] = [];
      for (const e of this.entries) {
        const g = e.param.grad;
        if (!g) continue;
        if (!g.isF32 || g.size !== e.param.size) {
          throw new Error(`${this.kind}: gradient of '${e.name}' is ${g} but the parameter is [${e.param.shape.join(', ')}] float32`);
        }
        e.steps++;
        // The weight as the kernel reads it (the update may move it onto the master lattice).
        due.push({ e, read: { format: e.param.valueFormat, bits: e.param.valueBits } });
      }
      this.dispatch(
        due.map((d) => d.e),
        { ...this.rule, ...this.quant },
        (e) => this.scalars(e.steps),
        0,
      );
      for (const { e, read } of due) {
        // Counted against the parameter's module ('0.weight' -> layer '0').
        const layer = e.name.slice(0, Math.max(0, e.name.lastIndexOf('.')));
        if (layer) rt.inLayer(layer, () => this.count(e, read));
        else this.count(e, read);
      }
    } finally {
      rt.phase = was;
    }
  }

  /** Drops every gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const e of this.entries) {
      e.param.grad?.dispose();
      e.param.grad = null;
    }
  }

  /**
   * Rounds the weights onto the master lattice and re-encodes the forward copies. Runs at
   * construction; call it again after loading weights into the model.
   */
  sync(): void {
    if (!this.quant.master && !this.quant.forward) return;
    for (const e of this.entries) this.ensureCopy(e);
    this.dispatch(this.entries, { rule: 'sync', grad: null, state: null, master: this.quant.master, forward: this.quant.forward }, () => ({}), 1);
  }

  /** The packed forward copy of a parameter (its encoding carries the format and exponent bias). */
  forwardCopy(param: Tensor): Tensor {
    const e = this.entry(param);
    if (!e.copy) throw new Error(`${this.kind}: no forward copy is configured (precision.forwardCopy)`);
    return e.copy;
  }

  /** What a layer multiplies with: the forward copy standing in for the parameter (gradients reach
   *  the parameter unchanged), or the parameter itself without forward copies. */
  forwardWeight(param: Tensor): Tensor {
    const e = this.entry(param);
    return e.copy ? substitute(param, e.copy) : param;
  }

  /** Sets the forward copies' exponent bias t (one number, or per parameter name) and re-encodes. */
  setForwardBias(t: number | Record<string, number>): void {
    if (!this.quant.forward) throw new Error(`${this.kind}: no forward copy is configured (precision.forwardCopy)`);
    const pick = (e: Entry) => (typeof t === 'number' ? t : t[e.name]);
    if (typeof t !== 'number') {
      for (const k of Object.keys(t)) if (!this.entries.some((e) => e.name === k)) throw new Error(`${this.kind}: setForwardBias names unknown parameter '${k}'`);
    }
    for (const e of this.entries) {
      const b = pick(e);
      if (b === undefined) continue;
      if (!Number.isInteger(b) || Math.abs(b) > 256) throw new Error(`${this.kind}: exponent bias for '${e.name}' must be an integer in -256..256, got ${b}`);
      e.bias = b;
    }
    this.sync();
  }

  async state(): Promise<OptimizerState> {
    const buffers: OptimizerState['buffers'] = {};
    const steps: Record<string, number> = {};
    const forwardBias: Record<string, number> = {};
    const names = stateNames(this.rule);
    for (const e of this.entries) {
      steps[e.name] = e.steps;
      if (this.quant.forward) forwardBias[e.name] = e.bias;
      for (const [k, t] of e.states.entries()) buffers[`${e.name}.${names[k]}`] = this.quant.state ? await t.readWords() : await t.read();
    }
    const s: OptimizerState = { kind: this.kind, lr: this.lr, lossScale: this.lossScale, stateFormat: this.quant.state?.format.name ?? null, steps, buffers };
    if (this.quant.forward) s.forwardBias = forwardBias;
    return s;
  }

  /** Restores a state() result, checking that it belongs to this optimizer's parameters and formats. */
  load(s: OptimizerState): void {
    if (s.kind !== this.kind) throw new Error(`${this.kind}.load: the state is from a '${s.kind}' optimizer`);
    const fmt = this.quant.state?.format.name ?? null;
    if (s.stateFormat !== fmt) throw new Error(`${this.kind}.load: the state is stored as ${s.stateFormat ?? 'float32'}, this optimizer keeps ${fmt ?? 'float32'}`);
    const names = stateNames(this.rule);
    const expected = new Set(this.entries.flatMap((e) => names.map((n) => `${e.name}.${n}`)));
    for (const e of this.entries) {
      if (!(e.name in s.steps)) throw new Error(`${this.kind}.load: missing step count for parameter '${e.name}'`);
      for (const n of names) if (!(`${e.name}.${n}` in s.buffers)) throw new Error(`${this.kind}.load: missing state buffer '${e.name}.${n}'`);
    }
    for (const k of Object.keys(s.steps)) if (!this.entries.some((e) => e.name === k)) throw new Error(`${this.kind}.load: unexpected parameter '${k}'`);
    for (const k of Object.keys(s.buffers)) if (!expected.has(k)) throw new Error(`${this.kind}.load: unexpected state buffer '${k}'`);
    for (const e of this.entries) {
      for (const [k, t] of e.states.entries()) {
        const key = `${e.name}.${names[k]}`;
        const data = s.buffers[key]!;
        const want = this.quant.state ? t.bytes / 4 : t.size;
        const kindOk = this.quant.state ? data instanceof Uint32Array : data instanceof Float32Array;
        if (!kindOk || data.length !== want) {
          throw new Error(`${this.kind}.load: state buffer '${key}' has ${data.length} ${data[Symbol.toStringTag]} entries, expected ${want} ${this.quant.state ? 'Uint32Array code words' : 'Float32Array values'}`);
        }
      }
    }
    // queue.writeBuffer runs ahead of work still recorded in the runtime's encoder (e.g. the zeroing
    // of fresh state): submit that first so the loaded values land after it.
    this.rt.flush();
    for (const e of this.entries) {
      const st = s.steps[e.name]!;
      if (!Number.isInteger(st) || st < 0) throw new Error(`${this.kind}.load: step count of '${e.name}' must be a non-negative integer, got ${st}`);
      e.steps = st;
      for (const [k, t] of e.states.entries()) {
        const data = s.buffers[`${e.name}.${names[k]}`]!;
        if (data.length) this.rt.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      }
    }
    this.lr = s.lr;
    this.lossScale = s.lossScale;
    this.checkHyper();
    if (s.forwardBias && this.quant.forward) this.setForwardBias(s.forwardBias);
  }

  /** Frees the state buffers and forward copies. */
  dispose(): void {
    for (const e of this.entries) {
      for (const t of e.states) t.dispose();
      e.copy?.dispose();
      e.copy = null;
    }
  }

  private entry(param: Tensor): Entry {
    const e = this.byTensor.get(param);
    if (!e) throw new Error(`${this.kind}: ${param} is not one of this optimizer's parameters`);
    return e;
  }

  private ensureCopy(e: Entry): void {
    if (!this.quant.forward) return;
    if (e.copy && e.copy.encoding!.bias === e.bias) return;
    e.copy?.dispose();
    e.copy = this.rt.keep(Tensor.empty(this.rt, e.param.shape, { format: this.quant.forward.format, bias: e.bias }, `${e.name}:forward`));
    e.copy.name = `${e.name}:forward`;
  }

  /** Updates `entries` (each with a gradient, or all for sync) in groups of as many as one dispatch
   *  can bind; `r` gives each parameter's rule scalars for its step. */
  private dispatch(entries: readonly Entry[], spec: Omit<UpdateSpec, 'group'>, r: (e: Entry) => RuleScalars, tag: number): void {
    const live = entries.filter((e) => e.param.size > 0);
    const size = Math.min(this.group, groupSize(spec, this.rt.gpu.limits.maxStorageBuffersPerShaderStage));
    for (let i = 0; i < live.length; i += size) this.dispatchGroup(live.slice(i, i + size), spec, r, tag);
    if (this.quant.master) {
      for (const e of live) {
        e.param.lattice = this.quant.master.format;
        e.param.latticeBias = 0;
      }
    }
  }

  private dispatchGroup(group: readonly Entry[], spec: Omit<UpdateSpec, 'group'>, r: (e: Entry) => RuleScalars, tag: number): void {
    const rt = this.rt;
    const start = updateThreads(group.map((e) => e.param.size));
    const grid = updateGrid(start[group.length]!, rt.gpu.limits);
    const f32Bits = (x: number) => {
      F32[0] = x;
      return F32_BITS[0]!;
    };
    // Per (tag, step, parameter, stream) seeds, so no two roundings share random numbers.
    const seeds = group.map((e) => {
      const stepSeed = random(random(this.seed, tag), e.steps);
      return [0, 1, 2, 3, 4].map((s) => random(stepSeed, (e.index * 5 + s) >>> 0));
    });
    const scalars = group.map(r);
    const first = scalars[0] ?? {};
    const params = {
      grid_x: grid[0],
      lr: this.lr,
      loss_scale: this.lossScale,
      weight_decay: this.weightDecay,
      momentum: first.momentum ?? 0,
      dampening: first.dampening ?? 0,
      beta1: first.beta1 ?? 0,
      beta2: first.beta2 ?? 0,
      eps: first.eps ?? 0,
      start,
      count: group.map((e) => e.param.size),
      first: group.map((e) => (e.steps === 1 ? 1 : 0)),
      fwd_t: group.map((e) => e.bias >>> 0),
      step_size: scalars.map((x) => f32Bits(x.stepSize ?? 0)),
      bc2_sqrt: scalars.map((x) => f32Bits(x.bc2Sqrt ?? 1)),
      seed_grad: seeds.map((x) => x[0]!),
      seed_state0: seeds.map((x) => x[1]!),
      seed_state1: seeds.map((x) => x[2]!),
      seed_master: seeds.map((x) => x[3]!),
      seed_fwd: seeds.map((x) => x[4]!),
    };
    // The sync variant binds neither the gradient nor the state buffers.
    const sync = spec.rule === 'sync';
    const buffers: Record<string, GPUBuffer> = {};
    group.forEach((e, k) => {
      if (!sync) buffers[updateBinding('grad', k)] = e.param.grad!.buffer;
      buffers[updateBinding('weight', k)] = e.param.buffer;
      if (!sync) e.states.forEach((t, j) => (buffers[updateBinding(j === 0 ? 'state0' : 'state1', k)] = t.buffer));
      if (e.copy) buffers[updateBinding('fwd', k)] = e.copy.buffer;
    });
    rt.run(updateKernel({ ...spec, group: group.length }), params, buffers, grid);
  }

  /**
   * Op counts of one update of `e` (n elements), the arithmetic of shaders/optim.ts per element. The
   * scalars the host computes once per step (1 - beta, the bias corrections, lr / (1 - beta1^t)) are
   * not per-element work, and neither are steps that change nothing (no unscaling at loss scale 1, no
   * weight decay at 0, the first momentum step that copies g), as a dedicated unit would skip them:
   *   unscale           g / s                                  1 div            (s != 1)
   *   weight decay      g + wd w                               1 mul, 1 add     (wd != 0)
   *   adam              m = b1 m + (1 - b1) g                  2 mul, 1 add
   *                     v = b2 v + (1 - b2) g g                3 mul, 1 add
   *                     w - step m / (sqrt(v) / bc2 + eps)     1 sqrt, 2 div, 1 mul, 2 add
   *   sgd, momentum     b = mu b + (1 - damp) g                2 mul, 1 add     (after the first step)
   *                     w - lr (g + mu b)   (Nesterov)         2 mul, 2 add
   *                     w - lr b            (plain)            1 mul, 1 add
   *   sgd               w - lr g                               1 mul, 1 add
   * in the state format (float32 without one), then the conversions from the float32 result to each
   * quantized buffer, and the kernel's memory traffic: each buffer it reads or writes once, in the bits
   * of its values (gradient and weight: their value format; state and forward copy: their packed
   * format).
   */
  private count(e: Entry, weightRead: { format: string; bits: number }): void {
    const n = e.param.size;
    const fmt = this.quant.state?.format.name ?? 'fp32';
    const rt = this.rt;
    const ops = { mul: 0, add: 0, div: 0, sqrt: 0 };
    if (this.lossScale !== 1) ops.div += 1;
    if (this.weightDecay !== 0) {
      ops.mul += 1;
      ops.add += 1;
    }
    if (this.rule.rule === 'adam') {
      ops.mul += 2 + 3 + 1;
      ops.add += 1 + 1 + 2;
      ops.div += 2;
      ops.sqrt += 1;
    } else if (this.rule.momentum) {
      if (e.steps > 1) {
        ops.mul += 2;
        ops.add += 1;
      }
      ops.mul += this.rule.nesterov ? 2 : 1;
      ops.add += this.rule.nesterov ? 2 : 1;
    } else {
      ops.mul += 1;
      ops.add += 1;
    }
    for (const kind of ['mul', 'add', 'div', 'sqrt'] as const) rt.count({ kind, format: fmt, count: n * ops[kind] });
    const conv = (q: Quant | null, times: number) => q && rt.count({ kind: 'convert', from: 'fp32', to: q.format.name, rounding: q.rounding, count: n * times });
    conv(this.quant.grad, 1);
    conv(this.quant.state, e.states.length);
    conv(this.quant.master, 1);
    conv(this.quant.forward, 1);
    const mem = (direction: 'read' | 'write', role: TensorRole, format: string, bits: number) => rt.count({ kind: 'memory', direction, role, format, bits: n * bits });
    const g = e.param.grad!;
    mem('read', 'gradients', g.valueFormat, g.valueBits);
    mem('read', 'weights', weightRead.format, weightRead.bits);
    for (const t of e.states) {
      mem('read', 'optimizer_state', t.valueFormat, t.valueBits);
      mem('write', 'optimizer_state', t.valueFormat, t.valueBits);
    }
    mem('write', 'weights', e.param.valueFormat, e.param.valueBits);
    if (e.copy) mem('write', 'weights', e.copy.valueFormat, e.copy.valueBits);
  }
}
