// CycleGAN's objective (Zhu et al. 2017, the authors' models/cycle_gan_model.py) on an unpaired
// translation task: generators G_AB (A to B) and G_BA, discriminators D_A and D_B.
//   generators      LSGAN  mse(D_B(G_AB(a)), 1) + mse(D_A(G_BA(b)), 1)
//                   cycle  lambda (l1(G_BA(G_AB(a)), a) + l1(G_AB(G_BA(b)), b))          lambda = 10
//                   identity  0.5 lambda (l1(G_BA(a), a) + l1(G_AB(b), b))
//   discriminators  D_A: (mse(D_A(a), 1) + mse(D_A(pool_A(G_BA(b))), 0)) / 2, D_B likewise; summed
//                   (their parameters are disjoint, so each gets exactly its own gradient)
// with the 50-image history pools (image-pool.ts). Both generators are the trainer's 'G' (one Adam,
// as the reference's itertools.chain), both discriminators its 'D'.
// Each domain is drawn in its own seeded order; an epoch is a pass over the larger domain (the
// reference's dataset length is max(|A|, |B|)).

import { random } from '../../formats/rng.ts';
import { add, addScaled, affine } from '../../engine/ops/index.ts';
import { l1Loss, mseLoss } from '../../engine/ops/loss.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { BatchOrder } from '../data/batches.ts';
import { gatherBatch, type MnistSet } from '../data/mnist-core.ts';
import type { TranslationData } from '../data/translation-core.ts';
import { describeCyclegan, type CycleganNets } from '../models/cyclegan.ts';
import { translateImages } from '../models/translate.ts';
import { buildCycleganOf } from './build-model.ts';
import type { TrainConfig } from './config.ts';
import { ImagePool } from './image-pool.ts';
import type { Iteration, Objective, SampleGrid } from './objective.ts';

export const CYCLE_LAMBDA = 10;
export const IDENTITY_WEIGHT = 0.5;
export const POOL_SIZE = 50;

export class TranslationObjective implements Objective {
  readonly cyclegan: CycleganNets;
  readonly nets: Objective['nets'];
  readonly lossName = 'LSGAN + cycle + identity loss (G), LSGAN loss (D)';
  readonly shape: readonly [number, number, number];
  private readonly orderA: BatchOrder;
  private readonly orderB: BatchOrder;
  private readonly poolA: ImagePool;
  private readonly poolB: ImagePool;

  constructor(
    readonly rt: Runtime,
    readonly config: TrainConfig,
    readonly data: TranslationData,
  ) {
    const { a, b } = data;
    if (a.train.height !== b.train.height || a.train.width !== b.train.width) {
      throw new Error(`the domains of ${data.task} differ in size (${a.train.height}x${a.train.width}, ${b.train.height}x${b.train.width})`);
    }
    this.shape = [1, a.train.height, a.train.width];
    this.cyclegan = buildCycleganOf(rt, config);
    this.nets = { G: this.cyclegan.G, D: this.cyclegan.D };
    this.orderA = new BatchOrder({ n: a.train.n, batchSize: config.batch, seed: config.seed });
    this.orderB = new BatchOrder({ n: b.train.n, batchSize: config.batch, seed: random(config.seed, 0xb) >>> 0 });
    const size = a.train.height * a.train.width;
    this.poolA = new ImagePool(rt, POOL_SIZE, size, 'pool_A');
    this.poolB = new ImagePool(rt, POOL_SIZE, size, 'pool_B');
  }

  get stepsPerEpoch(): number {
    return Math.max(this.orderA.batchesPerEpoch, this.orderB.batchesPerEpoch);
  }

  epochAt(step: number): number {
    return Math.floor(step / this.stepsPerEpoch);
  }

  private batch(order: BatchOrder, set: MnistSet, step: number, name: string): Tensor {
    const indices = order.batchAt(order.cursorAt(step)).indices;
    return Tensor.fromArray(this.rt, gatherBatch(set, indices).images, [indices.length, ...this.shape], name);
  }

