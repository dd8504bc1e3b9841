// Deployable generators: building an export from a prepared deployment, and instantiating a generator
// from a parsed export (gan/deploy/export-format.ts) that runs exactly as the deployment it came from.
//
// What is stored: every matmul / conv weight as the packed codes the deployment computed on the GPU
// (the recipe's weight format with its bias t); embedding tables as codes of the activation format
// (the deployment rounds a lookup's output to that format anyway, so storing the table rounded gives
// the same values); every other parameter and buffer as fp32. Loading decodes the stored values into
// the generator's parameters and hands the weight codes to the deployment unchanged, so the forward
// pass sees the same operands as the checkpoint's deployment, bit for bit.
//
// Which generator: a latent-vector GAN's (cgan, dcgan, acgan), CycleGAN's A-to-B generator (the one
// deployment runs; G_BA and the discriminators are not stored), or the SR generator. Browser-safe.

import { decodeToF32, unpackCodes } from '../../formats/codec.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import type { Module } from '../../engine/nn/module.ts';
import { encode } from '../../engine/quant/quantizer.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { buildAcgan } from '../models/acgan.ts';
import { buildCgan } from '../models/cgan.ts';
import { buildCycleganAtoB, ResnetGenerator } from '../models/cyclegan.ts';
import { buildDcgan } from '../models/dcgan.ts';
import type { Gan } from '../models/gan.ts';
import { buildSrGenerator, RrdbGenerator } from '../models/srgan.ts';
import { srGeneratorOptionsOf } from '../train/build-model.ts';
import type { TrainConfig } from '../train/config.ts';
import { deploymentFromCodes, embeddingTables, matmulWeights, type Deployment } from './hook.ts';
import {
  encodeExport,
  ExportError,
  imageModelShapes,
  isImageModel,
  type ExportFile,
  type ExportHeader,
  type ExportHeaderFields,
  type ExportModel,
  type ExportTensor,
  type GeneratorIo,
} from './export-format.ts';
import { deployedGenerator, isGan, targetOf, type DeployedNets, type DeployTarget } from './target.ts';

/** The options of a trained run's model that fix its generator's shape and inputs. */
export function exportModelOf(c: Pick<TrainConfig, 'model' | 'width' | 'size' | 'ngf' | 'ndf' | 'blocks' | 'scale' | 'task' | 'dataset'>): ExportModel {
  switch (c.model) {
    case 'cgan':
      return { kind: 'cgan', width: c.width };
    case 'dcgan':
      return { kind: 'dcgan', size: c.size, ngf: c.ngf, ndf: c.ndf };
    case 'acgan':
      return { kind: 'acgan', width: c.width };
    case 'cyclegan':
      // resolveConfig refuses a cyclegan without a task; a hand-made config might still lack one.
      if (c.task === null) throw new ExportError('a cyclegan configuration without a translation task (task) has no source domain to export a generator for');
      return { kind: 'cyclegan', task: c.task, size: c.size, ngf: c.ngf, blocks: c.blocks };
    case 'srgan':
      return { kind: 'srgan', dataset: c.dataset, ...srGeneratorOptionsOf(c) };
  }
}

/** A generator as createExport takes it: a latent-vector GAN, or the image-to-image generator module. */
export type ExportSource = Gan | ResnetGenerator | RrdbGenerator;

/** The module the export's tensors come from. */
function moduleOf(generator: ExportSource): Module {
  return isGan(generator) ? generator.G : generator;
}

/** What the generator takes and gives, as the header records it: the GAN's latent vector, labels and
 *  image shape, or the shapes an image-to-image model's options fix. Errors when the generator is not
 *  of the model's kind (its tensors would not load into the model the header names). */
export function generatorIoOf(generator: ExportSource, model: ExportModel): GeneratorIo {
  if (isImageModel(model)) {
    const cls = model.kind === 'cyclegan' ? ResnetGenerator : RrdbGenerator;
    if (!(generator instanceof cls)) throw new ExportError(`a ${model.kind} export holds a ${cls.name}; got ${isGan(generator) ? `the ${generator.kind} GAN` : `a ${generator.kind}`}`);
    return imageModelShapes(model);
  }
  if (!isGan(generator) || generator.kind !== model.kind) throw new ExportError(`a ${model.kind} export holds the ${model.kind} GAN's generator; got ${isGan(generator) ? `the ${generator.kind} GAN` : `a ${generator.kind}`}`);
  const [c, h, w] = generator.imageShape;
  return { latent: generator.latent, conditional: generator.conditional, classes: generator.classes, imageShape: [c, h, w] };
}

/** One line for what a generator takes and gives (messages comparing generators use these). */
export function generatorIoText(kind: string, io: GeneratorIo): string {
  const shape = (s: readonly number[]) => s.join('x');
  const input = io.inputShape ? `${shape(io.inputShape)} images` : `latent vectors of ${io.latent}${io.conditional ? ` with labels of ${io.classes} classes` : ''}`;
  return `a ${kind} generator of ${input} to ${shape(io.imageShape)} images`;
}

/** A module's own parameter name (as state() and the file name it) as its layers' paths name it:
 *  'model.1.weight' of CycleGAN's G_AB is 'G_AB.model.1.weight' in deployment (matmulWeights and the
 *  packed weights are keyed by path). */
function pathName(G: Module, name: string): string {
  return G.path ? `${G.path}.${name}` : name;
}

