// Deployable generators: building an export from a prepared deployment, and instantiating a generator
// from a parsed export (gan/deploy/export-format.ts) that runs exactly as the deployment it came from.
//
// What is stored: every matmul / conv weight as the packed codes the deployment computed on the GPU
// (the recipe's weight format with its bias t); embedding tables as codes of the activation format
// (the deployment rounds a lookup's output to that format anyway, so storing the table rounded gives
// the same values); every other parameter and buffer as fp32. Loading decodes the stored values into
// the generator's parameters and hands the weight codes to the deployment unchanged, so the forward
// pass sees the same operands as the checkpoint's deployment, bit for bit. Browser-safe.

import { decodeToF32, unpackCodes } from '../../formats/codec.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import { encode } from '../../engine/quant/quantizer.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { buildAcgan } from '../models/acgan.ts';
import { buildCgan } from '../models/cgan.ts';
import { buildDcgan } from '../models/dcgan.ts';
import type { Gan } from '../models/gan.ts';
import type { TrainConfig } from '../train/config.ts';
import { deploymentFromCodes, embeddingTables, matmulWeights, type Deployment } from './hook.ts';
import { encodeExport, ExportError, type ExportFile, type ExportHeader, type ExportModel, type ExportTensor } from './export-format.ts';

/** The shape options of a trained run's model. */
export function exportModelOf(c: Pick<TrainConfig, 'model' | 'width' | 'size' | 'ngf' | 'ndf'>): ExportModel {
  switch (c.model) {
    case 'cgan':
      return { kind: 'cgan', width: c.width };
    case 'dcgan':
      return { kind: 'dcgan', size: c.size, ngf: c.ngf, ndf: c.ndf };
    case 'acgan':
      return { kind: 'acgan', width: c.width };
    default:
      throw new ExportError(`export writes latent-vector generators (cgan, dcgan, acgan); a ${c.model} generator cannot be exported yet`);
  }
}

/** Shapes of the generator's parameters and buffers, by name. */
function tensorShapes(gan: Gan): Map<string, readonly number[]> {
  return new Map([...gan.G.namedParameters(), ...gan.G.namedBuffers()].map(([k, t]) => [k, t.shape]));
}

/** A GAN of the export's shape (weights to be loaded; the seed does not matter). */
function buildModel(rt: Runtime, m: ExportModel): Gan {
  switch (m.kind) {
    case 'cgan':
      return buildCgan(rt, { seed: 0, width: m.width });
    case 'dcgan':
      return buildDcgan(rt, { seed: 0, size: m.size, ngf: m.ngf, ndf: m.ndf });
    case 'acgan':
      return buildAcgan(rt, { seed: 0, width: m.width });
  }
}

/** The export file of a deployment prepared on `gan`'s generator. */
export async function createExport(gan: Gan, model: ExportModel, deployment: Deployment, source: ExportHeader['source']): Promise<Uint8Array> {
  const { G } = gan;
  const recipe = deployment.recipe;
  const embeddings = embeddingTables(G);
  const state = await G.state();
  const shapes = tensorShapes(gan);
  const tensors: (ExportTensor & { data: Uint32Array })[] = [];
  for (const [name, values] of Object.entries(state)) {
    const shape = [...shapes.get(name)!];
    const packed = deployment.packed.get(name);
    const table = embeddings.get(name);
    if (packed) {
      tensors.push({ name, role: 'matmul-weight', shape, format: recipe.weights!.name, bias: deployment.weightBias[name]!, data: await packed.readWords() });
    } else if (table && recipe.activations) {
      const codes = G.rt.noGrad(() => encode(table.weight, { format: recipe.activations!, rounding: 'nearest' }));
      try {
        tensors.push({ name, role: 'embedding', shape, format: recipe.activations.name, bias: 0, data: await codes.readWords() });
      } finally {
        codes.dispose();
      }
    } else {
      tensors.push({ name, role: 'float32', shape, format: 'fp32', bias: 0, data: new Uint32Array(values.buffer, values.byteOffset, values.length) });
    }
  }
  const [c, h, w] = gan.imageShape;
  const header: Omit<ExportHeader, 'tensors'> = {
    format: 'posit-gan/export',
    version: 2,
    model,
    latent: gan.latent,
    conditional: gan.conditional,
    classes: gan.classes,
    imageShape: [c, h, w],
    recipe: recipe.spec,
    source,
    created: new Date().toISOString(),
  };
  return encodeExport(header, tensors);
}

