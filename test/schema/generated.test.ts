// docs/schemas/ is generated from the schemas the readers use (scripts/schemas.ts): this fails while the
// committed files differ from what the schemas give, naming the command that brings them up to date.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSchemas, SCHEMA_DIR } from '../../scripts/schemas.ts';

const FIX = 'run `npm run schemas` and commit docs/schemas/';

describe('docs/schemas', () => {
  const generated = generateSchemas();

  it('holds exactly the generated files', () => {
    const committed = existsSync(SCHEMA_DIR) ? readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')).sort() : [];
    expect(committed, FIX).toEqual([...generated.keys()].sort());
  });

  it('each file is what its schema generates', () => {
    for (const [name, text] of generated) {
      const path = join(SCHEMA_DIR, name);
      expect(existsSync(path) ? readFileSync(path, 'utf8') : null, `${name} differs from its schema: ${FIX}`).toBe(text);
    }
  });

  it('the files are JSON Schema (draft-07) objects with a title, closed where posit-gan refuses unknown fields', () => {
    for (const [name, text] of generated) {
      const s = JSON.parse(text) as { $schema?: string; title?: string; type?: string; additionalProperties?: boolean };
      expect(s.$schema, name).toBe('http://json-schema.org/draft-07/schema#');
      expect(s.title, name).toMatch(/^(posit-gan|safetensors) /);
      // A sweep's attempts file is a list of attempts; every other file is one object.
      expect(s.type, name).toBe(name === 'sweep-attempts.schema.json' ? 'array' : 'object');
    }
    expect(JSON.parse(generated.get('recipe.schema.json')!).additionalProperties).toBe(false);
    expect(JSON.parse(generated.get('hw-table.schema.json')!).additionalProperties).toBe(false);
  });
});
