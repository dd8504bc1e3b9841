// experiment table1 for the paper's other rows (issue 12) on tiny models: a CycleGAN translation
// direction and the ESRGAN-style SR model, each with two recipes and two seeds. The table names its
// task and the paper row it stands beside, the translation rows are FIDs against the target domain,
// the SR rows carry PSNR and SSIM with their spread and are compared on PSNR as well.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { runTable1 } from '../../gan/experiments/table1.ts';

let gpu: Gpu;
let root: string;
beforeAll(async () => {
  gpu = await openNodeGpu({ notice: () => {} });
  root = mkdtempSync(join(tmpdir(), 'pg-table1-tasks-'));
});
afterAll(() => {
  gpu?.destroy();
  rmSync(root, { recursive: true, force: true });
});

const tiny = { ngf: 4, ndf: 4, blocks: 1, batch: 4, steps: 3, checkpointEvery: 3, sampleEvery: 3 };

describe('experiment table1 for translation and super-resolution', { timeout: 600_000 }, () => {
  it('cyclegan bold2thin: rows per recipe with per-seed FIDs against the thin test digits, beside the paper\'s Zebra2horse row', async () => {
    const t = await runTable1(gpu, {
      name: 'b2t',
      model: 'cyclegan',
      config: { ...tiny, task: 'bold2thin', dataLimit: 96 },
      recipes: ['fp32', 'p8+'],
      seeds: [1, 2],
      evalSamples: 30,
      command: 'test cyclegan',
      progress: 'quiet',
      root,
    });
    expect(t.task).toBe('bold2thin');
    expect(t.paper_row).toBe('Zebra2horse');
    // 96 digits: a third (32) in each domain, 8 steps of 4 per epoch.
    expect(t.steps_per_epoch).toBe(8);
    expect(t.curve).toBeNull();
    expect(t.evaluation.reference).toMatch(/^thin MNIST test images; the samples are the bold MNIST test images translated/);
    expect(t.rows.map((r) => [r.recipe, r.paper_fid])).toEqual([['fp32', 134.2], ['p8+', 138.36]]);
    for (const r of t.rows) {
      expect(r.seeds.map((s) => s.seed)).toEqual([1, 2]);
      for (const s of r.seeds) {
        expect(Number.isFinite(s.fid!)).toBe(true);
        // Translated digits read against their source labels by the MNIST classifier.
        expect(s.classifier_accuracy).not.toBeNull();
        expect(s.classifier_accuracy!).toBeGreaterThanOrEqual(0);
        expect(s.classifier_accuracy!).toBeLessThanOrEqual(1);
      }
      expect(r.fid_std).not.toBeNull();
      expect(r.psnr).toBeUndefined();
    }
    expect(t.comparisons.map((c) => `${c.a}/${c.b}`)).toEqual(['p8+/fp32']);
    const md = readFileSync(join(root, 'results', 'b2t', 'table1.md'), 'utf8');
    expect(md).toMatch(/# Table I reproduction: cyclegan, bold2thin/);
    expect(md).toMatch(/Zebra2horse, on another data set/);
    expect(existsSync(join(root, 'results', 'b2t', 'table1-samples.png'))).toBe(true);
  });

  it('srgan: rows carry PSNR and SSIM (mean, spread, per seed) and are compared on PSNR beside the paper\'s ESRGAN row', async () => {
    const t = await runTable1(gpu, {
      name: 'sr',
      model: 'srgan',
      config: { ...tiny, dataLimit: 32, pretrainSteps: 1 },
      recipes: ['fp32', 'fp8'],
      seeds: [1, 2],
      evalSamples: 20,
      command: 'test srgan',
      progress: 'quiet',
      root,
    });
    expect(t.task).toBe('srgan');
    expect(t.paper_row).toBe('ESRGAN (PSNR)');
    for (const r of t.rows) {
      for (const s of r.seeds) {
        if (s.diverged) continue;
        expect(s.psnr!).toBeGreaterThan(0);
        expect(Math.abs(s.ssim!)).toBeLessThanOrEqual(1);
      }
    }
    const fp32 = t.rows.find((r) => r.recipe === 'fp32')!;
    expect(fp32.paper_psnr).toBe(24.67);
    expect(fp32.psnr).toBeCloseTo((fp32.seeds[0]!.psnr! + fp32.seeds[1]!.psnr!) / 2, 10);
    expect(fp32.psnr_std).not.toBeNull();
    const pair = t.comparisons.find((c) => c.a === 'fp8' && c.b === 'fp32')!;
    expect(pair.paper_psnr).toEqual({ higher: 'fp32', a: 4.62, b: 24.67 });
    expect(pair.psnr).toBeDefined();
    const md = readFileSync(join(root, 'results', 'sr', 'table1.md'), 'utf8');
    expect(md).toMatch(/# Table I reproduction: srgan x2 on Fashion-MNIST/);
    expect(md).toMatch(/\| recipe \| PSNR \(dB\) \| SSIM \| paper PSNR \(ESRGAN\)/);
    expect(md).toMatch(/fp32 higher \(4\.62 vs 24\.67\)/);
  });
});
