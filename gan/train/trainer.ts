// One GAN training run on a runtime: models, optimizers and precision recipe, the paper's
// calibration (exponent bias t of the weights, posit loss scale) on the first iteration, dynamic loss
// scaling for fp16, and a step that records the whole iteration into one command encoder with one
// read back. Browser-safe: the Node side (files, checkpoints, progress) is gan/train/run.ts.
//
// An iteration (the order of the PyTorch-GAN cgan reference):
//   generator loss through the current discriminator (whose weights need no gradient here),
//   discriminator loss on the real batch and on the generated batch (detached),
//   one read back of both losses and of the gradients' non-finite counts,
//   then the two optimizer updates — so a non-finite loss or overflowing gradients are seen before
//   they can touch the weights (the weights then still hold the last good state).
// Neither update affects the other's loss within an iteration, so this equals updating G first.

import { detach } from '../../engine/autograd/tape.ts';
import { random, randomStream } from '../../formats/rng.ts';
import { Dropout } from '../../engine/nn/activation.ts';
import { Conv2d, ConvTranspose2d } from '../../engine/nn/conv.ts';
import { Linear } from '../../engine/nn/linear.ts';
import type { Module } from '../../engine/nn/module.ts';
import { affine, add, backward } from '../../engine/ops/index.ts';
import { nonFiniteCount } from '../../engine/ops/finite.ts';
import { bceWithLogits, crossEntropy, mseLoss } from '../../engine/ops/loss.ts';
import { concat, narrow, reshape } from '../../engine/ops/shape.ts';
import { Adam } from '../../engine/optim/adam.ts';
import type { OptimizerState } from '../../engine/optim/optimizer.ts';
import { calibrate, type Calibration } from '../../engine/quant/calibrate.ts';
import { optimizerPrecision, PrecisionPolicy } from '../../engine/quant/policy.ts';
import type { Recipe } from '../../engine/quant/recipe.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { BatchOrder } from '../data/batches.ts';
import { gatherBatch, type MnistSet } from '../data/mnist-core.ts';
import { buildAcgan } from '../models/acgan.ts';
import { buildCgan } from '../models/cgan.ts';
import { buildDcgan } from '../models/dcgan.ts';
import type { Gan } from '../models/gan.ts';
import { generateImages } from '../models/generate.ts';
import type { TrainConfig } from './config.ts';

export type Net = 'G' | 'D';

export interface StepStats {
  /** 0-based index of the iteration just run. */
  step: number;
  epoch: number;
  lossG: number;
  lossD: number;
  /** Loss scales used in this iteration. */
  lossScaleG: number;
  lossScaleD: number;
  /** Updates skipped by dynamic loss scaling (gradients overflowed). */
  skippedG: boolean;
  skippedD: boolean;
  /** A non-finite loss, or non-finite gradients without dynamic scaling: no update was applied. */
  diverged: string | null;
}

export interface CalibrationRecord {
  /** Exponent bias of the forward weight copies (per network, or per parameter with scope 'layer'). */
  weightBias: Partial<Record<Net, { t: number | Record<string, number>; histogram: Calibration['histogram'] | Record<string, Calibration['histogram']> }>>;
  /** Posit loss scaling: log2 of the loss scale from the first iteration's gradients. */
  lossScale: Partial<Record<Net, { log2: number; histogram: Calibration['histogram'] }>>;
}

/** Everything a checkpoint holds besides the run configuration. */
export interface TrainerState {
  step: number;
  randomSeed: number;
  randomCounter: number;
  dropoutCounters: Record<string, number>;
  lossScale: Record<Net, number>;
  goodSteps: Record<Net, number>;
  calibration: CalibrationRecord;
  calibrated: boolean;
  tensors: Record<string, Float32Array>;
  /** Names in `tensors` that hold packed code words (Uint32 bits stored in a Float32Array). */
  codeTensors: string[];
  optimizers: Record<Net, Omit<OptimizerState, 'buffers'>>;
}

