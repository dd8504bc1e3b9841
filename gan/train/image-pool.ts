// CycleGAN's image history (the authors' util/image_pool.py, after Shrivastava et al. 2017): the
// discriminator sees, for each generated image, with probability 1/2 an earlier generated image from a
// buffer of `capacity` (which the new one then replaces), else the new image itself; until the buffer
// is full every new image is stored and returned.
//
// The choices depend only on the seeded random stream and the fill count, never on the images, so
// they are made on the CPU and the images never leave the GPU: the buffer [capacity, D] and the batch
// [B, D] are concatenated and two row gathers pick the discriminator's batch and the new buffer. A slot
// replaced earlier in the same batch returns the image that replaced it, as the reference's sequential
// loop does.

import { random, randomStream } from '../../formats/rng.ts';
import { embedding } from '../../engine/ops/embedding.ts';
import { concat, reshape } from '../../engine/ops/shape.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';

/** For a batch of `batch` new images: which rows of concat(buffer [capacity], batch) the
 *  discriminator sees (`out`), which rows form the new buffer (`next`), and the new fill count. The
 *  draws for image i are the stream's values 2i (keep the new image or not) and 2i + 1 (which slot). */
export function poolChoices(capacity: number, filledBefore: number, seed: number, step: number, batch: number): { out: Uint32Array; next: Uint32Array; filled: number } {
  const occupant = Uint32Array.from({ length: capacity }, (_, k) => k);
  const out = new Uint32Array(batch);
  const draw = randomStream(random(seed, step));
  let filled = filledBefore;
  for (let i = 0; i < batch; i++) {
    const fresh = capacity + i;
    if (filled < capacity) {
      occupant[filled++] = fresh;
      out[i] = fresh;
      continue;
    }
    const u = draw(2 * i) / 2 ** 32;
    if (u < 0.5) {
      const j = Math.floor((draw(2 * i + 1) / 2 ** 32) * capacity);
      out[i] = occupant[j]!;
      occupant[j] = fresh;
    } else {
      out[i] = fresh;
    }
  }
  return { out, next: occupant, filled };
}

export class ImagePool {
  private buffer: Tensor;
  /** Images stored so far (at most capacity). */
  filled = 0;

  constructor(
    readonly rt: Runtime,
    readonly capacity: number,
    readonly imageSize: number,
    readonly name: string,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`image pool: capacity must be a positive integer, got ${capacity}`);
    this.buffer = rt.keep(Tensor.fromArray(rt, new Float32Array(capacity * imageSize), [capacity, imageSize], name));
  }

  /** The discriminator's batch for generated images `fakes` [B, ...] (no gradient flows through it). */
  query(fakes: Tensor, seed: number, step: number): Tensor {
    const rt = this.rt;
    const B = fakes.shape[0]!;
    const { out, next, filled } = poolChoices(this.capacity, this.filled, seed, step, B);
    return rt.noGrad(() => {
      const rows = concat([this.buffer, reshape(fakes, [B, this.imageSize])], 0);
      const picked = reshape(embedding(out, rows), fakes.shape);
      const buffer = rt.keep(embedding(next, rows));
      // The old buffer is still read by work recorded in this step: the step's scope disposes it
      // with the step's other tensors, after they ran.
      rt.track(this.buffer);
      this.buffer = buffer;
      this.filled = filled;
      return picked;
    });
  }

  async state(): Promise<{ images: Float32Array; filled: number }> {
    return { images: await this.buffer.read(), filled: this.filled };
  }

  load(images: Float32Array, filled: number): void {
    if (images.length !== this.capacity * this.imageSize) {
      throw new Error(`${this.name}: a checkpoint holds ${images.length} values, the pool needs ${this.capacity * this.imageSize}`);
    }
    if (!Number.isInteger(filled) || filled < 0 || filled > this.capacity) throw new Error(`${this.name}: fill count ${filled} is outside 0..${this.capacity}`);
    const old = this.buffer;
    this.buffer = this.rt.keep(Tensor.fromArray(this.rt, images, [this.capacity, this.imageSize], this.name));
    old.dispose();
    this.filled = filled;
  }

  dispose(): void {
    this.buffer.dispose();
  }
}
