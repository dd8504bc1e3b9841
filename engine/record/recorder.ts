// Op counting for the hardware model. Every op adds what it does, computed from shapes and formats
// (never timed), tagged with the current phase and layer; identical items are summed. Costs no GPU time.

import {
  OPCOUNTS_SCHEMA,
  OPCOUNTS_VERSION,
  type OpCountsFile,
  type OpEntry,
  type OpRecord,
  type Phase,
} from './schema.ts';

function keyOf(e: OpEntry, phase: Phase, layer: string): string {
  const { count: _c, bits: _b, ...rest } = e as OpEntry & { count?: number; bits?: number };
  return JSON.stringify([phase, layer, rest]);
}

export class OpRecorder {
  private readonly items = new Map<string, OpRecord>();

  add(entry: OpEntry, phase: Phase, layer: string): void {
    const amount = entry.kind === 'memory' ? entry.bits : entry.count;
    if (!Number.isFinite(amount) || amount < 0) throw new Error(`op count must be a non-negative number, got ${amount}`);
    if (amount === 0) return;
    const key = keyOf(entry, phase, layer);
    const have = this.items.get(key);
    if (!have) {
      this.items.set(key, { ...entry, phase, layer } as OpRecord);
    } else if (have.kind === 'memory') {
      have.bits += amount;
    } else {
      (have as { count: number }).count += amount;
    }
  }

  /** Adds counts recorded before (e.g. saved with a checkpoint): a resumed run's counts continue them. */
  addRecords(records: readonly OpRecord[]): void {
    for (const { phase, layer, ...entry } of records) this.add(entry as OpEntry, phase, layer);
  }

  records(): OpRecord[] {
    return [...this.items.values()].map((r) => ({ ...r }));
  }

  clear(): void {
    this.items.clear();
  }

  toFile(run: OpCountsFile['run']): OpCountsFile {
    return { schema: OPCOUNTS_SCHEMA, version: OPCOUNTS_VERSION, run, records: this.records() };
  }
}
