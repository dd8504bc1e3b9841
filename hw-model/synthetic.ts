// SYNTHETIC op counts: built from a described model shape and recipe by simple shape arithmetic, so the
// comparison machinery can be exercised before the engine records real counts. Every file it builds
// says so (run.device = 'synthetic', run.name starts with 'synthetic-'), and reports print it. These
// are not measurements and not the engine's counts: the engine's recorder (engine/record/) is the
// source of truth for section 4 of the hardware-model issue.
//
// What one training step counts per layer (B = batch, M = MACs per sample, P = parameters,
// I / O = input / output elements per sample), times the layer's `timesPerStep`:
//   forward:   B*M MACs (activations x weights -> accumulator); B*O conversions accumulator -> output
//              format, and output -> activation format when they differ; B*O bias adds and B*O
//              activations in the output format; memory: read P weights, read B*I activations,
//              write B*O activations.
//   backward:  B*M MACs errors x weights (input errors) + B*M MACs errors x activations (weight
//              gradients); B*O multiplies (activation derivative) in the output format; P conversions
//              accumulator -> master format (gradients); memory: read P weights, B*O errors, B*I
//              activations; write B*I errors, P gradients.
//   optimizer: momentum SGD, per parameter 2 mul + 2 add in the master format and a conversion master
//              -> weight format; memory: read P gradients, read+write P optimizer state, write P weights.
// Deployment (phase inference) counts the forward pass only, with the output activation optionally the
// fast posit tanh. Memory traffic uses storage containers (8, 16 or 32 bits per element).

import { OPCOUNTS_SCHEMA, OPCOUNTS_VERSION, type OpCountsFile, type OpEntry, type Phase } from '../engine/record/schema.ts';
import { parseHwFormat } from './formats.ts';

export type Activation = 'tanh' | 'sigmoid' | 'relu' | 'leaky_relu';

export interface SyntheticLayer {
  readonly name: string;
  readonly macsPerSample: number;
  readonly params: number;
  readonly inputsPerSample: number;
  readonly outputsPerSample: number;
  readonly activation?: Activation;
  /** Passes per training step (a discriminator sees a real and a fake batch: 2). Default 1. */
  readonly timesPerStep?: number;
  /** Counted in deployment (the generator's layers). */
  readonly deployed: boolean;
}

/** A fully connected layer. */
export function dense(name: string, inF: number, outF: number, o: { activation?: Activation; timesPerStep?: number; deployed: boolean }): SyntheticLayer {
  return { name, macsPerSample: inF * outF, params: inF * outF + outF, inputsPerSample: inF, outputsPerSample: outF, ...o };
}

/** A convolution (or transposed convolution, counted by its output) with square k x k kernels. */
export function conv(
  name: string,
  s: { cin: number; cout: number; k: number; hIn: number; wIn: number; hOut: number; wOut: number; transposed?: boolean },
  o: { activation?: Activation; timesPerStep?: number; deployed: boolean },
): SyntheticLayer {
  // A transposed convolution does cin*cout*k*k MACs per input pixel; a convolution per output pixel.
  const pixels = s.transposed ? s.hIn * s.wIn : s.hOut * s.wOut;
  return {
    name,
    macsPerSample: s.cin * s.cout * s.k * s.k * pixels,
    params: s.cin * s.cout * s.k * s.k + s.cout,
    inputsPerSample: s.cin * s.hIn * s.wIn,
    outputsPerSample: s.cout * s.hOut * s.wOut,
    ...o,
  };
}

export interface SyntheticRecipe {
  readonly name: string;
  /** Formats entering the MACs: weights and activations (forward), errors (backward). */
  readonly weights: string;
  readonly activations: string;
  readonly errors: string;
  /** Accumulator: a format, or 'quire'. */
  readonly accumulator: string;
  /** Format matmul outputs are rounded to, where bias, activation and batch-norm run. */
  readonly output: string;
  /** Master weights and optimizer state. */
  readonly master: string;
  /** Deployment: the output layer's tanh as the fast posit bit trick, in this container format. */
  readonly fastTanh?: string;
}

export interface SyntheticModel {
  readonly name: string;
  readonly layers: readonly SyntheticLayer[];
}

function storageBits(format: string): number {
  const b = parseHwFormat(format).bits;
  return b <= 8 ? 8 : b <= 16 ? 16 : 32;
}

class Counter {
  readonly records: OpCountsFile['records'][number][] = [];
  constructor(private readonly scale: number) {}
  op(phase: Phase, layer: string, e: OpEntry): void {
    const amount = e.kind === 'memory' ? e.bits : e.count;
    if (amount === 0) return;
    const scaled = e.kind === 'memory' ? { ...e, bits: e.bits * this.scale } : { ...e, count: e.count * this.scale };
    this.records.push({ ...scaled, phase, layer } as OpCountsFile['records'][number]);
  }
}

function accumulatorOf(r: SyntheticRecipe): string {
  return r.accumulator === 'quire' ? 'quire' : r.accumulator;
}