/** Standard normal latent vectors for iteration `step`: a function of (seed, step) only. */
export function latentNoise(seed: number, step: number, batch: number, latent: number): Float32Array {
  const out = new Float32Array(batch * latent);
  const draw = randomStream(random(seed ^ 0x5eed, step));
  for (let i = 0; i < out.length; i += 2) {
    const u = (draw(i) + 0.5) / 2 ** 32;
    const v = (draw(i + 1) + 0.5) / 2 ** 32;
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Latent vectors and (for a conditional GAN) balanced labels (i mod classes) for n samples: the inputs
 *  of every evaluation (eval, experiments, the FID curve during training) and of deployment. */
export function evaluationInputs(gan: Gan, n: number, seed: number): { z: Float32Array; labels?: Uint32Array } {
  const z = latentNoise(seed, 0x6e7a1, n, gan.latent);
  if (!gan.conditional) return { z };
  return { z, labels: Uint32Array.from({ length: n }, (_, i) => i % gan.classes) };
}

/** Labels 0..classes-1 for the generated images of iteration `step` (uniform, seeded). */
export function randomLabels(seed: number, step: number, batch: number, classes: number): Uint32Array {
  const draw = randomStream(random(seed ^ 0x1abe1, step));
  return Uint32Array.from({ length: batch }, (_, i) => Math.floor((draw(i) / 2 ** 32) * classes));
}

export function buildGan(rt: Runtime, c: TrainConfig): Gan {
  switch (c.model) {
    case 'cgan':
      return buildCgan(rt, { seed: c.seed, width: c.width });
    case 'dcgan':
      return buildDcgan(rt, { seed: c.seed, size: c.size, ngf: c.ngf, ndf: c.ndf });
    case 'acgan':
      return buildAcgan(rt, { seed: c.seed, width: c.width });
  }
}

/** The weights that feed a matmul / conv (those the exponent bias applies to), by parameter name. */
function matmulWeights(m: Module): [string, Tensor][] {
  const names = new Set<Tensor>();
  for (const mod of m.modules()) {
    if (mod instanceof Linear || mod instanceof Conv2d || mod instanceof ConvTranspose2d) names.add(mod.weight);
  }
  return m.namedParameters().filter(([, t]) => names.has(t));
}

function setRequiresGrad(m: Module, on: boolean): void {
  for (const p of m.parameters()) p.requiresGrad = on;
}

export class GanTrainer {
  readonly gan: Gan;
  readonly opt: Record<Net, Adam>;
  readonly order: BatchOrder;
  step = 0;
  lossScale: Record<Net, number> = { G: 1, D: 1 };
  goodSteps: Record<Net, number> = { G: 0, D: 0 };
  calibration: CalibrationRecord = { weightBias: {}, lossScale: {} };
  private calibrated = false;

  constructor(
    readonly rt: Runtime,
    readonly config: TrainConfig,
    readonly recipe: Recipe,
    readonly data: MnistSet,
  ) {
    this.gan = buildGan(rt, config);
    const [, h, w] = this.gan.imageShape;
    if (data.height !== h || data.width !== w) {
      throw new Error(`the ${config.model} model takes ${h}x${w} images but the data is ${data.height}x${data.width} (pad to 32 for dcgan size 32)`);
    }
    rt.randomSeed = random(config.seed, 0x57ac) >>> 0;
    const adam = (m: Module, stream: number) =>
      new Adam(rt, m.namedParameters(), {
        lr: config.lr,
        betas: [config.beta1, config.beta2],
        precision: optimizerPrecision(recipe, 0, random(config.seed, stream)),
      });
    this.opt = { G: adam(this.gan.G, 1), D: adam(this.gan.D, 2) };
    for (const net of ['G', 'D'] as const) {
      const opt = this.opt[net];
      const model = this.gan[net];
      model.setHook(new PrecisionPolicy(recipe, { forwardWeight: (t) => opt.forwardWeight(t) }));
    }
    const ls = recipe.lossScale;
    if (ls.mode === 'fixed') this.lossScale = { G: 2 ** ls.log2, D: 2 ** ls.log2 };
    if (ls.mode === 'dynamic') this.lossScale = { G: 2 ** ls.initLog2, D: 2 ** ls.initLog2 };
    this.order = new BatchOrder({ n: data.n, batchSize: config.batch, seed: config.seed });
  }

  get epoch(): number {
    return this.order.cursorAt(this.step).epoch;
  }

  /** Steps in one pass over the data. */
  get stepsPerEpoch(): number {
    return this.order.batchesPerEpoch;
  }

  private adversarial(score: Tensor, target: 0 | 1): Tensor {
    // The target value everywhere, as a kernel parameter (no target tensor to fill).
    return this.gan.loss === 'mse' ? mseLoss(score, target) : bceWithLogits(score, target);
  }

  /** The adversarial loss towards `target`, plus, when the discriminator also classifies, the
   *  cross-entropy of its class logits against the labels. */
  private loss(score: Tensor, target: 0 | 1, labels: Uint32Array | undefined): Tensor {
    if (!this.gan.auxiliaryClassifier) return this.adversarial(score, target);
    if (!labels) throw new Error('a discriminator with an auxiliary classifier needs the labels');
    const adversarial = this.adversarial(narrow(score, 1, 0, 1), target);
    return add(adversarial, crossEntropy(narrow(score, 1, 1, this.gan.classes), labels));
  }

  /** The paper's exponent bias: t from the histogram of log2|W| over each network's matmul weights. */
  private async calibrateWeightBias(): Promise<void> {
    const wb = this.recipe.weightBias;
    if (wb.mode === 'none') return;
    for (const net of ['G', 'D'] as const) {
      const weights = matmulWeights(this.gan[net]);
      if (wb.mode === 'fixed') {
        this.opt[net].setForwardBias(Object.fromEntries(weights.map(([n]) => [n, wb.t])));
        continue;
      }
      const values = await Promise.all(weights.map(([, t]) => t.read()));
      if (wb.scope === 'network') {
        const c = calibrate(values, undefined, `${net} weights`);
        this.opt[net].setForwardBias(Object.fromEntries(weights.map(([n]) => [n, c.t])));
        this.calibration.weightBias[net] = { t: c.t, histogram: c.histogram };
      } else {
        const per = weights.map(([n], i) => [n, calibrate([values[i]!], undefined, `${net}.${n}`)] as const);
        this.opt[net].setForwardBias(Object.fromEntries(per.map(([n, c]) => [n, c.t])));
        this.calibration.weightBias[net] = {
          t: Object.fromEntries(per.map(([n, c]) => [n, c.t])),
          histogram: Object.fromEntries(per.map(([n, c]) => [n, c.histogram])),
        };
      }
    }
  }

  /** Posit loss scaling: s = 2^t from the histogram of the first iteration's (unscaled) gradients. */
  private async calibrateLossScale(): Promise<void> {
    for (const net of ['G', 'D'] as const) {
      const grads = this.gan[net].parameters().map((p) => p.grad).filter((g): g is Tensor => g !== null);
      const c = calibrate(await Promise.all(grads.map((g) => g.read())), undefined, `${net} gradients`);
      this.calibration.lossScale[net] = { log2: c.t, histogram: c.histogram };
    }
  }

  /** One iteration: both losses, one read back, then the updates (unless something diverged). */
  async trainStep(): Promise<StepStats> {
    const rt = this.rt;
    const { G, D } = this.gan;
    const firstIteration = !this.calibrated;
    if (firstIteration) await this.calibrateWeightBias();
    const cursor = this.order.cursorAt(this.step);
    const batch = this.order.batchAt(cursor);
    const { images, labels } = gatherBatch(this.data, batch.indices);
    const B = batch.indices.length;
    const realLabels = Uint32Array.from(labels);
    const genLabels = this.gan.conditional ? randomLabels(this.config.seed, this.step, B, this.gan.classes) : undefined;
    const z = latentNoise(this.config.seed, this.step, B, this.gan.latent);
    // The calibrating iteration computes unscaled gradients; its update divides by 1.
    const scaleNow: Record<Net, number> = firstIteration && this.recipe.lossScale.mode === 'calibrate' ? { G: 1, D: 1 } : { ...this.lossScale };
    const result = await rt.scope(async () => {
      rt.phase = 'forward';
      const real = Tensor.fromArray(rt, images, [B, ...this.gan.imageShape], 'real');
      const zt = Tensor.fromArray(rt, z, [B, this.gan.latent], 'z');
      G.train();
      D.train();
      // Generator loss through the current discriminator. Op counts go to 'G.<layer>' and 'D.<layer>'
      // (both models name their layers model.0, model.1, ...; backward nodes keep their layer).
      const fake = rt.inLayer('G', () => G.generate(zt, genLabels));
      // D's weights need no gradient for G's loss. Backward rules read requiresGrad when they run,
      // so D's parameters get it back only after this backward (else it would compute, and count,
      // weight and bias gradients of D that D's update never sees).
      setRequiresGrad(D, false);
      const lossG = this.loss(rt.inLayer('D', () => D.score(fake, genLabels)), 1, genLabels);
      this.opt.G.zeroGrad();
      backward(scaleNow.G === 1 ? lossG : affine(lossG, scaleNow.G));
      setRequiresGrad(D, true);
      // Discriminator loss on real and (detached) generated images.
      rt.phase = 'forward';
      const lossReal = this.loss(rt.inLayer('D', () => D.score(real, realLabels)), 1, realLabels);
      const lossFake = this.loss(rt.inLayer('D', () => D.score(detach(fake), genLabels)), 0, genLabels);
      const lossD = affine(add(lossReal, lossFake), 0.5);
      this.opt.D.zeroGrad();
      backward(scaleNow.D === 1 ? lossD : affine(lossD, scaleNow.D));
      const grads = (m: Module) => m.parameters().map((p) => p.grad).filter((g): g is Tensor => g !== null);
      const stats = concat([reshape(lossG, [1]), reshape(lossD, [1]), nonFiniteCount(rt, grads(G)), nonFiniteCount(rt, grads(D))], 0);
      const [lg, ld, nfG, nfD] = Array.from(await stats.read()) as [number, number, number, number];
      return { lg, ld, nfG, nfD };
    });
    const s: StepStats = {
      step: this.step,
      epoch: cursor.epoch,
      lossG: result.lg,
      lossD: result.ld,
      lossScaleG: scaleNow.G,
      lossScaleD: scaleNow.D,
      skippedG: false,
      skippedD: false,
      diverged: null,
    };
    const dynamic = this.recipe.lossScale.mode === 'dynamic' ? this.recipe.lossScale : null;
    if (!Number.isFinite(s.lossG) || !Number.isFinite(s.lossD)) {
      s.diverged = `non-finite loss at step ${s.step}: generator loss ${s.lossG}, discriminator loss ${s.lossD}`;
    } else if (!dynamic && (result.nfG > 0 || result.nfD > 0)) {
      s.diverged = `non-finite gradients at step ${s.step} (${result.nfG} in G, ${result.nfD} in D) with finite losses`;
    }
    if (s.diverged) {
      this.dropGrads();
      return s;
    }
    if (firstIteration && this.recipe.lossScale.mode === 'calibrate') await this.calibrateLossScale();
    rt.phase = 'optimizer';
    for (const net of ['G', 'D'] as const) {
      const overflow = (net === 'G' ? result.nfG : result.nfD) > 0;
      if (dynamic && overflow) {
        // Mixed-precision loss scaling: skip the update, halve the scale.
        this.lossScale[net] = Math.max(1, this.lossScale[net] / 2);
        this.goodSteps[net] = 0;
        if (net === 'G') s.skippedG = true;
        else s.skippedD = true;
        continue;
      }
      this.opt[net].lossScale = scaleNow[net];
      rt.inLayer(net, () => this.opt[net].step());
      if (dynamic && ++this.goodSteps[net] >= dynamic.interval) {
        this.lossScale[net] = Math.min(2 ** 24, this.lossScale[net] * 2);
        this.goodSteps[net] = 0;
      }
    }
    if (firstIteration && this.recipe.lossScale.mode === 'calibrate') {
      this.lossScale = { G: 2 ** this.calibration.lossScale.G!.log2, D: 2 ** this.calibration.lossScale.D!.log2 };
    }
    this.dropGrads();
    rt.flush();
    rt.phase = 'forward';
    this.calibrated = true;
    this.step++;
    return s;
  }

  private dropGrads(): void {
    this.opt.G.zeroGrad();
    this.opt.D.zeroGrad();
  }

  /** Generator outputs in eval mode, read back as [n, C, H, W]. */
  generate(z: Float32Array, labels?: Uint32Array): Promise<Float32Array> {
    return generateImages(this.rt, this.gan, z, labels);
  }

  private dropouts(): [string, Dropout][] {
    const out: [string, Dropout][] = [];
    for (const net of ['G', 'D'] as const) {
      for (const m of this.gan[net].modules()) if (m instanceof Dropout) out.push([`${net}.${m.path}`, m]);
    }
    return out;
  }

  /** Everything needed to continue this run exactly (read back from the GPU). */
  async state(): Promise<TrainerState> {
    const tensors: Record<string, Float32Array> = {};
    const codeTensors: string[] = [];
    const optimizers = {} as TrainerState['optimizers'];
    for (const net of ['G', 'D'] as const) {
      for (const [k, v] of Object.entries(await this.gan[net].state())) tensors[`${net}.${k}`] = v;
      const { buffers, ...rest } = await this.opt[net].state();
      optimizers[net] = rest;
      for (const [k, v] of Object.entries(buffers)) {
        const name = `opt${net}.${k}`;
        if (v instanceof Uint32Array) {
          codeTensors.push(name);
          tensors[name] = new Float32Array(v.buffer, v.byteOffset, v.length);
        } else {
          tensors[name] = v;
        }
      }
    }
    return {
      step: this.step,
      randomSeed: this.rt.randomSeed,
      randomCounter: this.rt.randomCounter,
      dropoutCounters: Object.fromEntries(this.dropouts().map(([k, d]) => [k, d.counter])),
      lossScale: { ...this.lossScale },
      goodSteps: { ...this.goodSteps },
      calibration: this.calibration,
      calibrated: this.calibrated,
      tensors,
      codeTensors,
      optimizers,
    };
  }

  /** Restores a state() result (from a checkpoint of the same configuration). */
  load(s: TrainerState): void {
    for (const net of ['G', 'D'] as const) {
      const prefix = `${net}.`;
      const own: Record<string, Float32Array> = {};
      const bufs: OptimizerState['buffers'] = {};
      for (const [k, v] of Object.entries(s.tensors)) {
        if (k.startsWith(prefix)) own[k.slice(prefix.length)] = v;
        const op = `opt${net}.`;
        if (k.startsWith(op)) bufs[k.slice(op.length)] = s.codeTensors.includes(k) ? new Uint32Array(v.buffer, v.byteOffset, v.length) : v;
      }
      this.gan[net].load(own);
      this.opt[net].load({ ...s.optimizers[net], buffers: bufs });
      this.opt[net].sync();
    }
    const drops = new Map(this.dropouts());
    for (const [k, c] of Object.entries(s.dropoutCounters)) {
      const d = drops.get(k);
      if (!d) throw new Error(`checkpoint names a dropout layer '${k}' this model does not have`);
      d.counter = c;
    }
    this.step = s.step;
    this.rt.randomSeed = s.randomSeed;
    this.rt.randomCounter = s.randomCounter;
    this.lossScale = { ...s.lossScale };
    this.goodSteps = { ...s.goodSteps };
    this.calibration = s.calibration;
    this.calibrated = s.calibrated;
  }

  dispose(): void {
    this.opt.G.dispose();
    this.opt.D.dispose();
    for (const p of [...this.gan.G.parameters(), ...this.gan.D.parameters()]) p.dispose();
    for (const [, b] of [...this.gan.G.namedBuffers(), ...this.gan.D.namedBuffers()]) b.dispose();
  }
}
