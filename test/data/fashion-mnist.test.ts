// Fashion-MNIST from the fashion-mnist package's class files: the split (first 6,000 of each class for
// training, the rest for test, interleaved by class), the package's two empty entries, counts, scaling,
// the round trip through packed files; and, on small fixtures, the errors for missing, damaged and
// unexpected files.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetMissingError } from '../../gan/data/idx-file.ts';
import { decodeFashionClass, FASHION_CLASSES, fashionSplit, PACKAGE_LAYOUT, type FashionLayout } from '../../gan/data/fashion-mnist-core.ts';
import { fashionMnistDir, loadFashionMnist, readFashionMnistRaw } from '../../gan/data/fashion-mnist.ts';
import { DatasetContentError, type MnistSet } from '../../gan/data/mnist-core.ts';
import { writePackedSet } from '../../gan/data/packed.ts';

const tmp = mkdtempSync(join(tmpdir(), 'posit-gan-fashion-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---- small fixtures ----------------------------------------------------------------------------

/** A tiny layout: 5 images per class, 3 for training; class 0 has empty entries at 1 and 6, class 2 at 0. */
const LAYOUT: FashionLayout = { perClass: 5, trainPerClass: 3, emptyEntries: [[1, 6], [], [0], [], [], [], [], [], [], []] };

/** Pixel p of image j of class c in the fixtures: every image differs, values cover 0..255. */
const pixel = (c: number, j: number, p: number) => (c * 37 + j * 11 + p) % 256;

function fixtureClass(c: number, layout = LAYOUT): { data: number[][] } {
  const empty = layout.emptyEntries[c]!;
  const data: number[][] = [];
  let j = 0;
  for (let e = 0; e < layout.perClass + empty.length; e++) {
    if (empty.includes(e)) {
      data.push([]);
    } else {
      const image = j++;
      data.push(Array.from({ length: 784 }, (_, p) => pixel(c, image, p)));
    }
  }
  return { data };
}

function fixtureDir(name: string, edit?: (c: number, json: { data: number[][] }) => string | null): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (let c = 0; c < 10; c++) {
    const json = fixtureClass(c);
    const text = edit ? edit(c, json) : JSON.stringify(json);
    if (text !== null) writeFileSync(join(dir, `${c}.json`), text);
  }
  return dir;
}

describe('Fashion-MNIST on fixtures', () => {
  it('splits each class into its first trainPerClass images and the rest, interleaved by class, skipping the empty entries', () => {
    const dir = fixtureDir('good');
    const train = readFashionMnistRaw('train', { dir, layout: LAYOUT });
    const test = readFashionMnistRaw('test', { dir, layout: LAYOUT });
    expect([train.n, test.n]).toEqual([30, 20]);
    for (const [raw, first] of [
      [train, 0],
      [test, 3],
    ] as const) {
      for (let i = 0; i < raw.n; i++) {
        const c = i % 10;
        const j = first + Math.floor(i / 10);
        expect(raw.labels[i]).toBe(c);
        expect(raw.pixels[i * 784]).toBe(pixel(c, j, 0));
        expect(raw.pixels[i * 784 + 783]).toBe(pixel(c, j, 783));
      }
    }
    // Scaled to [-1, 1] as MNIST is; limit keeps the first examples, padding adds background.
    const set = loadFashionMnist('test', { dir, layout: LAYOUT, limit: 12, pad32: true });
    expect([set.n, set.height, set.width]).toEqual([12, 32, 32]);
    expect(set.images[0]).toBe(-1);
    expect(set.images[2 * 32 + 2]).toBe(Math.fround(pixel(0, 3, 0) / 127.5 - 1));
    expect(Array.from(set.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  it('names a missing class file and the fix', () => {
    const dir = fixtureDir('missing', (c, json) => (c === 3 ? null : JSON.stringify(json)));
    const load = () => readFashionMnistRaw('train', { dir, layout: LAYOUT });
    expect(load).toThrow(DatasetMissingError);
    expect(load).toThrow(new RegExp(`not found: ${join(dir, '3.json')}`));
    expect(load).toThrow(/must be in/);
  });

  it('names a truncated (not JSON) file', () => {
    const dir = fixtureDir('truncated', (c, json) => (c === 0 ? JSON.stringify(json).slice(0, 1000) : JSON.stringify(json)));
    const load = () => readFashionMnistRaw('test', { dir, layout: LAYOUT });
    expect(load).toThrow(DatasetContentError);
    expect(load).toThrow(new RegExp(`${join(dir, '0.json')}: not valid JSON .*truncated or damaged`));
  });

  it('rejects wrong entry counts, bad pixels, short images and misplaced empty entries, naming the file and entry', () => {
    const src = 'x/4.json';
    const help = 'HELP';
    const good = fixtureClass(4);
    const cases: [string, unknown, RegExp][] = [
      ['one image too many', { data: [...good.data, good.data[0]] }, /x\/4\.json: expected 5 entries, found 6 .*HELP/],
      ['not an object with data', [1, 2], /expected an object \{"data": \[\.\.\.\]\}/],
      ['a pixel above 255', { data: good.data.map((d, e) => (e === 2 ? d.map((v, p) => (p === 5 ? 256 : v)) : d)) }, /entry 2, pixel 5 is 256, not an integer 0\.\.255/],
      ['a fractional pixel', { data: good.data.map((d, e) => (e === 0 ? d.map((v, p) => (p === 0 ? 0.5 : v)) : d)) }, /entry 0, pixel 0 is 0\.5/],
      ['a short image', { data: good.data.map((d, e) => (e === 4 ? d.slice(1) : d)) }, /entry 4 has 783 values, not 784/],
      ['an empty entry where an image belongs', { data: good.data.map((d, e) => (e === 1 ? [] : d)) }, /entry 1 has 0 values/],
    ];
    for (const [what, json, message] of cases) expect(() => decodeFashionClass(json, 4, LAYOUT, src, help), what).toThrow(message);
    // The layout's empty entries must be empty.
    const notEmpty = fixtureClass(0);
    notEmpty.data[1] = notEmpty.data[0]!;
    expect(() => decodeFashionClass(notEmpty, 0, LAYOUT, 'x/0.json', help)).toThrow(/entry 1 should be one of the package's empty entries but has 784 values/);
    expect(() => decodeFashionClass(fixtureClass(0), 0, LAYOUT, 'x/0.json', help)).not.toThrow();
  });

  it('fashionSplit refuses classes of the wrong size', () => {
    const classes = Array.from({ length: 10 }, () => new Uint8Array(5 * 784));
    expect(() => fashionSplit(classes.slice(1), 'train', LAYOUT)).toThrow(/9 classes, expected 10/);
    classes[7] = new Uint8Array(4 * 784);
    expect(() => fashionSplit(classes, 'train', LAYOUT)).toThrow(/class 7 has 4 images, expected 5/);
  });
});

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// ---- the real package ----------------------------------------------------------------------------

describe('Fashion-MNIST from the fashion-mnist 1.1.0 package', () => {
  let train: MnistSet;
  let test: MnistSet;
  beforeAll(() => {
    train = loadFashionMnist('train', { packedDir: null });
    test = loadFashionMnist('test', { packedDir: null });
  });

  it('has 60,000 training and 10,000 test images, 6,000 and 1,000 of each class, in [-1, 1]', () => {
    expect(FASHION_CLASSES).toHaveLength(10);
    expect([train.n, train.height, train.width, test.n]).toEqual([60000, 28, 28, 10000]);
    for (const [set, perClass] of [
      [train, 6000],
      [test, 1000],
    ] as const) {
      const counts = new Array<number>(10).fill(0);
      for (const l of set.labels) counts[l]!++;
      expect(counts).toEqual(new Array(10).fill(perClass));
      // Interleaved: every run of 10 holds each class once.
      expect(Array.from(set.labels.subarray(0, 20))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      let min = Infinity;
      let max = -Infinity;
      const x = set.images;
      for (let i = 0; i < x.length; i++) {
        if (x[i]! < min) min = x[i]!;
        if (x[i]! > max) max = x[i]!;
      }
      expect([min, max]).toEqual([-1, 1]);
    }
  });

  it('follows the package files: train image i is entry floor(i / 10) of class i % 10, test continues after 6,000 (class 0 skips its empty entries 1000 and 7001)', () => {
    const dir = fashionMnistDir();
    const class0 = (JSON.parse(readFileSync(join(dir, '0.json'), 'utf8')) as { data: number[][] }).data;
    const class7 = (JSON.parse(readFileSync(join(dir, '7.json'), 'utf8')) as { data: number[][] }).data;
    expect([class0.length, class0[1000]!.length, class0[7001]!.length, class7.length]).toEqual([7002, 0, 0, 7000]);
    const image = (set: MnistSet, i: number) => Array.from(set.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round((v + 1) * 127.5));
    expect(image(train, 0)).toEqual(class0[0]);
    expect(image(train, 10 * 999)).toEqual(class0[999]);
    expect(image(train, 10 * 1000)).toEqual(class0[1001]); // entry 1000 is empty
    expect(image(test, 0)).toEqual(class0[6001]);
    expect(image(test, 10 * 999)).toEqual(class0[7000]);
    expect(image(train, 10 * 1234 + 7)).toEqual(class7[1234]);
    expect(image(test, 10 * 5 + 7)).toEqual(class7[6005]);
  });

  it('a limited load is a prefix of the whole split, and the two splits hold all 70,000 images', () => {
    const again = loadFashionMnist('test', { packedDir: null, limit: 500 });
    // Compared as bytes: vitest's deep equality is slow on 392,000 elements.
    expect(bytesOf(again.images).equals(bytesOf(test.images.subarray(0, 500 * 784)))).toBe(true);
    expect(Array.from(again.labels)).toEqual(Array.from(test.labels.subarray(0, 500)));
    expect(PACKAGE_LAYOUT.perClass * 10).toBe(train.n + test.n);
  });

  it('packs to compact files and reads back the same sets (the round trip the GPU machine relies on)', async () => {
    const dir = join(tmp, 'packed');
    for (const [split, n] of [['train', 700], ['test', 2000]] as const) {
      const raw = readFashionMnistRaw(split, { packedDir: null });
      const part = { ...raw, n, pixels: raw.pixels.subarray(0, n * 784), labels: raw.labels.subarray(0, n) };
      await writePackedSet(dir, { dataset: 'fashion', split }, part, { splitCount: raw.n, source: 'test', command: 'test' });
    }
    const packedTest = loadFashionMnist('test', { packedDir: dir, limit: 2000 });
    expect(bytesOf(packedTest.images).equals(bytesOf(test.images.subarray(0, 2000 * 784)))).toBe(true);
    expect(Array.from(packedTest.labels)).toEqual(Array.from(test.labels.subarray(0, 2000)));
    const packedTrain = loadFashionMnist('train', { packedDir: dir, limit: 700, pad32: true });
    const direct = loadFashionMnist('train', { packedDir: null, limit: 700, pad32: true });
    expect(bytesOf(packedTrain.images).equals(bytesOf(direct.images))).toBe(true);
    expect(Array.from(packedTrain.labels)).toEqual(Array.from(train.labels.subarray(0, 700)));
    expect(() => loadFashionMnist('train', { packedDir: dir })).toThrow(/holds the first 700 of the 60000 fashion-train images, and 60000 are needed/);
  });
});
