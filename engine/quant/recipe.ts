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

import * as v from 'valibot';
import { parseFormat, type Format, type Rounding } from '../../formats/descriptor.ts';
import { parseWith } from '../../schema/check.ts';
import { fields, int, oneOf, tagged, text } from '../../schema/fields.ts';

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

const RECIPE_HELP = `Built-in recipes: ${Object.keys(BUILTIN_RECIPES).join(', ')} (case-insensitive), or a JSON file with the fields of a recipe (docs/recipes.md; JSON Schema: docs/schemas/recipe.schema.json).`;

export function builtinRecipe(name: string): RecipeSpec | undefined {
  return BUILTIN_RECIPES[name.toLowerCase()];
}

/** A number format name (formats/descriptor.ts syntax), checked by parsing it. `expected` words the
 *  message for a value that is not a string. */
export function formatNameSchema(expected = 'a number format name such as p8e2, fp16 or e4m3') {
  return v.pipe(
    v.string(`must be ${expected}`),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      try {
        parseFormat(dataset.value);
      } catch (e) {
        addIssue({ message: `must be a number format name: ${(e as Error).message}` });
      }
    }),
  );
}

/** A quantization point: a format name, or null for float32 (not quantized). */
export const QuantPointSchema = v.pipe(
  v.nullable(formatNameSchema('a number format name such as p8e2, or null for float32')),
  v.description('a number format name such as p8e2 (docs/number-formats.md), or null for float32'),
);

const log2 = v.pipe(int(-64, 64), v.description('an integer in -64..64 (a power of two)'));

export const LossScaleSchema = v.pipe(
  tagged(
    'mode',
    [
      fields({ mode: v.literal('none') }),
      fields({ mode: v.literal('calibrate') }),
      fields({ mode: v.literal('fixed'), log2 }),
      fields({ mode: v.literal('dynamic'), initLog2: log2, interval: v.pipe(int(1, 1e9), v.description('good steps before the scale doubles, 1..1e9')) }),
    ],
    'an object with a mode: none, calibrate, fixed (with log2) or dynamic (with initLog2 and interval)',
  ),
  v.description('{"mode": "none"}, {"mode": "calibrate"}, {"mode": "fixed", "log2"} or {"mode": "dynamic", "initLog2", "interval"}'),
);

export const WeightBiasSchema = v.pipe(
  tagged(
    'mode',
    [
      fields({ mode: v.literal('none') }),
      fields({ mode: v.literal('fixed'), t: v.pipe(int(-64, 64), v.description('the exponent bias t, an integer in -64..64')) }),
      fields({ mode: v.literal('calibrate'), scope: v.pipe(oneOf(['network', 'layer']), v.description('"network" (one t) or "layer" (one t per layer)')) }),
    ],
    'an object with a mode: none, fixed (with t) or calibrate (with scope)',
  ),
  v.description('{"mode": "none"}, {"mode": "fixed", "t"} or {"mode": "calibrate", "scope": "network" | "layer"}'),
);

/** A recipe file (docs/recipes.md): every field but description is required. */
export const RecipeSchema = v.pipe(
  fields(
    {
      name: v.pipe(text(), v.description('the recipe\'s name, e.g. p8+')),
      description: v.pipe(v.optional(v.string('must be a string'), ''), v.description('what the recipe is, for people (optional)')),
      matmul: v.pipe(
        fields(
          {
            input: QuantPointSchema,
            weight: QuantPointSchema,
            output: QuantPointSchema,
            error: QuantPointSchema,
            inputError: QuantPointSchema,
            accumulate: v.pipe(oneOf(['f32', 'quire']), v.description('f32, or quire (exact, posit operands only)')),
          },
          { noun: 'the matmul quantization points' },
        ),
        v.description('quantization points of every matmul / conv: input, weight, output, error, inputError (formats or null) and accumulate (f32 or quire)'),
      ),
      elementwise: QuantPointSchema,
      gradient: QuantPointSchema,
      optimizerState: QuantPointSchema,
      masterWeights: QuantPointSchema,
      rounding: v.pipe(oneOf(['nearest', 'stochastic']), v.description('nearest or stochastic')),
      weightBias: WeightBiasSchema,
      lossScale: LossScaleSchema,
    },
    { noun: 'a recipe' },
  ),
  v.forward(
    v.partialCheck(
      [['weightBias', 'mode'], ['matmul', 'weight']],
      (r) => r.weightBias.mode === 'none' || r.matmul.weight !== null,
      'needs matmul.weight to be a format (the bias scales the encoded weights): set it, or use {"mode": "none"}',
    ),
    ['weightBias'],
  ),
  v.forward(
    v.partialCheck(
      [['matmul', 'accumulate'], ['matmul', 'input'], ['matmul', 'weight']],
      (r) => r.matmul.accumulate !== 'quire' || (isPosit(r.matmul.input) && isPosit(r.matmul.weight)),
      'is "quire", which needs posit matmul.input and matmul.weight formats: use "f32" or posit formats',
    ),
    ['matmul', 'accumulate'],
  ),
  v.title('posit-gan training recipe'),
  v.description('Where training quantizes, to which format, with which exponent bias, loss scale and rounding (engine/quant/recipe.ts, docs/recipes.md).'),
);

function isPosit(name: string | null): boolean {
  return name !== null && parseFormat(name).family === 'posit';
}

/** Validates a recipe spec (from JSON) and parses its formats. Errors name the field and the fix;
 *  `what` names the recipe in them (e.g. "recipe file 'r.json'"). */
export function resolveRecipe(json: unknown, what = 'recipe'): Recipe {
  const spec: RecipeSpec = parseWith(RecipeSchema, json, what, (m) => new RecipeError(m));
  const f = (name: string | null): Format | null => (name === null ? null : parseFormat(name));
  const m = spec.matmul;
  return {
    spec,
    name: spec.name,
    matmul: { input: f(m.input), weight: f(m.weight), output: f(m.output), error: f(m.error), inputError: f(m.inputError), accumulate: m.accumulate },
    elementwise: f(spec.elementwise),
    gradient: f(spec.gradient),
    optimizerState: f(spec.optimizerState),
    masterWeights: f(spec.masterWeights),
    rounding: spec.rounding,
    weightBias: spec.weightBias,
    lossScale: spec.lossScale,
  };
}

/** A built-in recipe by name (case-insensitive). */
export function recipeByName(name: string): Recipe {
  const spec = builtinRecipe(name);
  if (!spec) throw new RecipeError(`unknown recipe '${name}'. ${RECIPE_HELP}`);
  return resolveRecipe(spec);
}
