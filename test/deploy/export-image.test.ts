// Export of the image-to-image generators (CycleGAN's A-to-B generator, the SR generator) on tiny runs
// trained here: `posit-gan export` writes them, `deploy --checkpoint --export` gives the export row
// the images of the recipe's row, `deploy --export` alone picks the same inputs from the header,
// `sample --export` writes the model's grid, the loaded generator runs bit for bit as the run's
// deployment, and headers that misstate what the generator takes are refused naming the field.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { Runtime } from '../../engine/runtime.ts';
import { random } from '../../formats/rng.ts';
import { runDeployment } from '../../gan/deploy/evaluate.ts';
import { encodeExport, parseExport, type ExportFile, type ExportHeaderFields } from '../../gan/deploy/export-format.ts';
import { exportModelOf, instantiateExport } from '../../gan/deploy/export.ts';
import { compareDeployments, readExportFile } from '../../gan/deploy/files.ts';
import { prepareDeployment } from '../../gan/deploy/hook.ts';
import { deployRecipeByName } from '../../gan/deploy/recipes.ts';
import { deployedGenerator, targetOf } from '../../gan/deploy/target.ts';
import { resolveConfig, type TrainConfig } from '../../gan/train/config.ts';
import { restoreRun } from '../../gan/train/restore.ts';
import { runTraining } from '../../gan/train/run.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let gpu: Gpu;
let dir: string;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/posit-gan', ...args], { cwd: ROOT, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function pngSize(path: string): [number, number] {
  const b = readFileSync(path);
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

// Two steps of the smallest networks: the point is the file, not the training.
const TINY = { recipe: 'fp32', ngf: 4, ndf: 4, blocks: 1, batch: 2, dataLimit: 32, steps: 2, checkpointEvery: 2, sampleEvery: 0, seed: 1 } as const;
const MODELS: Record<'cyclegan' | 'srgan', Partial<TrainConfig>> = {
  cyclegan: { ...TINY, model: 'cyclegan', task: 'thin2bold' },
  // Pre-training only (pixel loss): the discriminator stays idle, which keeps the run short.
  srgan: { ...TINY, model: 'srgan', scale: 2, pretrainSteps: 2 },
};
const runs: Record<string, string> = {};
const exports: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pg-export-image-'));
  gpu = await openNodeGpu({ notice: () => {} });
  for (const [name, config] of Object.entries(MODELS)) {
    runs[name] = join(dir, name);
    await runTraining(gpu, { config: resolveConfig(config), out: runs[name], progress: 'quiet' });
  }
  // Both exports at once: each is its own process.
  await Promise.all(
    Object.keys(MODELS).map(async (name) => {
      exports[name] = join(dir, `${name}.safetensors`);
      const e = await cli('export', '--checkpoint', runs[name]!, '--recipe', 'p8+', '--out', exports[name]);
      expect(e.code, e.stderr).toBe(0);
      expect(e.stdout).toMatch(name === 'cyclegan' ? /cyclegan A-to-B generator \(thin2bold\) \(step 2\) under p8\+: \d+ tensors/ : /srgan generator \(step 2\) under p8\+: \d+ tensors/);
    }),
  );
}, 600_000); // a cold shader cache on a loaded CPU driver makes the first kernels slow
afterAll(() => {
  gpu?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  recipe: string;
  psnr: number | null;
  ssim: number | null;
  ssim_per_image: number[] | null;
  identical: number | null;
  weight_bias: number | null;
  n: number;
}

/** The header without its tensors and the tensors with their words: what encodeExport takes. */
function parts(file: ExportFile): [ExportHeaderFields, (ExportFile['header']['tensors'][number] & { data: Uint32Array })[]] {
  const { tensors, ...fields } = file.header;
  return [fields, tensors.map((t) => ({ ...t, data: file.words.get(t.name)! }))];
}

/** n images of `shape` with values in [-1, 1], seeded. */
function randomImages(n: number, shape: readonly number[]): Float32Array {
  const size = n * shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: size }, (_, i) => ((random(7, i) >>> 0) / 2 ** 32) * 2 - 1);
}

