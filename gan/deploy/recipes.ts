// Deployment recipes: how a trained generator runs at inference time. Their names are a namespace of
// their own (case-insensitive), apart from the training recipes of engine/quant/recipe.ts: `p8` here
// is posit(8,1) inference, there posit(8,2) training. A recipe is plain, serialisable data (it is
// stored in export files and result JSON); `resolveDeployRecipe` validates one and parses its formats.
//
// What a recipe quantizes (docs/method.md sections 2, 4, 5.3, 7.2; gan/deploy/hook.ts applies it):
//   weights       every Linear / Conv2d / ConvTranspose2d weight, as packed codes of `weights`,
//                 encoded once with the exponent bias t (value = decode(code) * 2^-t), decoded in the
//                 matmul's tile loads. Layer biases stay float32: they are added to the wide
//                 accumulator, as the hardware adds them to the quire.
//   activations   every tensor passed between layers is rounded (nearest) to `activations`: the input
//                 of each matmul / conv (the latent vector included), its output (rounded once after
//                 wide float32 accumulation and the bias add), the outputs of batch norm, the
//                 activation functions and the label embedding (an embedding table is stored in this
//                 format, since a lookup's output is an activation), and the output image.
//   batch norm    evaluation mode (running statistics). Not folded into the preceding layer: it runs
//                 in float32 on that layer's rounded output and its own output is rounded to
//                 `activations` (folding would change the weights that the recipe quantizes).
//                 Instance norm normalises each image by its own statistics (PyTorch's InstanceNorm2d
//                 in evaluation), likewise on rounded inputs with its output rounded. Padding,
//                 upsampling and pixel shuffle copy rounded values and add no rounding of their own.
//   tanh          the generator's output Tanh runs as float32 tanh (`float`), or as the fast posit
//                 tanh (`fast`: the corrected bit trick in a p16e0 container, engine/ops/fast-tanh.ts)
//                 on the last layer's rounded output; either result is then rounded to `activations`.
//   weightBias    the exponent bias t of the weights: none (t = 0), fixed, or calibrated from the
//                 trained generator's weights with the paper's histogram rule (engine/quant/calibrate.ts),
//                 one t for the whole network (the paper's choice) or one per layer.
// Naming: the format (`p8` = p8e1, `p6` = p6e1, `fp8` = e4m3 (OCP), `fp6` = e3m2 (OCP), `fp16` = IEEE
// half, ...), then `+` for the calibrated exponent bias, then `t` for the fast tanh.
// Browser-safe.

import { parseFormat, type Format } from '../../formats/descriptor.ts';
import { RecipeError, resolveRecipe, type Recipe, type RecipeSpec, type WeightBias } from '../../engine/quant/recipe.ts';

/** How the generator's output Tanh is computed. */
export type TanhImpl = 'float' | 'fast';

export interface DeployRecipeSpec {
  name: string;
  description: string;
  /** Format of the matmul / conv weights (packed codes), or null for float32. */
  weights: string | null;
  /** Format of every activation (see the top of this file), or null for float32. */
  activations: string | null;
  weightBias: WeightBias;
  tanh: TanhImpl;
}

/** A validated deployment recipe with parsed formats. */
export interface DeployRecipe {
  readonly spec: DeployRecipeSpec;
  readonly name: string;
  readonly weights: Format | null;
  readonly activations: Format | null;
  readonly weightBias: WeightBias;
  readonly tanh: TanhImpl;
  /** The same quantization points as a training recipe, for PrecisionPolicy (gan/deploy/hook.ts):
   *  matmul input and output and every other layer's output in `activations`, weights in `weights`,
   *  nothing on the backward side. */
  readonly policy: Recipe;
}

export class DeployRecipeError extends RecipeError {
  override name = 'DeployRecipeError';
}

const NO_BIAS: WeightBias = { mode: 'none' };
const CALIBRATED: WeightBias = { mode: 'calibrate', scope: 'network' };

