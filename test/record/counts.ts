// Helpers for the op-count tests: record what a piece of engine code counts, write expected records
// compactly, and compare the two as sets (with a readable difference when they disagree).
//
// The expectations in these tests are computed by hand from the shapes, in the test files; nothing
// here knows how the engine counts.

import { expect } from 'vitest';
import { backward as tapeBackward } from '../../engine/autograd/tape.ts';
import { binaryRaw } from '../../engine/ops/elementwise.ts';
import { OpRecorder } from '../../engine/record/recorder.ts';
import type { OpEntry, OpRecord, Phase, TensorRole } from '../../engine/record/schema.ts';
import type { Runtime } from '../../engine/runtime.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';

/** Runs `fn` with a fresh recorder attached and returns what it counted. */
export async function recordOps(rt: Runtime, fn: () => unknown): Promise<OpRecord[]> {
  const rec = new OpRecorder();
  const was = rt.recorder;
  rt.recorder = rec;
  try {
    await fn();
  } finally {
    rt.recorder = was;
  }
  return rec.records();
}

/** Backward from `out` with upstream gradient `seed` (no loss ops in between). */
export function backwardFrom(out: Tensor, seed: Tensor): void {
  tapeBackward(out, seed, (a, b) => binaryRaw(a, b, 'add'));
}

/** A memory record: `values` values of `bitsPerValue` bits. */
export function mem(direction: 'read' | 'write', role: TensorRole, format: string, values: number, bitsPerValue: number): OpEntry {
  return { kind: 'memory', direction, role, format, bits: values * bitsPerValue };
}

export const mac = (a: string, b: string, acc: string, count: number): OpEntry => ({ kind: 'mac', a, b, acc, count });
export const op = (kind: 'mul' | 'add' | 'div' | 'sqrt' | 'max', format: string, count: number): OpEntry => ({ kind, format, count });
export const convert = (from: string, to: string, count: number): OpEntry => ({ kind: 'convert', from, to, rounding: 'nearest', count });

/** Expected records of one (phase, layer); entries with the same key are summed, as the recorder does. */
export function at(phase: Phase, layer: string, entries: readonly OpEntry[]): OpRecord[] {
  const rec = new OpRecorder();
  for (const e of entries) rec.add(e, phase, layer);
  return rec.records();
}

function key(r: OpRecord): string {
  const { count: _c, bits: _b, ...rest } = r as OpRecord & { count?: number; bits?: number };
  return JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))));
}

function amount(r: OpRecord): number {
  return r.kind === 'memory' ? r.bits : r.count;
}

/** Merges records with the same key (several `at` lists may name the same phase and layer). */
export function merged(...lists: OpRecord[][]): OpRecord[] {
  const m = new Map<string, OpRecord>();
  for (const r of lists.flat()) {
    const k = key(r);
    const have = m.get(k);
    if (!have) m.set(k, { ...r });
    else if (have.kind === 'memory') have.bits += amount(r);
    else (have as { count: number }).count += amount(r);
  }
  return [...m.values()];
}

/** The two sets of records are equal: same keys, same counts. Lists every difference on failure. */
export function expectRecords(actual: readonly OpRecord[], expected: readonly OpRecord[]): void {
  const a = new Map(merged([...actual]).map((r) => [key(r), amount(r)]));
  const e = new Map(merged([...expected]).map((r) => [key(r), amount(r)]));
  const diffs: string[] = [];
  for (const [k, v] of e) if (a.get(k) !== v) diffs.push(`${k}: expected ${v}, recorded ${a.get(k) ?? 'nothing'}`);
  for (const [k, v] of a) if (!e.has(k)) diffs.push(`${k}: not expected, recorded ${v}`);
  expect(diffs, diffs.join('\n')).toEqual([]);
}
