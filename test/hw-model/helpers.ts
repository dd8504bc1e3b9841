// Shared helpers for the hardware-model tests: hand-built op-count files and table documents.

import type { OpCountsFile, OpRecord } from '../../engine/record/schema.ts';

export function counts(name: string, records: OpRecord[], steps = 1, extra: Partial<OpCountsFile['run']> = {}): OpCountsFile {
  return {
    schema: 'posit-gan/opcounts',
    version: 1,
    run: { name, command: 'test', steps, created: '2025-01-01T00:00:00Z', ...extra },
    records,
  };
}

export const HAND = 'hand-built';

/** A minimal valid table entry, to be broken field by field by the validation tests. */
export function entry(over: Record<string, unknown> = {}): Record<string, unknown> {
  const e: Record<string, unknown> = {
    component: 'int_unit',
    attributes: { width: 8 },
    action: 'add',
    per: 'op',
    energy_pJ: 0.03,
    provenance: { citation: 'test', kind: 'synthesis', node_nm: 45, voltage_V: 0.9 },
    ...over,
  };
  // `field: undefined` in `over` removes the field, as a table file without it would be.
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return e;
}

export function tableDoc(entries: unknown[], over: Record<string, unknown> = {}): Record<string, unknown> {
  return { schema: 'posit-gan/hw-table', version: 1, name: 'user', description: 'test table', entries, ...over };
}

/** Relative closeness for hand-computed floating-point expectations. */
export function close(actual: number, expected: number, rel = 1e-9): boolean {
  return Math.abs(actual - expected) <= rel * Math.max(Math.abs(expected), 1e-30);
}
