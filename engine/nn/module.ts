// The module tree: named parameters, buffers and child modules, train/eval mode, state()/load() with
// PyTorch's dotted names ("0.weight", "bn.running_mean"), and the precision hook.
//
// Precision hook (what a precision recipe builds on). A LayerHook set on a module (setHook, which
// applies to the whole subtree) sees two points of every forward pass:
//   operands(site, o)  Linear / Conv2d / ConvTranspose2d only: before the matmul/conv, with
//                      o = { input, weight, bias, kernel }. It returns the operands to use instead:
//                      e.g. input and weight through a Quantizer op (p8e2 forward, p8e2 errors), the
//                      weight replaced by the optimizer's packed forward copy (optimizer.forwardWeight),
//                      kernel options for the fused epilogue (output format p16e2, quire accumulation).
//   replace(site, x)   every layer: before it runs, with its input x. A tensor returned here is
//                      used instead of the layer's own result (null: the layer runs as usual). For
//                      hooks that swap how a layer computes, e.g. deployment's fast posit tanh in
//                      place of the generator's output Tanh (gan/deploy/hook.ts).
//   output(site, y)    every layer: after it computed y (e.g. re-quantize a batch-norm output).
//   outputRounding(site)  every layer, before it runs: the rounding output() will apply to its
//                      result, if any. The layer may apply it in the kernel that computes the result
//                      (engine/ops/round.ts); output() then finds the result on the lattice and adds
//                      no pass. Layers that cannot fuse it ignore it.
// `site` names the layer (its dotted path and kind) so a recipe can treat layers differently.
// All run inside the layer's op-count scope. Without a hook a layer runs in float32.

import { parameter } from '../autograd/tape.ts';
import type { LayerKind } from './kinds.ts';
import type { Epilogue, MatmulOptions } from '../ops/matmul.ts';
import type { RoundSpec } from '../ops/round.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';

/** Where a hook is called from. */
export interface Site {
  readonly module: Module;
  /** Dotted path from the root module ('' for the root). */
  readonly path: string;
  /** The layer's declared kind, e.g. 'Linear' (engine/nn/kinds.ts). */
  readonly kind: LayerKind;
}

/** What a recipe may ask of a Linear / Conv layer's kernel: the fused epilogue's output format and
 *  the accumulation mode (passed through to linear / conv2d / convTranspose2d). */
export interface KernelOptions {
  output?: Epilogue['output'];
  accumulate?: MatmulOptions['accumulate'];
}

/** The operands a Linear / Conv layer hands to its kernel. (The parameter K only keeps hooks written
 *  as generic methods, operands<K>(site, o: Operands<K>), compatible: layers use KernelOptions.) */
export interface Operands<K = KernelOptions> {
  input: Tensor;
  weight: Tensor;
  bias: Tensor | null;
  kernel: K;
}

export interface LayerHook {
  operands?(site: Site, o: Operands): Operands;
  /** `input` is what the layer's forward received (a Tensor, or indices for an Embedding). */
  replace?(site: Site, input: unknown): Tensor | null;
  output?(site: Site, y: Tensor): Tensor;
  /** The forward rounding output() applies to this layer's result (null: none), for the layer to fuse. */
  outputRounding?(site: Site): RoundSpec | null;
}

/** state(): every parameter and buffer by dotted name. */
export type StateDict = Record<string, Float32Array>;

export abstract class Module {
  /** What this module is, e.g. 'Linear' or 'CganGenerator', for messages (and, on a Layer, for the
   *  precision policy). A string literal declared by each class: class names do not survive a
   *  minifying bundler. */
  abstract readonly kind: string;
  training = true;
  hook: LayerHook | null = null;
  private parent: Module | null = null;
  private localName = '';
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  constructor(readonly rt: Runtime) {}

  /** Dotted path from the root ('' for the root). */
  get path(): string {
    const up = this.parent?.path;
    return up ? `${up}.${this.localName}` : this.localName;
  }

  /** Registers a parameter: uploads `data` as a leaf that requires grad, kept out of scopes. */
  protected addParameter(name: string, data: Float32Array, shape: readonly number[]): Tensor {
    this.checkName(name);
    const t = parameter(this.rt.keep(Tensor.fromArray(this.rt, data, shape, name)), name);
    this.params.set(name, t);
    return t;
  }

  /** Registers a buffer: state that is saved and loaded but not trained (running statistics). */
  protected addBuffer(name: string, data: Float32Array, shape: readonly number[]): Tensor {
    this.checkName(name);
    const t = this.rt.keep(Tensor.fromArray(this.rt, data, shape, name));
    t.name = name;
    this.buffers.set(name, t);
    return t;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    if (m.parent) throw new Error(`module '${name}' already belongs to '${m.parent.path || '(root)'}'`);
    if (m.rt !== this.rt) throw new Error(`module '${name}' was built on another runtime`);
    m.parent = this;
    m.localName = name;
    this.children.set(name, m);
    return m;
  }

