// Node-only file reading for the hardware model: table files and op-count files, with errors that name
// the file. Everything else in hw-model/ is browser-safe and takes parsed documents.

import { readFileSync } from 'node:fs';
import type { OpCountsFile } from '../engine/record/schema.ts';
import { parseOpCounts } from './opcounts.ts';
import { parseTable, TableError, type Table } from './table.ts';

export class InputFileError extends Error {
  override name = 'InputFileError';
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputFileError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputFileError(`${what} '${path}' is not valid JSON: ${(e as Error).message}`);
  }
}

export function loadTable(path: string): Table {
  const doc = readJson(path, 'table file');
  try {
    return parseTable(doc, path);
  } catch (e) {
    if (e instanceof TableError) throw e;
    throw new InputFileError(`table file '${path}': ${(e as Error).message}`);
  }
}

export function loadOpCounts(path: string): OpCountsFile {
  return parseOpCounts(readJson(path, 'op-count file'), path);
}
