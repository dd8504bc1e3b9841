// Tier 3: a tiny GAN trains on the machine's adapter (lavapipe in CI): losses change, the sample grid
// is written and not constant, checkpoints round-trip, resume reproduces an uninterrupted run bit for
// bit, and a corrupt newest checkpoint is detected and skipped.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { decodeCheckpoint, listCheckpoints } from '../../gan/train/checkpoint.ts';
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
  const d = mkdtempSync(join(tmpdir(), 'pg-train-'));
  dirs.push(d);
  return d;
}

const tiny = (recipe: string, extra: Partial<TrainConfig> = {}): TrainConfig =>
  resolveConfig({ model: 'cgan', recipe, width: 8, batch: 16, dataLimit: 256, steps: 6, checkpointEvery: 2, sampleEvery: 3, seed: 3, ...extra });

/** Grayscale pixels of an 8-bit PNG written by gan/io/png.ts (filter 0 rows). */
function pngPixels(path: string): Uint8Array {
  const buf = readFileSync(path);
  const width = buf.readUInt32BE(16);
  const chunks: Buffer[] = [];
  for (let p = 8; p < buf.length; ) {
    const len = buf.readUInt32BE(p);
    if (buf.toString('latin1', p + 4, p + 8) === 'IDAT') chunks.push(buf.subarray(p + 8, p + 8 + len));
    p += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(chunks));
  const rows = raw.length / (width + 1);
  const px = new Uint8Array(width * rows);
  for (let r = 0; r < rows; r++) px.set(raw.subarray(r * (width + 1) + 1, (r + 1) * (width + 1)), r * width);
  return px;
}

function finalTensors(dir: string): Record<string, Uint32Array> {
  const last = listCheckpoints(join(dir, 'checkpoints')).at(-1)!;
  const c = decodeCheckpoint(readFileSync(last.path));
  return Object.fromEntries(Object.entries(c.tensors).map(([k, v]) => [k, new Uint32Array(v.data.buffer)]));
}

