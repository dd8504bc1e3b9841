// One GAN training run on a runtime: models, optimizers and precision recipe, the paper's
// calibration (exponent bias t of the weights, posit loss scale) on the first iteration, dynamic loss
// scaling for fp16, and a step that records the whole iteration into one command encoder with one
// read back. Browser-safe: the Node side (files, checkpoints, progress) is gan/train/run.ts.
//
// What one iteration computes comes from the model's objective (gan/train/objective.ts); an iteration:
//   the generator loss (the discriminator's weights need no gradient here) and its backward,
//   the discriminator loss (unless the objective skips D in this iteration) and its backward,
//   one read back of both losses and of the gradients' non-finite counts,
//   then the optimizer updates — so a non-finite loss or overflowing gradients are seen before
//   they can touch the weights (the weights then still hold the last good state).
// Neither update affects the other's loss within an iteration, so this equals updating G first.

import { random } from '../../formats/rng.ts';
import { Dropout } from '../../engine/nn/activation.ts';
import { Conv2d, ConvTranspose2d } from '../../engine/nn/conv.ts';
import { Linear } from '../../engine/nn/linear.ts';
import type { Module } from '../../engine/nn/module.ts';
import { affine, backward } from '../../engine/ops/index.ts';
import { nonFiniteCount } from '../../engine/ops/finite.ts';
import { concat, reshape } from '../../engine/ops/shape.ts';
import { Adam } from '../../engine/optim/adam.ts';
import type { OptimizerState } from '../../engine/optim/optimizer.ts';
import { calibrate, type Calibration } from '../../engine/quant/calibrate.ts';
import { optimizerPrecision, PrecisionPolicy } from '../../engine/quant/policy.ts';
import type { Recipe } from '../../engine/quant/recipe.ts';
import type { Runtime } from '../../engine/runtime.ts';
import type { Tensor } from '../../engine/tensor/tensor.ts';
import type { Gan } from '../models/gan.ts';
import { generateImages } from '../models/generate.ts';
import type { TrainConfig } from './config.ts';
import { NoiseObjective } from './noise-objective.ts';
import { buildObjective, type TrainingData } from './objectives.ts';
import { setRequiresGrad, type Net, type Objective, type SampleGrid } from './objective.ts';

export { buildGan, evaluationInputs, latentNoise, randomLabels } from './noise-objective.ts';
export type { Net } from './objective.ts';

export interface StepStats {
  /** 0-based index of the iteration just run. */
  step: number;
  epoch: number;
  lossG: number;
  /** null when the discriminator did not train in this iteration (the SR model's pre-training). */
  lossD: number | null;
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

/** Checkpoint names of the objective's own state (objective.ts). */
const OBJECTIVE_PREFIX = 'objective.';

/** The weights that feed a matmul / conv (those the exponent bias applies to), by parameter name. */
function matmulWeights(m: Module): [string, Tensor][] {
  const names = new Set<Tensor>();
  for (const mod of m.modules()) {
    if (mod instanceof Linear || mod instanceof Conv2d || mod instanceof ConvTranspose2d) names.add(mod.weight);
  }
  return m.namedParameters().filter(([, t]) => names.has(t));
}

export class GanTrainer {
  readonly objective: Objective;
  readonly opt: Record<Net, Adam>;
  step = 0;
  lossScale: Record<Net, number> = { G: 1, D: 1 };
  goodSteps: Record<Net, number> = { G: 0, D: 0 };
  calibration: CalibrationRecord = { weightBias: {}, lossScale: {} };
  private calibrated = false;

