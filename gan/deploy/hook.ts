// A deployment recipe applied to a generator. The quantization points are the training recipes'
// (PrecisionPolicy, engine/quant/policy.ts), fed with the recipe's policy view (gan/deploy/recipes.ts):
// matmul / conv inputs and outputs and every other layer's output rounded to the activation format,
// the weights replaced by packed codes encoded once. What deployment adds is the fast posit tanh: for
// the `t` recipes the hook computes the output Tanh itself through the layer hook's `replace` point,
// from the last layer's (rounded) output; PrecisionPolicy then rounds the result like any other layer
// output. The other recipes run the Tanh layer's own float tanh.
//
// The packed weights come from the trained float32 weights (calibrating t when the recipe asks), or
// from an export file's codes; both give the same Deployment, so an export reproduces a checkpoint's
// deployment bit for bit. Browser-safe.

import { Conv2d, ConvTranspose2d } from '../../engine/nn/conv.ts';
import { Embedding } from '../../engine/nn/embedding.ts';
import { Linear } from '../../engine/nn/linear.ts';
import { Tanh } from '../../engine/nn/activation.ts';
import { Layer, type Module, type Site } from '../../engine/nn/module.ts';
import { fastTanh } from '../../engine/ops/fast-tanh.ts';
import { calibrate, DEFAULT_BINS } from '../../engine/quant/calibrate.ts';
import { PrecisionPolicy, treatmentOf } from '../../engine/quant/policy.ts';
import { encode } from '../../engine/quant/quantizer.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import type { DeployRecipe } from './recipes.ts';

type MatmulLayer = Linear | Conv2d | ConvTranspose2d;

/** The layers whose weights the recipe's weight format applies to, by weight parameter name: those the
 *  precision policy treats as matmul layers (by declared kind; an unknown kind is the policy's error). */
export function matmulWeights(m: Module): Map<string, MatmulLayer> {
  const out = new Map<string, MatmulLayer>();
  for (const mod of m.modules()) {
    if (!(mod instanceof Layer) || treatmentOf(mod.site) !== 'matmul') continue;
    if (!(mod instanceof Linear || mod instanceof Conv2d || mod instanceof ConvTranspose2d)) {
      throw new Error(`deployment: layer '${mod.path}' of kind '${mod.kind}' is a matmul layer, but deployment packs the weights of Linear, Conv2d and ConvTranspose2d only: add its weight to MatmulLayer in gan/deploy/hook.ts`);
    }
    out.set(`${mod.path}.weight`, mod);
  }
  return out;
}

/** Embedding tables (stored in the activation format), by parameter name. */
export function embeddingTables(m: Module): Map<string, Embedding> {
  const out = new Map<string, Embedding>();
  for (const mod of m.modules()) if (mod instanceof Embedding) out.set(`${mod.path}.weight`, mod);
  return out;
}

/** The path of the generator's output Tanh: its last Tanh layer (null for a generator without one,
 *  such as ESRGAN's, whose output is not squashed). */
export function outputTanhPath(G: Module): string | null {
  return G.modules().filter((m) => m instanceof Tanh).at(-1)?.path ?? null;
}

/** The exponent bias t of each weight (by parameter name) that `recipe` asks for, from the weights'
 *  float32 values: 0 without a bias, the fixed t, or the paper's histogram rule over all weights
 *  (scope network) or each weight tensor (scope layer). */
export function weightBiases(recipe: DeployRecipe, weights: ReadonlyMap<string, Float32Array>): Record<string, number> {
  const out: Record<string, number> = {};
  const b = recipe.weightBias;
  if (!recipe.weights) return out;
  if (b.mode === 'calibrate' && b.scope === 'network') {
    const t = calibrate(weights.values(), DEFAULT_BINS, 'generator weights').t;
    for (const k of weights.keys()) out[k] = t;
    return out;
  }
  for (const [k, v] of weights) {
    out[k] = b.mode === 'none' ? 0 : b.mode === 'fixed' ? b.t : calibrate([v], DEFAULT_BINS, `weights ${k}`).t;
  }
  return out;
}

