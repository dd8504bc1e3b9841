// The schemas of the files a sweep keeps about its own state (gan/sweep/store.ts lists them): the job
// records of the embedded queue, the attempts, the evaluated rows, the recorded sweeps, and the part of
// an eval.json a job reads back. Every reader checks its file against these, so a file damaged or
// edited by hand is an error naming the file, the field and how to recover, never a half-read value.
// Configurations pass through resolveConfig: a job written before a config key existed reads with that
// key's default (the default every such job trained with).

import * as v from 'valibot';
import { RecipeSchema } from '../../engine/quant/recipe.ts';
import { int } from '../../schema/fields.ts';
import { resolveConfig, type TrainConfig } from '../train/config.ts';
import { SweepSpecSchema } from './spec.ts';

const NullableNumber = v.nullable(v.number());

const ConfigSchema = v.pipe(
  v.record(v.string(), v.unknown(), 'must be a training configuration object'),
  v.transform((c): TrainConfig => resolveConfig(c)),
);

/** A recipe stored in full (its spec), checked as a recipe file is. */
const RecipeSpecSchema = RecipeSchema;

const EvalSettingsSchema = v.object({ n: int(2), seed: int(0) });

export const SweepJobSchema = v.object({
  id: v.string(),
  sweep: v.string(),
  config: ConfigSchema,
  recipe: RecipeSpecSchema,
  eval: EvalSettingsSchema,
  settings: v.record(v.string(), v.unknown()),
});

export const JobProgressSchema = v.object({
  phase: v.picklist(['train', 'eval']),
  step: int(0),
  total: v.nullable(int(0)),
  losses: v.nullable(v.record(v.string(), NullableNumber)),
  stepsPerSec: NullableNumber,
  etaSec: NullableNumber,
  host: v.string(),
  pid: int(0),
  at: v.string(),
});

export const JobRecordSchema = v.pipe(
  v.object({
    id: v.string(),
    job: SweepJobSchema,
    state: v.picklist(['queued', 'running', 'done', 'failed']),
    failures: int(0),
    notBefore: NullableNumber,
    error: v.nullable(v.string()),
    worker: v.nullable(v.string()),
    progress: v.nullable(JobProgressSchema),
    submitted: v.string(),
    updated: v.string(),
  }),
  v.title('posit-gan sweep job record (jobs/<id>.json)'),
);

export const AttemptSchema = v.object({ host: v.string(), pid: int(0), started: v.string(), from_step: int(0) });
export const AttemptsSchema = v.pipe(v.array(AttemptSchema), v.title('posit-gan sweep attempts (runs/<id>.attempts.json)'));

export const SweepRowSchema = v.pipe(
  v.object({
    id: v.string(),
    recipe: v.string(),
    spec: RecipeSpecSchema,
    seed: int(0),
    config: ConfigSchema,
    settings: v.record(v.string(), v.unknown()),
    eval: EvalSettingsSchema,
    fid: NullableNumber,
    fid_ae: v.optional(NullableNumber),
    diverged: v.boolean(),
    divergence: v.nullable(v.string()),
    classifier_accuracy: NullableNumber,
    psnr: v.optional(NullableNumber),
    ssim: v.optional(NullableNumber),
    steps_trained: int(0),
    steps_per_epoch: int(0),
    train_seconds: v.number(),
    device: v.string(),
    commit: v.nullable(v.string()),
    host: v.string(),
    attempts: v.array(AttemptSchema),
    finished: v.string(),
    notes: v.array(v.string()),
  }),
  v.title('posit-gan sweep row (rows/<id>.json)'),
);

export const SweepRecordSchema = v.pipe(
  v.object({
    spec: SweepSpecSchema,
    jobs: v.array(SweepJobSchema),
    command: v.string(),
  }),
  v.title('posit-gan recorded sweep (sweeps/<name>/spec.json)'),
);

/** What a job reads of the eval.json `posit-gan eval` wrote. */
export const EvalResultSchema = v.looseObject({
  fid: NullableNumber,
  labelAccuracy: v.nullable(v.looseObject({ accuracy: v.number() })),
  step: int(0),
  superResolution: v.optional(v.looseObject({ psnr: NullableNumber, ssim: v.number() })),
  second: v.optional(v.nullable(v.looseObject({ fid: NullableNumber }))),
  // eval.json files written before the commit was recorded have none.
  commit: v.optional(v.nullable(v.string())),
});
