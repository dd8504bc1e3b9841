import { describe, expect, it } from 'vitest';
import { calibrate, log2Histogram } from '../../engine/quant/calibrate.ts';
import { BUILTIN_RECIPES, recipeByName, resolveRecipe, RecipeError, type RecipeSpec } from '../../engine/quant/recipe.ts';

describe('calibration (histogram of log2|x|, 20 bins, t = floor(-left edge of the fullest bin))', () => {
  it('matches a hand-computed histogram', () => {
    // log2 values: -10 (x1), -9 (x1), -8 (x5), 0 (x1): range [-10, 0], width 0.5.
    const v = [2 ** -10, -(2 ** -9), 2 ** -8, 2 ** -8, -(2 ** -8), 2 ** -8, 2 ** -8, 1, 0, 0];
    const h = log2Histogram([v]);
    expect(h.edges[0]).toBe(-10);
    expect(h.edges[20]).toBe(0);
    expect(h.zeros).toBe(2);
    expect(h.counts[0]).toBe(1);
    expect(h.counts[2]).toBe(1);
    expect(h.counts[4]).toBe(5);
    expect(h.counts[19]).toBe(1); // the right edge belongs to the last bin, as in numpy
    const c = calibrate([v]);
    expect(c.peakBin).toBe(4);
    expect(c.t).toBe(8);
  });
  it('DCGAN-like gradients peaking near 2^-9..2^-8 give a scale near 2^9 (docs/method.md section 3)', () => {
    const g: number[] = [];
    for (let i = 0; i < 2000; i++) g.push(2 ** (-8.7 + 0.3 * Math.sin(i)) * (i % 2 ? 1 : -1));
    g.push(2 ** -20, 2 ** -1); // stretch the range
    const c = calibrate([g]);
    expect(c.t).toBeGreaterThanOrEqual(8);
    expect(c.t).toBeLessThanOrEqual(9);
  });
  it('rejects non-finite values and all-zero input', () => {
    expect(() => calibrate([[1, NaN]])).toThrow(/non-finite/);
    expect(() => calibrate([[0, 0]])).toThrow(/all 2 values are zero/);
  });
});

