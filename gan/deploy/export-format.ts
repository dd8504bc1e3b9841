// The deployable generator file (docs/export-format.md is the specification): a safetensors file
// (gan/io/safetensors.ts, so Python's `safetensors` opens it) holding every tensor of the generator:
// the matmul / conv weights and embedding tables as code tensors (U8 for formats up to 8 bits, U16 up
// to 16, else U32; one code per element, the tensor's own shape), everything else as F32 values; its
// metadata names the model, the deployment recipe and every tensor's role, format and exponent bias,
// and holds the file's SHA-256 (gan/io/sealed-safetensors.ts). This module only turns bytes into a
// validated structure and back; gan/deploy/export.ts builds and instantiates generators from it, and
// gan/deploy/files.ts reads and writes the files (readExportFile, writeExportFile). Browser-safe (Web
// Crypto for the checksum).

import * as v from 'valibot';
import { containerBits, parseFormat } from '../../formats/descriptor.ts';
import { MAX_BIAS, packCodes, unpackCodes } from '../../formats/codec.ts';
import { parseWith } from '../../schema/check.ts';
import { fields, int, oneOf, openFields, tagged, text } from '../../schema/fields.ts';
import { DATASET_NAMES, type DatasetName } from '../data/dataset-names.ts';
import { TRANSLATION_TASKS, type TranslationTask } from '../data/translation-tasks.ts';
import { encodeSealedAsync, openSealedAsync } from '../io/sealed-safetensors.ts';
import { dtypeBytes, type Dtype, type TensorBytes } from '../io/safetensors.ts';
import { DeployRecipeSchema, resolveDeployRecipe, type DeployRecipe, type DeployRecipeSpec } from './recipes.ts';

export const EXPORT_FORMAT = 'posit-gan/export';
export const EXPORT_VERSION = 2;
/** The first bytes of a version-1 export, which this posit-gan refuses with what to do instead. */
const V1_MAGIC = 'PGEXPORT';

/** What a tensor is to the generator, and so how a loader uses its codes. */
export type TensorRole =
  /** A Linear / Conv weight: codes of the recipe's weight format with bias t, used as they are. */
  | 'matmul-weight'
  /** An embedding table in the recipe's activation format (bias 0). */
  | 'embedding'
  /** Any other parameter or buffer (layer biases, batch-norm parameters and statistics), as fp32. */
  | 'float32';

export const TENSOR_ROLES = ['matmul-weight', 'embedding', 'float32'] as const satisfies readonly TensorRole[];

export interface ExportTensor {
  /** The generator's parameter / buffer name (PyTorch-style dotted path). */
  name: string;
  role: TensorRole;
  shape: number[];
  /** Canonical format name (formats/descriptor.ts); 'fp32' for role float32. */
  format: string;
  /** Exponent bias t: a code c stands for decode(c) * 2^-t. */
  bias: number;
}

/** A latent-vector generator (its inputs: latent vectors, and labels when conditional). */
export type LatentExportModel = { kind: 'cgan'; width: number } | { kind: 'dcgan'; size: 28 | 32; ngf: number; ndf: number } | { kind: 'acgan'; width: number };

/** An image-to-image generator, with what its inputs are: CycleGAN's A-to-B generator (ResnetGenerator,
 *  gan/models/cyclegan.ts) for a translation task's source domain at `size`, and the SR generator
 *  (RrdbGenerator, gan/models/srgan.ts; ESRGAN's nf, gc, nb) for a data set's `size` images
 *  downsampled by `scale`. */
export type ImageExportModel =
  | { kind: 'cyclegan'; task: TranslationTask; size: 28 | 32; ngf: number; blocks: number }
  | { kind: 'srgan'; dataset: DatasetName; size: 28; scale: 2 | 4; nf: number; gc: number; blocks: number };

/** The model to rebuild: which generator and the options that give its shape. */
export type ExportModel = LatentExportModel | ImageExportModel;

