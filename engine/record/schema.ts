// The op-count file: what a run did, by operation kind, format, layer and phase, computed from shapes
// and formats (never timed). Written as `<run>.opcounts.json` beside each run by `train`, `deploy` and
// `experiment`; read by the hardware model (hw-model/), which depends on this schema and nothing else
// in engine/.
//
// Versioning: `version` increases on any incompatible change; readers reject versions they do not know.

export const OPCOUNTS_SCHEMA = 'posit-gan/opcounts';
export const OPCOUNTS_VERSION = 1;

/** When the work happened. `inference` is deployment (generator only, no gradients). */
export type Phase = 'forward' | 'backward' | 'optimizer' | 'calibration' | 'inference';

/** What a memory transfer carries. */
export type TensorRole = 'weights' | 'activations' | 'errors' | 'gradients' | 'optimizer_state' | 'inputs';

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
