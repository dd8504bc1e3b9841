// Checks that a parsed JSON document is an op-count file this model can read: the schema declared with
// the file format (engine/record/schema.ts), with messages naming the file, the record and the field.
// Browser-safe.

import { parseWith } from '../schema/check.ts';
import { OpCountsFileSchema, type OpCountsFile } from '../engine/record/schema.ts';

export class OpCountsError extends Error {
  override name = 'OpCountsError';
}

/** The document as an OpCountsFile, or an OpCountsError naming `file` and what is wrong. */
export function parseOpCounts(doc: unknown, file: string): OpCountsFile {
  return parseWith(OpCountsFileSchema, doc, file, (m) => new OpCountsError(m), {
    // records[3] (mac): which kind of record the field belongs to.
    label: (path, value) => (path[0] === 'records' && path.length === 2 ? (value as { kind?: unknown } | null)?.kind?.toString() : undefined),
  });
}
