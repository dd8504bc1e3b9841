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
// Weights file: FILE holds the parameters as little-endian float32, concatenated in the order of
// `parameters` in the sidecar FILE.json, which also records the data set, the architecture, SHA-256 of
// FILE, the training seed, epochs and command, the adapter it ran on and the measured test accuracy.
// Loading checks all of it; every failure says how to regenerate the file.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AdapterDescription } from '../../engine/device/gpu.ts';
import { Conv2d, Flatten, InitRng, Linear, MaxPool2d, Module, ReLU, Sequential } from '../../engine/nn/index.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { DATASET_NAMES, DATASET_TITLES, type DatasetName } from '../data/dataset-names.ts';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';

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

/** Parameters concatenated as little-endian float32: the weights file's bytes. */
export function weightsBytes(params: readonly Float32Array[]): Uint8Array {
  const total = params.reduce((a, p) => a + p.length, 0);
  const all = new Float32Array(total);
  let off = 0;
  for (const p of params) {
    all.set(p, off);
    off += p.length;
  }
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('weights files are little-endian; this machine is not');
  return new Uint8Array(all.buffer);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
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

/** The sidecar FILE.json. */
export interface WeightsSidecar {
  format: 'posit-gan-classifier-weights';
  version: 1;
  /** The data set the classifier was trained on (and whose images its features describe). */
  dataset: DatasetName;
  architecture: typeof ARCHITECTURE;
  dtype: 'float32-le';
  bytes: number;
  sha256: string;
  parameters: { name: string; shape: number[] }[];
  provenance: WeightsProvenance;
}

export function sidecarPath(weightsPath: string): string {
  return `${weightsPath}.json`;
}

/** Writes a model's parameters and sidecar (each by temporary file and rename; the binary first, so
 *  an interruption between the two leaves a checksum mismatch, which loading reports). */
export async function saveWeights(model: LeNet5, dataset: DatasetName, path: string, provenance: WeightsProvenance): Promise<WeightsSidecar> {
  const named = model.namedParameters();
  const layout = named.map(([name, t]) => ({ name, shape: [...t.shape] }));
  if (JSON.stringify(layout) !== JSON.stringify(expectedParameters())) {
    throw new Error('saveWeights: LeNet5 and expectedParameters() disagree; update them together');
  }
  const values = await Promise.all(named.map(([, t]) => t.read()));
  const bytes = weightsBytes(values);
  const sidecar: WeightsSidecar = {
    format: 'posit-gan-classifier-weights',
    version: 1,
    dataset,
    architecture: ARCHITECTURE,
    dtype: 'float32-le',
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
    parameters: layout,
    provenance,
  };
  await writeFileAtomic(path, bytes);
  await writeJsonAtomic(sidecarPath(path), sidecar);
  return sidecar;
}

/** Reads and verifies a weights file against the architecture (and, when given, the data set it must
 *  have been trained on); returns the state and sidecar. */
export function readWeights(path: string, dataset?: DatasetName): { sidecar: WeightsSidecar; state: Record<string, Float32Array> } {
  // Until the sidecar is read, the hint names the expected data set (MNIST when none is).
  let hintFor: DatasetName = dataset ?? 'mnist';
  const fail = (problem: string): never => {
    throw new ClassifierWeightsError(`${dataset ? `${DATASET_TITLES[dataset]} ` : ''}classifier weights ${path}: ${problem}. ${regenerateHint(hintFor)}`);
  };
  const jsonPath = sidecarPath(path);
  let bytes: Buffer;
  let text: string;
  try {
    bytes = readFileSync(path);
    text = readFileSync(jsonPath, 'utf8');
  } catch (e) {
    return fail(`cannot be read (${(e as Error).message})`);
  }
  let sidecar: WeightsSidecar;
  try {
    sidecar = JSON.parse(text) as WeightsSidecar;
  } catch (e) {
    return fail(`the sidecar ${jsonPath} is not valid JSON (${(e as Error).message})`);
  }
  if (sidecar?.format !== 'posit-gan-classifier-weights' || sidecar.version !== 1) {
    fail(`the sidecar ${jsonPath} is not a version-1 posit-gan classifier weights description`);
  }
  if (!(DATASET_NAMES as readonly unknown[]).includes(sidecar.dataset)) {
    fail(`the sidecar ${jsonPath} names data set ${JSON.stringify(sidecar.dataset)}, not one of ${DATASET_NAMES.join(', ')}`);
  }
  if (dataset === undefined) hintFor = sidecar.dataset;
  if (dataset !== undefined && sidecar.dataset !== dataset) {
    fail(`it holds a classifier trained on ${DATASET_TITLES[sidecar.dataset]}, not ${DATASET_TITLES[dataset]}`);
  }
  if (JSON.stringify(sidecar.architecture) !== JSON.stringify(ARCHITECTURE)) {
    fail(`the sidecar describes architecture '${sidecar.architecture?.name}' with other layers than this code's '${ARCHITECTURE.name}'`);
  }
  // The layout the code expects, without building a GPU model: the parameter names and shapes.
  const expected = expectedParameters();
  const got = JSON.stringify(sidecar.parameters);
  if (got !== JSON.stringify(expected)) fail(`its parameter list does not match the architecture (expected ${JSON.stringify(expected)})`);
  const total = expected.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  if (bytes.length !== total * 4 || sidecar.bytes !== bytes.length) {
    fail(`has ${bytes.length} bytes; the architecture needs ${total * 4} (the sidecar says ${sidecar.bytes})`);
  }
  const sum = sha256Hex(bytes);
  if (sum !== sidecar.sha256) fail(`its SHA-256 is ${sum} but the sidecar records ${sidecar.sha256} (corrupt or partly written)`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  for (let i = 0; i < all.length; i++) if (!Number.isFinite(all[i]!)) fail(`value ${i} is ${all[i]}`);
  const state: Record<string, Float32Array> = {};
  let off = 0;
  for (const p of expected) {
    const n = p.shape.reduce((x, y) => x * y, 1);
    state[p.name] = all.subarray(off, off + n);
    off += n;
  }
  return { sidecar, state };
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
export class LeNetClassifier {
  private constructor(
    readonly model: LeNet5,
    readonly sha256: string,
    readonly dataset: DatasetName,
    /** The sidecar it was loaded from (null for a model trained in this process). */
    readonly sidecar: WeightsSidecar | null,
  ) {
    model.eval();
  }

  /** Loads and verifies a weights file (default: the committed MNIST one); with `dataset`, the file
   *  must hold a classifier of that data set. */
  static load(rt: Runtime, path = DEFAULT_WEIGHTS, dataset?: DatasetName): LeNetClassifier {
    const { sidecar, state } = readWeights(path, dataset);
    const model = new LeNet5(rt, 0);
    model.load(state);
    return new LeNetClassifier(model, sidecar.sha256, sidecar.dataset, sidecar);
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