describe('export of image-to-image generators', { timeout: 300_000 }, () => {
  it.each([
    // 10 source images above their translations, 32x32 (cyclegan's default size); 10 low-res /
    // upscaled / original triples, 28x28.
    ['cyclegan', [10 * 32 + 11 * 2, 2 * 32 + 3 * 2]],
    ['srgan', [10 * 28 + 11 * 2, 3 * 28 + 4 * 2]],
  ] as const)('%s: deploy --checkpoint --export gives the export row the p8+ row; sample --export writes the grid', async (name, size) => {
    const out = join(dir, `deploy-${name}`);
    const png = join(dir, `sample-${name}.png`);
    const [d, s] = await Promise.all([
      cli('deploy', '--checkpoint', runs[name]!, '--recipes', 'p8+', '--export', exports[name]!, '--n', '10', '--out', out),
      cli('sample', '--export', exports[name]!, '--out', png, '--n', '10'),
    ]);
    expect(d.code, d.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'deploy.json'), 'utf8'));
    expect(json.model).toBe(name);
    const [fromRun, fromFile] = json.rows as Row[];
    expect([fromRun!.recipe, fromFile!.recipe]).toEqual(['p8+', 'export:p8+']);
    // Same images as the recipe's: the same quality of every image against the float32 reference
    // (p8+ is not float32, so these are real numbers, not all-identical).
    expect(fromFile!.ssim_per_image).toHaveLength(10);
    expect(fromFile!.identical).toBeLessThan(10);
    expect([fromFile!.psnr, fromFile!.ssim, fromFile!.ssim_per_image, fromFile!.identical, fromFile!.weight_bias]).toEqual([
      fromRun!.psnr,
      fromRun!.ssim,
      fromRun!.ssim_per_image,
      fromRun!.identical,
      fromRun!.weight_bias,
    ]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(name === 'cyclegan' ? /cyclegan thin2bold test images \(export .*: deployment recipe p8\+, step 2\)/ : /srgan fashion test images \(export .*: deployment recipe p8\+, step 2\)/);
    expect(pngSize(png)).toEqual(size);
  });

  it('the loaded generator runs bit for bit as the run deployment (inputs other than the test images too)', async () => {
    for (const name of Object.keys(MODELS)) {
      const run = restoreRun(gpu, runs[name]!, { say: () => {} });
      const model = exportModelOf(run.config);
      const target = targetOf(run.model, model);
      const dep = await prepareDeployment(target.G, deployRecipeByName('p8+'));
      const file = await readExportFile(exports[name]!);
      const loaded = instantiateExport(new Runtime(gpu), file);
      try {
        expect(loaded.target.kind).toBe(name);
        expect(loaded.target.G.kind).toBe(deployedGenerator(run.model).kind);
        // The exported CycleGAN generator is G_AB alone, at the run's path (its weight biases keep their names).
        expect(loaded.deployment.weightBias).toEqual(dep.weightBias);
        const inputs = { n: 4, images: randomImages(4, file.header.inputShape!) };
        const a = await runDeployment(run.runtime, target, dep, inputs, 4);
        const b = await runDeployment(loaded.target.G.rt, loaded.target, loaded.deployment, inputs, 4);
        expect(b.images.length).toBe(4 * file.header.imageShape.reduce((x, y) => x * y, 1));
        expect(new Uint32Array(b.images.buffer), name).toEqual(new Uint32Array(a.images.buffer));
        expect(() => loaded.gan).toThrow(new RegExp(`holds a ${name} generator, which does not generate from latent vectors`));
      } finally {
        dep.dispose();
        loaded.deployment.dispose();
      }
    }
  });

  it('deploy --export alone runs on the inputs the header names: the images of the export row with the run', async () => {
    for (const name of Object.keys(MODELS)) {
      const common = { recipes: [deployRecipeByName('p8+')], n: 10, seed: 0, batch: 10, command: 'test', commandName: 'deploy' } as const;
      const both = await compareDeployments(gpu, { ...common, checkpoint: runs[name]!, exportFile: exports[name]! });
      const alone = await compareDeployments(gpu, { ...common, recipes: [], exportFile: exports[name]! });
      expect(alone.result.model).toBe(name);
      expect(alone.result.rows.map((r) => r.recipe)).toEqual(['export:p8+']);
      expect(alone.result.strip.rows).toEqual(['export:p8+']);
      expect(both.result.strip.rows).toEqual(['fp32 generator (reference)', 'p8+', 'export:p8+']);
      // The strips have the same width; the last row of `both` (with its borders) is `alone`'s strip.
      expect(alone.strip.width).toBe(both.strip.width);
      const band = both.strip.data.subarray((both.strip.height - alone.strip.height) * both.strip.width);
      expect(Buffer.from(alone.strip.data).equals(Buffer.from(band)), name).toBe(true);
      // ... and that row holds the images of the p8+ row above it.
      const rowBytes = (alone.strip.height - 2) * both.strip.width;
      const p8 = both.strip.data.subarray((both.strip.height - 2 * alone.strip.height + 2) * both.strip.width);
      expect(Buffer.from(p8.subarray(0, rowBytes)).equals(Buffer.from(band.subarray(0, rowBytes)))).toBe(true);
    }
  });

  it("a cyclegan export's file round-trips through parse; headers that misstate the generator are refused naming the field", async () => {
    const file = await readExportFile(exports.cyclegan!);
    const h = file.header;
    expect(h.model).toEqual({ kind: 'cyclegan', task: 'thin2bold', size: 32, ngf: 4, blocks: 1 });
    expect([h.inputShape, h.imageShape, h.latent, h.conditional, h.classes]).toEqual([[1, 32, 32], [1, 32, 32], undefined, undefined, undefined]);
    // Generator-relative names (no 'G_AB.' prefix), weights as p8e1 codes.
    const first = h.tensors.find((t) => t.name === 'model.1.weight');
    expect(first).toMatchObject({ role: 'matmul-weight', format: 'p8e1', shape: [4, 1, 7, 7] });
    expect(h.tensors.some((t) => t.name.startsWith('G_'))).toBe(false);

    const [fields, tensors] = parts(file);
    const again = await parseExport(await encodeExport(fields, tensors));
    expect(again.header).toEqual(h);
    expect([...again.words.keys()]).toEqual([...file.words.keys()]);
    for (const [k, w] of file.words) expect(again.words.get(k), k).toEqual(w);

    const edited = async (change: Record<string, unknown>) => parseExport(await encodeExport({ ...fields, ...change } as unknown as ExportHeaderFields, tensors));
    await expect(edited({ inputShape: [1, 28, 28] })).rejects.toThrow(/^export: header: inputShape must be \[1, 32, 32\] for model\.size 32, got \[1, 28, 28\]$/);
    await expect(edited({ imageShape: [3, 32, 32] })).rejects.toThrow(/^export: header: imageShape must be \[1, 32, 32\] for model\.size 32, got \[3, 32, 32\]$/);
    await expect(edited({ latent: 100 })).rejects.toThrow(/^export: header: latent is present, but a cyclegan generator takes images \(inputShape\), not latent vectors: remove it$/);
    await expect(edited({ inputShape: undefined })).rejects.toThrow(/^export: header: inputShape is missing \(a cyclegan generator takes images: \[1, 32, 32\] for model\.size 32\)$/);
    await expect(edited({ model: { ...h.model, task: 'zebra2horse' } })).rejects.toThrow(/^export: header: model\.task must be one of "thin2bold", "bold2thin", "digit2fashion", "fashion2digit", got "zebra2horse"$/);
    await expect(edited({ model: { kind: 'cgan', width: 8 } })).rejects.toThrow(/^export: header: inputShape is present, but a cgan generator takes latent vectors, not images: remove it$/);
    // Options the schema accepts but the tensors do not fit: named by the tensor.
    const wide = await edited({ model: { ...h.model, ngf: 8 } });
    expect(() => instantiateExport(new Runtime(gpu), wide)).toThrow(/^export: tensor '.+' has shape \[4(, \d+)*\], the generator's is \[8(, \d+)*\]$/);
  });

  it("an srgan export's header; a run and an export of different generators are refused together", async () => {
    const h = (await readExportFile(exports.srgan!)).header;
    expect(h.model).toEqual({ kind: 'srgan', dataset: 'fashion', size: 28, scale: 2, nf: 4, gc: 2, blocks: 1 });
    expect([h.inputShape, h.imageShape, h.latent]).toEqual([[1, 14, 14], [1, 28, 28], undefined]);
    await expect(
      compareDeployments(gpu, { checkpoint: runs.cyclegan!, exportFile: exports.srgan!, recipes: [], n: 10, seed: 0, batch: 10, command: 'test', commandName: 'deploy' }),
    ).rejects.toThrow(/export file '.*srgan\.safetensors' holds a srgan generator of 1x14x14 images to 1x28x28 images; the run in '.*cyclegan' trained a cyclegan generator of 1x32x32 images to 1x32x32 images, so the export cannot run on the run's inputs: export this run's generator/);
  });
});