export const IMAGE_MODEL_KINDS = ['cyclegan', 'srgan'] as const satisfies readonly ImageExportModel['kind'][];

export function isImageModel(m: ExportModel): m is ImageExportModel {
  return (IMAGE_MODEL_KINDS as readonly string[]).includes(m.kind);
}

type Shape = [number, number, number];

/** What the generator takes and gives, as the header says it: latent vectors (with `latent`,
 *  `conditional`, `classes`) or images of `inputShape`, to images of `imageShape`; the fields of the
 *  other kind of input are absent. */
export type GeneratorIo =
  | { latent: number; conditional: boolean; classes: number; inputShape?: undefined; imageShape: Shape }
  | { inputShape: Shape; imageShape: Shape; latent?: undefined; conditional?: undefined; classes?: undefined };

/** The input and output shapes an image-to-image model's options fix. */
export function imageModelShapes(m: ImageExportModel): { inputShape: Shape; imageShape: Shape } {
  switch (m.kind) {
    case 'cyclegan':
      return { inputShape: [1, m.size, m.size], imageShape: [1, m.size, m.size] };
    case 'srgan': {
      const s = m.size / m.scale;
      return { inputShape: [1, s, s], imageShape: [1, m.size, m.size] };
    }
  }
}

/** The header without its tensor list (what encodeExport is given; it describes the tensors itself). */
export type ExportHeaderFields = GeneratorIo & {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  model: ExportModel;
  recipe: DeployRecipeSpec;
  /** Where the generator came from (informational). */
  source: { checkpoint: string; step: number; trainRecipe: string };
  created: string;
};

export type ExportHeader = ExportHeaderFields & {
  /** Every tensor, in the file's order. */
  tensors: ExportTensor[];
};

/** A parsed, verified export. */
export interface ExportFile {
  header: ExportHeader;
  recipe: DeployRecipe;
  /** Code words of each tensor, by name, packed as posit-gan packs codes (docs/number-formats.md;
   *  float32 tensors: their bit patterns, one per word). */
  words: Map<string, Uint32Array>;
  /** Hex SHA-256 of the file (its metadata's checksum). */
  sha256: string;
}

