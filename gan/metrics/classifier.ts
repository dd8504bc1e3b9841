// The classifiers whose features FID is computed on (issue 4, section 4), and their weights files: one
// LeNet-5 per data set (MNIST digits, Fashion-MNIST clothes: issue 12), the same architecture and
// training, each in its own file lenet-<dataset>.weights beside this one. A classifier knows its data
// set (recorded in the sidecar and checked on loading), so FID on Fashion-MNIST images is computed on
// the Fashion LeNet's features and never on the digit LeNet's by mistake.
//
// Architecture: LeNet-5 (LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to
// document recognition", Proc. IEEE 1998) in the form most MNIST code uses today: ReLU for the
// scaled tanh, max pooling for the trainable sub-sampling layers, a plain linear output for the RBF
// units, every C3 map connected to every S2 map, and the 28 x 28 digit itself as input (the paper
// centred it in a 32 x 32 field; without that margin the first convolution has 27% fewer
// multiply-adds and the layers shrink to 4 x 4, which matters on a software GPU). On [n, 1, 28, 28]:
//   features.0  Conv2d 1 -> 6, 5x5          -> 6 x 24 x 24, ReLU, MaxPool 2x2 -> 6 x 12 x 12
//   features.3  Conv2d 6 -> 16, 5x5         -> 16 x 8 x 8, ReLU, MaxPool 2x2 -> 16 x 4 x 4
//   features.7  Linear 256 -> 120, ReLU
//   features.9  Linear 120 -> 84, ReLU      -> the FEATURE_DIM = 84 FID features
//   head        Linear 84 -> 10             -> logits
// 44,426 parameters (174 KiB as float32). The FID features are the penultimate activations after
// their ReLU, as Inception's pool3 features are taken after a ReLU; units that never fire make the
// covariance singular, which fid.ts handles (see its precision note).
//
// Inputs: [n, 1, H, W] in [-1, 1] (the data sets' and the generators' range), 28 x 28 as they are.
// 32 x 32 images (MNIST padded for the conv models, DCGAN at 32) are cropped to their central 28 x 28: the
// 2-pixel margin that loadMnist('...', { pad32: true }) adds is exactly what is removed, so padded
// MNIST gives the same features as unpadded; a generator's margin pixels are ignored. Other sizes
// are rejected.
//
// Weights file (weights-file.ts, shared with the autoencoder): FILE holds the parameters as
// little-endian float32 in the order of `parameters` in the sidecar FILE.json, which also records the
// data set, the architecture, SHA-256 of FILE, the training seed, epochs and command, the adapter it ran
// on and the measured test accuracy. Loading checks all of it; every failure says how to regenerate it.

import { fileURLToPath } from 'node:url';
import type { AdapterDescription } from '../../engine/device/gpu.ts';
import { Conv2d, Flatten, InitRng, Linear, MaxPool2d, Module, ReLU, Sequential } from '../../engine/nn/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { DATASET_NAMES, DATASET_TITLES, type DatasetName } from '../data/dataset-names.ts';
import type { FeatureNetwork } from './features.ts';
import { readWeightsFile, sha256Hex, testStatsPath, weightsBytes, writeWeightsFile, type WeightsFileSpec, type WeightsSidecar as GenericSidecar } from './weights-file.ts';

export { sha256Hex, sidecarPath, weightsBytes } from './weights-file.ts';

export const FEATURE_DIM = 84;
export const CLASSES = 10;
/** The side of the images the network sees (32 x 32 inputs are cropped to it). */
export const INPUT_SIZE = 28;

