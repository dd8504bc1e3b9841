// Trains the second FID feature network (autoencoder.ts) in fp32 on the 60,000 MNIST training images,
// without their labels: the loss is the mean squared error between the digit and its reconstruction.
// The seed fixes the initialisation and the data order (BatchOrder); nothing else is random. Adam
// (PyTorch defaults) with the classifier's schedule: lr0 in the first epoch, halved every epoch after.

import { backward, mseLoss } from '../../engine/ops/index.ts';
import { Adam } from '../../engine/optim/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { BatchOrder } from '../data/batches.ts';
import type { MnistSet } from '../data/mnist.ts';
import { MnistAutoencoder } from './autoencoder.ts';
import { INPUT_SIZE, networkInput, type ImageSet } from './classifier.ts';
import { epochLr, type TrainOptions } from './classifier-train.ts';

export type AutoencoderTrainOptions = Omit<TrainOptions, 'onEpoch'> & {
  /** Called after each epoch with the model (which it may evaluate: training mode is restored after). */
  onEpoch?: (epoch: number, model: MnistAutoencoder) => Promise<void>;
};

/** The images at `indices` as one network-input batch [count, 784]. */
function gather(set: MnistSet, indices: Uint32Array): Float32Array {
  const px = set.height * set.width;
  const images = new Float32Array(indices.length * px);
  indices.forEach((k, i) => images.set(set.images.subarray(k * px, (k + 1) * px), i * px));
  const batch: ImageSet = { n: indices.length, height: set.height, width: set.width, images };
  return networkInput(batch, 0, batch.n);
}

export async function trainAutoencoder(rt: Runtime, train: MnistSet, o: AutoencoderTrainOptions): Promise<{ model: MnistAutoencoder; steps: number; finalLoss: number }> {
  const model = new MnistAutoencoder(rt, o.seed);
  model.train();
  const opt = new Adam(rt, model.namedParameters(), { lr: o.lr });
  const order = new BatchOrder({ n: train.n, batchSize: o.batchSize, seed: o.seed });
  const total = order.batchesPerEpoch * o.epochs;
  const every = o.reportEvery ?? 50;
  const px = INPUT_SIZE * INPUT_SIZE;
  let finalLoss = NaN;
  let step = 0;
  for (const batch of order.batches()) {
    if (step === total) break;
    opt.lr = epochLr(o.lr, batch.epoch);
    const x = gather(train, batch.indices);
    // As for the classifier: the loss is read back only every `every` steps.
    const loss = rt.scope(() => {
      const input = Tensor.fromArray(rt, x, [batch.indices.length, px], 'autoencoder:batch');
      const l = mseLoss(model.forward(input), input);
      opt.zeroGrad();
      backward(l);
      opt.step();
      return l;
    });
    step++;
    if (step % every === 0 || step === total) {
      finalLoss = await loss.item();
      if (!Number.isFinite(finalLoss)) throw new Error(`autoencoder training: loss is ${finalLoss} at step ${step} (epoch ${batch.epoch + 1})`);
      o.onStep?.(step, batch.epoch, finalLoss);
    }
    loss.dispose();
    if (step % order.batchesPerEpoch === 0 && o.onEpoch) {
      await o.onEpoch(batch.epoch, model);
      model.train();
    }
  }
  opt.zeroGrad();
  opt.dispose();
  model.eval();
  return { model, steps: total, finalLoss };
}
