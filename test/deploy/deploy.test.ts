// Deployment on the machine's adapter (lavapipe in CI), on tiny generators trained here: every
// deployment recipe runs with its operands on the declared lattices (checked with the TypeScript
// codec), fp32 reproduces the float32 generator exactly, p8 beats p6, the fast tanh recipe's output
// is the TypeScript fast-tanh reference of the pre-activation, and an export reproduces the
// checkpoint's deployment bit for bit while a corrupt one is rejected.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { decode, encodeArray, packCodes, quantize, unpackCodes } from '../../formats/codec.ts';
import type { Format } from '../../formats/descriptor.ts';
import { fastTanh } from '../../formats/fast-tanh.ts';
import type { LayerHook } from '../../engine/nn/module.ts';
import { calibrate } from '../../engine/quant/calibrate.ts';
import { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { evaluateRecipes, runDeployment, type DeployInputs } from '../../gan/deploy/evaluate.ts';
import { parseExport } from '../../gan/deploy/export-format.ts';
import { createExport, exportModelOf, instantiateExport } from '../../gan/deploy/export.ts';
import { readExportFile, writeExportFile } from '../../gan/deploy/files.ts';
import { matmulWeights, prepareDeployment, type Deployment } from '../../gan/deploy/hook.ts';
import { BUILTIN_DEPLOY_RECIPES, deployRecipeByName } from '../../gan/deploy/recipes.ts';
import type { Gan } from '../../gan/models/gan.ts';
import { resolveConfig, type TrainConfig } from '../../gan/train/config.ts';
import { evaluationInputs, restoreRun, type RestoredRun } from '../../gan/train/restore.ts';
import { runTraining } from '../../gan/train/run.ts';
import { decodeSafetensors, type TensorBytes } from '../../gan/io/safetensors.ts';
import { encodeSealedAsync } from '../../gan/io/sealed-safetensors.ts';

let gpu: Gpu;
const dirs: string[] = [];
let cgan: RestoredRun;

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pg-deploy-'));
  dirs.push(d);
  return d;
}

async function trained(config: Partial<TrainConfig>): Promise<RestoredRun> {
  const out = tmp();
  await runTraining(gpu, { config: resolveConfig({ batch: 16, dataLimit: 256, seed: 3, ...config }), out, progress: 'quiet' });
  return restoreRun(gpu, out);
}

// The first use of each number format compiles its codec and matmul kernels, which a CPU driver
// takes seconds for (lavapipe: about 10 s per format on a cold shader cache); these limits leave room
// for that on a loaded machine. The work itself is small.
const SLOW = 300_000;

