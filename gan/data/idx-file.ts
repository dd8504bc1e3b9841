// Reading IDX files from disk (Node). The parsing itself is gan/data/idx.ts.

import { readFileSync } from 'node:fs';
import { parseIdx, type IdxArray } from './idx.ts';

/** A dataset file that is not there. `help` says how to get it. */
export class DatasetMissingError extends Error {
  override name = 'DatasetMissingError';
}

/** Reads and parses an IDX file; a missing file throws DatasetMissingError naming the path and `help`. */
export function readIdxFile(path: string, help: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetMissingError(`dataset file not found: ${path}\n${help}`);
    throw new Error(`cannot read dataset file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseIdx(bytes, path);
}
