// The FID curve written during training (train --eval-every, gan/train/fid-curve.ts): evaluations at
// every K steps and at the end land in fid.csv, they change nothing in the training (same losses, same
// weights, same op counts as a run without them: the evaluation is kept out of the counts), and a run
// resumed from a checkpoint continues the curve with the values an uninterrupted run gives.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { SAFETENSORS_CODEC } from '../../gan/train/checkpoint.ts';
import { CheckpointStore } from '../../gan/train/checkpoint-store.ts';
import { resolveConfig, type TrainConfig } from '../../gan/train/config.ts';
import { parseFidCsv, readFidCsv } from '../../gan/train/fid-curve.ts';
import { runTraining } from '../../gan/train/run.ts';

let gpu: Gpu;
let root: string;
beforeAll(async () => {
  gpu = await openNodeGpu({ notice: () => {} });
  root = mkdtempSync(join(tmpdir(), 'pg-fid-curve-'));
});
afterAll(() => {
  gpu?.destroy();
  rmSync(root, { recursive: true, force: true });
});

// 256 images at batch 16: 16 steps per epoch.
const tiny = (extra: Partial<TrainConfig> = {}): TrainConfig =>
  resolveConfig({ model: 'cgan', recipe: 'p8+', width: 8, batch: 16, dataLimit: 256, steps: 3, checkpointEvery: 2, sampleEvery: 3, seed: 5, ...extra });

const losses = (dir: string) =>
  readFileSync(join(dir, 'losses.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(',').slice(0, 8).join(','));

function finalTensors(dir: string): Record<string, number[]> {
  const last = new CheckpointStore(join(dir, 'checkpoints')).list().at(-1)!;
  const c = SAFETENSORS_CODEC.decode(readFileSync(last.path), last.path);
  return Object.fromEntries(Object.entries(c.tensors).map(([k, v]) => [k, Array.from(new Uint32Array(v.data.buffer))]));
}

const opcounts = (dir: string) => JSON.parse(readFileSync(join(dir, `${basename(dir)}.opcounts.json`), 'utf8'));

describe('FID against training steps', () => {
  it('evaluates every K steps and at the end, without changing the training or its op counts; resume continues it', async () => {
    const plain = join(root, 'plain');
    const curved = join(root, 'curved');
    await runTraining(gpu, { config: tiny(), out: plain, progress: 'quiet' });
    await runTraining(gpu, { config: tiny({ evalEvery: 2, evalN: 20 }), out: curved, progress: 'quiet' });

    expect(readFidCsv(plain)).toBeNull();
    const curve = readFidCsv(curved)!;
    expect(curve.map((p) => p.step)).toEqual([2, 3]);
    for (const p of curve) {
      expect(p.n).toBe(20);
      expect(p.epoch).toBe(p.step / 16);
      expect(Number.isFinite(p.fid) && p.fid > 0).toBe(true);
      expect(p.fidAe !== null && Number.isFinite(p.fidAe) && p.fidAe > 0).toBe(true);
      expect(p.classifierAccuracy).toBeGreaterThanOrEqual(0);
      expect(p.classifierAccuracy).toBeLessThanOrEqual(1);
    }
    // The evaluations are not training: same losses, same weights, same op counts.
    expect(losses(curved)).toEqual(losses(plain));
    expect(finalTensors(curved)).toEqual(finalTensors(plain));
    expect(opcounts(curved).records).toEqual(opcounts(plain).records);

    // Stopped after step 2 (its checkpoint and evaluation written), then resumed to the end.
    const split = join(root, 'split');
    await runTraining(gpu, { config: tiny({ evalEvery: 2, evalN: 20 }), out: split, progress: 'quiet', stopAfter: 2 });
    expect(readFidCsv(split)!.map((p) => p.step)).toEqual([2]);
    await runTraining(gpu, { config: tiny({ evalEvery: 2, evalN: 20 }), out: split, progress: 'quiet', resume: true });
    const resumed = readFidCsv(split)!;
    const strip = (ps: typeof curve) => ps.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(resumed)).toEqual(strip(curve));
  }, 600_000);

  it('on Fashion-MNIST: the Fashion LeNet against the Fashion test set, and no autoencoder FID (it is trained on MNIST)', async () => {
    const out = join(root, 'fashion');
    await runTraining(gpu, { config: tiny({ model: 'dcgan', dataset: 'fashion', recipe: 'fp32', ngf: 4, ndf: 4, evalEvery: 2, evalN: 20 }), out, progress: 'quiet' });
    const curve = readFidCsv(out)!;
    expect(curve.map((p) => p.step)).toEqual([2, 3]);
    for (const p of curve) {
      expect(Number.isFinite(p.fid) && p.fid > 0).toBe(true);
      expect(p.fidAe).toBeNull();
      expect(p.classifierAccuracy).toBeNull();
    }
    // The reference statistics cached beside the run are the Fashion-MNIST test set's.
    const cache = JSON.parse(readFileSync(join(root, 'fid-reference-lenet.json'), 'utf8'));
    expect(JSON.stringify(cache)).toMatch(/fashion/i);
  }, 600_000);

  it('fid.csv: a malformed file is an error naming the line', () => {
    const header = 'step,epoch,n,fid,fid_ae,classifier_accuracy,seconds';
    expect(parseFidCsv(`${header}\n2,0.125,20,300.5,40.25,,1.5\n`, 'x')).toEqual([{ step: 2, epoch: 0.125, n: 20, fid: 300.5, fidAe: 40.25, classifierAccuracy: null, seconds: 1.5 }]);
    expect(() => parseFidCsv(`${header}\n2,0.125,20,abc,40,,1\n`, 'runs/x/fid.csv')).toThrow(/runs\/x\/fid\.csv line 2: '2,0\.125,20,abc,40,,1' is not/);
    expect(() => parseFidCsv('step,fid\n', 'f')).toThrow(/expected the header/);
  });
});
