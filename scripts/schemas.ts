// Writes docs/schemas/<name>.schema.json (JSON Schema, draft-07) for every file format posit-gan reads,
// from the valibot schemas the readers check files with, so the documentation cannot drift from the
// code: `npm run schemas` after changing a schema. test/schema/generated.test.ts fails while the
// committed files differ from what this script generates.
//
// What JSON Schema cannot say is left out of the generated files and checked by posit-gan only: that a
// format name parses (formats/descriptor.ts), rules across fields (a weight bias needs a weight format,
// one energy field per table entry, an export header's input fields by model kind, ...), and the
// checksums of binary files. @valibot/to-json-schema is a development dependency: nothing at run time
// imports this file.

import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { RecipeSchema } from '../engine/quant/recipe.ts';
import { OpCountsFileSchema } from '../engine/record/schema.ts';
import { PackedHeaderSchema } from '../gan/data/packed.ts';
import { ExportHeaderSchema, ExportMetadataSchema } from '../gan/deploy/export-format.ts';
import { DeployRecipeSchema } from '../gan/deploy/recipes.ts';
import { FidReferenceSchema } from '../gan/metrics/evaluate.ts';
import { WeightsMetadataSchema } from '../gan/metrics/weights-file.ts';
import { writeFileAtomicSync } from '../gan/io/atomic.ts';
import { SafetensorsHeaderSchema } from '../gan/io/safetensors.ts';
import { SweepSpecSchema } from '../gan/sweep/spec.ts';
import { AttemptsSchema, JobRecordSchema, SweepRecordSchema, SweepRowSchema } from '../gan/sweep/state-schemas.ts';
import { DeploySourceSchema } from '../gan/experiments/fig9.ts';
import { CheckpointMetadataSchema } from '../gan/train/checkpoint.ts';
import { CheckpointStateSchema } from '../gan/train/checkpoint-meta.ts';
import { ConfigFileSchema } from '../gan/train/config.ts';
import { RunManifestSchema } from '../gan/train/manifest.ts';
import { TableFileSchema } from '../hw-model/table.ts';

/** docs/schemas/<key>.schema.json: the file formats, by the name of their file. */
export const FILE_SCHEMAS: Readonly<Record<string, v.GenericSchema>> = {
  recipe: RecipeSchema,
  'deploy-recipe': DeployRecipeSchema,
  'train-config': ConfigFileSchema,
  'run-manifest': RunManifestSchema,
  'sweep-spec': SweepSpecSchema,
  opcounts: OpCountsFileSchema,
  'hw-table': TableFileSchema,
  'safetensors-header': SafetensorsHeaderSchema,
  'checkpoint-metadata': CheckpointMetadataSchema,
  'checkpoint-state': CheckpointStateSchema,
  'export-metadata': ExportMetadataSchema,
  'export-header': ExportHeaderSchema,
  'weights-metadata': WeightsMetadataSchema,
  'fid-reference': FidReferenceSchema,
  'packed-header': PackedHeaderSchema,
  'sweep-job-record': JobRecordSchema,
  'sweep-attempts': AttemptsSchema,
  'sweep-row': SweepRowSchema,
  'sweep-record': SweepRecordSchema,
  'deploy-result': DeploySourceSchema,
};

/** Actions left out of the JSON Schema: the checks it cannot express (see the top of this file), the
 *  transformations a reader applies after the check (a recorded configuration resolved with defaults),
 *  lower-casing of case-insensitive names, and `finite` (JSON has no infinite numbers). Any other
 *  action it cannot convert is an error here, so nothing is dropped unnoticed. */
const POSIT_GAN_ONLY = ['raw_check', 'partial_check', 'check', 'to_lower_case', 'finite', 'transform'];

export const SCHEMA_DIR = fileURLToPath(new URL('../docs/schemas/', import.meta.url));

/** The files' text, by file name. */
export function generateSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, schema] of Object.entries(FILE_SCHEMAS)) {
    // The input a file may hold (a pipe's transformations, e.g. lower-casing, are not the file's).
    const json = toJsonSchema(schema, { errorMode: 'throw', typeMode: 'input', ignoreActions: POSIT_GAN_ONLY });
    out.set(`${name}.schema.json`, JSON.stringify(json, null, 2) + '\n');
  }
  return out;
}

function main(): void {
  mkdirSync(SCHEMA_DIR, { recursive: true });
  const files = generateSchemas();
  for (const old of readdirSync(SCHEMA_DIR)) if (old.endsWith('.schema.json') && !files.has(old)) rmSync(join(SCHEMA_DIR, old));
  for (const [name, text] of files) writeFileAtomicSync(join(SCHEMA_DIR, name), text);
  process.stdout.write(`wrote ${files.size} schemas to ${SCHEMA_DIR}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