export class ExportError extends Error {
  override name = 'ExportError';
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  // Files and fetched bodies live in ordinary ArrayBuffers; the cast only drops SharedArrayBuffer.
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** The dtype of a tensor's codes: the container posit-gan packs the format's codes in. */
function codeDtype(format: string): Dtype {
  const bits = containerBits(parseFormat(format));
  return bits === 8 ? 'U8' : bits === 16 ? 'U16' : 'U32';
}

const dim = int(1, 1 << 16);
const shape = v.tuple([dim, dim, dim], 'must be [C, H, W]');

/** The header's JSON text in the file's metadata (docs/schemas/export-header.schema.json). */
export const ExportHeaderSchema = v.pipe(
  openFields(
    {
      model: v.pipe(
        tagged(
          'kind',
          [
            fields({ kind: v.literal('cgan'), width: v.pipe(dim, v.description('width of the first generator layer')) }),
            fields({ kind: v.literal('dcgan'), size: v.picklist([28, 32], 'must be 28 or 32'), ngf: dim, ndf: dim }),
            fields({ kind: v.literal('acgan'), width: v.pipe(dim, v.description('width of the first generator layer')) }),
            fields({
              kind: v.literal('cyclegan'),
              task: v.pipe(oneOf(TRANSLATION_TASKS), v.description('the translation task whose source domain (A) the generator translates')),
              size: v.pipe(v.picklist([28, 32], 'must be 28 or 32'), v.description('image size (28, or 32 with zero padding)')),
              ngf: dim,
              blocks: v.pipe(int(0, 64), v.description('residual blocks')),
            }),
            fields({
              kind: v.literal('srgan'),
              dataset: v.pipe(oneOf(DATASET_NAMES), v.description('the data set whose images, downsampled, the generator upscales')),
              size: v.pipe(v.picklist([28], 'must be 28'), v.description('size of the upscaled images')),
              scale: v.pipe(v.picklist([2, 4], 'must be 2 or 4'), v.description('upscaling factor: inputs are size / scale')),
              nf: v.pipe(dim, v.description('trunk width')),
              gc: v.pipe(dim, v.description('growth channels of each dense block')),
              blocks: v.pipe(int(1, 64), v.description('residual-in-residual dense blocks')),
            }),
          ],
          'an object with a kind: cgan (with width), dcgan (with size, ngf, ndf), acgan (with width), cyclegan (with task, size, ngf, blocks) or srgan (with dataset, size, scale, nf, gc, blocks)',
        ),
        v.description('the generator to build and the options that fix its shape and its inputs'),
      ),
      latent: v.optional(v.pipe(int(1, 1 << 20), v.description('length of the latent vector (cgan, dcgan, acgan; absent for cyclegan, srgan)'))),
      conditional: v.optional(v.pipe(v.boolean('must be true or false'), v.description('whether the generator takes a class label (cgan, dcgan, acgan; absent for cyclegan, srgan)'))),
      classes: v.optional(v.pipe(int(1, 1 << 20), v.description('number of class labels (cgan, dcgan, acgan; absent for cyclegan, srgan)'))),
      inputShape: v.optional(v.pipe(shape, v.description('[C, H, W] of the input images, values in [-1, 1] (cyclegan, srgan; absent for cgan, dcgan, acgan)'))),
      imageShape: v.pipe(shape, v.description('[C, H, W] of the generated images, values in [-1, 1]')),
      recipe: DeployRecipeSchema,
      source: v.pipe(openFields({ checkpoint: v.string(), step: int(0), trainRecipe: v.string() }), v.description('where the generator came from (informational)')),
      created: v.pipe(v.string(), v.description('when the file was written, ISO 8601')),
      tensors: v.pipe(
        v.record(
          v.string(),
          fields(
            {
              role: v.pipe(oneOf(TENSOR_ROLES), v.description('matmul-weight (codes of recipe.weights with bias t), embedding (codes of recipe.activations), float32')),
              format: v.pipe(text('a number format name'), v.description('the canonical format name of the codes (fp32 for role float32)')),
              bias: v.pipe(int(-MAX_BIAS, MAX_BIAS), v.description('the exponent bias t: a code c stands for decode(c) * 2^-t')),
            },
            { noun: 'a tensor description {role, format, bias}' },
          ),
        ),
        v.description('every tensor of the file by name: its role, format and exponent bias (shape and dtype are in the safetensors header)'),
      ),
    },
    { noun: 'an export header' },
  ),
  v.title('posit-gan export header'),
  v.description('The "header" JSON text in the __metadata__ of an export .safetensors file (docs/export-format.md).'),
);

/** The `__metadata__` of an export file (docs/schemas/export-metadata.schema.json). */
export const ExportMetadataSchema = v.pipe(
  fields(
    {
      format: v.literal(EXPORT_FORMAT, `must be "${EXPORT_FORMAT}" (the file is not a posit-gan export)`),
      version: v.literal(String(EXPORT_VERSION), `must be "${EXPORT_VERSION}": this posit-gan reads export files of version ${EXPORT_VERSION}`),
      header: v.pipe(v.string(), v.description('the export header as JSON text (docs/schemas/export-header.schema.json)')),
      sha256: v.pipe(v.string(), v.description("the file's SHA-256 (gan/io/sealed-safetensors.ts)")),
    },
    { noun: 'export metadata' },
  ),
  v.title('posit-gan export metadata'),
  v.description('The __metadata__ of an export .safetensors file (docs/export-format.md).'),
);

/** The file's bytes: the header (its tensor list, in any order, describes `words`) and the code words. */
export async function encodeExport(header: ExportHeaderFields, tensors: readonly (ExportTensor & { data: Uint32Array })[]): Promise<Uint8Array> {
  const out: Record<string, TensorBytes> = {};
  const described: Record<string, Omit<ExportTensor, 'name' | 'shape'>> = {};
  for (const { data, ...t } of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.role === 'float32') {
      if (t.format !== 'fp32' || t.bias !== 0) throw new ExportError(`export tensor '${t.name}': float32 tensors are fp32 with bias 0`);
      if (data.length !== count) throw new ExportError(`export tensor '${t.name}': shape [${t.shape}] needs ${count} values, got ${data.length}`);
      out[t.name] = { dtype: 'F32', shape: t.shape, data: littleEndianBytes(data, 4) };
    } else {
      const f = parseFormat(t.format);
      let codes: Uint32Array;
      try {
        codes = unpackCodes(f, data, count);
      } catch (e) {
        throw new ExportError(`export tensor '${t.name}': ${(e as Error).message}`);
      }
      out[t.name] = { dtype: codeDtype(t.format), shape: t.shape, data: littleEndianBytes(codes, containerBits(f) / 8) };
    }
    described[t.name] = { role: t.role, format: t.format, bias: t.bias };
  }
  // format and version are the metadata's own entries.
  const { format: _format, version: _version, ...rest } = header;
  const json = JSON.stringify({ ...rest, tensors: described });
  return encodeSealedAsync(out, { format: EXPORT_FORMAT, version: String(EXPORT_VERSION), header: json }, sha256);
}