/** The architecture as recorded in the weights sidecar; loading requires an exact match. */
export const ARCHITECTURE = {
  name: 'lenet5-relu-maxpool',
  source: 'LeCun et al. 1998 (LeNet-5) with ReLU, max pooling, linear output, full C3 connections, 28 x 28 input',
  input: [1, INPUT_SIZE, INPUT_SIZE],
  layers: [
    'features.0 Conv2d(1, 6, 5)',
    'features.1 ReLU',
    'features.2 MaxPool2d(2)',
    'features.3 Conv2d(6, 16, 5)',
    'features.4 ReLU',
    'features.5 MaxPool2d(2)',
    'features.6 Flatten',
    'features.7 Linear(256, 120)',
    'features.8 ReLU',
    'features.9 Linear(120, 84)',
    'features.10 ReLU',
    'head Linear(84, 10)',
  ],
  featureDim: FEATURE_DIM,
  featureLayer: 'features.10 (ReLU after features.9)',
  classes: CLASSES,
} as const;

/** The committed weights of a data set's classifier (next to this file): lenet-<dataset>.weights. */
export function defaultWeights(dataset: DatasetName): string {
  return fileURLToPath(new URL(`./lenet-${dataset}.weights`, import.meta.url));
}

/** The committed MNIST weights. */
export const DEFAULT_WEIGHTS = defaultWeights('mnist');

/** How to make a data set's weights file again. */
export function regenerateHint(dataset: DatasetName): string {
  const command = `bin/posit-gan classifier train${dataset === 'mnist' ? '' : ` --dataset ${dataset}`}`;
  return (
    `Regenerate it with \`${command}\` (trains in fp32 on the ${DATASET_TITLES[dataset]} training set and ` +
    'writes the weights file and its .json sidecar; see `bin/posit-gan classifier train --help`).'
  );
}

/** A missing, corrupt or mismatched weights file. */
export class ClassifierWeightsError extends Error {
  override name = 'ClassifierWeightsError';
}

/** LeNet-5 as described above; forward() gives logits, `body` alone gives the features. A Module,
 *  not a Layer: it only chains its two layers, so a precision hook has nothing of its own to treat. */
export class LeNet5 extends Module {
  override readonly kind = 'LeNet5';
  readonly body: Sequential;
  readonly head: Linear;

  /** Seeded PyTorch-default initialisation (one generator shared by the layers, in order). */
  constructor(rt: Runtime, seed: number) {
    super(rt);
    const rng = new InitRng(seed);
    this.body = this.addModule(
      'features',
      new Sequential(
        rt,
        new Conv2d(rt, 1, 6, 5, { rng }),
        new ReLU(rt),
        new MaxPool2d(rt, 2),
        new Conv2d(rt, 6, 16, 5, { rng }),
        new ReLU(rt),
        new MaxPool2d(rt, 2),
        new Flatten(rt),
        new Linear(rt, 256, 120, { rng }),
        new ReLU(rt),
        new Linear(rt, 120, FEATURE_DIM, { rng }),
        new ReLU(rt),
      ),
    );
    this.head = this.addModule('head', new Linear(rt, FEATURE_DIM, CLASSES, { rng }));
  }

  forward(x: Tensor): Tensor {
    return this.head.forward(this.body.forward(x));
  }
}

/** Images [n, 1, height, width] in [-1, 1]; an MnistSet (MNIST or Fashion-MNIST) is one. */
export interface ImageSet {
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly images: Float32Array;
}

/** Images start..start+count of a set as network input [count, 1, 28, 28] (32 x 32 cropped). */
export function networkInput(set: ImageSet, start: number, count: number): Float32Array {
  const { height: h, width: w } = set;
  if (!((h === INPUT_SIZE && w === INPUT_SIZE) || (h === 32 && w === 32))) {
    throw new Error(`LeNet classifier: images must be 28 x 28 or 32 x 32, got ${h} x ${w}`);
  }
  if (set.images.length !== set.n * h * w) {
    throw new Error(`LeNet classifier: ${set.images.length} values is not ${set.n} images of 1 x ${h} x ${w}`);
  }
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 1 && start + count <= set.n)) {
    throw new Error(`LeNet classifier: images ${start}..${start + count - 1} are outside 0..${set.n - 1}`);
  }
  if (h === INPUT_SIZE) return set.images.slice(start * h * w, (start + count) * h * w);
  const s = INPUT_SIZE;
  const out = new Float32Array(count * s * s);
  for (let i = 0; i < count; i++) {
    for (let r = 0; r < s; r++) {
      const src = ((start + i) * 32 + r + 2) * 32 + 2;
      out.set(set.images.subarray(src, src + s), (i * s + r) * s);
    }
  }
  return out;
}

