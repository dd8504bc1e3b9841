// The deployment recipe namespace (no GPU): names, what each quantizes, validation and errors.

import { describe, expect, it } from 'vitest';
import {
  BUILTIN_DEPLOY_RECIPES,
  DeployRecipeError,
  deployRecipeByName,
  deployRecipesHelp,
  PAPER_DEPLOY_RECIPES,
  parseDeployRecipes,
  resolveDeployRecipe,
} from '../../gan/deploy/recipes.ts';

describe('deployment recipes', () => {
  it('map the paper names to the documented formats, bias and tanh', () => {
    const want: Record<string, [string | null, string, string]> = {
      fp32: [null, 'none', 'float'],
      p8: ['p8e1', 'none', 'float'],
      'p8+': ['p8e1', 'calibrate', 'float'],
      'p8+t': ['p8e1', 'calibrate', 'fast'],
      p6: ['p6e1', 'none', 'float'],
      'p6+': ['p6e1', 'calibrate', 'float'],
      'p6+t': ['p6e1', 'calibrate', 'fast'],
      fp16: ['fp16', 'none', 'float'],
      fp8: ['e4m3', 'none', 'float'],
      fp6: ['e3m2', 'none', 'float'],
    };
    for (const [name, [f, bias, tanh]] of Object.entries(want)) {
      const r = deployRecipeByName(name);
      expect(r.weights?.name ?? null, name).toBe(f);
      expect(r.activations?.name ?? null, name).toBe(f);
      expect(r.weightBias.mode, name).toBe(bias);
      expect(r.tanh, name).toBe(tanh);
      // The policy view: activations at matmul input / output and every other layer, no backward side.
      expect(r.policy.matmul.input?.name ?? null).toBe(f);
      expect(r.policy.matmul.output?.name ?? null).toBe(f);
      expect(r.policy.elementwise?.name ?? null).toBe(f);
      expect([r.policy.matmul.error, r.policy.matmul.inputError, r.policy.gradient]).toEqual([null, null, null]);
    }
    expect(deployRecipeByName('p8+').weightBias).toEqual({ mode: 'calibrate', scope: 'network' });
    for (const n of PAPER_DEPLOY_RECIPES) expect(BUILTIN_DEPLOY_RECIPES[n]).toBeDefined();
  });

  it('are case-insensitive and round-trip through JSON', () => {
    expect(deployRecipeByName('P6+T').name).toBe('p6+t');
    for (const spec of Object.values(BUILTIN_DEPLOY_RECIPES)) {
      const again = resolveDeployRecipe(JSON.parse(JSON.stringify(spec)));
      expect(again.spec).toEqual(spec);
    }
  });

  it('reject unknown names listing the allowed ones, and duplicates', () => {
    expect(() => parseDeployRecipes('p8,p7')).toThrow(DeployRecipeError);
    expect(() => parseDeployRecipes('p8,p7')).toThrow(/unknown deployment recipe 'p7' \(allowed: fp32, p8, p8\+, p8\+t, p6, p6\+, p6\+t, .*fp6/);
    expect(() => parseDeployRecipes('p8,P8')).toThrow(/listed twice/);
    expect(() => parseDeployRecipes(' , ')).toThrow(/no deployment recipe/);
    expect(parseDeployRecipes('p8, p6+t').map((r) => r.name)).toEqual(['p8', 'p6+t']);
  });

  it('validate specs field by field', () => {
    const base = { ...BUILTIN_DEPLOY_RECIPES['p8+']! };
    expect(() => resolveDeployRecipe({ ...base, tanh: 'slow' })).toThrow(/^deployment recipe: tanh must be "float" or "fast", got "slow"$/);
    expect(() => resolveDeployRecipe({ ...base, weights: 'p99e1' })).toThrow(/^deployment recipe: weights must be a number format name: invalid number format 'p99e1'/);
    expect(() => resolveDeployRecipe({ ...base, extra: 1 })).toThrow(/extra is not a field of a deployment recipe \(allowed: name, description, weights, activations, weightBias, tanh\)$/);
    expect(() => resolveDeployRecipe({ ...base, weights: null })).toThrow(/weightBias needs weights to be a format/);
    expect(() => resolveDeployRecipe({ ...base, weightBias: { mode: 'fixed', t: 1.5 } })).toThrow(/weightBias\.t must be an integer in -64\.\.64, got 1\.5$/);
    const { tanh: _t, ...missing } = base;
    expect(() => resolveDeployRecipe(missing, "export file 'g.safetensors': recipe")).toThrow(/^export file 'g\.safetensors': recipe: tanh is missing \(the output Tanh: "float" .* or "fast"/);
  });

  it('are all documented in the help text', () => {
    const help = deployRecipesHelp();
    for (const [name, s] of Object.entries(BUILTIN_DEPLOY_RECIPES)) {
      expect(help).toMatch(new RegExp(`^  ${name.replace(/\+/g, '\\+')} +${s.weights ?? 'fp32'} +${s.activations ?? 'fp32'} `, 'm'));
    }
    expect(help).toMatch(/batch-norm outputs \(eval mode, not folded\)/);
  });
});