  iteration(step: number): Iteration {
    const { rt, cyclegan: n, data } = this;
    let fakeA: Tensor | null = null;
    let fakeB: Tensor | null = null;
    let realA: Tensor | null = null;
    let realB: Tensor | null = null;
    const G = <T>(fn: () => T) => rt.inLayer('G', fn);
    const D = <T>(fn: () => T) => rt.inLayer('D', fn);
    return {
      epoch: this.epochAt(step),
      generatorLoss: () => {
        const a = (realA = this.batch(this.orderA, data.a.train, step, 'real_A'));
        const b = (realB = this.batch(this.orderB, data.b.train, step, 'real_B'));
        const fb = (fakeB = G(() => n.G_AB.translate(a)));
        const fa = (fakeA = G(() => n.G_BA.translate(b)));
        const adversarial = add(mseLoss(D(() => n.D_B.score(fb)), 1), mseLoss(D(() => n.D_A.score(fa)), 1));
        const cycle = add(l1Loss(G(() => n.G_BA.translate(fb)), a), l1Loss(G(() => n.G_AB.translate(fa)), b));
        const identity = add(l1Loss(G(() => n.G_BA.translate(a)), a), l1Loss(G(() => n.G_AB.translate(b)), b));
        return addScaled(addScaled(adversarial, cycle, CYCLE_LAMBDA), identity, CYCLE_LAMBDA * IDENTITY_WEIGHT);
      },
      discriminatorLoss: () => {
        if (!fakeA || !fakeB || !realA || !realB) throw new Error('discriminatorLoss() before generatorLoss()');
        const seed = this.config.seed;
        const pooledA = this.poolA.query(fakeA, random(seed, 0xa001) >>> 0, step);
        const pooledB = this.poolB.query(fakeB, random(seed, 0xb001) >>> 0, step);
        const ra = realA;
        const rb = realB;
        const lossA = affine(add(mseLoss(D(() => n.D_A.score(ra)), 1), mseLoss(D(() => n.D_A.score(pooledA)), 0)), 0.5);
        const lossB = affine(add(mseLoss(D(() => n.D_B.score(rb)), 1), mseLoss(D(() => n.D_B.score(pooledB)), 0)), 0.5);
        return add(lossA, lossB);
      },
    };
  }

  /** Twenty test images of each domain above their translations (translationGrid). */
  sampleGrid(): Promise<SampleGrid> {
    return translationGrid(this.rt, this.cyclegan, this.data, 20);
  }

  async state(): Promise<Record<string, Float32Array>> {
    const out: Record<string, Float32Array> = {};
    for (const [name, pool] of [['pool_A', this.poolA], ['pool_B', this.poolB]] as const) {
      const s = await pool.state();
      out[`${name}.images`] = s.images;
      out[`${name}.filled`] = Float32Array.of(s.filled);
    }
    return out;
  }

  load(tensors: Readonly<Record<string, Float32Array>>): void {
    for (const [name, pool] of [['pool_A', this.poolA], ['pool_B', this.poolB]] as const) {
      const images = tensors[`${name}.images`];
      const filled = tensors[`${name}.filled`];
      if (!images || !filled) throw new Error(`the checkpoint has no ${name} (CycleGAN's image history): it was not written by a cyclegan run`);
      pool.load(images, filled[0]!);
    }
  }

  describe(): string {
    return `cyclegan on ${this.data.task} (${this.data.description}), ${this.shape[1]}x${this.shape[2]}\n${describeCyclegan(this.cyclegan)}`;
  }

  dispose(): void {
    this.poolA.dispose();
    this.poolB.dispose();
  }
}

/** The first `n` test images of each domain in rows of ten, each row above its translation: A rows by
 *  G_AB, then B rows by G_BA (unfilled cells stay background). Without G_BA (an export holds only
 *  G_AB), the A rows alone. */
export async function translationGrid(rt: Runtime, nets: Pick<CycleganNets, 'G_AB'> & Partial<Pick<CycleganNets, 'G_BA'>>, data: TranslationData, n: number): Promise<SampleGrid> {
  const { height: h, width: w } = data.a.test;
  const shape = [1, h, w] as const;
  const size = h * w;
  const per = 10;
  const rows: Float32Array[] = [];
  for (const [set, G] of [
    [data.a.test, nets.G_AB],
    [data.b.test, nets.G_BA],
  ] as const) {
    if (!G) continue;
    const count = Math.min(n, set.n);
    const images = set.images.subarray(0, count * size);
    const out = await translateImages(rt, G, images, shape);
    for (let r = 0; r * per < count; r++) {
      for (const x of [images, out]) {
        const part = new Float32Array(per * size).fill(-1);
        part.set(x.subarray(r * per * size, Math.min((r + 1) * per, count) * size));
        rows.push(part);
      }
    }
  }
  const images = new Float32Array(rows.length * per * size);
  rows.forEach((r, i) => images.set(r, i * per * size));
  return { images, count: rows.length * per, shape, rows: rows.length, cols: per };
}
