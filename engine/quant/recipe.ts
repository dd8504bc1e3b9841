// Precision recipes: named, documented, serialisable descriptions of where training quantizes, to
// which format, with which exponent bias, loss scale and rounding. A recipe is plain JSON data; the
// engine reads it through `resolveRecipe`, which validates it and parses every format.
//
// Quantization points (QPyTorch semantics, docs/method.md section 5), for each matmul / conv layer:
//   matmul.input    the activations entering the layer (forward)
//   matmul.weight   the weights the layer multiplies with (a packed forward copy, with exponent bias t)
//   matmul.output   the layer's output, rounded once after wide accumulation
//   matmul.error    the gradient arriving at the layer's output, before the backward matmuls
//   matmul.inputError  the gradient the layer passes to its input (the backward matmul's output)
//   elementwise     outputs of the other ops (batch norm, activations, embeddings) and their errors
//   gradient        weight gradients, before the optimizer uses them
//   optimizerState  optimizer state (Adam m and v, SGD momentum)
//   masterWeights   the weights the optimizer updates ("accumulator" in the paper)
// `null` means "not quantized" (float32).

import { parseFormat, type Format, type Rounding } from '../../formats/descriptor.ts';

export type LossScale =
  | { mode: 'none' }
  | { mode: 'fixed'; log2: number }
  /** The paper's posit loss scaling: s = 2^t from the first iteration's gradient histogram, then fixed. */
  | { mode: 'calibrate' }
  /** Mixed-precision dynamic scaling: start at 2^initLog2, halve on overflow (skipping the step),
   *  double after `interval` good steps. */
  | { mode: 'dynamic'; initLog2: number; interval: number };

export type WeightBias =
  | { mode: 'none' }
  | { mode: 'fixed'; t: number }
  /** The paper's exponent bias: t from the first iteration's weight histogram, per network or per layer. */
  | { mode: 'calibrate'; scope: 'network' | 'layer' };

export interface RecipeSpec {
  name: string;
  description: string;
  matmul: {
    input: string | null;
    weight: string | null;
    output: string | null;
    error: string | null;
    inputError: string | null;
    accumulate: 'f32' | 'quire';
  };
  elementwise: string | null;
  gradient: string | null;
  optimizerState: string | null;
  masterWeights: string | null;
  rounding: Rounding;
  weightBias: WeightBias;
  lossScale: LossScale;
}

/** A validated recipe with parsed formats. */
export interface Recipe {
  readonly spec: RecipeSpec;
  readonly name: string;
  readonly matmul: {
    input: Format | null;
    weight: Format | null;
    output: Format | null;
    error: Format | null;
    inputError: Format | null;
    accumulate: 'f32' | 'quire';
  };
  readonly elementwise: Format | null;
  readonly gradient: Format | null;
  readonly optimizerState: Format | null;
  readonly masterWeights: Format | null;
  readonly rounding: Rounding;
  readonly weightBias: WeightBias;
  readonly lossScale: LossScale;
}

const none = { mode: 'none' } as const;

function uniform(name: string, description: string, f: string | null, extra: Partial<RecipeSpec> = {}): RecipeSpec {
  return {
    name,
    description,
    matmul: { input: f, weight: f, output: f, error: f, inputError: f, accumulate: 'f32' },
    elementwise: f,
    gradient: f,
    optimizerState: f,
    masterWeights: f,
    rounding: 'nearest',
    weightBias: none,
    lossScale: none,
    ...extra,
  };
}

/** The hybrid 8-bit recipes: `fwd` for forward tensors, `bwd` for errors and gradients, 16-bit state. */
function hybrid8(name: string, description: string, fwd: string, bwd: string, wide: string): RecipeSpec {
  return {
    name,
    description,
    matmul: { input: fwd, weight: fwd, output: wide, error: bwd, inputError: wide, accumulate: 'f32' },
    elementwise: wide,
    gradient: wide,
    optimizerState: wide,
    masterWeights: wide,
    rounding: 'nearest',
    weightBias: none,
    lossScale: none,
  };
}

/** The paper's recipe (METHOD.md section 5); P8 and the bias/scale ablations are built from it. */
const P8_PLUS: RecipeSpec = {
  ...hybrid8('p8+', "The paper's recipe: posit(8,2) operands and errors for every matmul/conv, posit(16,2) outputs, other ops, gradients, optimizer state and master weights; exponent bias t for the weights (calibrated per network) and posit loss scaling (calibrated, then fixed).", 'p8e2', 'p8e2', 'p16e2'),
  weightBias: { mode: 'calibrate', scope: 'network' },
  lossScale: { mode: 'calibrate' },
};

