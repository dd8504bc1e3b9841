// The Node side of deployment: export files on disk, and a whole comparison (restore a run, run every
// recipe and an optional export on the same inputs, write JSON, image strip, op counts and, for
// experiments, Markdown). Used by the deploy, export, sample and experiment commands. All writes are
// atomic (temporary file + rename).

import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Gpu } from '../../engine/device/gpu.ts';
import type { OpCountsFile } from '../../engine/record/schema.ts';
import { Runtime } from '../../engine/runtime.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import { commit } from '../io/provenance.ts';
import { pngBytes } from '../io/png-node.ts';
import type { RasterImage } from '../io/png.ts';
import { loadDataset } from '../data/datasets.ts';
import { boxDownsample } from '../data/low-resolution.ts';
import { loadTranslationTask } from '../data/translation.ts';
import { evaluationInputs, restoreRun } from '../train/restore.ts';
import { deployRow, evaluateRecipes, type AnyInputs, type DeployRow } from './evaluate.ts';
import { deployedGenerator, targetOf } from './target.ts';
import { ExportError, parseExport, type ExportFile, type ExportModel, type GeneratorIo } from './export-format.ts';
import { exportModelOf, generatorIoOf, generatorIoText, instantiateExport, type ExportedGenerator } from './export.ts';
import { outputTanhPath } from './hook.ts';
import type { DeployRecipe } from './recipes.ts';
import { deployMarkdown, deployStrip, resultRow, rowFileName, type DeployResult } from './report.ts';

/** Reads and verifies an export file. */
export async function readExportFile(path: string): Promise<ExportFile> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ExportError(`cannot read export file '${path}': ${(e as Error).message}`);
  }
  return parseExport(bytes, `export file '${path}'`);
}

export function writeExportFile(path: string, bytes: Uint8Array): void {
  writeFileAtomicSync(path, bytes);
}

/** An export file's generator on its own runtime, ready to run (its hook is set on G). */
export async function openExport(gpu: Gpu, path: string): Promise<ExportedGenerator & { file: ExportFile; runtime: Runtime }> {
  const file = await readExportFile(path);
  const runtime = new Runtime(gpu);
  const g = instantiateExport(runtime, file, `export file '${path}'`);
  g.target.G.setHook(g.deployment.hook);
  // Not a spread: that would read `gan`, which throws for an image-to-image generator.
  return Object.assign(g, { file, runtime });
}

export interface ComparisonOptions {
  /** A run directory: the float32 reference and the recipes' source. */
  checkpoint?: string;
  /** Accept an older checkpoint when the newest is damaged (see restoreRun). */
  allowOlder?: boolean;
  recipes: readonly DeployRecipe[];
  /** `recipes` is the default list: for a generator without an output Tanh its fast-tanh recipes are
   *  left out (and the result says so), where an explicit list with one is an error. */
  defaultRecipes?: boolean;
  /** An export file, run as one more row (compared with the checkpoint's reference when given). */
  exportFile?: string;
  n: number;
  seed: number;
  batch: number;
  /** The command line, for the results. */
  command: string;
  /** For the op-count files. */
  commandName: 'deploy' | 'experiment';
  onRow?: (row: DeployRow) => void;
}

export interface Comparison {
  result: DeployResult;
  strip: RasterImage;
  opcounts: Map<string, OpCountsFile>;
}

/** The fixed inputs every row sees, for a generator of `model` (a run's, or the one an export's header
 *  names) that takes and gives what `io` says: latent vectors (seeded) for a latent-vector GAN; the
 *  first n test images of the task's source domain for CycleGAN's A-to-B generator; the first n test
 *  images, box-downsampled, for an SR generator. */
function deployInputs(model: ExportModel, io: GeneratorIo, n: number, seed: number): AnyInputs {
  switch (model.kind) {
    case 'cyclegan': {
      const a = loadTranslationTask(model.task, { pad32: model.size === 32, trainLimit: 30, testLimit: 3 * n }).a.test;
      if (a.n < n) throw new Error(`deployment: the ${model.task} source domain has ${a.n} test images, fewer than --n ${n}`);
      return { n, images: a.images.slice(0, n * a.height * a.width) };
    }
    case 'srgan': {
      const test = loadDataset(model.dataset, 'test', { limit: n });
      return { n, images: boxDownsample(test.images, n, test.height, test.width, model.scale) };
    }
    default:
      if (io.latent === undefined) throw new Error(`deployment: a ${model.kind} generator takes latent vectors, and none are described`);
      return { n, ...evaluationInputs(io, n, seed) };
  }
}