/** How the weights were made: everything the sidecar records beyond the layout and checksum. */
export interface WeightsProvenance {
  seed: number;
  epochs: number;
  batchSize: number;
  optimizer: string;
  /** The command that reproduces the file. */
  command: string;
  adapter: AdapterDescription;
  trainSeconds: number;
  /** Accuracy on the data set's 10,000 test images, and the count behind it. */
  testAccuracy: number;
  testCorrect: number;
  testN: number;
  createdAt: string;
}

/** The sidecar FILE.json: the shared weights-file sidecar plus the data set the classifier was
 *  trained on (whose images its features describe). */
export type WeightsSidecar = GenericSidecar<typeof ARCHITECTURE, WeightsProvenance> & { dataset: DatasetName };

/** The LeNet's weights file as weights-file.ts checks it (the data set is checked here). */
function weightsSpec(dataset: DatasetName | undefined, hintFor: DatasetName): WeightsFileSpec<typeof ARCHITECTURE> {
  return {
    what: `${dataset ? `${DATASET_TITLES[dataset]} ` : ''}classifier weights`,
    architecture: ARCHITECTURE,
    parameters: expectedParameters(),
    regenerateHint: regenerateHint(hintFor),
    error: ClassifierWeightsError,
  };
}

/** Writes a model's parameters and sidecar (weights-file.ts: atomically, the binary first). */
export async function saveWeights(model: LeNet5, dataset: DatasetName, path: string, provenance: WeightsProvenance): Promise<WeightsSidecar> {
  const named = model.namedParameters();
  const values = await Promise.all(named.map(([, t]) => t.read()));
  const sidecar = await writeWeightsFile(path, weightsSpec(dataset, dataset), named.map(([name], i) => [name, values[i]!] as [string, Float32Array]), provenance, { dataset });
  return sidecar as WeightsSidecar;
}

/** Reads and verifies a weights file against the architecture (and, when given, the data set it must
 *  have been trained on); returns the state and sidecar. */
export function readWeights(path: string, dataset?: DatasetName): { sidecar: WeightsSidecar; state: Record<string, Float32Array> } {
  const { sidecar, state } = readWeightsFile<typeof ARCHITECTURE, WeightsProvenance>(path, weightsSpec(dataset, dataset ?? 'mnist'));
  const named = (sidecar as Partial<WeightsSidecar>).dataset;
  const fail = (problem: string, hintFor: DatasetName): never => {
    const spec = weightsSpec(dataset, hintFor);
    throw new ClassifierWeightsError(`${spec.what} ${path}: ${problem}. ${spec.regenerateHint}`);
  };
  if (!(DATASET_NAMES as readonly unknown[]).includes(named)) {
    fail(`the sidecar names data set ${JSON.stringify(named)}, not one of ${DATASET_NAMES.join(', ')}`, dataset ?? 'mnist');
  }
  const trainedOn = named as DatasetName;
  if (dataset !== undefined && trainedOn !== dataset) fail(`it holds a classifier trained on ${DATASET_TITLES[trainedOn]}, not ${DATASET_TITLES[dataset]}`, dataset);
  return { sidecar: sidecar as WeightsSidecar, state };
}

/** Parameter names and shapes of LeNet5, in its order (must match namedParameters()). */
export function expectedParameters(): { name: string; shape: number[] }[] {
  const layer = (name: string, out: number, ...inShape: number[]) => [
    { name: `${name}.weight`, shape: [out, ...inShape] },
    { name: `${name}.bias`, shape: [out] },
  ];
  return [
    ...layer('features.0', 6, 1, 5, 5),
    ...layer('features.3', 16, 6, 5, 5),
    ...layer('features.7', 120, 256),
    ...layer('features.9', FEATURE_DIM, 120),
    ...layer('head', CLASSES, FEATURE_DIM),
  ];
}

