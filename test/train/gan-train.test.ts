// Tier 3: a tiny GAN trains on the machine's adapter (lavapipe in CI): losses change, the sample grid
// is written and not constant, checkpoints round-trip, resume reproduces an uninterrupted run bit for
// bit with its bookkeeping (op counts, elapsed time, sessions), a corrupt newest checkpoint is detected
// and skipped, junk checkpoints never displace good ones, a run directory is never shared, and the
// commands that load a run refuse a damaged newest checkpoint unless told to use an older one.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { CheckpointStore } from '../../gan/train/checkpoint-store.ts';
import { resolveConfig, type TrainConfig } from '../../gan/train/config.ts';
import { restoreRun } from '../../gan/train/restore.ts';
import { RunDirectoryError } from '../../gan/train/run-dir.ts';
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
  const store = new CheckpointStore(join(dir, 'checkpoints'));
  const c = store.read(store.list().at(-1)!.path);
  return Object.fromEntries(Object.entries(c.tensors).map(([k, v]) => [k, new Uint32Array(v.data.buffer)]));
}

// Several tests train two or three tiny runs; a loaded CPU driver makes that slow.
describe('GAN training on the CPU driver', { timeout: 300_000 }, () => {
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
    // Both losses carry the auxiliary classifier's cross-entropy: untrained, about ln 10 on top of the
    // adversarial term (which alone would be about ln 2).
    for (const loss of [rows[0]![2]!, rows[0]![3]!]) expect(loss).toBeGreaterThan(Math.log(10));
    expect(r.gridAccuracy?.n).toBe(100);
    // The 28x28 grid of today's layout: 10 cells of 28 pixels and 11 borders of 2 per side.
    const png = readFileSync(join(whole, 'samples', 'latest.png'));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([302, 302]);
    const split = tmp();
    await runTraining(gpu, { config, out: split, progress: 'quiet', stopAfter: 3 });
    const cps = new CheckpointStore(join(split, 'checkpoints')).list();
    rmSync(cps.at(-1)!.path);
    await runTraining(gpu, { config, out: split, progress: 'quiet', resume: true });
    const a = finalTensors(whole);
    const b = finalTensors(split);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k], k).toEqual(a[k]);
  });

  it('resume after a crash reproduces the uninterrupted run bit for bit, and continues its bookkeeping', async () => {
    const whole = tmp();
    await runTraining(gpu, { config: tiny('fp32'), out: whole, progress: 'quiet', command: 'first' });
    const split = tmp();
    await runTraining(gpu, { config: tiny('fp32'), out: split, progress: 'quiet', stopAfter: 3, command: 'first' });
    const firstManifest = JSON.parse(readFileSync(join(split, 'manifest.json'), 'utf8'));
    // A crash right after step 3 would have left only the step-2 checkpoint.
    const cps = new CheckpointStore(join(split, 'checkpoints')).list();
    expect(cps.map((c) => c.step)).toEqual([2, 3]);
    rmSync(cps[1]!.path);
    const lines: string[] = [];
    await runTraining(gpu, { config: tiny('fp32'), out: split, progress: 'quiet', resume: true, command: 'second', say: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/resuming .* from step 2 /);
    const a = finalTensors(whole);
    const b = finalTensors(split);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k], k).toEqual(a[k]);
    const csv = (d: string) => readFileSync(join(d, 'losses.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(csv(split).map((r) => r.slice(0, 8))).toEqual(csv(whole).map((r) => r.slice(0, 8)));
    // The seconds column is training time since the run started: it continues after the resume.
    const seconds = csv(split).slice(1).map((r) => Number(r[8]));
    for (let i = 1; i < seconds.length; i++) expect(seconds[i]!, `row ${i}`).toBeGreaterThanOrEqual(seconds[i - 1]!);
    // Op counts: the resumed run's file counts every step, as the uninterrupted run's does.
    const counts = (d: string) => JSON.parse(readFileSync(join(d, `${d.split('/').at(-1)}.opcounts.json`), 'utf8'));
    expect(counts(split).run.steps).toBe(6);
    expect(counts(split).records).toEqual(counts(whole).records);
    // The manifest keeps the original start and every command that trained the run.
    const m = JSON.parse(readFileSync(join(split, 'manifest.json'), 'utf8'));
    expect(m.started).toBe(firstManifest.started);
    expect(m.command).toBe('first');
    expect(m.sessions.map((x: { command: string; fromStep: number; toStep: number; status: string }) => [x.command, x.fromStep, x.toStep, x.status])).toEqual([
      ['first', 0, 3, 'stopped'],
      ['second', 2, 6, 'completed'],
    ]);
    expect(m.sessions[1].started >= m.sessions[0].finished).toBe(true);
  });

  it('an abort (a signal) stops at a step boundary with status interrupted, checkpointed and resumable', async () => {
    const out = tmp();
    const abort = new AbortController();
    abort.abort('SIGINT'); // before the first step: the run still ends with a checkpoint
    const r = await runTraining(gpu, { config: tiny('fp32', { steps: 3 }), out, progress: 'quiet', signal: abort.signal });
    expect(r.status).toBe('interrupted');
    expect(r.steps).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect([m.status, m.step, m.interruptedBy]).toEqual(['interrupted', 0, 'SIGINT']);
    expect(new CheckpointStore(join(out, 'checkpoints')).list().map((c) => c.step)).toEqual([0]);
    const done = await runTraining(gpu, { config: tiny('fp32', { steps: 3 }), out, progress: 'quiet', resume: true, say: () => {} });
    expect([done.status, done.steps]).toEqual(['completed', 3]);
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
    const cps = new CheckpointStore(join(out, 'checkpoints')).list();
    const newest = cps.at(-1)!;
    const bytes = readFileSync(newest.path);
    bytes[100]! ^= 0xff;
    writeFileSync(newest.path, bytes);
    const r = await runTraining(gpu, { config: tiny('fp32', { steps: 4 }), out, progress: 'quiet', resume: true });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.notes.join('\n')).toMatch(/skipped a damaged checkpoint.*moved to .*damaged.*SHA-256 mismatch/);
    expect(r.steps).toBe(4);
  });

  it('junk checkpoints above good ones: resume keeps the good ones and ends with a usable newest', async () => {
    // The failure seen: with unreadable ckpt-100/101/102 above good ckpt-2/4/6, `train --resume
    // --steps 10` deleted every good checkpoint, its own new ones included.
    const out = tmp();
    await runTraining(gpu, { config: tiny('fp32'), out, progress: 'quiet' });
    const dir = join(out, 'checkpoints');
    const store = new CheckpointStore(dir);
    expect(store.list().map((c) => c.step)).toEqual([2, 4, 6]);
    for (const s of [100, 101, 102]) writeFileSync(store.pathFor(s), `junk ${s}`.repeat(20));
    const lines: string[] = [];
    const r = await runTraining(gpu, { config: tiny('fp32', { steps: 10 }), out, progress: 'quiet', resume: true, say: (l) => lines.push(l) });
    expect([r.status, r.steps]).toEqual(['completed', 10]);
    expect(lines.filter((l) => /damaged checkpoint .*ckpt-00000010[012]\.safetensors moved to/.test(l))).toHaveLength(3);
    const left = new CheckpointStore(dir).list();
    expect(left.map((c) => c.step)).toEqual([6, 8, 10]);
    for (const c of left) expect(store.read(c.path).step).toBe(c.step);
    expect(readdirSync(join(dir, 'damaged')).sort()).toEqual(['ckpt-000000100.safetensors', 'ckpt-000000101.safetensors', 'ckpt-000000102.safetensors']);
    const loaded = restoreRun(gpu, out, { say: () => {} });
    expect(loaded.step).toBe(10);
  });

  it('a new run refuses a directory that holds a run, and one with other files', async () => {
    const out = tmp();
    await runTraining(gpu, { config: tiny('fp32', { steps: 1 }), out, progress: 'quiet' });
    const before = readFileSync(join(out, 'manifest.json'), 'utf8');
    await expect(runTraining(gpu, { config: tiny('fp32', { steps: 2 }), out, progress: 'quiet' })).rejects.toThrow(RunDirectoryError);
    await expect(runTraining(gpu, { config: tiny('fp32', { steps: 2 }), out, progress: 'quiet' })).rejects.toThrow(/holds another run .*--resume .*--force/s);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(before);
    const other = tmp();
    writeFileSync(join(other, 'notes.txt'), 'mine');
    await expect(runTraining(gpu, { config: tiny('fp32', { steps: 1 }), out: other, progress: 'quiet' })).rejects.toThrow(/not empty .*notes\.txt/);
    expect(readdirSync(other)).toEqual(['notes.txt']);
  });

  it('loading a run says which step; a damaged newest checkpoint is refused unless an older one is allowed', async () => {
    const out = tmp();
    await runTraining(gpu, { config: tiny('fp32', { steps: 4 }), out, progress: 'quiet' });
    const said: string[] = [];
    expect(restoreRun(gpu, out, { say: (l) => said.push(l) }).step).toBe(4);
    expect(said).toEqual([expect.stringMatching(/^posit-gan: loaded step 4 of .*ckpt-000000004\.safetensors/)]);
    const store = new CheckpointStore(join(out, 'checkpoints'));
    const newest = store.pathFor(4);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 5]! ^= 0x10;
    writeFileSync(newest, bytes);
    expect(() => restoreRun(gpu, out, { say: () => {} })).toThrow(/newest checkpoint .* is damaged: .*ckpt-000000004\.safetensors is corrupt.*step 2 .*--allow-older/s);
    said.length = 0;
    const older = restoreRun(gpu, out, { allowOlder: true, say: (l) => said.push(l) });
    expect(older.step).toBe(2);
    expect(said[0]).toMatch(/warning: skipped a damaged checkpoint: .*ckpt-000000004\.safetensors is corrupt/);
    expect(said[1]).toMatch(/loaded step 2 .*--allow-older/);
    expect(existsSync(newest)).toBe(true); // reading commands never move files
  });
});