describe('recipes', () => {
  it('every built-in recipe validates and round-trips through JSON', () => {
    for (const [name, spec] of Object.entries(BUILTIN_RECIPES)) {
      const r = resolveRecipe(JSON.parse(JSON.stringify(spec)));
      expect(r.name).toBe(name);
    }
  });
  it('names are case-insensitive', () => {
    expect(recipeByName('P8+').name).toBe('p8+');
    expect(recipeByName('FP16').lossScale.mode).toBe('dynamic');
  });
  it("p8+ is the paper's recipe", () => {
    const r = recipeByName('p8+');
    expect(r.matmul.input?.name).toBe('p8e2');
    expect(r.matmul.weight?.name).toBe('p8e2');
    expect(r.matmul.output?.name).toBe('p16e2');
    expect(r.optimizerState?.name).toBe('p16e2');
    expect(r.masterWeights?.name).toBe('p16e2');
    expect(r.weightBias).toEqual({ mode: 'calibrate', scope: 'network' });
    expect(r.lossScale).toEqual({ mode: 'calibrate' });
  });
  it("p8 is the paper's P8: exactly p8+ without the exponent bias and the loss scale", () => {
    const plus = BUILTIN_RECIPES['p8+']!;
    const p8 = BUILTIN_RECIPES.p8!;
    const differing = (Object.keys(plus) as (keyof RecipeSpec)[]).filter((k) => JSON.stringify(plus[k]) !== JSON.stringify(p8[k]));
    expect(differing.sort()).toEqual(['description', 'lossScale', 'name', 'weightBias']);
    expect(Object.keys(p8).sort()).toEqual(Object.keys(plus).sort());
    expect(p8.weightBias).toEqual({ mode: 'none' });
    expect(p8.lossScale).toEqual({ mode: 'none' });
    // Its 16-bit positions stay posit(16,2), as in p8+.
    const r = recipeByName('p8');
    for (const f of [r.matmul.output, r.matmul.inputError, r.elementwise, r.gradient, r.optimizerState, r.masterWeights]) expect(f?.name).toBe('p16e2');
    for (const f of [r.matmul.input, r.matmul.weight, r.matmul.error]) expect(f?.name).toBe('p8e2');
  });
  it('p8-all (the ablation) puts every point in posit(8,2), state and master weights included, unscaled', () => {
    const r = recipeByName('p8-all');
    const points = [r.matmul.input, r.matmul.weight, r.matmul.output, r.matmul.error, r.matmul.inputError, r.elementwise, r.gradient, r.optimizerState, r.masterWeights];
    for (const f of points) expect(f?.name).toBe('p8e2');
    expect(r.weightBias).toEqual({ mode: 'none' });
    expect(r.lossScale).toEqual({ mode: 'none' });
    expect(r.rounding).toBe('nearest');
  });
  it("fp8 has p8+'s structure: e4m3q forward and e5m2q backward at its 8-bit points, fp16 at its 16-bit points, unscaled", () => {
    const plus = BUILTIN_RECIPES['p8+']!;
    const fp8 = BUILTIN_RECIPES.fp8!;
    const forward = new Set(['input', 'weight']);
    for (const k of ['input', 'weight', 'output', 'error', 'inputError'] as const) {
      const want = plus.matmul[k] === 'p8e2' ? (forward.has(k) ? 'e4m3q' : 'e5m2q') : plus.matmul[k] === 'p16e2' ? 'fp16' : 'unexpected';
      expect(fp8.matmul[k], `matmul.${k}`).toBe(want);
    }
    expect(fp8.matmul.accumulate).toBe(plus.matmul.accumulate);
    for (const k of ['elementwise', 'gradient', 'optimizerState', 'masterWeights'] as const) {
      expect(plus[k], k).toBe('p16e2');
      expect(fp8[k], k).toBe('fp16');
    }
    expect(fp8.rounding).toBe(plus.rounding);
    expect(fp8.weightBias).toEqual({ mode: 'none' });
    expect(fp8.lossScale).toEqual({ mode: 'none' });
  });
  it('rejects bad recipes with errors naming the field', () => {
    const good = JSON.parse(JSON.stringify(BUILTIN_RECIPES['p8+']));
    expect(() => recipeByName('p9')).toThrow(/unknown recipe 'p9'.*Built-in recipes/s);
    expect(() => resolveRecipe({ ...good, elementwise: 'p16e9' })).toThrow(/elementwise.*p16e9/s);
    expect(() => resolveRecipe({ ...good, extra: 1 })).toThrow(/unknown field 'extra'/);
    const { gradient: _g, ...missing } = good;
    expect(() => resolveRecipe(missing)).toThrow(/missing field 'gradient'/);
    expect(() => resolveRecipe({ ...good, lossScale: { mode: 'sometimes' } })).toThrow(/lossScale.mode/);
    expect(() => resolveRecipe({ ...good, matmul: { ...good.matmul, weight: null } })).toThrow(/weightBias needs matmul.weight/);
    expect(() => resolveRecipe({ ...good, matmul: { ...good.matmul, input: 'fp16', accumulate: 'quire' } })).toThrow(/quire needs posit/);
    expect(() => resolveRecipe([])).toThrow(RecipeError);
    expect(() => resolveRecipe({ ...good, description: 3 })).toThrow(/description must be a string/);
  });

  it('a hand-written recipe may leave out its description', () => {
    const { description: _d, ...spec } = JSON.parse(JSON.stringify(BUILTIN_RECIPES['p8+']));
    const r = resolveRecipe({ ...spec, name: 'mine' });
    expect(r.name).toBe('mine');
    expect(r.spec.description).toBe('');
    expect(r.matmul.weight?.name).toBe(recipeByName('p8+').matmul.weight?.name);
  });
});