  constructor(
    readonly rt: Runtime,
    readonly config: TrainConfig,
    readonly recipe: Recipe,
    data: TrainingData,
  ) {
    this.objective = buildObjective(rt, config, data);
    rt.randomSeed = random(config.seed, 0x57ac) >>> 0;
    const adam = (m: Module, stream: number) =>
      new Adam(rt, m.namedParameters(), {
        lr: config.lr,
        betas: [config.beta1, config.beta2],
        precision: optimizerPrecision(recipe, 0, random(config.seed, stream)),
      });
    this.opt = { G: adam(this.nets.G, 1), D: adam(this.nets.D, 2) };
    for (const net of ['G', 'D'] as const) {
      const opt = this.opt[net];
      this.nets[net].setHook(new PrecisionPolicy(recipe, { forwardWeight: (t) => opt.forwardWeight(t) }));
    }
    const ls = recipe.lossScale;
    if (ls.mode === 'fixed') this.lossScale = { G: 2 ** ls.log2, D: 2 ** ls.log2 };
    if (ls.mode === 'dynamic') this.lossScale = { G: 2 ** ls.initLog2, D: 2 ** ls.initLog2 };
  }

  get nets(): Objective['nets'] {
    return this.objective.nets;
  }

  /** The latent-vector GAN being trained (cgan, acgan, dcgan); other models have none. */
  get gan(): Gan {
    if (!(this.objective instanceof NoiseObjective)) throw new Error(`the ${this.config.model} model does not generate from latent vectors`);
    return this.objective.gan;
  }

  get epoch(): number {
    return this.objective.epochAt(this.step);
  }

  /** Steps in one pass over the data. */
  get stepsPerEpoch(): number {
    return this.objective.stepsPerEpoch;
  }

