// The checkpoint container (bit-exact round trip, verification) and the checkpoint folder: loading
// skips damaged files and says so, retention keeps the newest verified files and moves damaged and
// foreign ones aside, never counting them against good checkpoints.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type CheckpointData } from '../../gan/train/checkpoint.ts';
import { CheckpointStore, describeSetAside } from '../../gan/train/checkpoint-store.ts';

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
    const store = new CheckpointStore(d);
    for (const s of [10, 20, 30, 40]) store.save(sample(s));
    expect(store.list().map((c) => c.step)).toEqual([20, 30, 40]);
    expect(readdirSync(d).filter((n) => !n.endsWith('.pgc'))).toEqual([]); // no temp files left
    const newest = store.list().at(-1)!.path;
    const bytes = readFileSync(newest);
    writeFileSync(newest, bytes.subarray(0, bytes.length >> 1)); // a crash mid-copy
    const loaded = new CheckpointStore(d).loadLatest();
    expect(loaded.data.step).toBe(30);
    expect(loaded.skipped).toHaveLength(1);
    expect(loaded.skipped[0]!.path).toBe(newest);
    expect(loaded.skipped[0]!.reason).toMatch(/corrupt or truncated/);
    expect(existsSync(newest)).toBe(true); // loading never moves files
  });

  it('says when nothing usable is there, with every reason', () => {
    expect(() => new CheckpointStore(tmp()).loadLatest()).toThrow(/no usable checkpoint/);
    const d = tmp();
    writeFileSync(join(d, 'ckpt-000000007.pgc'), 'junk');
    expect(() => new CheckpointStore(d).loadLatest()).toThrow(/no usable checkpoint.*ckpt-000000007\.pgc is truncated/s);
  });

  it('junk files of later steps never count: they are moved to damaged/ and every good one is kept', () => {
    // The failure seen: unreadable ckpt-100/101/102 above good ckpt-2/4/6; retention counted the junk
    // as the newest three and deleted every good checkpoint, the new ones included.
    const d = tmp();
    const store = new CheckpointStore(d);
    for (const s of [2, 4, 6]) store.save(sample(s));
    const junk = [100, 101, 102].map((s) => store.pathFor(s));
    writeFileSync(junk[0]!, 'not a checkpoint at all, just some bytes long enough to look like one');
    writeFileSync(junk[1]!, Buffer.alloc(0));
    const corrupt = encodeCheckpoint(sample(102));
    corrupt[corrupt.length - 1]! ^= 1;
    writeFileSync(junk[2]!, corrupt);
    const fresh = new CheckpointStore(d); // a new process: nothing verified yet
    expect(fresh.loadLatest().data.step).toBe(6);
    const saved = fresh.save(sample(8));
    expect(saved.damaged.map((x) => x.path).sort()).toEqual(junk);
    expect(saved.damaged.every((x) => x.movedTo?.startsWith(join(d, 'damaged')))).toBe(true);
    expect(describeSetAside(saved.damaged[2]!, 'damaged')).toMatch(/damaged checkpoint .*ckpt-000000102\.pgc moved to .*damaged.*checksum mismatch/);
    expect(saved.pruned).toEqual([store.pathFor(2)]);
    expect(fresh.list().map((c) => c.step)).toEqual([4, 6, 8]);
    expect(readdirSync(join(d, 'damaged')).sort()).toEqual(['ckpt-000000100.pgc', 'ckpt-000000101.pgc', 'ckpt-000000102.pgc']);
    for (const c of fresh.list()) expect(fresh.read(c.path).step).toBe(c.step);
  });

  it('the checkpoint just written is never pruned: verified files of later steps are moved to superseded/', () => {
    const d = tmp();
    const other = new CheckpointStore(d);
    for (const s of [100, 110, 120]) other.save(sample(s)); // another run's files
    const store = new CheckpointStore(d);
    const saved = store.save(sample(2));
    expect(store.list().map((c) => c.step)).toEqual([2]);
    expect(saved.superseded.map((x) => x.path)).toEqual([100, 110, 120].map((s) => store.pathFor(s)));
    expect(readdirSync(join(d, 'superseded'))).toHaveLength(3);
    expect(store.loadLatest().data.step).toBe(2);
  });

  it('a damaged file moved aside twice gets a fresh name; nothing is overwritten', () => {
    const d = tmp();
    const store = new CheckpointStore(d);
    mkdirSync(join(d, 'damaged'));
    writeFileSync(join(d, 'damaged', 'ckpt-000000005.pgc'), 'earlier');
    writeFileSync(store.pathFor(5), 'junk');
    const s = store.setAside(store.pathFor(5), 'test', 'damaged');
    expect(s.movedTo).toBe(join(d, 'damaged', 'ckpt-000000005.pgc.1'));
    expect(readFileSync(join(d, 'damaged', 'ckpt-000000005.pgc'), 'utf8')).toBe('earlier');
  });
});