/** Runs the comparison; nothing is written (see writeComparison). */
export async function compareDeployments(gpu: Gpu, o: ComparisonOptions): Promise<Comparison> {
  if (!o.checkpoint && !o.exportFile) throw new Error('deployment needs a run directory (--checkpoint) or an export file (--export)');
  const run = o.checkpoint ? restoreRun(gpu, o.checkpoint, { allowOlder: o.allowOlder === true }) : null;
  const exported = o.exportFile ? await openExport(gpu, o.exportFile) : null;
  // The model and its inputs are the run's when there is one (the export row then runs on the very
  // inputs of the recipes), else those the export's header names.
  const model = run ? exportModelOf(run.config) : exported!.file.header.model;
  const io = run ? generatorIoOf(deployedGenerator(run.model), model) : exported!.file.header;
  if (run && exported) {
    const header = exported.file.header;
    const ours = generatorIoText(model.kind, io);
    const theirs = generatorIoText(header.model.kind, header);
    if (ours !== theirs) {
      throw new ExportError(
        `export file '${o.exportFile}' holds ${theirs}; the run in '${o.checkpoint}' trained ${ours}, so the export cannot run on the run's inputs: ` +
          `export this run's generator (posit-gan export --checkpoint ${o.checkpoint} --recipe R --out FILE), or give --export without --checkpoint`,
      );
    }
  }
  const target = run ? targetOf(run.model, model) : exported!.target;
  const inputs = deployInputs(model, io, o.n, o.seed);
  const rows: DeployRow[] = [];
  const notes: string[] = [];
  let recipes = o.recipes;
  if (o.defaultRecipes && outputTanhPath(target.G) === null) {
    const fast = recipes.filter((r) => r.tanh === 'fast');
    recipes = recipes.filter((r) => r.tanh !== 'fast');
    if (fast.length) notes.push(`the ${target.kind} generator has no output Tanh: the fast-tanh recipes (${fast.map((r) => r.name).join(', ')}) do not apply and were left out`);
  }
  let reference: Float32Array | null = null;
  if (run) {
    const r = await evaluateRecipes(run.runtime, target, recipes, inputs, o.batch, o.onRow);
    reference = r.reference.images;
    rows.push(...r.rows);
  }
  if (exported) {
    const row = await deployRow(exported.runtime, exported.target, exported.deployment, `export:${exported.deployment.recipe.name}`, inputs, o.batch, reference);
    rows.push(row);
    o.onRow?.(row);
  }
  const name = run ? basename(run.dir) : basename(o.exportFile!).replace(/\.[^.]*$/, '');
  const created = new Date().toISOString();
  const opcounts = new Map<string, OpCountsFile>();
  for (const row of rows) {
    opcounts.set(
      `${rowFileName(row.label)}.opcounts.json`,
      row.recorder.toFile({
        name: `${name}-deploy-${row.label}`,
        command: o.commandName,
        model: target.kind,
        recipe: row.label,
        steps: row.passes,
        batch: o.batch,
        device: gpu.adapter.description,
        created,
        commit: commit(),
        commandLine: o.command,
      }),
    );
  }
  const columns = Math.min(o.n, 10);
  const stripRows = [...(reference ? ['fp32 generator (reference)'] : []), ...rows.map((r) => r.label)];
  const result: DeployResult = {
    device: gpu.adapter.description,
    commit: commit(),
    command: o.command,
    checkpoint: o.checkpoint ?? null,
    export: o.exportFile ?? null,
    model: target.kind,
    step: run?.step ?? exported?.file.header.source.step ?? null,
    train_recipe: run?.recipe.name ?? exported?.file.header.source.trainRecipe ?? null,
    n: o.n,
    seed: o.seed,
    batch: o.batch,
    reference: reference ? 'float32 generator (no quantization, float tanh)' : null,
    created,
    strip: { file: 'deploy.png', rows: stripRows, columns },
    rows: rows.map(resultRow),
    notes,
  };
  return { result, strip: deployStrip(reference, rows, target.imageShape, columns), opcounts };
}

/** Writes deploy.json, deploy.png, one op-count file per row and (given a title) deploy.md into `dir`. */
export function writeComparison(dir: string, c: Comparison, markdownTitle?: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (file: string, data: string | Uint8Array) => {
    writeFileAtomicSync(join(dir, file), data);
    written.push(join(dir, file));
  };
  put('deploy.json', JSON.stringify(c.result, null, 2) + '\n');
  put(c.result.strip.file, pngBytes(c.strip));
  if (markdownTitle !== undefined) put('deploy.md', deployMarkdown(c.result, markdownTitle));
  for (const [file, counts] of c.opcounts) put(file, JSON.stringify(counts, null, 1) + '\n');
  return written;
}
