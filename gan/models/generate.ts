// Running a generator for inference: eval mode (batch norm on running statistics), no autograd,
// in batches, read back to the CPU.

import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import type { Gan } from './gan.ts';

/** Images [n, C, H, W] in [-1, 1] for latent vectors z [n, latent] (and labels for a cgan). */
export async function generateImages(rt: Runtime, gan: Gan, z: Float32Array, labels?: Uint32Array, batch = 100): Promise<Float32Array> {
  const { G } = gan;
  const n = z.length / gan.latent;
  if (!Number.isInteger(n)) throw new Error(`latent array of ${z.length} values is not a whole number of ${gan.latent}-vectors`);
  if (gan.conditional && (!labels || labels.length !== n)) throw new Error(`the conditional generator needs ${n} labels, got ${labels?.length ?? 0}`);
  const [c, h, w] = gan.imageShape;
  const out = new Float32Array(n * c * h * w);
  const wasTraining = G.training;
  G.eval();
  try {
    for (let i = 0; i < n; i += batch) {
      const m = Math.min(batch, n - i);
      const part = await rt.scope(async () =>
        rt.noGrad(() => {
          const zt = Tensor.fromArray(rt, z.subarray(i * gan.latent, (i + m) * gan.latent), [m, gan.latent], 'z');
          return G.generate(zt, labels?.subarray(i, i + m));
        }).read(),
      );
      out.set(part, i * c * h * w);
    }
  } finally {
    G.train(wasTraining);
  }
  return out;
}
