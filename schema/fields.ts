// Building blocks for the file schemas, worded for schema/check.ts's messages: an object whose unknown
// fields are named with the allowed ones and whose missing fields say what belongs there, and numbers
// whose range is part of the message. Each block also says what it is in a `description`, which the
// generated JSON Schema (docs/schemas/) carries. Leaf module (valibot only); browser-safe.

import * as v from 'valibot';

export interface FieldsOptions {
  /** What the object is, for messages: "a recipe" -> "is not a field of a recipe (allowed: ...)". */
  noun?: string;
  /** A better message for an unknown key (e.g. a unit the table does not know), or undefined. */
  unknown?: (key: string) => string | undefined;
}

/** The description a field's schema declares (shown when the field is missing). */
function described(schema: v.GenericSchema | undefined): string | undefined {
  return schema ? v.getDescription(schema as Parameters<typeof v.getDescription>[0]) : undefined;
}

function messages(entries: v.ObjectEntries, o: FieldsOptions) {
  const allowed = Object.keys(entries);
  return (issue: v.BaseIssue<unknown>): string => {
    if (issue.path?.at(-1)?.origin === 'key') {
      const key = String(issue.path.at(-1)!.key);
      if (issue.expected === 'never') return o.unknown?.(key) ?? `is not a field${o.noun ? ` of ${o.noun}` : ''} (allowed: ${allowed.join(', ')})`;
      const d = described(entries[key]);
      return `is missing${d ? ` (${d})` : ''}`;
    }
    return `must be ${o.noun ?? 'an object'}${allowed.length ? ` with the fields ${allowed.join(', ')}` : ''}`;
  };
}

/** An object with exactly these fields (optional ones may be absent). */
export function fields<const E extends v.ObjectEntries>(entries: E, o: FieldsOptions = {}) {
  return v.strictObject(entries, messages(entries, o));
}

/** An object with at least these fields: for files a newer posit-gan may add informational fields to. */
export function openFields<const E extends v.ObjectEntries>(entries: E, o: FieldsOptions = {}) {
  return v.looseObject(entries, messages(entries, o));
}

/** An integer in min..max (max absent: no upper bound). */
export function int(min: number, max?: number) {
  const m = max === undefined ? `must be an integer >= ${min}` : `must be an integer in ${min}..${max}`;
  return max === undefined
    ? v.pipe(v.number(m), v.integer(m), v.minValue(min, m))
    : v.pipe(v.number(m), v.integer(m), v.minValue(min, m), v.maxValue(max, m));
}

/** A finite number >= 0. */
export function nonNegative() {
  const m = 'must be a finite number >= 0';
  return v.pipe(v.number(m), v.finite(m), v.minValue(0, m));
}

/** A finite number > 0. */
export function positive() {
  const m = 'must be a finite number > 0';
  return v.pipe(v.number(m), v.finite(m), v.gtValue(0, m));
}

/** A string with something in it. */
export function text(what = 'a non-empty string') {
  const m = `must be ${what}`;
  return v.pipe(v.string(m), v.nonEmpty(m));
}

/** '"a" or "b"', 'one of "a", "b", "c"'. */
export function choices(values: readonly unknown[]): string {
  const shown = values.map((x) => JSON.stringify(x));
  return shown.length === 2 ? shown.join(' or ') : `one of ${shown.join(', ')}`;
}

/** One of the listed strings (or numbers), each shown in the message. */
export function oneOf<const T extends readonly (string | number)[]>(options: T) {
  return v.picklist(options, `must be ${choices(options)}`);
}

/**
 * Objects told apart by the value of `key` (e.g. {"mode": "fixed", "t": 3}): a value that is not an
 * object is told what it must be (`noun`), a wrong or missing `key` the values allowed.
 */
export function tagged<const K extends string, const O extends v.VariantOptions<K>>(key: K, options: O, noun: string) {
  const values = options.flatMap((o) => {
    const d = (o as unknown as { entries: Record<string, { literal?: unknown; options?: unknown[] }> }).entries[key];
    return d?.options ?? (d && 'literal' in d ? [d.literal] : []);
  });
  return v.variant(key, options, (issue) => (issue.path ? `must be ${choices(values)}` : `must be ${noun}`));
}
