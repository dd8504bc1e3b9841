// The runtime ties one GPU device to the engine's state: the buffer pool, kernel parameters, the
// command encoder that a training step records into, tensor scopes, the autograd switch and op
// counting. Ops record dispatches of kernel variants (shaders/kernel.ts) with `run` into the current
// compute pass, submitted when a result is needed on the CPU (`read`), on `flush()`, and on a GPU every
// `submitEvery` dispatches (defaultSubmitEvery). It is the one way kernels reach the GPU: training,
// benchmarks (timeDispatches), the quantize command and the codec tests all dispatch through it.
// Bind groups are cached (kernels/bind-groups.ts): the pool and the uniform arena hand out buffers and
// slots in an order that repeats with the ops, so a repeated training step reuses all of them.
//
// Several runtimes may share one Gpu (e.g. two models trained side by side in the browser); each has its
// own pool, encoder and scopes, so their interleaved async steps do not disturb each other.

import type { BindingValues, KernelVariant, ParamTable, ParamValuesOf } from '../shaders/kernel.ts';
import type { Gpu } from './device/gpu.ts';
import { BindGroupCache, type BindGroupStats } from './kernels/bind-groups.ts';
import { kernel, type Binding, type Kernel } from './kernels/cache.ts';
import { median, PassTimer, type PassTiming, type TimeOptions } from './kernels/timing.ts';
import { OpRecorder } from './record/recorder.ts';
import type { OpEntry, Phase, TensorRole } from './record/schema.ts';
import { BufferPool, type PoolOptions, type PoolStats } from './tensor/pool.ts';
import { UniformArena } from './tensor/uniforms.ts';

/** Anything that can be disposed and tracked by a scope (tensors). */
export interface Disposable {
  dispose(): void;
  readonly disposed: boolean;
}

/**
 * Dispatches recorded before the encoder is submitted on its own. On a GPU, submitting as the step is
 * recorded lets the first kernels run while the host records the rest, so little is left to wait for
 * when the step reads its losses back. A software adapter runs submitted work on the same CPU cores
 * the host records on: there a cgan p8+ step ran at 0.82 it/s submitting every 64 dispatches against
 * 1.05 it/s submitting once per read back (lavapipe, 2 cores), so it only submits to bound memory.
 */
export function defaultSubmitEvery(gpu: Gpu): number {
  return gpu.adapter.software ? 4096 : 64;
}

export interface RuntimeOptions extends PoolOptions {
  /** Dispatches per submit while recording (default defaultSubmitEvery). */
  submitEvery?: number;
}

export class Runtime {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly uniforms: UniformArena;
  /** Whether ops record autograd nodes (false inside noGrad). */
  gradEnabled = true;
  /** Op counting for the hardware model; undefined when not recording. */
  recorder: OpRecorder | undefined;
  /** Current phase and layer that op counts are attributed to. */
  phase: Phase = 'forward';
  layer = '';
  /** Seed and next counter of the counter-based generator used by stochastic rounding and dropout
   *  (docs/number-formats.md). Each random op reserves a block of counters, so results depend only
   *  on (seed, order of ops): save both in checkpoints to resume a run bit for bit. */
  randomSeed = 0;
  randomCounter = 0;
  /** Whether quantizers are fused into the kernels that produce their inputs (engine/ops/round.ts;
   *  the same bits either way). Off: every quantizer runs its own pass (tests compare the two). */
  fuseRounding = true;
  /** Dispatches recorded so far (a step's count is a machine-independent measure of its host work). */
  dispatched = 0;

  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private dispatches = 0;
  private readonly submitEvery: number;
  /** Serial of the submission being recorded (submissions so far: serial - 1). */
  private serial = 1;
  private readonly bindGroups: BindGroupCache;
  private readonly scopes: Set<Disposable>[] = [];
  private profiler: { timer: PassTimer; labels: string[] } | undefined;
  /** Inside timeDispatches' record: no submit may end the timed pass. */
  private timing = false;
  /** Pipelines of the kernel variants run so far (variants are memoized objects). */
  private readonly variants = new WeakMap<KernelVariant<ParamTable, string, string>, Kernel>();

  constructor(
    readonly gpu: Gpu,
    options: RuntimeOptions = {},
  ) {
    this.submitEvery = options.submitEvery ?? defaultSubmitEvery(gpu);
    if (!Number.isInteger(this.submitEvery) || this.submitEvery < 1) throw new Error(`Runtime: submitEvery must be a positive integer, got ${options.submitEvery}`);
    this.device = gpu.device;
    this.bindGroups = new BindGroupCache(gpu);
    // A buffer released while nothing is recorded can only have been used by submitted work.
    const lastUse = () => (this.encoder ? this.serial : this.serial - 1);
    this.pool = new BufferPool(this.device, lastUse, () => this.serial - 1, () => this.bindGroups.clear(), options);
    this.uniforms = new UniformArena(this.device);
  }

