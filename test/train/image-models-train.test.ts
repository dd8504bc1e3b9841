// The paper's other GANs train on the CPU driver at tiny sizes (issue 12): CycleGAN on a translation
// task, ESRGAN-style super-resolution with its pre-training phase, and DCGAN on Fashion-MNIST. For each:
// finite losses that change, a sample grid of the documented layout, and a resume after a crash that
// reproduces the uninterrupted run bit for bit (CycleGAN's image history included).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { compareDeployments, writeComparison } from '../../gan/deploy/files.ts';
import { deployRecipeByName, PAPER_DEPLOY_RECIPES } from '../../gan/deploy/recipes.ts';
import { evaluateRun } from '../../gan/experiments/evaluate-run.ts';
import { buildFig9 } from '../../gan/experiments/fig9.ts';
import { CheckpointStore } from '../../gan/train/checkpoint-store.ts';
import { resolveConfig, type TrainConfig } from '../../gan/train/config.ts';
import { runTraining } from '../../gan/train/run.ts';

let gpu: Gpu;
const dirs: string[] = [];
beforeAll(async () => {
  gpu = await openNodeGpu({ notice: () => {} });
});
afterAll(() => {
  gpu?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pg-image-models-'));
  dirs.push(d);
  return d;
}

function lossRows(dir: string): string[][] {
  return readFileSync(join(dir, 'losses.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
}

function finalTensors(dir: string): Record<string, Uint32Array> {
  const store = new CheckpointStore(join(dir, 'checkpoints'));
  const c = store.read(store.list().at(-1)!.path);
  return Object.fromEntries(Object.entries(c.tensors).map(([k, v]) => [k, new Uint32Array(v.data.buffer, v.data.byteOffset, v.data.length)]));
}

function pngSize(path: string): [number, number] {
  const png = readFileSync(path);
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

/** Trains `config` whole and again with a crash after 3 steps (its newest checkpoint lost) and a
 *  resume; the final checkpoints must be equal bit for bit. Returns the whole run's directory. */
async function trainAndResume(config: TrainConfig): Promise<string> {
  const whole = tmp();
  const r = await runTraining(gpu, { config, out: whole, progress: 'quiet' });
  expect(r.status).toBe('completed');
  const split = tmp();
  await runTraining(gpu, { config, out: split, progress: 'quiet', stopAfter: 3 });
  const cps = new CheckpointStore(join(split, 'checkpoints')).list();
  rmSync(cps.at(-1)!.path);
  await runTraining(gpu, { config, out: split, progress: 'quiet', resume: true });
  const a = finalTensors(whole);
  const b = finalTensors(split);
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const k of Object.keys(a)) expect(b[k], k).toEqual(a[k]);
  expect(lossRows(split)).toEqual(lossRows(whole).map((row) => [...row.slice(0, -1), expect.any(String)]));
  return whole;
}

/** Deployment directories written below, pooled by the Fig. 9 test at the end. */
const deployed: string[] = [];

async function deploy(dir: string, recipes: readonly string[], defaultRecipes: boolean) {
  const c = await compareDeployments(gpu, { checkpoint: dir, recipes: recipes.map(deployRecipeByName), defaultRecipes, n: 10, seed: 0, batch: 5, command: 'test', commandName: 'experiment' });
  const out = tmp();
  writeComparison(out, c, 'test');
  deployed.push(out);
  return c.result;
}

describe('the other GANs train on the CPU driver', { timeout: 300_000 }, () => {
  it('cyclegan thin2bold under p8+: finite changing losses, image history in the checkpoint, bit-identical resume', async () => {
    const config = resolveConfig({ model: 'cyclegan', task: 'thin2bold', recipe: 'p8+', ngf: 4, ndf: 4, blocks: 1, batch: 4, dataLimit: 120, steps: 6, checkpointEvery: 2, sampleEvery: 0, seed: 2 });
    const dir = await trainAndResume(config);
    const rows = lossRows(dir);
    expect(rows).toHaveLength(6);
    for (const r of rows) expect(Number.isFinite(Number(r[2])) && Number.isFinite(Number(r[3]))).toBe(true);
    expect(new Set(rows.map((r) => r[2])).size).toBeGreaterThan(1);
    // The generators' loss carries the cycle and identity terms (weights 10 and 5 on l1 distances of
    // untrained translations): well above the adversarial terms alone.
    expect(Number(rows[0]![2])).toBeGreaterThan(1);
    const t = finalTensors(dir);
    expect(Object.keys(t).filter((k) => k.startsWith('objective.pool_')).sort()).toEqual(['objective.pool_A.filled', 'objective.pool_A.images', 'objective.pool_B.filled', 'objective.pool_B.images']);
    // 6 steps of 4 images: 24 stored of 50.
    expect(new Float32Array(t['objective.pool_A.filled']!.buffer)[0]).toBe(24);
    // Sample grid: 4 rows of test images (2 of A, 2 of B), each above its translation: 8 rows of 10.
    expect(pngSize(join(dir, 'samples', 'latest.png'))).toEqual([10 * 32 + 11 * 2, 8 * 32 + 9 * 2]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.model).toMatch(/cyclegan on thin2bold/);
    expect(manifest.model).toMatch(/G_AB\.model\.10\.conv_block\.1\.weight/);
    // Evaluation: thin test digits translated, against the bold test digits; the MNIST classifier
    // reads the translations against their source labels.
    const e = await evaluateRun(gpu, dir, { n: 40 });
    expect(e.translation).toEqual({ task: 'thin2bold', source: 'mnist-thin', target: 'mnist-bold' });
    expect(e.n).toBe(40);
    expect(e.reference.name).toBe('mnist-bold-test');
    expect(Number.isFinite(e.fid) && e.fid > 0).toBe(true);
    expect(e.labelAccuracy?.n).toBe(40);
    expect(e.second?.network).toBe('autoencoder');
    // Deployment: G_AB on the first test images of the source domain, against its float32 outputs.
    const d = await deploy(dir, ['p8+', 'p6+t', 'fp16'], false);
    expect(d.model).toBe('cyclegan');
    expect(d.rows.map((r) => r.recipe)).toEqual(['p8+', 'p6+t', 'fp16']);
    for (const r of d.rows) {
      expect(r.ssim_per_image).toHaveLength(10);
      expect(r.ssim!).toBeGreaterThan(0);
      expect(r.ssim!).toBeLessThanOrEqual(1);
    }
    // 16-bit floats are closer to float32 than 6-bit posits.
    expect(d.rows[2]!.ssim!).toBeGreaterThan(d.rows[1]!.ssim!);
  });

  it('srgan x2 on Fashion-MNIST under p8+: pixel-loss pre-training without D, then the full loss; bit-identical resume', async () => {
    const config = resolveConfig({ model: 'srgan', recipe: 'p8+', ngf: 4, ndf: 4, blocks: 1, batch: 4, dataLimit: 64, steps: 6, pretrainSteps: 2, checkpointEvery: 2, sampleEvery: 0, seed: 5 });
    expect(config.dataset).toBe('fashion');
    const dir = await trainAndResume(config);
    const rows = lossRows(dir);
    // Pre-training: no discriminator loss (empty field); then a finite one.
    expect(rows.slice(0, 2).map((r) => r[3])).toEqual(['', '']);
    for (const r of rows.slice(2)) expect(Number.isFinite(Number(r[3])) && r[3] !== '').toBe(true);
    for (const r of rows) expect(Number.isFinite(Number(r[2]))).toBe(true);
    expect(new Set(rows.map((r) => r[2])).size).toBeGreaterThan(1);
    // Sample grid: two groups of low-res / upscaled / original rows of 10 images of 28x28.
    expect(pngSize(join(dir, 'samples', 'latest.png'))).toEqual([10 * 28 + 11 * 2, 6 * 28 + 7 * 2]);
    // The discriminator's loss scale is calibrated on its first iteration, after the pre-training.
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(Number.isInteger(manifest.calibration.lossScale.D.log2)).toBe(true);
    // Evaluation: PSNR / SSIM of upscaled Fashion test images against the originals, on 8-bit pixels.
    const e = await evaluateRun(gpu, dir, { n: 30 });
    expect(e.superResolution?.n).toBe(30);
    expect(e.superResolution?.scale).toBe(2);
    expect(e.superResolution!.psnr!).toBeGreaterThan(3);
    expect(e.superResolution!.psnr!).toBeLessThan(60);
    expect(Math.abs(e.superResolution!.ssim)).toBeLessThanOrEqual(1);
    expect(e.reference.name).toBe('fashion-test');
    expect(e.second).toBeNull();
    // Deployment: ESRGAN's generator has no output Tanh: the default list leaves the fast-tanh recipes
    // out and says so; naming one is an error.
    const d = await deploy(dir, PAPER_DEPLOY_RECIPES, true);
    expect(d.rows.map((r) => r.recipe)).toEqual(PAPER_DEPLOY_RECIPES.filter((r) => !r.endsWith('t')));
    expect(d.notes.join(' ')).toMatch(/srgan generator has no output Tanh: the fast-tanh recipes \(p8\+t, p6\+t\) do not apply/);
    await expect(deploy(dir, ['p6+t'], false)).rejects.toThrow(/p6\+t: its fast tanh replaces the generator's output Tanh, and this generator has none/);
  });

  it('dcgan on Fashion-MNIST (--dataset fashion) trains and resumes bit for bit', async () => {
    const config = resolveConfig({ model: 'dcgan', dataset: 'fashion', recipe: 'fp32', ngf: 4, ndf: 4, batch: 8, dataLimit: 64, steps: 6, checkpointEvery: 2, sampleEvery: 0, seed: 4 });
    const dir = await trainAndResume(config);
    const rows = lossRows(dir);
    for (const r of rows) expect(Number.isFinite(Number(r[2])) && Number.isFinite(Number(r[3]))).toBe(true);
    expect(new Set(rows.map((r) => r[3])).size).toBeGreaterThan(1);
  });

  it('model options are checked together: cyclegan needs a task, a task needs cyclegan', () => {
    expect(() => resolveConfig({ model: 'cyclegan' })).toThrow(/cyclegan model needs a translation task: give task thin2bold\|bold2thin\|digit2fashion\|fashion2digit/);
    expect(() => resolveConfig({ model: 'dcgan', task: 'thin2bold' })).toThrow(/task thin2bold: translation tasks are for --model cyclegan/);
    expect(() => resolveConfig({ model: 'cyclegan', task: 'zebra2horse' })).toThrow(/task/);
    expect(() => resolveConfig({ model: 'srgan', scale: 3 })).toThrow(/scale must be 2 or 4/);
    expect(() => resolveConfig({ model: 'dcgan', dataset: 'lsun' })).toThrow(/dataset must be "mnist" or "fashion", got "lsun"/);
  });

  it('Fig. 9 pools the per-image SSIM of every deployed model per recipe', () => {
    // The cyclegan and srgan deployments above (they run first in this file).
    expect(deployed).toHaveLength(2);
    const f = buildFig9(deployed, 'test');
    const by = new Map(f.recipes.map((r) => [r.recipe, r]));
    // p8+ ran on both models: 10 images each.
    expect(by.get('p8+')!.ssim.n).toBe(20);
    expect(Object.keys(by.get('p8+')!.per_model)).toHaveLength(2);
    // p6+t ran on the cyclegan only; the srgan deployment has no such row, and the figure says so.
    expect(by.get('p6+t')!.ssim.n).toBe(10);
    expect(f.notes.join(' ')).toMatch(/has no p6\+t row/);
    const r = by.get('p8+')!.ssim;
    expect(r.min).toBeLessThanOrEqual(r.q1);
    expect(r.q1).toBeLessThanOrEqual(r.median);
    expect(r.median).toBeLessThanOrEqual(r.q3);
    expect(r.q3).toBeLessThanOrEqual(r.max);
    expect(f.sources.map((s) => s.model)).toEqual(['cyclegan', 'srgan']);
  });
});