/** The hook: PrecisionPolicy's quantizers plus the output Tanh as the recipe says. */
export class DeploymentPolicy extends PrecisionPolicy {
  constructor(
    readonly deploy: DeployRecipe,
    packed: ReadonlyMap<Tensor, Tensor>,
    private readonly tanhPath: string | null,
  ) {
    super(deploy.policy, {
      forwardWeight: (w) => {
        const p = packed.get(w);
        if (!p) throw new Error(`deployment ${deploy.name}: weight ${w} has no packed codes`);
        return p;
      },
    });
  }

  /** The fast posit tanh in place of the output Tanh (the float tanh is the layer's own). */
  replace(site: Site, input: unknown): Tensor | null {
    if (this.tanhPath === null || site.path !== this.tanhPath || this.deploy.tanh !== 'fast') return null;
    if (!(input instanceof Tensor)) throw new Error(`deployment: the output Tanh '${site.path}' got no tensor`);
    return fastTanh(input);
  }
}

/** A recipe ready to run on one generator: its hook and the packed weights it uses. */
export interface Deployment {
  readonly recipe: DeployRecipe;
  readonly hook: DeploymentPolicy;
  /** Exponent bias t of each packed weight, by parameter name (empty without a weight format). */
  readonly weightBias: Readonly<Record<string, number>>;
  /** Packed weights by parameter name (what an export stores). */
  readonly packed: ReadonlyMap<string, Tensor>;
  dispose(): void;
}

function assemble(G: Module, recipe: DeployRecipe, packed: Map<string, Tensor>, weightBias: Record<string, number>): Deployment {
  const tanhPath = outputTanhPath(G);
  if (recipe.tanh === 'fast' && tanhPath === null) {
    throw new Error(`deployment ${recipe.name}: its fast tanh replaces the generator's output Tanh, and this generator has none; leave the recipe out`);
  }
  const byParam = new Map<Tensor, Tensor>();
  for (const [name, layer] of matmulWeights(G)) {
    const p = packed.get(name);
    if (p) byParam.set(layer.weight, p);
  }
  return {
    recipe,
    hook: new DeploymentPolicy(recipe, byParam, tanhPath),
    weightBias,
    packed,
    dispose: () => packed.forEach((t) => t.dispose()),
  };
}

/** Calibrates t (when the recipe asks) from G's current weights and encodes them once on the GPU. */
export async function prepareDeployment(G: Module, recipe: DeployRecipe): Promise<Deployment> {
  const layers = matmulWeights(G);
  const packed = new Map<string, Tensor>();
  if (!recipe.weights) return assemble(G, recipe, packed, {});
  const values = new Map<string, Float32Array>();
  for (const [name, layer] of layers) values.set(name, await layer.weight.read());
  const weightBias = weightBiases(recipe, values);
  const rt = G.rt;
  for (const [name, layer] of layers) {
    const q = { format: recipe.weights, rounding: 'nearest' as const, bias: weightBias[name]! };
    packed.set(name, rt.keep(rt.noGrad(() => encode(layer.weight, q))));
  }
  return assemble(G, recipe, packed, weightBias);
}

/** The deployment of stored codes (an export): packed words and t per weight parameter name. */
export function deploymentFromCodes(G: Module, recipe: DeployRecipe, codes: ReadonlyMap<string, { words: Uint32Array; bias: number }>): Deployment {
  const packed = new Map<string, Tensor>();
  const weightBias: Record<string, number> = {};
  if (recipe.weights) {
    for (const [name, layer] of matmulWeights(G)) {
      const c = codes.get(name);
      if (!c) throw new Error(`deployment ${recipe.name}: no codes for weight '${name}'`);
      const t = Tensor.fromPackedCodes(G.rt, c.words, layer.weight.shape, { format: recipe.weights, bias: c.bias }, `deploy:${name}`);
      packed.set(name, G.rt.keep(t));
      weightBias[name] = c.bias;
    }
  }
  return assemble(G, recipe, packed, weightBias);
}
