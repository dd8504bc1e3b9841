// The checkpoint container (a safetensors file: bit-exact round trip, a header any reader can parse,
// verification), the older .pgc files (still read, never written), and the checkpoint folder: loading
// skips damaged files and says so, retention keeps the newest verified files and moves damaged and
// foreign ones aside, never counting them against good checkpoints.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSealed } from '../../gan/io/sealed-safetensors.ts';
import { CheckpointError, SAFETENSORS_CODEC, type CheckpointData } from '../../gan/train/checkpoint.ts';
import { PGC_READER } from '../../gan/train/checkpoint-pgc.ts';
import { CheckpointStore, describeSetAside } from '../../gan/train/checkpoint-store.ts';

const encodeCheckpoint = (c: CheckpointData) => Buffer.from(SAFETENSORS_CODEC.encode(c));
const decodeCheckpoint = (b: Buffer, what = 'checkpoint') => SAFETENSORS_CODEC.decode(b, what);

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
      'optG.fc1.weight.exp_avg': { shape: [2], data: new Float32Array(Uint32Array.from([0xffffffff, 0x7fc00001]).buffer), codes: true },
      empty: { shape: [0], data: new Float32Array(0) },
    },
  };
}

/** A version-1 .pgc file, built from its documented layout (gan/train/checkpoint-pgc.ts). */
function pgcBytes(c: CheckpointData): Buffer {
  const entries: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(c.tensors)) {
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.byteLength;
  }
  const header = Buffer.from(JSON.stringify({ version: 1, step: c.step, meta: c.meta, tensors: entries }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const payload = Buffer.concat(Object.values(c.tensors).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
  const body = Buffer.concat([Buffer.from('PGCKPT1\n', 'latin1'), len, header, payload]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

describe('checkpoints', () => {
  it('round-trip every value bit for bit (NaN, -0, subnormals, code words)', () => {
    const c = sample(5);
    const back = decodeCheckpoint(encodeCheckpoint(c));
    expect(back.step).toBe(5);
    expect(back.meta).toEqual(c.meta);
    for (const [k, t] of Object.entries(c.tensors)) {
      expect(back.tensors[k]!.shape).toEqual(t.shape);
      expect(new Uint32Array(back.tensors[k]!.data.buffer)).toEqual(new Uint32Array(t.data.slice().buffer));
      expect(back.tensors[k]!.codes === true).toBe(t.codes === true);
    }
  });

  it('is a safetensors file any reader parses: F32 values, U32 code words, JSON metadata, a checksum over the file', () => {
    const bytes = encodeCheckpoint(sample(7));
    // Parsed here from the format's description, not with posit-gan's reader.
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header['G.fc1.weight']).toEqual({ dtype: 'F32', shape: [3, 2], data_offsets: expect.any(Array) });
    expect(header['optG.fc1.weight.exp_avg'].dtype).toBe('U32');
    const [b, e] = header['G.fc1.weight'].data_offsets;
    expect([...new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n + b, bytes.byteOffset + 8 + n + e))].map(String)).toEqual(['1', '-2', '3.5', 'NaN', '0', String(Math.fround(1e-40))]);
    const m = header.__metadata__;
    expect(m).toMatchObject({ format: 'posit-gan/checkpoint', version: '2', step: '7', note: '"ünïcode"' });
    expect(JSON.parse(m.rng)).toEqual({ seed: 7, counter: 70 });
    // The checksum: SHA-256 of the file with its 64 digits as '0's.
    const at = bytes.indexOf(`"sha256":"${m.sha256}"`, 8) + 10;
    const zeroed = Buffer.concat([bytes.subarray(0, at), Buffer.from('0'.repeat(64)), bytes.subarray(at + 64)]);
    expect(createHash('sha256').update(zeroed).digest('hex')).toBe(m.sha256);
  });

  it('detects a flipped bit anywhere, truncation, a foreign file and a foreign format', () => {
    const buf = encodeCheckpoint(sample(1));
    const digits = buf.indexOf('"sha256":"') + 10;
    for (const at of [12, digits - 20, digits + 70, buf.length - 3]) {
      const flipped = Buffer.from(buf);
      flipped[at]! ^= 0x40;
      expect(() => decodeCheckpoint(flipped, 'c.safetensors')).toThrow(/^c\.safetensors is corrupt or truncated \(SHA-256 mismatch\)$/);
    }
    const digit = Buffer.from(buf);
    digit[digits + 5] = digit[digits + 5] === 0x61 ? 0x62 : 0x61; // still a hex digit: the sum no longer matches
    expect(() => decodeCheckpoint(digit, 'c.safetensors')).toThrow(/SHA-256 mismatch/);
    digit[digits + 5] = 0x78; // not a hex digit: no checksum to be found
    expect(() => decodeCheckpoint(digit, 'c.safetensors')).toThrow(/^c\.safetensors is corrupt, or not a file posit-gan wrote: its header holds no SHA-256/);
    expect(() => decodeCheckpoint(buf.subarray(0, buf.length - 10))).toThrow(/corrupt or truncated \(SHA-256 mismatch\)/);
    expect(() => decodeCheckpoint(buf.subarray(0, 100))).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(Buffer.from('hello world, this is not a checkpoint at all........'))).toThrow(/not a safetensors file/);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
    const other = Buffer.from(encodeSealed({}, { format: 'posit-gan/export', version: '2', step: '3' }, sha));
    expect(() => decodeCheckpoint(other, 'x.safetensors')).toThrow(/^x\.safetensors: metadata: format must be "posit-gan\/checkpoint" \(the file is not a posit-gan checkpoint\), got "posit-gan\/export"$/);
    const unsealed = Buffer.from(encodeSealed({}, { format: 'posit-gan/checkpoint', version: '2', step: 'three' }, sha));
    expect(() => decodeCheckpoint(unsealed, 'x.safetensors')).toThrow(/step must be the step as decimal digits, got "three"/);
  });

  it('keeps the newest three and falls back past a corrupt newest one', () => {
    const d = tmp();
    const store = new CheckpointStore(d);
    for (const s of [10, 20, 30, 40]) store.save(sample(s));
    expect(store.list().map((c) => c.step)).toEqual([20, 30, 40]);
    expect(readdirSync(d).filter((n) => !n.endsWith('.safetensors'))).toEqual([]); // no temp files left
    const newest = store.list().at(-1)!.path;
    const bytes = readFileSync(newest);
    writeFileSync(newest, bytes.subarray(0, bytes.length >> 1)); // a crash mid-copy
    const loaded = new CheckpointStore(d).loadLatest();
    expect(loaded.data.step).toBe(30);
    expect(loaded.skipped).toHaveLength(1);
    expect(loaded.skipped[0]!.path).toBe(newest);
    expect(loaded.skipped[0]!.reason).toMatch(/header length \d+ runs past the end of the file \(\d+ bytes\): truncated/);
    expect(existsSync(newest)).toBe(true); // loading never moves files
  });

  it('says when nothing usable is there, with every reason', () => {
    expect(() => new CheckpointStore(tmp()).loadLatest()).toThrow(/no usable checkpoint/);
    const d = tmp();
    writeFileSync(join(d, 'ckpt-000000007.safetensors'), 'junk');
    writeFileSync(join(d, 'ckpt-000000006.pgc'), 'junk');
    expect(() => new CheckpointStore(d).loadLatest()).toThrow(/no usable checkpoint.*ckpt-000000007\.safetensors: truncated .*ckpt-000000006\.pgc is truncated/s);
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
    expect(describeSetAside(saved.damaged[2]!, 'damaged')).toMatch(/damaged checkpoint .*ckpt-000000102\.safetensors moved to .*damaged.*SHA-256 mismatch/);
    expect(saved.pruned).toEqual([store.pathFor(2)]);
    expect(fresh.list().map((c) => c.step)).toEqual([4, 6, 8]);
    expect(readdirSync(join(d, 'damaged')).sort()).toEqual(['ckpt-000000100.safetensors', 'ckpt-000000101.safetensors', 'ckpt-000000102.safetensors']);
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
    writeFileSync(join(d, 'damaged', 'ckpt-000000005.safetensors'), 'earlier');
    writeFileSync(store.pathFor(5), 'junk');
    const s = store.setAside(store.pathFor(5), 'test', 'damaged');
    expect(s.movedTo).toBe(join(d, 'damaged', 'ckpt-000000005.safetensors.1'));
    expect(readFileSync(join(d, 'damaged', 'ckpt-000000005.safetensors'), 'utf8')).toBe('earlier');
  });

  it('older .pgc checkpoints are read (verified) but never written; of one step, the newer container wins', () => {
    const d = tmp();
    const legacy = sample(4);
    writeFileSync(join(d, 'ckpt-000000004.pgc'), pgcBytes(legacy));
    const store = new CheckpointStore(d);
    const loaded = store.loadLatest();
    expect(loaded.path).toBe(join(d, 'ckpt-000000004.pgc'));
    expect(loaded.data.meta).toEqual(legacy.meta);
    expect(new Uint32Array(loaded.data.tensors['G.fc1.weight']!.data.buffer)).toEqual(new Uint32Array(legacy.tensors['G.fc1.weight']!.data.slice().buffer));
    const saved = store.save(sample(4)); // a resume that stopped at once rewrites step 4
    expect(saved.path).toBe(join(d, 'ckpt-000000004.safetensors'));
    expect(store.loadLatest().path).toBe(saved.path);
    expect(store.save(sample(5)).pruned).toEqual([]);
    expect(store.save(sample(6)).pruned).toEqual([join(d, 'ckpt-000000004.pgc')]); // a .pgc counts like any checkpoint
    expect(store.save(sample(7)).pruned).toEqual([join(d, 'ckpt-000000004.safetensors')]);
    const bad = pgcBytes(sample(8));
    bad[bad.length - 40]! ^= 1;
    writeFileSync(join(d, 'ckpt-000000008.pgc'), bad);
    expect(() => store.read(join(d, 'ckpt-000000008.pgc'))).toThrow(/ckpt-000000008\.pgc is corrupt or truncated \(checksum mismatch\)/);
    expect(PGC_READER.extension).toBe('.pgc');
    expect('encode' in PGC_READER).toBe(false);
  });
});