  /**
   * Records one dispatch of a kernel variant (shaders/kernel.ts): `params` packed by the variant's
   * parameter table, `buffers` bound by name in the variant's binding order. `label` names the
   * pipeline when the variant is first compiled (default: the variant's own label).
   */
  run<V extends KernelVariant<ParamTable, string, string>>(
    v: V,
    params: ParamValuesOf<V>,
    buffers: BindingValues<V, Binding>,
    workgroups: readonly [number, number?, number?],
    label?: string,
  ): void {
    let k = this.variants.get(v);
    if (!k) this.variants.set(v, (k = kernel(this.gpu, label ?? v.label, v.code)));
    // Binding 0: the parameter block (when the variant has one); then the storage buffers by name.
    const bindings: Binding[] = [];
    if (v.params) {
      const s = this.uniforms.slot(v.params.pack(params as never, v.label));
      bindings.push({ buffer: s.buffer, offset: s.offset, size: s.size });
    }
    const named = buffers as Readonly<Record<string, Binding | undefined>>;
    for (const b of v.bindings) {
      const buffer = named[b.name];
      if (!buffer) throw new Error(`${v.label}: no buffer given for binding '${b.name}' (the variant binds ${v.bindings.map((x) => x.name).join(', ')})`);
      bindings.push(buffer);
    }
    if (this.profiler) this.endPass();
    const pass = this.profiler ? this.profiler.timer.beginPass(this.commandEncoder(), k.label) : this.computePass();
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, this.bindGroups.get(k, bindings));
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    this.dispatched++;
    if (this.profiler) {
      pass.end();
      this.profiler.labels.push(k.label);
    }
    if (++this.dispatches >= this.submitEvery && !this.timing) this.flush();
  }

  /** The current command encoder, with no compute pass open (for copies and query resolves). */
  commandEncoder(): GPUCommandEncoder {
    this.endPass();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: `posit-gan#${this.serial}` });
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.commandEncoder().beginComputePass({ label: `posit-gan#${this.serial}` });
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = undefined;
    }
  }

  /** Submits everything recorded so far. */
  flush(): void {
    this.endPass();
    if (!this.encoder) return;
    this.uniforms.upload(this.device.queue);
    this.device.queue.submit([this.encoder.finish()]);
    this.serial++;
    this.encoder = undefined;
    this.dispatches = 0;
  }

  /** Submits and waits for the queue, then reports any GPU error. */
  async sync(what = 'GPU work'): Promise<void> {
    this.flush();
    await this.gpu.sync(what);
  }

  /** Submits pending work and reads `bytes` of a buffer back. */
  async readBuffer(buffer: GPUBuffer, bytes: number, what: string, offset = 0): Promise<ArrayBuffer> {
    this.flush();
    return this.gpu.read(buffer, offset, bytes, what);
  }

  /** Reserves `n` consecutive random counters and returns the first (wraps mod 2^32). */
  nextCounter(n: number): number {
    const c = this.randomCounter;
    this.randomCounter = (c + n) >>> 0;
    return c;
  }

  // ---- kernel profiling ------------------------------------------------------------------------

  /** Starts timing every dispatch on its own (one compute pass each, GPU timestamps). Slower than
   *  normal recording; for finding where a step's time goes. Needs the timestamp-query feature. */
  startProfile(capacity = 2048): void {
    if (this.profiler) throw new Error('a kernel profile is already running');
    this.flush();
    this.profiler = { timer: new PassTimer(this.gpu, capacity), labels: [] };
  }

  /** Stops profiling: time per kernel label (sum, count), most expensive first. */
  async stopProfile(): Promise<{ kernel: string; dispatches: number; ms: number }[]> {
    const p = this.profiler;
    if (!p) throw new Error('no kernel profile is running (call startProfile first)');
    this.flush();
    this.profiler = undefined;
    const enc = this.device.createCommandEncoder({ label: 'profile:resolve' });
    p.timer.resolve(enc);
    this.device.queue.submit([enc.finish()]);
    const ns = await p.timer.read();
    p.timer.destroy();
    const by = new Map<string, { kernel: string; dispatches: number; ms: number }>();
    p.labels.forEach((label, i) => {
      const e = by.get(label) ?? { kernel: label, dispatches: 0, ms: 0 };
      e.dispatches++;
      e.ms += ns[i]! / 1e6;
      by.set(label, e);
    });
    return [...by.values()].sort((a, b) => b.ms - a.ms);
  }

  /**
   * Times the dispatches `record` makes through this runtime (benchmarks): `warmup` untimed runs,
   * then `reps` timed ones, each run in a compute pass of its own. With the timestamp-query feature
   * the timed runs go into one submission and each pass carries timestamps; otherwise each run is
   * submitted and waited for alone, on the wall clock (which includes submission and driver overhead:
   * the result says which method produced it).
   */
  async timeDispatches(label: string, record: () => void, options: TimeOptions = {}): Promise<PassTiming> {
    const reps = options.reps ?? 5;
    const warmup = options.warmup ?? 1;
    if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`reps must be a positive integer, got ${reps}`);
    if (this.profiler) throw new Error('timeDispatches: a kernel profile is running');
    this.flush();
    const run = (timer?: PassTimer) => {
      const encoder = this.commandEncoder();
      this.pass = timer ? timer.beginPass(encoder, label) : encoder.beginComputePass({ label });
      this.timing = true;
      try {
        record();
      } finally {
        this.timing = false;
        this.endPass();
      }
    };
    for (let i = 0; i < warmup; i++) run();
    await this.sync(`${label}: warm-up`);
    if (this.gpu.hasTimestamps) {
      const timer = new PassTimer(this.gpu, reps);
      try {
        for (let i = 0; i < reps; i++) run(timer);
        timer.resolve(this.commandEncoder());
        this.flush();
        const ns = await timer.read();
        return { method: 'timestamp', ns, medianNs: median(ns) };
      } finally {
        timer.destroy();
      }
    }
    const ns: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      run();
      await this.sync(label);
      ns.push((performance.now() - t0) * 1e6);
    }
    return { method: 'wall-clock', ns, medianNs: median(ns) };
  }

  // ---- scopes -------------------------------------------------------------------------------

  /** Registers a new tensor with the innermost scope (if any). */
  track(t: Disposable): void {
    this.scopes[this.scopes.length - 1]?.add(t);
  }

  /** Takes a tensor out of the innermost scope, so the scope's end does not dispose it. */
  keep<T extends Disposable>(t: T): T {
    this.scopes[this.scopes.length - 1]?.delete(t);
    return t;
  }

  /**
   * Runs `fn` and disposes every tensor created inside it, except those reachable from its result
   * (a tensor, or an array / plain object of them, one level deep). Kept tensors move to the
   * enclosing scope. Works for sync and async functions.
   */
  scope<T>(fn: () => T): T {
    const mine = new Set<Disposable>();
    this.scopes.push(mine);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.endScope(mine, undefined);
      throw e;
    }
    if (result instanceof Promise) {
      return result.then(
        (r) => {
          this.endScope(mine, r);
          return r;
        },
        (e) => {
          this.endScope(mine, undefined);
          throw e;
        },
      ) as T;
    }
    this.endScope(mine, result);
    return result;
  }

  private endScope(mine: Set<Disposable>, result: unknown): void {
    const i = this.scopes.lastIndexOf(mine);
    if (i >= 0) this.scopes.splice(i, 1);
    const kept = new Set<Disposable>();
    const visit = (v: unknown) => {
      if (v && typeof v === 'object' && 'dispose' in v && 'disposed' in v) kept.add(v as Disposable);
    };
    if (Array.isArray(result)) result.forEach(visit);
    else if (result && typeof result === 'object' && !('dispose' in result)) Object.values(result).forEach(visit);
    else visit(result);
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of mine) {
      if (kept.has(t)) parent?.add(t);
      else if (!t.disposed) t.dispose();
    }
  }

  /** Runs `fn` with autograd recording off. */
  noGrad<T>(fn: () => T): T {
    const was = this.gradEnabled;
    this.gradEnabled = false;
    try {
      return fn();
    } finally {
      this.gradEnabled = was;
    }
  }

  // ---- op counts ----------------------------------------------------------------------------

  /** Adds to the op counts (no-op unless a recorder is attached). */
  count(entry: OpEntry): void {
    this.recorder?.add(entry, this.phase, this.layer);
  }

  /** What the tensors an op reads or writes carry, by phase (for memory-traffic counts). */
  get activationRole(): TensorRole {
    return this.phase === 'backward' ? 'errors' : this.phase === 'optimizer' ? 'optimizer_state' : 'activations';
  }

  /** Runs `fn` with op counts attributed to `layer` (nested names join with '.'). */
  inLayer<T>(layer: string, fn: () => T): T {
    const was = this.layer;
    this.layer = was ? `${was}.${layer}` : layer;
    try {
      return fn();
    } finally {
      this.layer = was;
    }
  }

  /** Bind groups reused (hits) and created (misses) so far. */
  bindGroupStats(): BindGroupStats {
    return this.bindGroups.stats();
  }

  memory(): PoolStats & { uniformBytes: number } {
    return { ...this.pool.report(), uniformBytes: this.uniforms.bytesAllocated };
  }
}