function variant(base: string, format: string, what: string, plus: boolean, t: boolean): DeployRecipeSpec {
  const parts = [`${what}: ${format} weights and activations`];
  parts.push(plus ? 'weights with the exponent bias t calibrated per network' : 'no exponent bias');
  parts.push(t ? 'the fast posit tanh at the output layer' : 'float tanh at the output layer');
  return {
    name: `${base}${plus ? '+' : ''}${t ? 't' : ''}`,
    description: `${parts.join('; ')}.`,
    weights: format,
    activations: format,
    weightBias: plus ? CALIBRATED : NO_BIAS,
    tanh: t ? 'fast' : 'float',
  };
}

function family(base: string, format: string, what: string, variants: readonly ('' | '+' | '+t')[]): DeployRecipeSpec[] {
  return variants.map((v) => variant(base, format, what, v.includes('+'), v.includes('t')));
}

const SPECS: DeployRecipeSpec[] = [
  { name: 'fp32', description: 'float32 everywhere: the reference generator.', weights: null, activations: null, weightBias: NO_BIAS, tanh: 'float' },
  ...family('p8', 'p8e1', "posit(8,1), the paper's 8-bit deployment format", ['', '+', '+t']),
  ...family('p6', 'p6e1', "posit(6,1), the paper's 6-bit deployment format", ['', '+', '+t']),
  ...family('p8e2', 'p8e2', 'posit(8,2), the training format, for comparison', ['', '+']),
  ...family('fp16', 'fp16', 'IEEE half precision', ['']),
  ...family('bf16', 'bf16', 'bfloat16', ['']),
  ...family('fp8', 'e4m3', 'OCP FP8 E4M3 (max 448, subnormals)', ['', '+']),
  ...family('e4m3q', 'e4m3q', "the paper's QPyTorch-style 8-bit float (no subnormals, max 240)", ['']),
  ...family('fp6', 'e3m2', 'OCP FP6 E3M2 (max 28, subnormals)', ['', '+']),
];

export const BUILTIN_DEPLOY_RECIPES: Readonly<Record<string, DeployRecipeSpec>> = Object.fromEntries(SPECS.map((s) => [s.name, s]));

/** The paper's deployment comparison (docs/method.md section 7.2), the default of `deploy --recipes`. */
export const PAPER_DEPLOY_RECIPES: readonly string[] = ['p8', 'p8+', 'p8+t', 'p6', 'p6+', 'p6+t', 'fp16', 'fp8', 'fp6'];

function allowed(): string {
  return Object.keys(BUILTIN_DEPLOY_RECIPES).join(', ');
}

function fmt(where: string, v: unknown): Format | null {
  if (v === null) return null;
  if (typeof v !== 'string') throw new DeployRecipeError(`deployment recipe field ${where} must be a format name or null, got ${JSON.stringify(v)}`);
  try {
    return parseFormat(v);
  } catch (e) {
    throw new DeployRecipeError(`deployment recipe field ${where}: ${(e as Error).message}`);
  }
}

const FIELDS = ['name', 'description', 'weights', 'activations', 'weightBias', 'tanh'] as const;