function forward(c: Counter, phase: Phase, l: SyntheticLayer, r: SyntheticRecipe, batch: number, fastTanh: string | undefined): void {
  const B = batch;
  const acc = accumulatorOf(r);
  c.op(phase, l.name, { kind: 'mac', a: r.activations, b: r.weights, acc, count: B * l.macsPerSample });
  const accFormat = acc === 'quire' ? undefined : acc;
  if (acc === 'quire') c.op(phase, l.name, { kind: 'quire_round', format: r.output, quireBits: 16 * parseHwFormat(r.activations).bits, count: B * l.outputsPerSample });
  else if (accFormat !== r.output) c.op(phase, l.name, { kind: 'convert', from: accFormat!, to: r.output, rounding: 'nearest', count: B * l.outputsPerSample });
  c.op(phase, l.name, { kind: 'add', format: r.output, count: B * l.outputsPerSample });
  if (l.activation) {
    const fast = fastTanh !== undefined && l.activation === 'tanh';
    c.op(phase, l.name, { kind: 'activation', fn: l.activation, format: fast ? fastTanh : r.output, fast, count: B * l.outputsPerSample });
  }
  if (r.output !== r.activations) c.op(phase, l.name, { kind: 'convert', from: r.output, to: r.activations, rounding: 'nearest', count: B * l.outputsPerSample });
  c.op(phase, l.name, { kind: 'memory', direction: 'read', role: 'weights', format: r.weights, bits: l.params * storageBits(r.weights) });
  c.op(phase, l.name, { kind: 'memory', direction: 'read', role: 'activations', format: r.activations, bits: B * l.inputsPerSample * storageBits(r.activations) });
  c.op(phase, l.name, { kind: 'memory', direction: 'write', role: 'activations', format: r.activations, bits: B * l.outputsPerSample * storageBits(r.activations) });
}

function run(name: string, model: SyntheticModel, recipe: SyntheticRecipe, command: 'train' | 'deploy', steps: number, batch: number, records: OpCountsFile['records']): OpCountsFile {
  return {
    schema: OPCOUNTS_SCHEMA,
    version: OPCOUNTS_VERSION,
    run: { name: `synthetic-${name}`, command, model: model.name, recipe: recipe.name, steps, batch, device: 'synthetic', created: new Date(0).toISOString() },
    records,
  };
}

/** Training counts for `steps` steps. */
export function synthesizeTraining(model: SyntheticModel, recipe: SyntheticRecipe, o: { batch: number; steps: number }): OpCountsFile {
  const B = o.batch;
  const acc = accumulatorOf(recipe);
  const gradAcc = acc === 'quire' ? 'quire' : acc;
  const records: OpCountsFile['records'] = [];
  for (const l of model.layers) {
    const c = new Counter(o.steps * (l.timesPerStep ?? 1));
    forward(c, 'forward', l, recipe, B, undefined);
    c.op('backward', l.name, { kind: 'mac', a: recipe.errors, b: recipe.weights, acc: gradAcc, count: B * l.macsPerSample });
    c.op('backward', l.name, { kind: 'mac', a: recipe.errors, b: recipe.activations, acc: gradAcc, count: B * l.macsPerSample });
    c.op('backward', l.name, { kind: 'mul', format: recipe.output, count: B * l.outputsPerSample });
    if (acc === 'quire') c.op('backward', l.name, { kind: 'quire_round', format: recipe.master, quireBits: 16 * parseHwFormat(recipe.errors).bits, count: l.params });
    else if (acc !== recipe.master) c.op('backward', l.name, { kind: 'convert', from: acc, to: recipe.master, rounding: 'nearest', count: l.params });
    const mem = (direction: 'read' | 'write', role: 'weights' | 'errors' | 'activations' | 'gradients' | 'optimizer_state', format: string, elements: number, phase: Phase = 'backward') =>
      c.op(phase, l.name, { kind: 'memory', direction, role, format, bits: elements * storageBits(format) });
    mem('read', 'weights', recipe.weights, l.params);
    mem('read', 'errors', recipe.errors, B * l.outputsPerSample);
    mem('read', 'activations', recipe.activations, B * l.inputsPerSample);
    mem('write', 'errors', recipe.errors, B * l.inputsPerSample);
    mem('write', 'gradients', recipe.master, l.params);
    // The optimizer runs once per step, whatever timesPerStep says.
    const opt = new Counter(o.steps);
    opt.op('optimizer', l.name, { kind: 'mul', format: recipe.master, count: 2 * l.params });
    opt.op('optimizer', l.name, { kind: 'add', format: recipe.master, count: 2 * l.params });
    if (recipe.master !== recipe.weights) opt.op('optimizer', l.name, { kind: 'convert', from: recipe.master, to: recipe.weights, rounding: 'nearest', count: l.params });
    const optMem = (direction: 'read' | 'write', role: 'weights' | 'gradients' | 'optimizer_state', format: string) =>
      opt.op('optimizer', l.name, { kind: 'memory', direction, role, format, bits: l.params * storageBits(format) });
    optMem('read', 'gradients', recipe.master);
    optMem('read', 'optimizer_state', recipe.master);
    optMem('write', 'optimizer_state', recipe.master);
    optMem('write', 'weights', recipe.weights);
    records.push(...c.records, ...opt.records);
  }
  return run(`${model.name}-train-${recipe.name}`, model, recipe, 'train', o.steps, B, records);
}

/** Deployment counts (generator forward passes) for `passes` batches. */
export function synthesizeDeployment(model: SyntheticModel, recipe: SyntheticRecipe, o: { batch: number; passes: number }): OpCountsFile {
  const records: OpCountsFile['records'] = [];
  for (const l of model.layers.filter((x) => x.deployed)) {
    const c = new Counter(o.passes);
    forward(c, 'inference', l, recipe, o.batch, recipe.fastTanh);
    records.push(...c.records);
  }
  return run(`${model.name}-deploy-${recipe.name}`, model, recipe, 'deploy', o.passes, o.batch, records);
}
