// What a training checkpoint's metadata holds besides its tensors (gan/train/checkpoint.ts stores
// each top-level key as JSON text): the trainer's state, the run's configuration and the run's
// bookkeeping up to the checkpoint. Declared here (docs/schemas/checkpoint-state.schema.json) and
// checked when a checkpoint is used (resume, and every command that loads a run), so a checkpoint
// that verifies but holds something else is refused naming the file and the field.

import * as v from 'valibot';
import { OpRecordSchema } from '../../engine/record/schema.ts';
import { parseWith } from '../../schema/check.ts';
import { int, nonNegative, openFields } from '../../schema/fields.ts';
import { CheckpointError, type CheckpointData } from './checkpoint.ts';
import { ConfigFileSchema } from './config.ts';
import type { TrainerState } from './trainer.ts';

const num = v.number('must be a number');
const perNet = openFields({ G: num, D: num }, { noun: 'an object {G, D}' });

const OptimizerMetaSchema = openFields(
  {
    kind: v.string(),
    lr: num,
    lossScale: num,
    stateFormat: v.nullable(v.string()),
    steps: v.record(v.string(), num),
    forwardBias: v.optional(v.pipe(v.record(v.string(), num), v.description('exponent bias t of each parameter\'s forward copy'))),
  },
  { noun: "an optimizer's state" },
);

/** The trainer's state without its tensors (gan/train/trainer.ts, TrainerState). */
const TrainerMetaSchema = openFields(
  {
    step: int(0),
    randomSeed: num,
    randomCounter: num,
    dropoutCounters: v.record(v.string(), num),
    lossScale: perNet,
    goodSteps: perNet,
    calibration: v.pipe(openFields({ weightBias: v.record(v.string(), v.unknown()), lossScale: v.record(v.string(), v.unknown()) }), v.description('calibrated exponent bias and loss scale, with their histograms')),
    calibrated: v.boolean(),
    codeTensors: v.pipe(v.array(v.string()), v.description('the tensors that hold packed code words')),
    optimizers: openFields({ G: OptimizerMetaSchema, D: OptimizerMetaSchema }, { noun: 'the optimizers {G, D}' }),
  },
  { noun: "the trainer's state" },
);

/** The run's bookkeeping up to the checkpoint. Absent in checkpoints of older posit-gan versions. */
const RunMetaSchema = openFields(
  {
    elapsedSeconds: v.pipe(nonNegative(), v.description("training time since the run started (the losses' seconds column at this step)")),
    opCounts: v.pipe(v.nullable(v.array(OpRecordSchema)), v.description('op counts of every step before this one (null: not counted from the start)')),
  },
  { noun: "the run's bookkeeping" },
);

export const CheckpointStateSchema = v.pipe(
  openFields(
    {
      trainer: TrainerMetaSchema,
      config: v.pipe(ConfigFileSchema, v.description('the run\'s training configuration')),
      run: v.optional(RunMetaSchema),
    },
    { noun: 'checkpoint metadata' },
  ),
  v.title('posit-gan checkpoint state'),
  v.description("What a checkpoint holds besides its tensors (gan/train/checkpoint-meta.ts): each key is one JSON text in the file's __metadata__."),
);

export type CheckpointState = v.InferOutput<typeof CheckpointStateSchema>;
export type RunMeta = v.InferOutput<typeof RunMetaSchema>;

/** The checked metadata of a checkpoint read from `path`. */
export function checkpointState(data: CheckpointData, path: string): CheckpointState {
  return parseWith(CheckpointStateSchema, data.meta, `checkpoint ${path}`, (m) => new CheckpointError(m));
}

/** The trainer state a checkpoint holds (its tensors included), for GanTrainer.load. */
export function trainerState(data: CheckpointData, path: string): TrainerState {
  const meta = checkpointState(data, path).trainer as unknown as Omit<TrainerState, 'tensors'>;
  return { ...meta, tensors: Object.fromEntries(Object.entries(data.tensors).map(([k, t]) => [k, t.data])) };
}