export const BUILTIN_RECIPES: Readonly<Record<string, RecipeSpec>> = {
  fp32: uniform('fp32', 'float32 everywhere: the reference.', null),
  fp16: {
    ...uniform('fp16', 'IEEE half precision for every tensor in the graph, float32 master weights and optimizer state, dynamic loss scaling (mixed precision).', 'fp16'),
    optimizerState: null,
    masterWeights: null,
    lossScale: { mode: 'dynamic', initLog2: 16, interval: 2000 },
  },
  bf16: {
    ...uniform('bf16', 'bfloat16 for every tensor in the graph, float32 master weights and optimizer state, no loss scaling.', 'bf16'),
    optimizerState: null,
    masterWeights: null,
  },
  'p8+': P8_PLUS,
  // The paper's P8 column: P8+ without the exponent bias and the loss scale, every other point as in
  // P8+ (its 16-bit positions stay posit(16,2)). Built from P8_PLUS so the two cannot drift apart.
  p8: {
    ...P8_PLUS,
    name: 'p8',
    description: "The paper's P8: the p8+ recipe without the exponent bias and without loss scaling; posit(8,2) operands and errors, posit(16,2) outputs, other ops, gradients, optimizer state and master weights.",
    weightBias: none,
    lossScale: none,
  },
  // An ablation, not a column of the paper: every point in posit(8,2), optimizer state and master
  // weights included. Adam's updates are mostly smaller than half a posit(8,2) step of the weight they
  // change, so they round away and training stalls: it shows why P8+ keeps 16-bit state.
  'p8-all': uniform('p8-all', 'Ablation: posit(8,2) at every point (operands, outputs, errors, other ops, gradients, optimizer state, master weights), no exponent bias, no loss scaling. Not a paper column: with 8-bit master weights most Adam updates round away.', 'p8e2'),
  fp8: hybrid8('fp8', "The paper's FP8 baseline: QPyTorch-style hybrid 8-bit floats, e4m3q forward (activations, weights) and e5m2q backward (errors), fp16 where P8+ uses posit(16,2); no scaling.", 'e4m3q', 'e5m2q', 'fp16'),
  'fp8-ocp': hybrid8('fp8-ocp', 'OCP FP8: e4m3 forward, e5m2 backward, fp16 where P8+ uses posit(16,2); no scaling.', 'e4m3', 'e5m2', 'fp16'),
};

export class RecipeError extends Error {
  override name = 'RecipeError';
}

const RECIPE_HELP = `Built-in recipes: ${Object.keys(BUILTIN_RECIPES).join(', ')} (case-insensitive), or a JSON file with the fields of RecipeSpec (see engine/quant/recipe.ts).`;

export function builtinRecipe(name: string): RecipeSpec | undefined {
  return BUILTIN_RECIPES[name.toLowerCase()];
}

