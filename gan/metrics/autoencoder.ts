// The second FID feature network (issue 11): an MNIST autoencoder whose code is the feature vector.
// It is built unlike the LeNet-5 (classifier.ts) on purpose, so that FID on its features is a quality
// signal independent of the classifier's: no convolutions (fully connected layers on the 784 pixels),
// no labels (trained to reconstruct the digit by mean squared error), another seed, and a linear code
// instead of post-ReLU activations. On [n, 784] (the 28 x 28 digit flattened, in [-1, 1]):
//   encoder.0  Linear 784 -> 256, ReLU
//   encoder.2  Linear 256 -> 64, ReLU
//   encoder.4  Linear 64 -> 32           -> the CODE_DIM = 32 FID features (no activation)
//   decoder.0  Linear 32 -> 64, ReLU
//   decoder.2  Linear 64 -> 256, ReLU
//   decoder.4  Linear 256 -> 784, Tanh   -> the reconstruction, in [-1, 1]
// 439,728 parameters (1.7 MiB as float32). Inputs as for the classifier (networkInput): 28 x 28, or
// 32 x 32 cropped to the central 28 x 28.
//
// Weights: gan/metrics/mnist-autoencoder.weights and its .json sidecar, the same kind of file as the
// LeNet's (weights-file.ts reads and checks both), made by
//   bin/posit-gan classifier train --network autoencoder
// (autoencoder-train.ts), whose sidecar records the seed, epochs, command, adapter and the test-set
// reconstruction error.

import { fileURLToPath } from 'node:url';
import type { AdapterDescription } from '../../engine/device/gpu.ts';
import { InitRng, Linear, Module, ReLU, Sequential, Tanh } from '../../engine/nn/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { INPUT_SIZE, networkInput, type ImageSet } from './classifier.ts';
import type { FeatureNetwork } from './features.ts';
import { readWeightsFile, sha256Hex, testStatsPath, weightsBytes, writeWeightsFile, type WeightsFileSpec, type WeightsSidecar } from './weights-file.ts';

export const CODE_DIM = 32;
const PIXELS = INPUT_SIZE * INPUT_SIZE;
const WIDTHS = [PIXELS, 256, 64, CODE_DIM] as const;

/** The architecture as recorded in the weights sidecar; loading requires an exact match. */
export const AE_ARCHITECTURE = {
  name: 'mlp-autoencoder-784-256-64-32',
  source: 'posit-gan: a fully connected autoencoder, trained without labels to reconstruct the digit (mean squared error)',
  input: [1, INPUT_SIZE, INPUT_SIZE],
  layers: [
    'encoder.0 Linear(784, 256)',
    'encoder.1 ReLU',
    'encoder.2 Linear(256, 64)',
    'encoder.3 ReLU',
    'encoder.4 Linear(64, 32)',
    'decoder.0 Linear(32, 64)',
    'decoder.1 ReLU',
    'decoder.2 Linear(64, 256)',
    'decoder.3 ReLU',
    'decoder.4 Linear(256, 784)',
    'decoder.5 Tanh',
  ],
  featureDim: CODE_DIM,
  featureLayer: 'encoder.4 (the code, no activation)',
} as const;

/** The committed weights (next to this file). */
export const DEFAULT_AE_WEIGHTS = fileURLToPath(new URL('./mnist-autoencoder.weights', import.meta.url));

export const AE_REGENERATE_HINT =
  'Regenerate it with `bin/posit-gan classifier train --network autoencoder` (trains in fp32 on the MNIST ' +
  'training set and writes the weights file and its .json sidecar; see `bin/posit-gan classifier --help`).';

/** A missing, corrupt or mismatched autoencoder weights file. */
export class AutoencoderWeightsError extends Error {
  override name = 'AutoencoderWeightsError';
}

/** The encoder and decoder described above; forward() gives the reconstruction. A Module, not a
 *  Layer: it only chains its two layers, so a precision hook has nothing of its own to treat. */
export class MnistAutoencoder extends Module {
  override readonly kind = 'MnistAutoencoder';
  readonly encoder: Sequential;
  readonly decoder: Sequential;

  /** Seeded PyTorch-default initialisation (one generator shared by the layers, in order). */
  constructor(rt: Runtime, seed: number) {
    super(rt);
    const rng = new InitRng(seed);
    const [a, b, c, d] = WIDTHS;
    this.encoder = this.addModule('encoder', new Sequential(rt, new Linear(rt, a, b, { rng }), new ReLU(rt), new Linear(rt, b, c, { rng }), new ReLU(rt), new Linear(rt, c, d, { rng })));
    this.decoder = this.addModule('decoder', new Sequential(rt, new Linear(rt, d, c, { rng }), new ReLU(rt), new Linear(rt, c, b, { rng }), new ReLU(rt), new Linear(rt, b, a, { rng }), new Tanh(rt)));
  }

  forward(x: Tensor): Tensor {
    return this.decoder.forward(this.encoder.forward(x));
  }
}

/** Parameter names and shapes of MnistAutoencoder, in its order (must match namedParameters()). */
export function autoencoderParameters(): { name: string; shape: number[] }[] {
  const layer = (name: string, out: number, inp: number) => [
    { name: `${name}.weight`, shape: [out, inp] },
    { name: `${name}.bias`, shape: [out] },
  ];
  const [a, b, c, d] = WIDTHS;
  return [...layer('encoder.0', b, a), ...layer('encoder.2', c, b), ...layer('encoder.4', d, c), ...layer('decoder.0', c, d), ...layer('decoder.2', b, c), ...layer('decoder.4', a, b)];
}