/** Each value as `size` little-endian bytes. */
function littleEndianBytes(values: Uint32Array, size: number): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (size === 1) out[i] = values[i]!;
    else if (size === 2) dv.setUint16(2 * i, values[i]!, true);
    else dv.setUint32(4 * i, values[i]!, true);
  }
  return out;
}

/** A tensor's elements (U8, U16, U32 or F32 bits) as 32-bit values. */
function valuesOf(t: TensorBytes): Uint32Array {
  const size = dtypeBytes(t.dtype);
  const count = t.data.length / size;
  const out = new Uint32Array(count);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  for (let i = 0; i < count; i++) out[i] = size === 1 ? t.data[i]! : size === 2 ? dv.getUint16(2 * i, true) : dv.getUint32(4 * i, true);
  return out;
}

/** The model's options that fix its input and output shapes, for messages. */
function shapeOptions(m: ImageExportModel): string {
  return m.kind === 'srgan' ? `model.size ${m.size} and model.scale ${m.scale}` : `model.size ${m.size}`;
}

/**
 * The header's input fields checked against its model (a rule across fields, which the JSON Schema
 * leaves to posit-gan): a latent-vector generator has `latent`, `conditional` and `classes` and no
 * `inputShape`; an image-to-image generator the reverse, with the shapes its options fix. A field of
 * the other kind of input is an error rather than ignored: the file would say two things about what
 * the generator takes.
 */
function generatorIo(
  model: ExportModel,
  f: { latent?: number | undefined; conditional?: boolean | undefined; classes?: number | undefined; inputShape?: Shape | undefined; imageShape: Shape },
  at: string,
  fail: (m: string) => Error,
): GeneratorIo {
  if (isImageModel(model)) {
    for (const k of ['latent', 'conditional', 'classes'] as const) {
      if (f[k] !== undefined) throw fail(`${at} ${k} is present, but a ${model.kind} generator takes images (inputShape), not latent vectors: remove it`);
    }
    const want = imageModelShapes(model);
    if (f.inputShape === undefined) throw fail(`${at} inputShape is missing (a ${model.kind} generator takes images: [${want.inputShape.join(', ')}] for ${shapeOptions(model)})`);
    for (const k of ['inputShape', 'imageShape'] as const) {
      if (f[k]!.join() !== want[k].join()) throw fail(`${at} ${k} must be [${want[k].join(', ')}] for ${shapeOptions(model)}, got [${f[k]!.join(', ')}]`);
    }
    return want;
  }
  if (f.inputShape !== undefined) throw fail(`${at} inputShape is present, but a ${model.kind} generator takes latent vectors, not images: remove it`);
  const need = <K extends 'latent' | 'conditional' | 'classes'>(k: K): NonNullable<(typeof f)[K]> => {
    const x = f[k];
    if (x === undefined) throw fail(`${at} ${k} is missing (a ${model.kind} generator takes latent vectors)`);
    return x;
  };
  return { latent: need('latent'), conditional: need('conditional'), classes: need('classes'), imageShape: f.imageShape };
}