/** What classify() returns for n images. */
export interface Classified {
  /** [n, FEATURE_DIM] row-major. */
  features: Float32Array;
  /** [n] predicted digits. */
  predictions: Uint8Array;
}

/** A LeNet-5 on a runtime with inference helpers; `sha256` identifies its weights (cache keys) and
 *  `dataset` the images it was trained on (its features are meaningful for those). */
export class LeNetClassifier implements FeatureNetwork {
  readonly label = 'LeNet-5';
  readonly featureDim = FEATURE_DIM;

  private constructor(
    readonly model: LeNet5,
    readonly sha256: string,
    readonly dataset: DatasetName,
    /** The sidecar it was loaded from (null for a model trained in this process). */
    readonly sidecar: WeightsSidecar | null,
    readonly statsFile: string | null = null,
  ) {
    model.eval();
  }

  /** Loads and verifies a weights file (default: the committed MNIST one); with `dataset`, the file
   *  must hold a classifier of that data set. */
  static load(rt: Runtime, path = DEFAULT_WEIGHTS, dataset?: DatasetName): LeNetClassifier {
    const { sidecar, state } = readWeights(path, dataset);
    const model = new LeNet5(rt, 0);
    model.load(state);
    return new LeNetClassifier(model, sidecar.sha256, sidecar.dataset, sidecar, testStatsPath(path, sidecar.dataset));
  }

  /** The committed classifier of a data set (lenet-<dataset>.weights), verified. */
  static forDataset(rt: Runtime, dataset: DatasetName): LeNetClassifier {
    return LeNetClassifier.load(rt, defaultWeights(dataset), dataset);
  }

  /** Wraps a model trained in this process on `dataset` (its weights' checksum is computed from the GPU copy). */
  static async fromModel(model: LeNet5, dataset: DatasetName): Promise<LeNetClassifier> {
    const values = await Promise.all(model.parameters().map((t) => t.read()));
    return new LeNetClassifier(model, sha256Hex(weightsBytes(values)), dataset, null);
  }

  /** Features and predicted labels of every image, `batch` images per forward pass. */
  async classify(set: ImageSet, batch = 500): Promise<Classified> {
    const rt = this.model.rt;
    const features = new Float32Array(set.n * FEATURE_DIM);
    const predictions = new Uint8Array(set.n);
    for (let start = 0; start < set.n; start += batch) {
      const count = Math.min(batch, set.n - start);
      const x = networkInput(set, start, count);
      const [f, logits] = await rt.scope(async () => {
        const input = Tensor.fromArray(rt, x, [count, 1, INPUT_SIZE, INPUT_SIZE], 'classifier:input');
        const [h, y] = rt.noGrad(() => {
          const h = this.model.body.forward(input);
          return [h, this.model.head.forward(h)];
        });
        // Both copies are submitted before either is awaited: one round trip per batch, not two.
        return Promise.all([h.read(), y.read()]);
      });
      features.set(f, start * FEATURE_DIM);
      predictions.set(argmaxRows(logits, CLASSES), start);
    }
    return { features, predictions };
  }

  async features(set: ImageSet, batch?: number): Promise<Float32Array> {
    return (await this.classify(set, batch)).features;
  }

  async predict(set: ImageSet, batch?: number): Promise<Uint8Array> {
    return (await this.classify(set, batch)).predictions;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** The name the MNIST classifier had before there was a Fashion one; the same class. */
export { LeNetClassifier as MnistClassifier };

/** Index of the largest value in each row of a row-major [rows, cols] array (first on ties). */
export function argmaxRows(values: Float32Array, cols: number): Uint8Array {
  const rows = values.length / cols;
  const out = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c]! > values[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}