/** Reconstruction quality on a labelled-or-not image set. */
export interface ReconstructionQuality {
  n: number;
  /** Mean squared error per pixel, on the [-1, 1] scale. */
  mse: number;
  /** 1 - (squared error) / (squared deviation from the set's mean image): the share of the set's
   *  pixel variance the reconstructions keep. */
  explainedVariance: number;
}

/** How the weights were made (the sidecar's provenance). */
export interface AutoencoderProvenance {
  seed: number;
  epochs: number;
  batchSize: number;
  optimizer: string;
  command: string;
  adapter: AdapterDescription;
  trainSeconds: number;
  /** On the 10,000 MNIST test images. */
  test: ReconstructionQuality;
  createdAt: string;
}

export type AutoencoderSidecar = WeightsSidecar<typeof AE_ARCHITECTURE, AutoencoderProvenance>;

function weightsSpec(): WeightsFileSpec<typeof AE_ARCHITECTURE> {
  return { what: 'MNIST autoencoder weights', architecture: AE_ARCHITECTURE, parameters: autoencoderParameters(), regenerateHint: AE_REGENERATE_HINT, error: AutoencoderWeightsError };
}

export function readAutoencoderWeights(path: string): { sidecar: AutoencoderSidecar; state: Record<string, Float32Array> } {
  return readWeightsFile<typeof AE_ARCHITECTURE, AutoencoderProvenance>(path, weightsSpec());
}

export async function saveAutoencoderWeights(model: MnistAutoencoder, path: string, provenance: AutoencoderProvenance): Promise<AutoencoderSidecar> {
  const named = model.namedParameters();
  const values = await Promise.all(named.map(([, t]) => t.read()));
  return writeWeightsFile(path, weightsSpec(), named.map(([name], i) => [name, values[i]!] as [string, Float32Array]), provenance);
}

/** The autoencoder on a runtime as a FID feature network, plus its reconstructions. */
export class FeatureAutoencoder implements FeatureNetwork {
  readonly label = 'autoencoder';
  readonly featureDim = CODE_DIM;
  /** Trained on MNIST digits (no labels): FID on its code describes MNIST-like images. */
  readonly dataset = 'mnist' as const;

  private constructor(
    readonly model: MnistAutoencoder,
    readonly sha256: string,
    readonly sidecar: AutoencoderSidecar | null,
    readonly statsFile: string | null = null,
  ) {
    model.eval();
  }

  /** Loads and verifies a weights file (default: the committed one). */
  static load(rt: Runtime, path = DEFAULT_AE_WEIGHTS): FeatureAutoencoder {
    const { sidecar, state } = readAutoencoderWeights(path);
    const model = new MnistAutoencoder(rt, 0);
    model.load(state);
    return new FeatureAutoencoder(model, sidecar.sha256, sidecar, testStatsPath(path));
  }

  /** Wraps a model trained in this process. */
  static async fromModel(model: MnistAutoencoder): Promise<FeatureAutoencoder> {
    const values = await Promise.all(model.parameters().map((t) => t.read()));
    return new FeatureAutoencoder(model, sha256Hex(weightsBytes(values)), null);
  }

  /** Codes [n, 32] and, if asked, reconstructions [n, 784], `batch` images per forward pass. */
  async encode(set: ImageSet, batch = 500, reconstruct = false): Promise<{ codes: Float32Array; reconstructions: Float32Array | null }> {
    const rt = this.model.rt;
    const codes = new Float32Array(set.n * CODE_DIM);
    const reconstructions = reconstruct ? new Float32Array(set.n * PIXELS) : null;
    for (let start = 0; start < set.n; start += batch) {
      const count = Math.min(batch, set.n - start);
      const x = networkInput(set, start, count);
      const [code, rec] = await rt.scope(async () => {
        const input = Tensor.fromArray(rt, x, [count, PIXELS], 'autoencoder:input');
        const [c, r] = rt.noGrad(() => {
          const c = this.model.encoder.forward(input);
          return [c, reconstruct ? this.model.decoder.forward(c) : null];
        });
        return Promise.all([c.read(), r?.read() ?? null]);
      });
      codes.set(code, start * CODE_DIM);
      if (reconstructions && rec) reconstructions.set(rec, start * PIXELS);
    }
    return { codes, reconstructions };
  }

  async features(set: ImageSet, batch?: number): Promise<Float32Array> {
    return (await this.encode(set, batch)).codes;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Reconstruction error of the autoencoder on a set (its quality measure; see ReconstructionQuality). */
export async function reconstructionQuality(ae: FeatureAutoencoder, set: ImageSet, batch?: number): Promise<ReconstructionQuality> {
  const { reconstructions } = await ae.encode(set, batch, true);
  const x = networkInput(set, 0, set.n);
  const mean = new Float64Array(PIXELS);
  for (let i = 0; i < set.n; i++) for (let p = 0; p < PIXELS; p++) mean[p]! += x[i * PIXELS + p]! / set.n;
  let err = 0;
  let dev = 0;
  for (let i = 0; i < set.n; i++) {
    for (let p = 0; p < PIXELS; p++) {
      const v = x[i * PIXELS + p]!;
      err += (reconstructions![i * PIXELS + p]! - v) ** 2;
      dev += (v - mean[p]!) ** 2;
    }
  }
  return { n: set.n, mse: err / (set.n * PIXELS), explainedVariance: 1 - err / dev };
}