/** Validates a deployment recipe (e.g. from an export file's header) and parses its formats. */
export function resolveDeployRecipe(spec: unknown): DeployRecipe {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new DeployRecipeError('a deployment recipe must be a JSON object');
  const s = spec as Record<string, unknown>;
  for (const k of Object.keys(s)) {
    if (!(FIELDS as readonly string[]).includes(k)) throw new DeployRecipeError(`deployment recipe: unknown field '${k}' (allowed: ${FIELDS.join(', ')})`);
  }
  for (const k of FIELDS) if (!(k in s)) throw new DeployRecipeError(`deployment recipe: missing field '${k}'`);
  if (typeof s.name !== 'string' || s.name.trim() === '') throw new DeployRecipeError('deployment recipe field name must be a non-empty string');
  if (typeof s.description !== 'string') throw new DeployRecipeError('deployment recipe field description must be a string');
  if (s.tanh !== 'float' && s.tanh !== 'fast') throw new DeployRecipeError(`deployment recipe field tanh must be float or fast, got ${JSON.stringify(s.tanh)}`);
  const weights = fmt('weights', s.weights);
  const activations = fmt('activations', s.activations);
  const policySpec: RecipeSpec = {
    name: s.name,
    description: s.description,
    matmul: { input: activations?.name ?? null, weight: weights?.name ?? null, output: activations?.name ?? null, error: null, inputError: null, accumulate: 'f32' },
    elementwise: activations?.name ?? null,
    gradient: null,
    optimizerState: null,
    masterWeights: null,
    rounding: 'nearest',
    // Validated here with the training recipes' rules (same field, same meaning).
    weightBias: s.weightBias as WeightBias,
    lossScale: { mode: 'none' },
  };
  let policy: Recipe;
  try {
    policy = resolveRecipe(policySpec);
  } catch (e) {
    throw new DeployRecipeError(`deployment ${(e as Error).message.replace(/^recipe weightBias needs matmul\.weight/, 'recipe weightBias needs weights')}`);
  }
  return {
    spec: { name: s.name, description: s.description, weights: weights?.name ?? null, activations: activations?.name ?? null, weightBias: policy.weightBias, tanh: s.tanh },
    name: s.name,
    weights,
    activations,
    weightBias: policy.weightBias,
    tanh: s.tanh,
    policy,
  };
}

/** A built-in deployment recipe by name (case-insensitive); unknown names list the allowed ones. */
export function deployRecipeByName(name: string): DeployRecipe {
  const spec = BUILTIN_DEPLOY_RECIPES[name.trim().toLowerCase()];
  if (!spec) throw new DeployRecipeError(`unknown deployment recipe '${name}' (allowed: ${allowed()})`);
  return resolveDeployRecipe(spec);
}

/** A comma-separated list of deployment recipe names. */
export function parseDeployRecipes(list: string): DeployRecipe[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new DeployRecipeError(`no deployment recipe given (allowed: ${allowed()})`);
  const out = names.map(deployRecipeByName);
  const seen = new Set<string>();
  for (const r of out) {
    if (seen.has(r.name)) throw new DeployRecipeError(`deployment recipe '${r.name}' is listed twice`);
    seen.add(r.name);
  }
  return out;
}

function biasText(b: WeightBias): string {
  switch (b.mode) {
    case 'none':
      return '-';
    case 'fixed':
      return `t=${b.t}`;
    case 'calibrate':
      return `calibrated (${b.scope})`;
  }
}

/** The namespace as documented by `deploy --help`. */
export function deployRecipesHelp(): string {
  const rows = SPECS.map((s) => [s.name, s.weights ?? 'fp32', s.activations ?? 'fp32', biasText(s.weightBias), s.tanh]);
  const head = ['recipe', 'weights', 'activations', 'exponent bias', 'output tanh'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `  ${r.map((c, i) => c.padEnd(w[i]!)).join('  ')}`.trimEnd();
  return [
    'Deployment recipes (their own namespace, case-insensitive; not the training recipes):',
    line(head),
    ...rows.map(line),
    '',
    'Names: the format (p8 = posit(8,1), p6 = posit(6,1), fp8 = OCP e4m3, fp6 = OCP e3m2, fp16 = IEEE half),',
    "then '+' for the weights' exponent bias t (calibrated per network from the trained weights with the",
    "paper's histogram rule), then 't' for the fast posit tanh (corrected, in a p16e0 container) at the",
    'output layer instead of the float tanh.',
    'Quantized: weights of every Linear / Conv layer (packed codes with bias t; layer biases stay float32,',
    'added to the wide accumulator); every activation: matmul/conv inputs (the latent vector too) and',
    'outputs (one rounding after float32 accumulation), batch-norm outputs (eval mode, not folded),',
    'activation-function outputs, the label embedding (its table is stored in the activation format) and',
    'the output image. Rounding is to nearest.',
  ].join('\n');
}
