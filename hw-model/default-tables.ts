// The shipped tables, bundled as data (JSON imports work in Node and in the browser bundle, so the
// demo's energy panel needs no file access). Order matters: later tables override earlier entries.

import derived from './tables/derived-45nm.json' with { type: 'json' };
import derivedOps from './tables/derived-ops-45nm.json' with { type: 'json' };
import dram from './tables/dram.json' with { type: 'json' };
import horowitz from './tables/horowitz-2014.json' with { type: 'json' };
import scaling from './tables/scaling.json' with { type: 'json' };
import { Library, parseTable, type Table } from './table.ts';

export const DEFAULT_TABLE_FILES: readonly (readonly [string, unknown])[] = [
  ['hw-model/tables/horowitz-2014.json', horowitz],
  ['hw-model/tables/derived-45nm.json', derived],
  ['hw-model/tables/derived-ops-45nm.json', derivedOps],
  ['hw-model/tables/dram.json', dram],
  ['hw-model/tables/scaling.json', scaling],
];

export function defaultTables(): Table[] {
  return DEFAULT_TABLE_FILES.map(([file, doc]) => parseTable(doc, file));
}

/** The shipped tables, followed by `extra` ones (user tables override shipped entries). */
export function library(extra: readonly Table[] = []): Library {
  return new Library([...defaultTables(), ...extra]);
}