/** Float32 values of `count` stored codes (exact: code value times 2^-t, as the GPU decodes). */
function decodeValues(format: string, bias: number, words: Uint32Array, count: number): Float32Array {
  if (format === 'fp32' && bias === 0) return new Float32Array(words.buffer.slice(words.byteOffset, words.byteOffset + 4 * count));
  const f = parseFormat(format);
  const codes = unpackCodes(f, words, count);
  const out = new Float32Array(count);
  if (f.bits <= 16) {
    const table = Float32Array.from({ length: 2 ** f.bits }, (_, c) => decodeToF32(f, c, bias));
    for (let i = 0; i < count; i++) out[i] = table[codes[i]!]!;
  } else {
    for (let i = 0; i < count; i++) out[i] = decodeToF32(f, codes[i]!, bias);
  }
  return out;
}

/** A generator loaded from an export, with the deployment that runs it as exported. */
export interface ExportedGenerator {
  gan: Gan;
  deployment: Deployment;
}

/** Rebuilds the exported generator on `rt`; errors say what in the file does not fit the model. */
export function instantiateExport(rt: Runtime, file: ExportFile, what = 'export'): ExportedGenerator {
  const { header, recipe } = file;
  const gan = buildModel(rt, header.model);
  const fail = (problem: string): never => {
    gan.G.dispose();
    gan.D.dispose();
    throw new ExportError(`${what}: ${problem}`);
  };
  const [c, h, w] = gan.imageShape;
  if (gan.latent !== header.latent || gan.conditional !== header.conditional || [c, h, w].join() !== header.imageShape.join()) {
    fail(`header (latent ${header.latent}, images ${header.imageShape.join('x')}) does not match the ${header.model.kind} it names`);
  }
  const weights = matmulWeights(gan.G);
  const embeddings = embeddingTables(gan.G);
  const shapes = tensorShapes(gan);
  const state: Record<string, Float32Array> = {};
  const codes = new Map<string, { words: Uint32Array; bias: number }>();
  for (const t of header.tensors) {
    const role = recipe.weights && weights.has(t.name) ? 'matmul-weight' : recipe.activations && embeddings.has(t.name) ? 'embedding' : 'float32';
    const format = role === 'matmul-weight' ? recipe.weights!.name : role === 'embedding' ? recipe.activations!.name : 'fp32';
    if (t.role !== role || t.format !== format || (role !== 'matmul-weight' && t.bias !== 0)) {
      fail(`tensor '${t.name}' is stored as ${t.role} ${t.format} (t=${t.bias}); recipe ${recipe.name} needs ${role} ${format}`);
    }
    const own = shapes.get(t.name);
    if (own && own.join() !== t.shape.join()) fail(`tensor '${t.name}' has shape [${t.shape.join(', ')}], the generator's is [${own.join(', ')}]`);
    const words = file.words.get(t.name)!;
    state[t.name] = decodeValues(t.format, t.bias, words, t.shape.reduce((a, b) => a * b, 1));
    if (role === 'matmul-weight') codes.set(t.name, { words, bias: t.bias });
  }
  try {
    gan.G.load(state);
  } catch (e) {
    fail(`does not fit the ${header.model.kind} generator: ${(e as Error).message}`);
  }
  return { gan, deployment: deploymentFromCodes(gan.G, recipe, codes) };
}