/** Shapes of the generator's parameters and buffers, by name. */
function tensorShapes(G: Module): Map<string, readonly number[]> {
  return new Map([...G.namedParameters(), ...G.namedBuffers()].map(([k, t]) => [k, t.shape]));
}

/** A generator of the export's model (weights to be loaded; the seed does not matter): for a CycleGAN
 *  only G_AB, for an SR model only the generator (the discriminators are not stored). */
function buildNets(rt: Runtime, m: ExportModel): DeployedNets {
  switch (m.kind) {
    case 'cgan':
      return { family: 'noise', gan: buildCgan(rt, { seed: 0, width: m.width }) };
    case 'dcgan':
      return { family: 'noise', gan: buildDcgan(rt, { seed: 0, size: m.size, ngf: m.ngf, ndf: m.ndf }) };
    case 'acgan':
      return { family: 'noise', gan: buildAcgan(rt, { seed: 0, width: m.width }) };
    case 'cyclegan':
      return { family: 'translation', cyclegan: { G_AB: buildCycleganAtoB(rt, m) } };
    case 'srgan':
      return { family: 'sr', G: buildSrGenerator(rt, m) };
  }
}

/** The export file of a deployment prepared on `generator` (a latent-vector GAN, CycleGAN's G_AB or an
 *  SR generator) of the model `model` describes. */
export async function createExport(generator: ExportSource, model: ExportModel, deployment: Deployment, source: ExportHeader['source']): Promise<Uint8Array> {
  const io = generatorIoOf(generator, model);
  const G = moduleOf(generator);
  const recipe = deployment.recipe;
  const embeddings = embeddingTables(G);
  const state = await G.state();
  const shapes = tensorShapes(G);
  const tensors: (ExportTensor & { data: Uint32Array })[] = [];
  for (const [name, values] of Object.entries(state)) {
    const shape = [...shapes.get(name)!];
    const packed = deployment.packed.get(pathName(G, name));
    const table = embeddings.get(pathName(G, name));
    if (packed) {
      tensors.push({ name, role: 'matmul-weight', shape, format: recipe.weights!.name, bias: deployment.weightBias[pathName(G, name)]!, data: await packed.readWords() });
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
  const header: ExportHeaderFields = {
    format: 'posit-gan/export',
    version: 2,
    model,
    ...io,
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
  /** The generator by model family (only G_AB for a CycleGAN): a sample grid needs the module. */
  nets: DeployedNets;
  /** What deployment runs: the generator and the kind of inputs it takes. */
  target: DeployTarget;
  /** The latent-vector GAN; an error for an image-to-image generator (see `nets`). */
  readonly gan: Gan;
  deployment: Deployment;
}

/** Rebuilds the exported generator on `rt`; errors say what in the file does not fit the model. */
export function instantiateExport(rt: Runtime, file: ExportFile, what = 'export'): ExportedGenerator {
  const { header, recipe } = file;
  const nets = buildNets(rt, header.model);
  const G = moduleOf(deployedGenerator(nets));
  const fail = (problem: string): never => {
    G.dispose();
    if (nets.family === 'noise') nets.gan.D.dispose();
    throw new ExportError(`${what}: ${problem}`);
  };
  if (nets.family === 'noise') {
    // An image-to-image model's shapes are its options' (parseExport checks them); a latent-vector
    // GAN's latent size is its builder's, so it is checked here.
    const { gan } = nets;
    const [c, h, w] = gan.imageShape;
    if (gan.latent !== header.latent || gan.conditional !== header.conditional || [c, h, w].join() !== header.imageShape.join()) {
      fail(`header (latent ${header.latent}, images ${header.imageShape.join('x')}) does not match the ${header.model.kind} it names`);
    }
  }
  const weights = matmulWeights(G);
  const embeddings = embeddingTables(G);
  const shapes = tensorShapes(G);
  const state: Record<string, Float32Array> = {};
  const codes = new Map<string, { words: Uint32Array; bias: number }>();
  for (const t of header.tensors) {
    const key = pathName(G, t.name);
    const role = recipe.weights && weights.has(key) ? 'matmul-weight' : recipe.activations && embeddings.has(key) ? 'embedding' : 'float32';
    const format = role === 'matmul-weight' ? recipe.weights!.name : role === 'embedding' ? recipe.activations!.name : 'fp32';
    if (t.role !== role || t.format !== format || (role !== 'matmul-weight' && t.bias !== 0)) {
      fail(`tensor '${t.name}' is stored as ${t.role} ${t.format} (t=${t.bias}); recipe ${recipe.name} needs ${role} ${format}`);
    }
    const own = shapes.get(t.name);
    if (own && own.join() !== t.shape.join()) fail(`tensor '${t.name}' has shape [${t.shape.join(', ')}], the generator's is [${own.join(', ')}]`);
    const words = file.words.get(t.name)!;
    state[t.name] = decodeValues(t.format, t.bias, words, t.shape.reduce((a, b) => a * b, 1));
    if (role === 'matmul-weight') codes.set(key, { words, bias: t.bias });
  }
  try {
    G.load(state);
  } catch (e) {
    fail(`does not fit the ${header.model.kind} generator: ${(e as Error).message}`);
  }
  return {
    nets,
    target: targetOf(nets, header.model),
    get gan(): Gan {
      if (nets.family !== 'noise') throw new Error(`${what} holds a ${header.model.kind} generator, which does not generate from latent vectors`);
      return nets.gan;
    },
    deployment: deploymentFromCodes(G, recipe, codes),
  };
}