  private checkName(name: string): void {
    if (!name || name.includes('.')) throw new Error(`invalid member name '${name}' (non-empty, no dots)`);
    if (this.params.has(name) || this.buffers.has(name) || this.children.has(name)) throw new Error(`'${name}' is already registered on ${this.kind}`);
  }

  /** [dotted name, tensor] of every parameter, depth first in registration order. */
  namedParameters(): [string, Tensor][] {
    return this.collect((m) => m.params);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    return this.collect((m) => m.buffers);
  }

  /** This module and its descendants, depth first. */
  modules(): Module[] {
    return [this, ...[...this.children.values()].flatMap((c) => c.modules())];
  }

  private collect(pick: (m: Module) => Map<string, Tensor>, prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...pick(this)].map(([k, t]) => [prefix + k, t]);
    for (const [k, c] of this.children) out.push(...c.collect(pick, `${prefix}${k}.`));
    return out;
  }

  /** Sets training mode on the whole subtree (batch norm statistics, dropout). */
  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Sets the precision hook on the whole subtree (null removes it). */
  setHook(hook: LayerHook | null): this {
    for (const m of this.modules()) m.hook = hook;
    return this;
  }

  /** Runs `fn` with op counts attributed to this module's name (nested modules nest names). */
  protected scoped<T>(fn: () => T): T {
    return this.localName ? this.rt.inLayer(this.localName, fn) : fn();
  }

  /** Every parameter and buffer, read back as float32 (submits pending work). */
  async state(): Promise<StateDict> {
    const out: StateDict = {};
    for (const [k, t] of [...this.namedParameters(), ...this.namedBuffers()]) out[k] = await t.read();
    return out;
  }

  /**
   * Loads a state() result. Every parameter and buffer must be present with its number of values;
   * missing, unexpected and mis-sized entries are errors naming them (nothing is written then).
   * An optimizer with master-format or forward-copy weights needs sync() afterwards.
   */
  load(state: Readonly<Record<string, ArrayLike<number>>>): void {
    const own = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    const missing = [...own.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    if (missing.length || unexpected.length) {
      const parts = [];
      if (missing.length) parts.push(`missing ${missing.map((k) => `'${k}'`).join(', ')}`);
      if (unexpected.length) parts.push(`unexpected ${unexpected.map((k) => `'${k}'`).join(', ')}`);
      throw new Error(`${this.kind}.load: ${parts.join('; ')}`);
    }
    for (const [k, t] of own) {
      const v = state[k]!;
      if (v.length !== t.size) throw new Error(`${this.kind}.load: '${k}' has ${v.length} values, but the module's is [${t.shape.join(', ')}] (${t.size} values)`);
    }
    // queue.writeBuffer runs ahead of work still recorded in the encoder: submit that first, so it
    // reads the old values and everything recorded later reads the new ones.
    this.rt.flush();
    for (const [k, t] of own) {
      const f = Float32Array.from(state[k]!);
      if (f.length) this.rt.device.queue.writeBuffer(t.buffer, 0, f.buffer, f.byteOffset, f.byteLength);
    }
  }

  /** Frees every parameter (and its gradient) and buffer of the subtree. */
  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
      t.grad?.dispose();
      t.grad = null;
      t.dispose();
    }
  }
}

/** A module with a forward pass; hooks and op-count naming are applied around `run`. */
export abstract class Layer<I = Tensor> extends Module {
  /** The layer's kind: one of LAYER_KINDS (engine/nn/kinds.ts), which the precision policy classifies. */
  abstract override readonly kind: LayerKind;

  get site(): Site {
    return { module: this, path: this.path, kind: this.kind };
  }

  forward(x: I): Tensor {
    return this.scoped(() => {
      const round = this.rt.fuseRounding ? (this.hook?.outputRounding?.(this.site) ?? null) : null;
      const y = this.hook?.replace?.(this.site, x) ?? this.run(x, round);
      return this.hook?.output ? this.hook.output(this.site, y) : y;
    });
  }

  /** The layer's computation. `round`: the rounding the hook will apply to the result, which the
   *  layer may apply in the kernel producing it (or ignore). */
  protected abstract run(x: I, round: RoundSpec | null): Tensor;

  /** The hook's view of a Linear / Conv layer's operands. */
  protected operands(o: Operands): Operands {
    return this.hook?.operands ? this.hook.operands(this.site, o) : o;
  }
}
