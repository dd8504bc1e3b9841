import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
  type CheckpointData,
} from '../../gan/train/checkpoint.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pg-ckpt-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sample(step: number): CheckpointData {
  return {
    step,
    meta: { rng: { seed: 7, counter: step * 10 }, lossScale: 512, note: 'ünïcode' },
    tensors: {
      'G.fc1.weight': { shape: [3, 2], data: Float32Array.from([1, -2, 3.5, NaN, -0, 1e-40]) },
      'D.bn.running_var': { shape: [4], data: Float32Array.from([1, 2, 3, step]) },
      empty: { shape: [0], data: new Float32Array(0) },
    },
  };
}

describe('checkpoints', () => {
  it('round-trip every value bit for bit (NaN, -0, subnormals)', () => {
    const c = sample(5);
    const back = decodeCheckpoint(encodeCheckpoint(c));
    expect(back.step).toBe(5);
    expect(back.meta).toEqual(c.meta);
    for (const [k, t] of Object.entries(c.tensors)) {
      expect(back.tensors[k]!.shape).toEqual(t.shape);
      expect(new Uint32Array(back.tensors[k]!.data.buffer)).toEqual(new Uint32Array(t.data.slice().buffer));
    }
  });

  it('detects a flipped bit, truncation and a foreign file', () => {
    const buf = encodeCheckpoint(sample(1));
    const flipped = Buffer.from(buf);
    flipped[40]! ^= 1;
    expect(() => decodeCheckpoint(flipped)).toThrow(/checksum mismatch/);
    expect(() => decodeCheckpoint(buf.subarray(0, buf.length - 10))).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(Buffer.from('hello world, this is not a checkpoint at all........'))).toThrow(/bad magic/);
  });

  it('keeps the newest three and falls back past a corrupt newest one', () => {
    const d = tmp();
    for (const s of [10, 20, 30, 40]) saveCheckpoint(d, sample(s));
    expect(listCheckpoints(d).map((c) => c.step)).toEqual([20, 30, 40]);
    expect(readdirSync(d).filter((n) => !n.endsWith('.pgc'))).toEqual([]); // no temp files left
    const newest = listCheckpoints(d).at(-1)!.path;
    const bytes = readFileSync(newest);
    writeFileSync(newest, bytes.subarray(0, bytes.length >> 1)); // a crash mid-copy
    const loaded = loadLatestCheckpoint(d);
    expect(loaded.data.step).toBe(30);
    expect(loaded.skipped).toHaveLength(1);
    expect(loaded.skipped[0]!.reason).toMatch(/corrupt or truncated/);
  });

  it('says what to do when nothing usable is there', () => {
    expect(() => loadLatestCheckpoint(tmp())).toThrow(/no usable checkpoint.*without --resume/s);
  });
});