beforeAll(async () => {
  gpu = await openNodeGpu({ notice: () => {} });
  cgan = await trained({ model: 'cgan', recipe: 'fp32', width: 8, steps: 6, checkpointEvery: 6, sampleEvery: 6 });
}, SLOW);
afterAll(() => {
  gpu?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function inputsFor(gan: Gan, n: number): DeployInputs {
  return { n, ...evaluationInputs(gan, n, 11) };
}

/** What one traced forward pass handed to and got from the deployment hook, read back. */
interface Trace {
  /** Per matmul / conv layer: the input it multiplied and its weight operand. */
  operands: { site: string; input: Float32Array; weight: Tensor }[];
  weightWords: Map<Tensor, Uint32Array>;
  /** Every layer's output after the hook (site kind and values). */
  outputs: { site: string; kind: string; values: Float32Array }[];
  /** The output Tanh: its input and the tanh before the output rounding. */
  tanh: { input: Float32Array; output: Float32Array } | null;
  images: Float32Array;
}

/** Runs G under `dep` with a hook that delegates to the deployment's and records every operand. */
async function trace(rt: Runtime, gan: Gan, dep: Deployment, inputs: DeployInputs): Promise<Trace> {
  const inner = dep.hook;
  const reads: (() => Promise<void>)[] = [];
  const t: Trace = { operands: [], weightWords: new Map(), outputs: [], tanh: null, images: new Float32Array() };
  const hook: LayerHook = {
    operands(site, o) {
      const r = inner.operands(site, o);
      reads.push(async () => {
        t.operands.push({ site: site.path, input: await r.input.read(), weight: r.weight });
        if (r.weight.encoding) t.weightWords.set(r.weight, await r.weight.readWords());
      });
      return r;
    },
    replace(site, x) {
      const y = inner.replace(site, x);
      if (y) reads.push(async () => void (t.tanh = { input: await (x as Tensor).read(), output: await y.read() }));
      return y;
    },
    output(site, y) {
      const r = inner.output(site, y);
      reads.push(async () => void t.outputs.push({ site: site.path, kind: site.kind, values: await r.read() }));
      return r;
    },
  };
  gan.G.setHook(hook);
  gan.G.eval();
  try {
    await rt.scope(async () => {
      const out = rt.noGrad(() => gan.G.generate(Tensor.fromArray(rt, inputs.z, [inputs.n, gan.latent], 'z'), inputs.labels));
      for (const read of reads) await read();
      t.images = await out.read();
    });
  } finally {
    gan.G.setHook(null);
  }
  return t;
}

/** Indices of values that are not on the format's lattice (times 2^-bias). */
function offLattice(f: Format, values: Float32Array, bias = 0): number[] {
  const bad: number[] = [];
  for (let i = 0; i < values.length; i++) if (quantize(f, values[i]!, { bias }) !== values[i]) bad.push(i);
  return bad;
}

/** Checks a traced pass against its recipe with the TS codec; returns the number of values checked. */
async function checkLattices(run: RestoredRun, dep: Deployment, t: Trace): Promise<number> {
  const r = dep.recipe;
  let checked = 0;
  const layers = matmulWeights(run.gan.G);
  expect(t.operands.length).toBe(layers.size);
  for (const op of t.operands) {
    const name = `${op.site}.weight`;
    const trainedWeights = await layers.get(name)!.weight.read();
    if (!r.weights) {
      expect(op.weight.encoding, `${r.name} ${name}`).toBeNull();
      continue;
    }
    // The weight operand: packed codes of the declared format and bias, equal to the TS codec's
    // encoding of the trained weights, and no NaR / NaN among them.
    expect(op.weight.encoding?.format.name, `${r.name} ${name}`).toBe(r.weights.name);
    expect(op.weight.encoding?.bias).toBe(dep.weightBias[name]);
    const codes = unpackCodes(r.weights, t.weightWords.get(op.weight)!, op.weight.size);
    expect(packCodes(r.weights, encodeArray(r.weights, trainedWeights, { bias: dep.weightBias[name] }))).toEqual(t.weightWords.get(op.weight));
    expect(codes.every((c) => Number.isFinite(decode(r.weights!, c)))).toBe(true);
    checked += codes.length;
  }
  if (r.activations) {
    for (const op of t.operands) {
      expect(offLattice(r.activations, op.input), `${r.name}: input of ${op.site}`).toEqual([]);
      checked += op.input.length;
    }
    for (const o of t.outputs) {
      expect(offLattice(r.activations, o.values), `${r.name}: output of ${o.site} (${o.kind})`).toEqual([]);
      checked += o.values.length;
    }
  }
  return checked;
}

describe('deployment of a tiny cgan', () => {
  it('runs every deployment recipe with weights and activations on the declared lattices', async () => {
    const inputs = inputsFor(cgan.gan, 10);
    const kinds = new Set<string>();
    for (const name of Object.keys(BUILTIN_DEPLOY_RECIPES)) {
      const dep = await prepareDeployment(cgan.gan.G, deployRecipeByName(name));
      try {
        const t = await trace(cgan.runtime, cgan.gan, dep, inputs);
        const checked = await checkLattices(cgan, dep, t);
        if (dep.recipe.activations) expect(checked).toBeGreaterThan(10_000);
        t.outputs.forEach((o) => kinds.add(o.kind));
        expect(t.tanh !== null, `${name}: fast tanh used`).toBe(dep.recipe.tanh === 'fast');
        expect(t.images.every(Number.isFinite)).toBe(true);
        const ts = Object.values(dep.weightBias);
        if (dep.recipe.weightBias.mode === 'calibrate') {
          // One t for the network, from all generator weights together (the paper's rule).
          const all = await Promise.all([...matmulWeights(cgan.gan.G).values()].map((l) => l.weight.read()));
          expect(new Set(ts)).toEqual(new Set([calibrate(all).t]));
          expect(ts[0]).toBeGreaterThan(0);
        } else {
          expect(ts.every((v) => v === 0)).toBe(true);
        }
      } finally {
        dep.dispose();
      }
    }
    // Every kind of layer output was checked: embedding, linear, batch norm, activations, tanh.
    for (const k of ['Embedding', 'Linear', 'BatchNorm1d', 'LeakyReLU', 'Tanh']) expect(kinds).toContain(k);
  }, SLOW);

  it('fp32 reproduces the float32 generator exactly (infinite PSNR, counted as identical)', async () => {
    const inputs = inputsFor(cgan.gan, 20);
    const { reference, rows } = await evaluateRecipes(cgan.runtime, cgan.gan, [deployRecipeByName('fp32')], inputs, 20);
    const q = rows[0]!.quality!;
    expect(q.identical).toBe(20);
    expect(q.meanPsnr).toBeNull();
    expect(q.meanSsim).toBe(1);
    expect(new Uint32Array(rows[0]!.images.buffer)).toEqual(new Uint32Array(reference.images.buffer));
  });

  it('p8 is closer to fp32 than p6 on the same inputs', async () => {
    // Why this holds: p6e1 values are a subset of p8e1 values, and on [2^-6, 2^6] (where the
    // activations live) both round to the nearest of their values, so each single rounding under p8
    // is at least as accurate as under p6 on the same input (checked below on the latent vector, the
    // first layer's input), and typically 4x more (two more fraction bits). The network composes the
    // roundings non-linearly, so for the whole image this is not a theorem; on this generator the
    // gap is large (about 8 dB), so the assertion is not fragile.
    const inputs = inputsFor(cgan.gan, 20);
    const { rows } = await evaluateRecipes(cgan.runtime, cgan.gan, ['p8', 'p6'].map(deployRecipeByName), inputs, 20);
    const [p8, p6] = rows.map((r) => r.quality!);
    expect(p8!.identical + p6!.identical).toBe(0);
    expect(p8!.meanPsnr!).toBeGreaterThan(p6!.meanPsnr! + 3);
    expect(p8!.meanSsim).toBeGreaterThanOrEqual(p6!.meanSsim);

    const first: Float32Array[] = [];
    for (const name of ['p8', 'p6']) {
      const dep = await prepareDeployment(cgan.gan.G, deployRecipeByName(name));
      try {
        const t = await trace(cgan.runtime, cgan.gan, dep, inputs);
        first.push(t.operands[0]!.input);
      } finally {
        dep.dispose();
      }
    }
    // The first layer's input is [label embedding, z]: compare the z part with the exact z.
    const emb = 10;
    let compared = 0;
    for (let i = 0; i < inputs.n; i++) {
      for (let j = 0; j < cgan.gan.latent; j++) {
        const z = Math.fround(inputs.z[i * cgan.gan.latent + j]!);
        const k = i * (emb + cgan.gan.latent) + emb + j;
        if (Math.abs(z) < 2 ** -6 || Math.abs(z) > 2 ** 6) continue;
        expect(Math.abs(first[0]![k]! - z)).toBeLessThanOrEqual(Math.abs(first[1]![k]! - z));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1900);
  });

  it("the 't' recipe's output is the TypeScript fast tanh of the pre-activation, rounded to the format", async () => {
    const dep = await prepareDeployment(cgan.gan.G, deployRecipeByName('p8+t'));
    try {
      const t = await trace(cgan.runtime, cgan.gan, dep, inputsFor(cgan.gan, 10));
      const { input, output } = t.tanh!;
      const p8e1 = dep.recipe.activations!;
      expect(offLattice(p8e1, input)).toEqual([]); // the last Linear's rounded output
      let differs = 0;
      for (let i = 0; i < input.length; i++) {
        const want = fastTanh(input[i]!);
        expect(Object.is(output[i], want), `x=${input[i]}: ${output[i]} vs ${want}`).toBe(true);
        expect(t.images[i]).toBe(quantize(p8e1, want));
        if (want !== Math.fround(Math.tanh(input[i]!))) differs++;
      }
      expect(differs).toBeGreaterThan(input.length / 2); // it is not the float tanh
    } finally {
      dep.dispose();
    }
  });

  it('an export reproduces the checkpoint deployment bit for bit (file round trip included)', async () => {
    const inputs = inputsFor(cgan.gan, 10);
    const model = exportModelOf(cgan.config);
    for (const name of ['p8+t', 'p6+', 'fp8', 'fp16', 'fp32']) {
      const dep = await prepareDeployment(cgan.gan.G, deployRecipeByName(name));
      try {
        const bytes = await createExport(cgan.gan, model, dep, { checkpoint: cgan.dir, step: cgan.step, trainRecipe: cgan.recipe.name });
        const path = join(tmp(), `${name}.safetensors`);
        writeExportFile(path, bytes);
        const file = await readExportFile(path);
        const roles = Object.fromEntries(file.header.tensors.map((e) => [e.name, `${e.role} ${e.format} ${e.bias}`]));
        const w = dep.recipe.weights;
        expect(roles['model.0.weight']).toBe(w ? `matmul-weight ${w.name} ${dep.weightBias['model.0.weight']}` : 'float32 fp32 0');
        expect(roles['label_emb.weight']).toBe(w ? `embedding ${dep.recipe.activations!.name} 0` : 'float32 fp32 0');
        expect(roles['model.3.running_var']).toBe('float32 fp32 0');

        // A safetensors file, read here from the format's description (not with posit-gan's reader):
        // codes one per element in the tensor's shape, U8 up to 8 bits, U16 up to 16.
        const buf = Buffer.from(bytes);
        const n = Number(buf.readBigUInt64LE(0));
        const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
        const meta = header.__metadata__;
        expect(meta).toMatchObject({ format: 'posit-gan/export', version: '2' });
        const described = JSON.parse(meta.header);
        expect(described.tensors['model.0.weight']).toEqual({ role: w ? 'matmul-weight' : 'float32', format: w?.name ?? 'fp32', bias: w ? dep.weightBias['model.0.weight'] : 0 });
        const entry = header['model.0.weight'];
        expect(entry.shape).toEqual([...cgan.gan.G.namedParameters().find(([k]) => k === 'model.0.weight')![1].shape]);
        expect(entry.dtype).toBe(!w ? 'F32' : w.bits <= 8 ? 'U8' : 'U16');
        if (w) {
          // The stored codes are the deployment's packed codes, one per element.
          const codes = unpackCodes(w, await dep.packed.get('model.0.weight')!.readWords(), entry.shape[0] * entry.shape[1]);
          const size = w.bits <= 8 ? 1 : 2;
          const [b, e] = entry.data_offsets;
          const raw = buf.subarray(8 + n + b, 8 + n + e);
          expect(Array.from({ length: codes.length }, (_, i) => (size === 1 ? raw[i]! : raw.readUInt16LE(2 * i)))).toEqual([...codes]);
        }
        // The checksum: SHA-256 of the file with its 64 digits as '0's.
        const at = buf.indexOf(`"sha256":"${meta.sha256}"`, 8) + 10;
        expect(createHash('sha256').update(Buffer.concat([buf.subarray(0, at), Buffer.from('0'.repeat(64)), buf.subarray(at + 64)])).digest('hex')).toBe(file.sha256);

        const rt2 = new Runtime(gpu);
        const loaded = instantiateExport(rt2, file);
        const a = await runDeployment(cgan.runtime, cgan.gan, dep, inputs, 10);
        const b = await runDeployment(rt2, loaded.gan, loaded.deployment, inputs, 10);
        expect(new Uint32Array(b.images.buffer), name).toEqual(new Uint32Array(a.images.buffer));
        loaded.deployment.dispose();
      } finally {
        dep.dispose();
      }
    }
  });

  it('rejects corrupt, truncated, foreign and mismatched exports with a clear error', async () => {
    const dep = await prepareDeployment(cgan.gan.G, deployRecipeByName('p6+t'));
    const bytes = await createExport(cgan.gan, exportModelOf(cgan.config), dep, { checkpoint: cgan.dir, step: cgan.step, trainRecipe: 'fp32' });
    dep.dispose();
    const flipped = bytes.slice();
    flipped[bytes.length - 100]! ^= 0x10;
    await expect(parseExport(flipped)).rejects.toThrow(/^export is corrupt or truncated \(SHA-256 mismatch\)$/);
    await expect(parseExport(bytes.subarray(0, bytes.length - 7))).rejects.toThrow(/corrupt or truncated/);
    await expect(parseExport(bytes.subarray(0, 20))).rejects.toThrow(/truncated/);
    const foreign = bytes.slice();
    foreign.set(new TextEncoder().encode('PGCKPT1\n'), 0);
    await expect(parseExport(foreign)).rejects.toThrow(/not a safetensors file/);
    const v1 = Uint8Array.from([...new TextEncoder().encode('PGEXPORT'), 4, 0, 0, 0, ...new TextEncoder().encode('{}  ')]);
    await expect(parseExport(v1, "export file 'old.pgx'")).rejects.toThrow(/^export file 'old\.pgx' is a version-1 posit-gan export, which this posit-gan no longer reads: export the generator again/);
    await expect(readExportFile(join(tmp(), 'missing.safetensors'))).rejects.toThrow(/cannot read export file/);

    // Well-formed files (valid checksum) whose content is wrong: the metadata, header and tensors
    // edited, then sealed again.
    const st = decodeSafetensors(bytes, 'x');
    const rewrite = async (edit: (h: Record<string, unknown>, m: Record<string, string>, t: Map<string, TensorBytes>) => void): Promise<Uint8Array> => {
      const { sha256: _s, ...metadata } = st.metadata!;
      const header = JSON.parse(metadata.header!);
      const tensors = new Map(st.tensors);
      edit(header, metadata, tensors);
      const sha = async (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
      return encodeSealedAsync(tensors, { ...metadata, header: JSON.stringify(header) }, sha);
    };
    expect((await parseExport(await rewrite(() => {}))).header.recipe.name).toBe('p6+t');
    await expect(parseExport(await rewrite((_h, m) => (m.version = '3')))).rejects.toThrow(/^export: metadata: version must be "2": this posit-gan reads export files of version 2, got "3"$/);
    await expect(parseExport(await rewrite((_h, m) => (m.format = 'posit-gan/checkpoint')))).rejects.toThrow(/metadata: format must be "posit-gan\/export" \(the file is not a posit-gan export\)/);
    await expect(parseExport(await rewrite((h) => ((h.recipe as { tanh: string }).tanh = 'slow')))).rejects.toThrow(/^export: header: recipe\.tanh must be "float" or "fast", got "slow"$/);
    const desc = (h: Record<string, unknown>) => (h.tensors as Record<string, { role: string; format: string; bias: number }>)['model.0.weight']!;
    await expect(parseExport(await rewrite((h) => (desc(h).bias = 999)))).rejects.toThrow(/header: tensors\["model\.0\.weight"\]\.bias must be an integer in -256\.\.256, got 999$/);
    await expect(parseExport(await rewrite((h) => (desc(h).format = 'fp16')))).rejects.toThrow(/tensor 'model\.0\.weight': fp16 codes are stored as U16, the file has U8$/);
    await expect(parseExport(await rewrite((h) => (desc(h).format = 'posit(n=6,es=1)')))).rejects.toThrow(/format 'posit\(n=6,es=1\)' is not the canonical name 'p6e1'/);
    await expect(parseExport(await rewrite((h) => delete (h.tensors as Record<string, unknown>)['model.0.bias']))).rejects.toThrow(/tensor 'model\.0\.bias' is not described in the header's tensors/);
    await expect(parseExport(await rewrite((_h, _m, t) => t.delete('model.0.bias')))).rejects.toThrow(/the header describes a tensor 'model\.0\.bias' the file does not hold/);
    const mismatched = await parseExport(await rewrite((h) => ((h.recipe as { weights: string }).weights = 'p8e1')));
    expect(() => instantiateExport(new Runtime(gpu), mismatched)).toThrow(/stored as matmul-weight p6e1 .* needs matmul-weight p8e1/);
    const dropped = await parseExport(
      await rewrite((h, _m, t) => {
        const ts = h.tensors as Record<string, unknown>;
        ts['model.0.bias_renamed'] = ts['model.0.bias'];
        delete ts['model.0.bias'];
        t.set('model.0.bias_renamed', t.get('model.0.bias')!);
        t.delete('model.0.bias');
      }),
    );
    expect(() => instantiateExport(new Runtime(gpu), dropped)).toThrow(/does not fit the cgan generator: .*missing 'model.0.bias'.*unexpected 'model.0.bias_renamed'/);
  });
});

describe('deployment of a tiny dcgan', () => {
  it('p6+t: conv weights and activations on the lattices, fast tanh as the reference, export bit-exact', async () => {
    const run = await trained({ model: 'dcgan', recipe: 'fp32', size: 28, ngf: 4, ndf: 4, steps: 2, checkpointEvery: 2, sampleEvery: 2 });
    const inputs = inputsFor(run.gan, 4);
    const dep = await prepareDeployment(run.gan.G, deployRecipeByName('p6+t'));
    try {
      const t = await trace(run.runtime, run.gan, dep, inputs);
      await checkLattices(run, dep, t);
      expect(new Set(t.outputs.map((o) => o.kind))).toEqual(new Set(['ConvTranspose2d', 'BatchNorm2d', 'ReLU', 'Tanh', 'Sequential']));
      const { input, output } = t.tanh!;
      for (let i = 0; i < input.length; i++) expect(Object.is(output[i], fastTanh(input[i]!))).toBe(true);
      const file = await parseExport(await createExport(run.gan, exportModelOf(run.config), dep, { checkpoint: run.dir, step: run.step, trainRecipe: 'fp32' }));
      const loaded = instantiateExport(new Runtime(gpu), file);
      const b = await runDeployment(loaded.gan.G.rt, loaded.gan, loaded.deployment, inputs, 4);
      expect(new Uint32Array(b.images.buffer)).toEqual(new Uint32Array(t.images.buffer));
    } finally {
      dep.dispose();
    }
  }, SLOW);
});

describe('deployment of a tiny acgan (the quick-start model)', () => {
  it('p6+t: weights and activations on the lattices, fast tanh as the reference, export bit-exact', async () => {
    const run = await trained({ model: 'acgan', recipe: 'fp32', width: 8, steps: 2, checkpointEvery: 2, sampleEvery: 2 });
    const inputs = inputsFor(run.gan, 10);
    const dep = await prepareDeployment(run.gan.G, deployRecipeByName('p6+t'));
    try {
      const t = await trace(run.runtime, run.gan, dep, inputs);
      expect(await checkLattices(run, dep, t)).toBeGreaterThan(1000);
      expect(new Set(t.outputs.map((o) => o.kind))).toEqual(new Set(['Linear', 'BatchNorm1d', 'LeakyReLU', 'Tanh', 'Sequential']));
      const { input, output } = t.tanh!;
      for (let i = 0; i < input.length; i++) expect(Object.is(output[i], fastTanh(input[i]!))).toBe(true);
      const model = exportModelOf(run.config);
      expect(model).toEqual({ kind: 'acgan', width: 8 });
      const file = await parseExport(await createExport(run.gan, model, dep, { checkpoint: run.dir, step: run.step, trainRecipe: 'fp32' }));
      const loaded = instantiateExport(new Runtime(gpu), file);
      const b = await runDeployment(loaded.gan.G.rt, loaded.gan, loaded.deployment, inputs, 10);
      expect(new Uint32Array(b.images.buffer)).toEqual(new Uint32Array(t.images.buffer));
    } finally {
      dep.dispose();
    }
  }, SLOW);
});
