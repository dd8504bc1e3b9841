// Embedding table [V, D], initialised N(0, 1) as PyTorch's nn.Embedding. Takes integer indices
// (class labels for the conditional GAN): a CPU array or a float32 tensor of integers.

import { embedding } from '../ops/embedding.ts';
import type { Indices } from '../ops/indices.ts';
import type { RoundSpec } from '../ops/round.ts';
import type { Runtime } from '../runtime.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { normalArray, toRng, type RngLike } from './init.ts';
import { Layer } from './module.ts';

export class Embedding extends Layer<Indices> {
  override readonly kind = 'Embedding';
  readonly weight: Tensor;

  constructor(
    rt: Runtime,
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    o: { rng: RngLike },
  ) {
    super(rt);
    this.weight = this.addParameter('weight', normalArray(numEmbeddings * embeddingDim, 0, 1, toRng(o.rng)), [numEmbeddings, embeddingDim]);
  }

  protected run(indices: Indices, round: RoundSpec | null): Tensor {
    return embedding(indices, this.weight, round);
  }
}
