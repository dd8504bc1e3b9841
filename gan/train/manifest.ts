// A run's manifest.json (written by gan/train/run.ts): what the run is (configuration, recipe, model,
// adapter, commit), where it stands (status, step, total) and every command that trained it. This
// module declares its schema (docs/schemas/run-manifest.schema.json) and reads it back for resume,
// the run-directory checks, the sweep and table1. The fields that are only informational (recipe,
// model, calibration, ...) are not checked beyond being present where required, and a newer posit-gan
// may add more: a manifest is read, not edited.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { parseWith } from '../../schema/check.ts';
import { int, oneOf, openFields } from '../../schema/fields.ts';
import { ConfigFileSchema } from './config.ts';

export const RUN_STATUSES = ['running', 'completed', 'stopped', 'interrupted', 'diverged'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const time = v.pipe(v.string('must be a time (ISO 8601 text)'), v.description('a time, ISO 8601'));

/** One command that trained the run: the first, and each resume. */
export const RunSessionSchema = openFields(
  {
    command: v.pipe(v.nullable(v.string()), v.description('the command line (null when not recorded)')),
    started: time,
    finished: v.pipe(v.nullable(time), v.description('when it ended (null while it runs, or if it crashed)')),
    fromStep: int(0),
    toStep: int(0),
    status: v.pipe(v.string(), v.description("the run's status when the session ended")),
    // Sessions written before this field have none: their code is unknown.
    commit: v.optional(v.pipe(v.nullable(v.string()), v.description("the commit of the code that trained this session (gan/io/provenance.ts; null when unknown)"))),
  },
  { noun: 'a session' },
);

export const RunManifestSchema = v.pipe(
  openFields(
    {
      tool: v.literal('posit-gan', 'must be "posit-gan" (the file is not a posit-gan run manifest)'),
      command: v.pipe(v.nullable(v.string()), v.description('the command line that started the run')),
      status: v.pipe(oneOf(RUN_STATUSES), v.description('running (or crashed), completed, stopped (time limit), interrupted (signal) or diverged')),
      config: v.pipe(ConfigFileSchema, v.description('the training configuration (docs/schemas/train-config.schema.json); options it lacks take their defaults')),
      recipe: v.pipe(v.unknown(), v.description('the recipe it trained under, in full (docs/schemas/recipe.schema.json)')),
      model: v.optional(v.pipe(v.unknown(), v.description('the model as built (informational)'))),
      adapter: v.optional(
        v.pipe(
          openFields({ description: v.string(), vendor: v.optional(v.string()), architecture: v.optional(v.string()), device: v.optional(v.string()), software: v.optional(v.boolean()), runtime: v.optional(v.string()) }, { noun: 'an adapter description' }),
          v.description('the GPU adapter it ran on'),
        ),
      ),
      commit: v.optional(v.pipe(v.nullable(v.string()), v.description("the commit of the code that last wrote the manifest (gan/io/provenance.ts; null when unknown); each session records its own"))),
      gitCommit: v.optional(v.pipe(v.nullable(v.string()), v.description('older manifests: the code\'s commit (informational)'))),
      started: time,
      updated: time,
      finished: v.optional(time),
      stepsPerEpoch: int(1),
      totalSteps: v.pipe(int(0), v.description('the steps the configuration asks for')),
      step: v.pipe(int(0), v.description('the steps done (the newest checkpoint is at this step)')),
      calibration: v.optional(v.pipe(v.unknown(), v.description('calibrated exponent bias and loss scale (informational)'))),
      lossScale: v.optional(v.pipe(v.unknown(), v.description('the loss scales at the end (informational)'))),
      // Manifests written before sessions were recorded have none: reading counts them as one session.
      sessions: v.optional(v.pipe(v.array(RunSessionSchema), v.description('every command that trained the run'))),
      notes: v.optional(v.pipe(v.array(v.string()), v.description('what happened that a reader should know (damaged checkpoints moved aside, ...)'))),
      diverged: v.optional(v.pipe(v.string(), v.description('why training diverged (status diverged)'))),
      interruptedBy: v.optional(v.pipe(v.string(), v.description('the signal that interrupted it (status interrupted)'))),
    },
    { noun: 'a run manifest' },
  ),
  v.title('posit-gan run manifest'),
  v.description("A training run's manifest.json (gan/train/run.ts, gan/train/manifest.ts)."),
);

export type RunManifest = v.InferOutput<typeof RunManifestSchema>;
export type RunSession = v.InferOutput<typeof RunSessionSchema>;

/** A manifest.json that cannot be read or does not follow the schema. */
export class ManifestError extends Error {
  override name = 'ManifestError';
}

/** The manifest of the run in `dir`, or null when it has none; a manifest that does not read, parse
 *  or check is a ManifestError naming the file and the field. */
export function readRunManifest(dir: string): RunManifest | null {
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ManifestError(`${path} cannot be read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  return parseWith(RunManifestSchema, json, path, (m) => new ManifestError(m));
}