  /** The paper's exponent bias: t from the histogram of log2|W| over each network's matmul weights. */
  private async calibrateWeightBias(): Promise<void> {
    const wb = this.recipe.weightBias;
    if (wb.mode === 'none') return;
    for (const net of ['G', 'D'] as const) {
      const weights = matmulWeights(this.nets[net]);
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

  /** Posit loss scaling: s = 2^t from the histogram of a network's first (unscaled) gradients. */
  private async calibrateLossScale(net: Net): Promise<void> {
    const grads = this.nets[net].parameters().map((p) => p.grad).filter((g): g is Tensor => g !== null);
    const c = calibrate(await Promise.all(grads.map((g) => g.read())), undefined, `${net} gradients`);
    this.calibration.lossScale[net] = { log2: c.t, histogram: c.histogram };
  }

  /** Whether a network's loss scale is still to be calibrated (on the first iteration that trains it:
   *  the first of the run, or for a discriminator that starts later, its first). */
  private lossScaleUncalibrated(net: Net): boolean {
    return this.recipe.lossScale.mode === 'calibrate' && this.calibration.lossScale[net] === undefined;
  }

  /** One iteration: both losses, one read back, then the updates (unless something diverged). */
  async trainStep(): Promise<StepStats> {
    const rt = this.rt;
    const { G, D } = this.nets;
    const firstIteration = !this.calibrated;
    if (firstIteration) await this.calibrateWeightBias();
    const iteration = this.objective.iteration(this.step);
    // The calibrating iteration computes unscaled gradients; its update divides by 1.
    const scaleNow: Record<Net, number> = {
      G: this.lossScaleUncalibrated('G') ? 1 : this.lossScale.G,
      D: this.lossScaleUncalibrated('D') ? 1 : this.lossScale.D,
    };
    const result = await rt.scope(async () => {
      rt.phase = 'forward';
      G.train();
      D.train();
      // D's weights need no gradient for G's loss. Backward rules read requiresGrad when they run,
      // so D's parameters get it back only after this backward (else it would compute, and count,
      // weight and bias gradients of D that D's update never sees).
      setRequiresGrad(D, false);
      const lossG = iteration.generatorLoss();
      this.opt.G.zeroGrad();
      backward(scaleNow.G === 1 ? lossG : affine(lossG, scaleNow.G));
      setRequiresGrad(D, true);
      rt.phase = 'forward';
      const lossD = iteration.discriminatorLoss();
      this.opt.D.zeroGrad();
      if (lossD) backward(scaleNow.D === 1 ? lossD : affine(lossD, scaleNow.D));
      const grads = (m: Module) => m.parameters().map((p) => p.grad).filter((g): g is Tensor => g !== null);
      const parts = [reshape(lossG, [1]), nonFiniteCount(rt, grads(G))];
      if (lossD) parts.push(reshape(lossD, [1]), nonFiniteCount(rt, grads(D)));
      const read = Array.from(await concat(parts, 0).read());
      return { lg: read[0]!, nfG: read[1]!, ld: lossD ? read[2]! : null, nfD: lossD ? read[3]! : 0 };
    });
    const s: StepStats = {
      step: this.step,
      epoch: iteration.epoch,
      lossG: result.lg,
      lossD: result.ld,
      lossScaleG: scaleNow.G,
      lossScaleD: scaleNow.D,
      skippedG: false,
      skippedD: false,
      diverged: null,
    };
    const dynamic = this.recipe.lossScale.mode === 'dynamic' ? this.recipe.lossScale : null;
    if (!Number.isFinite(s.lossG) || (s.lossD !== null && !Number.isFinite(s.lossD))) {
      s.diverged = `non-finite loss at step ${s.step}: generator loss ${s.lossG}, discriminator loss ${s.lossD}`;
    } else if (!dynamic && (result.nfG > 0 || result.nfD > 0)) {
      s.diverged = `non-finite gradients at step ${s.step} (${result.nfG} in G, ${result.nfD} in D) with finite losses`;
    }
    if (s.diverged) {
      this.dropGrads();
      return s;
    }
    const calibrating = (['G', 'D'] as const).filter((net) => this.lossScaleUncalibrated(net) && (net === 'G' || result.ld !== null));
    for (const net of calibrating) await this.calibrateLossScale(net);
    rt.phase = 'optimizer';
    for (const net of ['G', 'D'] as const) {
      if (net === 'D' && result.ld === null) continue;
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
    for (const net of calibrating) this.lossScale[net] = 2 ** this.calibration.lossScale[net]!.log2;
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

  /** Generator outputs of a latent-vector GAN in eval mode, read back as [n, C, H, W]. */
  generate(z: Float32Array, labels?: Uint32Array): Promise<Float32Array> {
    return generateImages(this.rt, this.gan, z, labels);
  }

  /** The run's fixed sample grid, in eval mode. */
  sampleGrid(): Promise<SampleGrid> {
    return this.objective.sampleGrid();
  }

  private dropouts(): [string, Dropout][] {
    const out: [string, Dropout][] = [];
    for (const net of ['G', 'D'] as const) {
      for (const m of this.nets[net].modules()) if (m instanceof Dropout) out.push([`${net}.${m.path}`, m]);
    }
    return out;
  }

  /** Everything needed to continue this run exactly (read back from the GPU). */
  async state(): Promise<TrainerState> {
    const tensors: Record<string, Float32Array> = {};
    const codeTensors: string[] = [];
    const optimizers = {} as TrainerState['optimizers'];
    for (const net of ['G', 'D'] as const) {
      for (const [k, v] of Object.entries(await this.nets[net].state())) tensors[`${net}.${k}`] = v;
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
    for (const [k, v] of Object.entries(await this.objective.state())) tensors[`${OBJECTIVE_PREFIX}${k}`] = v;
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
      this.nets[net].load(own);
      this.opt[net].load({ ...s.optimizers[net], buffers: bufs });
      this.opt[net].sync();
    }
    const extra: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(s.tensors)) if (k.startsWith(OBJECTIVE_PREFIX)) extra[k.slice(OBJECTIVE_PREFIX.length)] = v;
    this.objective.load(extra);
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
    for (const p of [...this.nets.G.parameters(), ...this.nets.D.parameters()]) p.dispose();
    for (const [, b] of [...this.nets.G.namedBuffers(), ...this.nets.D.namedBuffers()]) b.dispose();
    this.objective.dispose();
  }
}
