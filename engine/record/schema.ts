// The op-count file: what a run did, by operation kind, format, layer and phase, computed from shapes
// and formats (never timed). Written as `<run>.opcounts.json` beside each run by `train`, `deploy` and
// `experiment`; read by the hardware model (hw-model/), which depends on this schema and nothing else
// in engine/.
//
// Versioning: `version` increases on any incompatible change; readers reject versions they do not know.
// OpCountsFileSchema (below) is the declared schema readers check a file with (docs/schemas/).

import * as v from 'valibot';
import { fields, nonNegative, oneOf, openFields, positive, tagged, text } from '../../schema/fields.ts';

export const OPCOUNTS_SCHEMA = 'posit-gan/opcounts';
export const OPCOUNTS_VERSION = 1;

/** When the work happened. `inference` is deployment (generator only, no gradients). */
export type Phase = 'forward' | 'backward' | 'optimizer' | 'calibration' | 'inference';

export const PHASES = ['forward', 'backward', 'optimizer', 'calibration', 'inference'] as const;

/** What a memory transfer carries. */
export type TensorRole = 'weights' | 'activations' | 'errors' | 'gradients' | 'optimizer_state' | 'inputs';
export const TENSOR_ROLES: readonly TensorRole[] = ['weights', 'activations', 'errors', 'gradients', 'optimizer_state', 'inputs'];

export const RUN_COMMANDS = ['train', 'deploy', 'experiment', 'bench', 'test'] as const;

/** Format names are canonical format specs from formats/ (`fp32`, `p8e2`, `e4m3q`, ...). */
export type FormatName = string;

export type OpEntry =
  /** Multiply-accumulate: a*b added into an accumulator. `acc` is a format name, or `quire` for the
   *  exact fixed-point accumulator of posit format `a` (then see quire_round for the final rounding). */
  | { kind: 'mac'; a: FormatName; b: FormatName; acc: FormatName | 'quire'; count: number }
  /** Plain arithmetic in one format (batch-norm, optimizer updates, losses, bias adds). */
  | { kind: 'mul' | 'add' | 'div' | 'sqrt' | 'exp' | 'log' | 'max'; format: FormatName; count: number }
  /** Rounding of a quire to a posit. */
  | { kind: 'quire_round'; format: FormatName; quireBits: number; count: number }
  /** Format conversion (quantization, dequantization, re-encoding). */
  | { kind: 'convert'; from: FormatName; to: FormatName; rounding: 'nearest' | 'stochastic'; count: number }
  /** Activation functions evaluated by a general unit (e.g. fp16 tanh) or by the fast posit bit trick. */
  | { kind: 'activation'; fn: 'tanh' | 'sigmoid' | 'relu' | 'leaky_relu'; format: FormatName; fast: boolean; count: number }
  /** Memory traffic between the compute units and memory, in bits. */
  | { kind: 'memory'; direction: 'read' | 'write'; role: TensorRole; format: FormatName; bits: number };

/** One counted item: an operation with where it happened. `layer` is the dotted module path the op
 *  ran in ('' outside any module, e.g. a loss); GAN training prefixes each network's layers with
 *  'G.' or 'D.' (G.model.0, D.model.3, ...). Backward ops carry their forward op's layer. */
export type OpRecord = OpEntry & { phase: Phase; layer: string };

export interface OpCountsFile {
  schema: typeof OPCOUNTS_SCHEMA;
  version: typeof OPCOUNTS_VERSION;
  run: {
    name: string;
    command: 'train' | 'deploy' | 'experiment' | 'bench' | 'test';
    model?: string;
    recipe?: string;
    /** Steps (training) or forward passes (deployment) the counts cover. */
    steps: number;
    batch?: number;
    device?: string;
    created: string;
    /** The code's commit (gan/io/provenance.ts; `+dirty` when the tree differed from it). */
    commit?: string | null;
    /** The exact command line that produced the file. */
    commandLine?: string;
  };
  /** Counts aggregated over identical (phase, layer, entry-without-count) keys. */
  records: OpRecord[];
}

const formatName = v.pipe(text('a format name such as fp32, p8e2 or e4m3q'), v.description('a canonical format spec (formats/descriptor.ts), e.g. fp32, p8e2, e4m3q'));
const count = v.pipe(nonNegative(), v.description('how many (summed over the steps the file covers)'));

/** A record's fields besides its kind's own: when and where. */
function record<const E extends v.ObjectEntries>(entries: E) {
  return fields({
    ...entries,
    phase: v.pipe(oneOf(PHASES), v.description('when: forward, backward, optimizer, calibration or inference')),
    layer: v.pipe(v.string('must be a string (the dotted module path, "" outside any module)'), v.description('the dotted module path the op ran in ("" outside any module)')),
  });
}

export const OpRecordSchema = tagged(
  'kind',
  [
    record({ kind: v.literal('mac'), a: formatName, b: formatName, acc: v.pipe(formatName, v.description('a format name, or "quire"')), count }),
    record({ kind: v.picklist(['mul', 'add', 'div', 'sqrt', 'exp', 'log', 'max']), format: formatName, count }),
    record({ kind: v.literal('quire_round'), format: formatName, quireBits: nonNegative(), count }),
    record({ kind: v.literal('convert'), from: formatName, to: formatName, rounding: oneOf(['nearest', 'stochastic']), count }),
    record({ kind: v.literal('activation'), fn: oneOf(['tanh', 'sigmoid', 'relu', 'leaky_relu']), format: formatName, fast: v.boolean('must be true or false'), count }),
    record({ kind: v.literal('memory'), direction: oneOf(['read', 'write']), role: oneOf(TENSOR_ROLES), format: formatName, bits: nonNegative() }),
  ],
  'an op record (an object with a kind: mac, mul, ..., memory)',
) satisfies v.GenericSchema<unknown, OpRecord>;

export const OpCountsFileSchema = v.pipe(
  fields(
    {
      schema: v.literal(OPCOUNTS_SCHEMA, `must be "${OPCOUNTS_SCHEMA}" (the file is not an op-count file)`),
      version: v.literal(OPCOUNTS_VERSION, `must be ${OPCOUNTS_VERSION}: this posit-gan reads op-count files of version ${OPCOUNTS_VERSION}`),
      // A newer posit-gan may describe its runs with more fields (informational only).
      run: openFields(
        {
          name: text(),
          command: oneOf(RUN_COMMANDS),
          model: v.optional(v.string()),
          recipe: v.optional(v.string()),
          steps: v.pipe(positive(), v.description('the steps (training) or forward passes (deployment) the counts cover')),
          batch: v.optional(positive()),
          device: v.optional(v.string()),
          created: v.pipe(v.string('must be a time (ISO 8601 text)'), v.description('when the file was written (ISO 8601)')),
        },
        { noun: 'the run the counts are of' },
      ),
      records: v.array(OpRecordSchema, 'must be a list of op records'),
    },
    { noun: 'an op-count file' },
  ),
  v.title('posit-gan op-count file'),
  v.description('What a run did, by operation kind, format, layer and phase (engine/record/schema.ts); read by the hardware model (hw-model/).'),
) satisfies v.GenericSchema<unknown, OpCountsFile>;