describe('GAN training on the CPU driver', () => {
  it('p8+ trains: finite losses that change, calibration recorded, samples not constant, op counts written', async () => {
    const out = tmp();
    const r = await runTraining(gpu, { config: tiny('p8+'), out, progress: 'quiet' });
    expect(r.status).toBe('completed');
    const rows = readFileSync(join(out, 'losses.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(Number.isFinite(row[2]) && Number.isFinite(row[3])).toBe(true);
    expect(new Set(rows.map((row) => row[2])).size).toBeGreaterThan(1);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('completed');
    expect(Number.isInteger(manifest.calibration.weightBias.G.t)).toBe(true);
    expect(Number.isInteger(manifest.calibration.lossScale.D.log2)).toBe(true);
    expect(manifest.calibration.weightBias.G.histogram.counts).toHaveLength(20);
    const px = pngPixels(join(out, 'samples', 'latest.png'));
    // After 6 steps of a tiny model the digits are faint, but the grid must not be constant.
    expect(Math.max(...px) - Math.min(...px)).toBeGreaterThan(10);
    expect(new Set(px).size).toBeGreaterThan(20);
    const counts = JSON.parse(readFileSync(join(out, `${out.split('/').at(-1)}.opcounts.json`), 'utf8'));
    expect(counts.run.steps).toBe(6);
    expect(counts.records.some((e: { kind: string; a?: string }) => e.kind === 'mac' && e.a === 'p8e2')).toBe(true);
    // Each network's layers under its own prefix (both models name theirs model.0, model.1, ...).
    const layers = new Set(counts.records.map((e: { layer: string }) => e.layer.split('.')[0]));
    expect(layers.has('G') && layers.has('D')).toBe(true);
    expect(layers.has('model')).toBe(false);
    // The final grid is scored by the LeNet and the score recorded (what it reads is tested in
    // test/metrics/grid-accuracy.test.ts).
    expect(manifest.sampleGridAccuracy).toEqual(r.gridAccuracy);
    expect(r.gridAccuracy).toMatchObject({ file: 'samples/latest.png', n: 100 });
    expect(r.gridAccuracy!.correct).toBe(Math.round(r.gridAccuracy!.accuracy * 100));
  });

  it('acgan (the quick-start model) under p8+: resume after a crash reproduces the uninterrupted run bit for bit', async () => {
    const config = tiny('p8+', { model: 'acgan', width: 8, batch: 8, dataLimit: 64 });
    const whole = tmp();
    const r = await runTraining(gpu, { config, out: whole, progress: 'quiet' });
    const rows = readFileSync(join(whole, 'losses.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    expect(rows.every((row) => Number.isFinite(row[2]) && Number.isFinite(row[3]))).toBe(true);
    expect(new Set(rows.map((row) => row[2])).size).toBeGreaterThan(1);
    expect(r.gridAccuracy?.n).toBe(100);
    // The 28x28 grid of today's layout: 10 cells of 28 pixels and 11 borders of 2 per side.
    const png = readFileSync(join(whole, 'samples', 'latest.png'));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([302, 302]);
    const split = tmp();
    await runTraining(gpu, { config, out: split, progress: 'quiet', stopAfter: 3 });
    const cps = listCheckpoints(join(split, 'checkpoints'));
    rmSync(cps.at(-1)!.path);
    await runTraining(gpu, { config, out: split, progress: 'quiet', resume: true });
    const a = finalTensors(whole);
    const b = finalTensors(split);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k], k).toEqual(a[k]);
  });

  it('resume after a crash reproduces the uninterrupted run bit for bit', async () => {
    const whole = tmp();
    await runTraining(gpu, { config: tiny('fp32'), out: whole, progress: 'quiet' });
    const split = tmp();
    await runTraining(gpu, { config: tiny('fp32'), out: split, progress: 'quiet', stopAfter: 3 });
    // A crash right after step 3 would have left only the step-2 checkpoint.
    const cps = listCheckpoints(join(split, 'checkpoints'));
    expect(cps.map((c) => c.step)).toEqual([2, 3]);
    rmSync(cps[1]!.path);
    await runTraining(gpu, { config: tiny('fp32'), out: split, progress: 'quiet', resume: true });
    const a = finalTensors(whole);
    const b = finalTensors(split);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k], k).toEqual(a[k]);
    const lossesA = readFileSync(join(whole, 'losses.csv'), 'utf8').split('\n').map((l) => l.split(',').slice(0, 8).join(','));
    const lossesB = readFileSync(join(split, 'losses.csv'), 'utf8').split('\n').map((l) => l.split(',').slice(0, 8).join(','));
    expect(lossesB).toEqual(lossesA);
  });

  it('a time limit stops at a step boundary, checkpointed, and the run resumes to its end', async () => {
    const out = tmp();
    // A deadline already passed: no step is trained, but the run is saved and marked stopped.
    const r = await runTraining(gpu, { config: tiny('fp32', { steps: 4 }), out, progress: 'quiet', deadline: Date.now() });
    expect(r.status).toBe('stopped');
    expect(r.steps).toBe(0);
    expect(r.totalSteps).toBe(4);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).status).toBe('stopped');
    const done = await runTraining(gpu, { config: tiny('fp32', { steps: 4 }), out, progress: 'quiet', resume: true, deadline: Date.now() + 600_000 });
    expect(done.status).toBe('completed');
    expect(done.steps).toBe(4);
  });

  it('a corrupt newest checkpoint is reported and the previous one is used', async () => {
    const out = tmp();
    await runTraining(gpu, { config: tiny('fp32', { steps: 4 }), out, progress: 'quiet' });
    const cps = listCheckpoints(join(out, 'checkpoints'));
    const newest = cps.at(-1)!;
    const bytes = readFileSync(newest.path);
    bytes[100]! ^= 0xff;
    writeFileSync(newest.path, bytes);
    const r = await runTraining(gpu, { config: tiny('fp32', { steps: 4 }), out, progress: 'quiet', resume: true });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.notes.join('\n')).toMatch(/unusable.*checksum mismatch/);
    expect(r.steps).toBe(4);
  });
});
