import { describe, expect, it } from 'vitest';
import { library } from '../../hw-model/default-tables.ts';
import { estimate } from '../../hw-model/estimate.ts';
import { parseOpCounts } from '../../hw-model/opcounts.ts';
import { compare } from '../../hw-model/report.ts';
import { conv, dense, synthesizeDeployment, synthesizeTraining, type SyntheticRecipe } from '../../hw-model/synthetic.ts';

const p8: SyntheticRecipe = { name: 'p8+', weights: 'p8e2', activations: 'p8e2', errors: 'p8e2', accumulator: 'quire', output: 'p16e2', master: 'p16e2' };
const p6t: SyntheticRecipe = { ...p8, name: 'p6+t', weights: 'p6e1', activations: 'p6e1', output: 'p16e1', fastTanh: 'p16e0' };
const model = { name: 'tiny', layers: [dense('G', 4, 3, { deployed: true, activation: 'tanh' }), dense('D', 3, 1, { deployed: false, timesPerStep: 2 })] };

describe('synthetic op counts', () => {
  it('are labelled synthetic and valid op-count files', () => {
    const t = synthesizeTraining(model, p8, { batch: 2, steps: 3 });
    expect(t.run.name).toBe('synthetic-tiny-train-p8+');
    expect(t.run.device).toBe('synthetic');
    expect(() => parseOpCounts(JSON.parse(JSON.stringify(t)), 't.json')).not.toThrow();
    const e = estimate(t, library());
    expect(e.synthetic).toBe(true);
    expect(compare([e], ['t'], 0).warnings.join()).toMatch(/SYNTHETIC/);
  });

  it('count MACs and traffic from the shapes (hand-computed)', () => {
    const t = synthesizeTraining(model, p8, { batch: 2, steps: 3 });
    const macs = (layer: string, phase: string) => t.records.filter((r) => r.kind === 'mac' && r.layer === layer && r.phase === phase).reduce((s, r) => s + (r as { count: number }).count, 0);
    expect(macs('G', 'forward')).toBe(3 * 2 * 4 * 3); // steps x batch x in x out
    expect(macs('G', 'backward')).toBe(2 * 3 * 2 * 4 * 3); // input errors + weight gradients
    expect(macs('D', 'forward')).toBe(2 * 3 * 2 * 3 * 1); // the discriminator runs twice per step
    const weightReads = t.records.find((r) => r.kind === 'memory' && r.layer === 'G' && r.phase === 'forward' && r.role === 'weights')!;
    expect((weightReads as { bits: number }).bits).toBe(3 * (4 * 3 + 3) * 8); // steps x params x 8-bit storage
    const opt = t.records.filter((r) => r.phase === 'optimizer' && r.layer === 'D' && r.kind === 'mul');
    expect((opt[0] as { count: number }).count).toBe(3 * 2 * (3 + 1)); // once per step, whatever timesPerStep
  });

  it('deployment counts the deployed layers only, with the fast tanh in its container', () => {
    const d = synthesizeDeployment(model, p6t, { batch: 5, passes: 1 });
    expect(new Set(d.records.map((r) => r.layer))).toEqual(new Set(['G']));
    expect(d.records.every((r) => r.phase === 'inference')).toBe(true);
    expect(d.records.find((r) => r.kind === 'activation')).toMatchObject({ fn: 'tanh', format: 'p16e0', fast: true, count: 15 });
    expect(() => estimate(d, library())).not.toThrow();
  });

  it('conv counts MACs per output pixel, transposed conv per input pixel', () => {
    expect(conv('c', { cin: 3, cout: 8, k: 3, hIn: 8, wIn: 8, hOut: 6, wOut: 6 }, { deployed: true }).macsPerSample).toBe(3 * 8 * 9 * 36);
    expect(conv('t', { cin: 8, cout: 3, k: 4, hIn: 4, wIn: 4, hOut: 8, wOut: 8, transposed: true }, { deployed: true }).macsPerSample).toBe(8 * 3 * 16 * 16);
  });
});