function fmt(where: string, v: unknown): Format | null {
  if (v === null) return null;
  if (typeof v !== 'string') throw new RecipeError(`recipe field ${where} must be a format name or null, got ${JSON.stringify(v)}`);
  try {
    return parseFormat(v);
  } catch (e) {
    throw new RecipeError(`recipe field ${where}: ${(e as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(where: string, o: Record<string, unknown>, allowed: readonly string[], optional: readonly string[] = []): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new RecipeError(`recipe ${where}: unknown field '${k}' (allowed: ${allowed.join(', ')})`);
  }
  for (const k of allowed) {
    if (!(k in o) && !optional.includes(k)) throw new RecipeError(`recipe ${where}: missing field '${k}'`);
  }
}

function intIn(where: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new RecipeError(`recipe field ${where} must be an integer in ${lo}..${hi}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function lossScaleOf(v: unknown): LossScale {
  if (!isObject(v)) throw new RecipeError('recipe field lossScale must be an object with a mode');
  switch (v.mode) {
    case 'none':
    case 'calibrate':
      checkKeys('lossScale', v, ['mode']);
      return { mode: v.mode };
    case 'fixed':
      checkKeys('lossScale', v, ['mode', 'log2']);
      return { mode: 'fixed', log2: intIn('lossScale.log2', v.log2, -64, 64) };
    case 'dynamic':
      checkKeys('lossScale', v, ['mode', 'initLog2', 'interval']);
      return { mode: 'dynamic', initLog2: intIn('lossScale.initLog2', v.initLog2, -64, 64), interval: intIn('lossScale.interval', v.interval, 1, 1e9) };
    default:
      throw new RecipeError(`recipe lossScale.mode must be none, fixed, calibrate or dynamic, got ${JSON.stringify(v.mode)}`);
  }
}

function weightBiasOf(v: unknown): WeightBias {
  if (!isObject(v)) throw new RecipeError('recipe field weightBias must be an object with a mode');
  switch (v.mode) {
    case 'none':
      checkKeys('weightBias', v, ['mode']);
      return { mode: 'none' };
    case 'fixed':
      checkKeys('weightBias', v, ['mode', 't']);
      return { mode: 'fixed', t: intIn('weightBias.t', v.t, -64, 64) };
    case 'calibrate':
      checkKeys('weightBias', v, ['mode', 'scope']);
      if (v.scope !== 'network' && v.scope !== 'layer') throw new RecipeError(`recipe weightBias.scope must be network or layer, got ${JSON.stringify(v.scope)}`);
      return { mode: 'calibrate', scope: v.scope };
    default:
      throw new RecipeError(`recipe weightBias.mode must be none, fixed or calibrate, got ${JSON.stringify(v.mode)}`);
  }
}

/** Validates a recipe spec (from JSON) and parses its formats. Errors name the field and the fix. */
export function resolveRecipe(spec: unknown): Recipe {
  if (!isObject(spec)) throw new RecipeError(`a recipe must be a JSON object. ${RECIPE_HELP}`);
  const top = ['name', 'description', 'matmul', 'elementwise', 'gradient', 'optimizerState', 'masterWeights', 'rounding', 'weightBias', 'lossScale'] as const;
  // A hand-written recipe may leave out its description (it documents, it does not configure).
  checkKeys('', spec, top, ['description']);
  if (typeof spec.name !== 'string' || spec.name.trim() === '') throw new RecipeError('recipe field name must be a non-empty string');
  if (spec.description !== undefined && typeof spec.description !== 'string') throw new RecipeError('recipe field description must be a string');
  if (!isObject(spec.matmul)) throw new RecipeError('recipe field matmul must be an object');
  const m = spec.matmul;
  checkKeys('matmul', m, ['input', 'weight', 'output', 'error', 'inputError', 'accumulate']);
  if (m.accumulate !== 'f32' && m.accumulate !== 'quire') throw new RecipeError(`recipe matmul.accumulate must be f32 or quire, got ${JSON.stringify(m.accumulate)}`);
  if (spec.rounding !== 'nearest' && spec.rounding !== 'stochastic') {
    throw new RecipeError(`recipe rounding must be nearest or stochastic, got ${JSON.stringify(spec.rounding)}`);
  }
  const r: Recipe = {
    spec: { ...spec, description: spec.description ?? '' } as unknown as RecipeSpec,
    name: spec.name,
    matmul: {
      input: fmt('matmul.input', m.input),
      weight: fmt('matmul.weight', m.weight),
      output: fmt('matmul.output', m.output),
      error: fmt('matmul.error', m.error),
      inputError: fmt('matmul.inputError', m.inputError),
      accumulate: m.accumulate,
    },
    elementwise: fmt('elementwise', spec.elementwise),
    gradient: fmt('gradient', spec.gradient),
    optimizerState: fmt('optimizerState', spec.optimizerState),
    masterWeights: fmt('masterWeights', spec.masterWeights),
    rounding: spec.rounding,
    weightBias: weightBiasOf(spec.weightBias),
    lossScale: lossScaleOf(spec.lossScale),
  };
  if (r.weightBias.mode !== 'none' && !r.matmul.weight) {
    throw new RecipeError('recipe weightBias needs matmul.weight to be a format (the bias scales the encoded weights)');
  }
  if (r.matmul.accumulate === 'quire' && !(r.matmul.input?.family === 'posit' && r.matmul.weight?.family === 'posit')) {
    throw new RecipeError('recipe matmul.accumulate = quire needs posit matmul.input and matmul.weight formats');
  }
  return r;
}

/** A built-in recipe by name (case-insensitive). */
export function recipeByName(name: string): Recipe {
  const spec = builtinRecipe(name);
  if (!spec) throw new RecipeError(`unknown recipe '${name}'. ${RECIPE_HELP}`);
  return resolveRecipe(spec);
}
