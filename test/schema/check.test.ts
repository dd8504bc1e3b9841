// The messages every file check gives (schema/check.ts, schema/fields.ts): the document, the path of
// the field, and what the field must be, whatever valibot's own wording.

import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { parseWith, pathTo, shown } from '../../schema/check.ts';
import { fields, int, oneOf, openFields, tagged, text } from '../../schema/fields.ts';

class Bad extends Error {}

const Item = fields({ name: v.pipe(text(), v.description('what it is called')), size: int(1, 8) }, { noun: 'an item' });
const Doc = fields(
  {
    title: text(),
    items: v.array(Item),
    mode: v.optional(tagged('kind', [fields({ kind: v.literal('a'), x: int(0) }), fields({ kind: v.literal('b') })], 'an object with a kind')),
    tags: v.optional(v.record(v.string(), oneOf(['red', 'blue']))),
    either: v.optional(v.union([fields({ one: int(0) }), v.array(int(0))])),
  },
  { noun: 'a test document', unknown: (k) => (k === 'colour' ? 'is spelt color here' : undefined) },
);

function message(value: unknown, label?: (path: readonly (string | number)[], value: unknown) => string | undefined): string {
  try {
    parseWith(Doc, value, 'doc.json', (m) => new Bad(m), { label });
  } catch (e) {
    expect(e).toBeInstanceOf(Bad);
    return (e as Error).message;
  }
  throw new Error('no error');
}

const good = { title: 't', items: [{ name: 'a', size: 2 }] };

describe('schema messages', () => {
  it('name the document, the path and what the field must be, with the value it got', () => {
    expect(message({ ...good, items: [{ name: 'a', size: 2 }, { name: 'b', size: 9 }] })).toBe('doc.json: items[1].size must be an integer in 1..8, got 9');
    expect(message({ ...good, items: [{ name: 'a', size: 2 }, { name: 'b', size: 9 }] }, (p, x) => (p.length === 2 ? (x as { name: string }).name : undefined))).toBe(
      'doc.json: items[1] (b).size must be an integer in 1..8, got 9',
    );
    expect(message({ ...good, title: '' })).toBe('doc.json: title must be a non-empty string, got ""');
    expect(message({ ...good, tags: { 'x.y': 'green' } })).toBe('doc.json: tags["x.y"] must be "red" or "blue", got "green"');
  });

  it('missing fields say what belongs there, unknown ones list the allowed fields (or say better)', () => {
    expect(message({ ...good, items: [{ size: 2 }] })).toBe('doc.json: items[0].name is missing (what it is called)');
    expect(message({ ...good, extra: 1 })).toBe('doc.json: extra is not a field of a test document (allowed: title, items, mode, tags, either)');
    expect(message({ ...good, colour: 1 })).toBe('doc.json: colour is spelt color here');
    expect(message([1, 2])).toBe('doc.json must be an object, got a list');
    expect(message(null)).toBe('doc.json must be a test document with the fields title, items, mode, tags, either, got null');
    expect(message({ ...good, items: [[]] })).toBe('doc.json: items[0] must be an object, got a list');
  });

  it('tagged objects report a wrong tag with the allowed ones, a wrong field inside the tagged object', () => {
    expect(message({ ...good, mode: { kind: 'c' } })).toBe('doc.json: mode.kind must be "a" or "b", got "c"');
    expect(message({ ...good, mode: 3 })).toBe('doc.json: mode must be an object with a kind, got 3');
    expect(message({ ...good, mode: { kind: 'a', x: -1 } })).toBe('doc.json: mode.x must be an integer >= 0, got -1');
    expect(message({ ...good, mode: { kind: 'b', x: 1 } })).toBe('doc.json: mode.x is not a field (allowed: kind)');
  });

  it('a union reports the problem inside the option the value fits', () => {
    expect(message({ ...good, either: { one: -1 } })).toBe('doc.json: either.one must be an integer >= 0, got -1');
    expect(message({ ...good, either: [1, -2] })).toBe('doc.json: either[1] must be an integer >= 0, got -2');
  });

  it('a loose object accepts fields it does not know and still checks the ones it does', () => {
    const Loose = openFields({ n: int(0) });
    expect(parseWith(Loose, { n: 1, later: true }, 'x', (m) => new Bad(m))).toEqual({ n: 1, later: true });
    expect(() => parseWith(Loose, { later: true }, 'x', (m) => new Bad(m))).toThrow(/^x: n is missing$/);
  });

  it('cross-field rules report at the field they are about', () => {
    const S = v.pipe(
      fields({ lo: int(0), hi: int(0) }),
      v.rawCheck(({ dataset, addIssue }) => {
        if (dataset.typed && dataset.value.hi < dataset.value.lo) addIssue({ message: 'must be >= lo', path: pathTo(dataset.value, 'hi') });
      }),
    );
    expect(() => parseWith(S, { lo: 3, hi: 2 }, 'r.json', (m) => new Bad(m))).toThrow(/^r\.json: hi must be >= lo$/);
  });

  it('shows values briefly', () => {
    expect(shown('x')).toBe('"x"');
    expect(shown(undefined)).toBe('nothing');
    expect(shown(Array.from({ length: 20 }, (_, i) => i))).toBe('a list of 20 items');
    expect(shown('y'.repeat(200))).toMatch(/^"y{76}\.\.\.$/);
  });
});
