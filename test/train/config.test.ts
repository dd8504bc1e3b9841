// The embedded defaults: `posit-gan train` with no options is the quick start (the acgan, sized in
// results/quickstart/), while a run that names the paper's cgan or the dcgan keeps their own defaults,
// and whatever a layer sets explicitly wins over any model's defaults.

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, MODEL_DEFAULTS, modelDefaults, resolveConfig } from '../../gan/train/config.ts';
import { MODEL_KINDS } from '../../gan/models/gan.ts';

describe('training defaults per model', () => {
  it('no options: the quick start (acgan under p8+, width 256, lr 5e-4, 500 steps)', () => {
    const c = resolveConfig({});
    expect(c).toEqual(modelDefaults('acgan'));
    expect(c).toMatchObject({ model: 'acgan', recipe: 'p8+', width: 256, lr: 5e-4, steps: 500, batch: 64, sampleEvery: 100 });
  });

  it("naming the cgan or the dcgan gives that model's own defaults, not the quick start's", () => {
    expect(resolveConfig({ model: 'cgan' })).toMatchObject({ model: 'cgan', width: 128, lr: 2e-4, steps: 300 });
    expect(resolveConfig({ model: 'dcgan' })).toMatchObject({ model: 'dcgan', lr: 2e-4, steps: 300, size: 32 });
    // The model is matched as the validation matches it (case-insensitively).
    expect(resolveConfig({ model: 'CGAN' }).width).toBe(128);
  });

  it('the last layer naming a model picks the defaults; explicit values win over them', () => {
    expect(resolveConfig({ model: 'cgan' }, { model: 'acgan' }).width).toBe(256);
    expect(resolveConfig({ model: 'acgan', steps: 50 }, { model: 'cgan' })).toMatchObject({ model: 'cgan', steps: 50, width: 128 });
    expect(resolveConfig({ lr: 1e-3 })).toMatchObject({ model: 'acgan', lr: 1e-3, width: 256 });
  });

  it('every model has a defaults entry, and only keys of the configuration', () => {
    expect(Object.keys(MODEL_DEFAULTS).sort()).toEqual([...MODEL_KINDS].sort());
    for (const d of Object.values(MODEL_DEFAULTS)) for (const k of Object.keys(d)) expect(DEFAULT_CONFIG).toHaveProperty(k);
  });
});