/**
 * Parses and verifies an export: the checksum first (a corrupt or truncated file is rejected before
 * anything else is read), then the metadata, the recipe, and every tensor's role, format, bias and
 * dtype against its header entry. `what` names the file in errors.
 */
export async function parseExport(bytes: Uint8Array, what = 'export'): Promise<ExportFile> {
  const fail = (m: string) => new ExportError(m);
  if (bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === V1_MAGIC) {
    throw fail(`${what} is a version-1 posit-gan export, which this posit-gan no longer reads: export the generator again from its run (posit-gan export --checkpoint DIR --recipe R --out FILE.safetensors)`);
  }
  const file = await openSealedAsync(bytes, what, fail, sha256);
  const meta = parseWith(ExportMetadataSchema, file.metadata ?? {}, `${what}: metadata`, fail);
  let json: unknown;
  try {
    json = JSON.parse(meta.header);
  } catch (e) {
    throw fail(`${what}: metadata header is not valid JSON (${(e as Error).message})`);
  }
  const { latent, conditional, classes, inputShape, imageShape, ...h } = parseWith(ExportHeaderSchema, json, `${what}: header`, fail);
  const io = generatorIo(h.model, { latent, conditional, classes, inputShape, imageShape }, `${what}: header:`, fail);
  let recipe: DeployRecipe;
  try {
    recipe = resolveDeployRecipe(h.recipe, `${what}: header recipe`);
  } catch (e) {
    throw fail((e as Error).message);
  }
  const words = new Map<string, Uint32Array>();
  const tensors: ExportTensor[] = [];
  for (const [name, t] of file.tensors) {
    const tw = `${what}: tensor '${name}'`;
    const d = h.tensors[name];
    if (!d) throw fail(`${tw} is not described in the header's tensors`);
    if (d.role === 'float32') {
      if (d.format !== 'fp32' || d.bias !== 0 || t.dtype !== 'F32') throw fail(`${tw}: a float32 tensor is F32, format fp32, bias 0 (it is ${t.dtype}, ${d.format}, bias ${d.bias})`);
      words.set(name, valuesOf(t));
    } else {
      let f;
      try {
        f = parseFormat(d.format);
      } catch (e) {
        throw fail(`${tw}: ${(e as Error).message}`);
      }
      if (f.name !== d.format) throw fail(`${tw}: format '${d.format}' is not the canonical name '${f.name}'`);
      if (t.dtype !== codeDtype(d.format)) throw fail(`${tw}: ${d.format} codes are stored as ${codeDtype(d.format)}, the file has ${t.dtype}`);
      try {
        words.set(name, packCodes(f, valuesOf(t)));
      } catch (e) {
        throw fail(`${tw}: ${(e as Error).message}`);
      }
    }
    tensors.push({ name, role: d.role, shape: [...t.shape], format: d.format, bias: d.bias });
  }
  for (const name of Object.keys(h.tensors)) if (!file.tensors.has(name)) throw fail(`${what}: the header describes a tensor '${name}' the file does not hold`);
  const header: ExportHeader = { ...h, ...io, format: EXPORT_FORMAT, version: EXPORT_VERSION, recipe: recipe.spec, tensors };
  return { header, recipe, words, sha256: file.sha256 };
}
