// Evaluation of generated MNIST digits (issue 4, section 4): FID against the 10,000 MNIST test images
// on the features of posit-gan's own LeNet-5 (classifier.ts), and, for class-conditional generators,
// the classifier's accuracy on the samples against the labels they were conditioned on. The same for
// Fashion-MNIST images with the Fashion LeNet: the default reference is the test set of the data set
// the classifier was trained on (pass another `reference`, e.g. a translation task's target domain).
// Given a second feature network (issue 11: the autoencoder, autoencoder.ts), also the FID on its
// features, from the same samples in the same pass: a quality signal that does not share the LeNet's quirks.
//
// Scale. These are LeNet-feature FIDs: 84 features of a small MNIST classifier, not the 2048
// Inception-v3 pool3 features of the paper's FIDs (docs/method.md section 7.1). The numbers live on another
// scale and cannot be compared with the paper's values; only the ordering of recipes can be compared.
// They also depend on N: the FID of N samples is biased upwards by roughly tr(S)/N-sized terms, so
// compare runs at the same N (the protocol: 10,000 generated samples).
//
// Reference statistics (mean and covariance of the test-set features, float64) are computed once per
// feature network and data set: cached in memory under the SHA-256 of the network's weights and of the
// reference images, and optionally in a JSON file (e.g. in the run directory) under the same key, so
// a cache can never be used with other weights or other data: a file with another key is recomputed
// and rewritten (atomically). The committed weights come with such a file for the MNIST test set
// (FILE.mnist-test-stats.json beside FILE.weights, written by `posit-gan classifier stats`): read when
// its key matches, never rewritten. It was computed on the adapter it names; features on another
// adapter differ from it by float32 rounding only.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadDataset, type DatasetName } from '../data/datasets.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import { CLASSES, type ImageSet, type MnistClassifier } from './classifier.ts';
import type { FeatureNetwork } from './features.ts';
import { fidFromStats, gaussianStats, type FidResult, type GaussianStats } from './fid.ts';

/** Images and, for a conditional generator, the label each was generated for. */
export interface SampleBatch extends ImageSet {
  readonly labels?: ArrayLike<number>;
}

/** Samples produced on demand: `batch(start, count)` returns samples start..start+count-1. */
export interface SampleSource {
  readonly n: number;
  batch(start: number, count: number): Promise<SampleBatch> | SampleBatch;
}

export type Samples = SampleBatch | SampleSource;

/** A labelled image set the samples are compared with. */
export interface ReferenceSet {
  /** Name for reports and the cache, e.g. 'mnist-test'. */
  readonly name: string;
  readonly set: ImageSet;
}

export interface EvaluateOptions {
  /** Default: the 10,000 test images of the classifier's data set. */
  reference?: ReferenceSet;
  /** JSON file caching the reference statistics (read when its key matches, else rewritten). */
  cacheFile?: string;
  /** Images per classifier pass (default 500). */
  batch?: number;
  /** A second feature network: its FID is computed from the same samples (Evaluation.second). */
  second?: FeatureNetwork;
  /** Its cache file, as cacheFile is the classifier's. */
  secondCacheFile?: string;
}

/** FID on a second feature network's features. */
export interface SecondFid {
  /** The network's label ('autoencoder'). */
  network: string;
  /** SHA-256 of its weights. */
  sha256: string;
  featureDim: number;
  fid: number;
  fidDetail: FidResult;
  statsFrom: StatsSource;
}

export interface LabelAccuracy {
  /** Fraction of samples the classifier assigns to their conditioning label. */
  accuracy: number;
  correct: number;
  n: number;
  /** Accuracy per conditioning label 0..9 (null for a label with no samples). */
  perClass: (number | null)[];
}

/** Where reference statistics came from: memory, the cache file, the file shipped with the weights, or computed. */
export type StatsSource = 'memory' | 'file' | 'shipped' | 'computed';

export interface Evaluation {
  /** Number of generated samples. */
  n: number;
  featureDim: number;
  /** LeNet-feature FID (not comparable with Inception-feature FIDs; see the top of this file). */
  fid: number;
  /** The FID's parts and the eigenvalue clamping diagnostics (fid.ts). */
  fidDetail: FidResult;
  reference: { name: string; n: number; statsFrom: StatsSource };
  /** SHA-256 of the classifier's weights. */
  classifier: string;
  /** Classifier accuracy against the conditioning labels; null for unlabelled samples. */
  labelAccuracy: LabelAccuracy | null;
  /** FID on the second feature network, when one was given. */
  second: SecondFid | null;
}

/** Accuracy of predicted digits against labels, overall and per label. */
export function labelAccuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): LabelAccuracy {
  if (predicted.length !== labels.length) throw new Error(`label accuracy: ${predicted.length} predictions for ${labels.length} labels`);
  if (labels.length === 0) throw new Error('label accuracy: no samples');
  const total = new Array<number>(CLASSES).fill(0);
  const right = new Array<number>(CLASSES).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!(Number.isInteger(l) && l >= 0 && l < CLASSES)) throw new Error(`label accuracy: label ${l} at index ${i} is not a class 0..9`);
    total[l]!++;
    if (predicted[i] === l) right[l]!++;
  }
  const correct = right.reduce((a, b) => a + b, 0);
  return {
    accuracy: correct / labels.length,
    correct,
    n: labels.length,
    perClass: total.map((t, c) => (t ? right[c]! / t : null)),
  };
}

// ---- reference statistics --------------------------------------------------------------------

const memoryCache = new Map<string, GaussianStats>();
const testSets = new Map<DatasetName, ReferenceSet>();

/** Forgets the statistics held in memory (cache files are untouched). */
export function clearReferenceCache(): void {
  memoryCache.clear();
}

/** The 10,000 test images of a data set, named '<dataset>-test' (loaded once per process). */
export function testReference(dataset: DatasetName): ReferenceSet {
  let ref = testSets.get(dataset);
  if (!ref) {
    ref = { name: `${dataset}-test`, set: loadDataset(dataset, 'test') };
    testSets.set(dataset, ref);
  }
  return ref;
}

/** The 10,000 MNIST test images (loaded once per process). */
export function mnistTestReference(): ReferenceSet {
  return testReference('mnist');
}

/** The reference a feature network compares samples with by default: its own data set's test images. */
export function defaultReference(classifier: FeatureNetwork): ReferenceSet {
  return testReference(classifier.dataset);
}

/** Cache key: the network's weights and the reference images, by content. */
function cacheKey(classifier: FeatureNetwork, ref: ReferenceSet): { classifier: string; data: string; name: string; n: number } {
  const { images } = ref.set;
  const data = createHash('sha256')
    .update(`${ref.set.n}x${ref.set.height}x${ref.set.width}:`)
    .update(new Uint8Array(images.buffer, images.byteOffset, images.byteLength))
    .digest('hex');
  return { classifier: classifier.sha256, data, name: ref.name, n: ref.set.n };
}

interface CacheFile {
  format: 'posit-gan-fid-reference';
  version: 1;
  key: ReturnType<typeof cacheKey>;
  d: number;
  mean: number[];
  cov: number[];
}

/** The cached statistics in `path` if the file exists, parses, and has this key; else null. */
function readCacheFile(path: string, key: ReturnType<typeof cacheKey>, d: number): GaussianStats | null {
  let c: CacheFile;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
  } catch {
    return null; // missing or unreadable: recompute (and rewrite)
  }
  const ok =
    c?.format === 'posit-gan-fid-reference' &&
    c.version === 1 &&
    JSON.stringify(c.key) === JSON.stringify(key) &&
    c.d === d &&
    Array.isArray(c.mean) &&
    Array.isArray(c.cov) &&
    c.mean.length === d &&
    c.cov.length === d * d &&
    [...c.mean, ...c.cov].every((v) => typeof v === 'number' && Number.isFinite(v));
  return ok ? { d, n: key.n, mean: Float64Array.from(c.mean), cov: Float64Array.from(c.cov) } : null;
}

/** Feature statistics of the reference set, from memory, the cache file, or computed (and cached). */
export async function referenceStats(classifier: FeatureNetwork, options: Pick<EvaluateOptions, 'reference' | 'cacheFile' | 'batch'> = {}): Promise<{ stats: GaussianStats; from: StatsSource }> {
  const ref = options.reference ?? defaultReference(classifier);
  const key = cacheKey(classifier, ref);
  const memKey = JSON.stringify(key);
  const inMemory = memoryCache.get(memKey);
  if (inMemory) return { stats: inMemory, from: 'memory' };
  const fromFile = options.cacheFile ? readCacheFile(options.cacheFile, key, classifier.featureDim) : null;
  const shipped = !fromFile && classifier.statsFile ? readCacheFile(classifier.statsFile, key, classifier.featureDim) : null;
  let stats: GaussianStats;
  let from: StatsSource;
  if (fromFile) {
    stats = fromFile;
    from = 'file';
  } else if (shipped) {
    stats = shipped;
    from = 'shipped';
  } else {
    stats = gaussianStats(await classifier.features(ref.set, options.batch), ref.set.n, classifier.featureDim);
    from = 'computed';
    if (options.cacheFile) {
      const file: CacheFile = { format: 'posit-gan-fid-reference', version: 1, key, d: stats.d, mean: [...stats.mean], cov: [...stats.cov] };
      await writeJsonAtomic(options.cacheFile, file);
    }
  }
  memoryCache.set(memKey, stats);
  return { stats, from };
}

/**
 * Computes a network's feature statistics of the MNIST test set and writes them, in the cache-file
 * format with the key that guards them, to its shipped statistics file (`posit-gan classifier stats`).
 * `provenance` (command, adapter, date) is recorded beside them.
 */
export async function writeTestStats(net: FeatureNetwork, path: string, provenance: Record<string, unknown>): Promise<GaussianStats> {
  const ref = defaultReference(net);
  const key = cacheKey(net, ref);
  const stats = gaussianStats(await net.features(ref.set), ref.set.n, net.featureDim);
  const file: CacheFile & { provenance: Record<string, unknown> } = { format: 'posit-gan-fid-reference', version: 1, key, d: stats.d, mean: [...stats.mean], cov: [...stats.cov], provenance };
  await writeJsonAtomic(path, file);
  return stats;
}

// ---- evaluation ------------------------------------------------------------------------------

function isSource(s: Samples): s is SampleSource {
  return typeof (s as SampleSource).batch === 'function';
}

/** Runs every sample through the classifier (features [n, 84], predictions) and the second network
 *  if any (its features), and collects the labels if given: one pass over the samples. */
async function classifySamples(classifier: MnistClassifier, samples: Samples, batch: number, second?: FeatureNetwork) {
  const source: SampleSource = isSource(samples) ? samples : { n: samples.n, batch: () => samples };
  // A whole set is classified in one call (classify() batches it); a source in `batch`-sized pieces.
  const step = isSource(samples) ? batch : samples.n;
  const n = source.n;
  if (!(Number.isInteger(n) && n >= 2)) throw new Error(`evaluate: need at least 2 samples for a covariance, got ${n}`);
  const features = new Float32Array(n * classifier.featureDim);
  const secondFeatures = second ? new Float32Array(n * second.featureDim) : null;
  const predictions = new Uint8Array(n);
  let labels: Uint8Array | null = null;
  for (let start = 0; start < n; start += step) {
    const count = Math.min(step, n - start);
    const b = await source.batch(start, count);
    if (b.n !== count) throw new Error(`evaluate: asked for samples ${start}..${start + count - 1} (${count}) and got ${b.n}`);
    const out = await classifier.classify(b, batch);
    features.set(out.features, start * classifier.featureDim);
    predictions.set(out.predictions, start);
    if (second && secondFeatures) secondFeatures.set(await second.features(b, batch), start * second.featureDim);
    if (start === 0 && b.labels) labels = new Uint8Array(n);
    if (!!b.labels !== !!labels) throw new Error(`evaluate: samples ${start}..${start + count - 1} ${b.labels ? 'have' : 'lack'} labels, unlike the first batch`);
    if (b.labels && labels) {
      if (b.labels.length !== count) throw new Error(`evaluate: ${b.labels.length} labels for ${count} samples`);
      for (let i = 0; i < count; i++) labels[start + i] = b.labels[i]!;
    }
  }
  return { features, secondFeatures, predictions, labels };
}

/** FID of the samples against the reference (default: the test set of the classifier's data set) and,
 *  with labels, label accuracy. */
export async function evaluate(classifier: MnistClassifier, samples: Samples, options: EvaluateOptions = {}): Promise<Evaluation> {
  const batch = options.batch ?? 500;
  const ref = options.reference ?? defaultReference(classifier);
  const { stats: refStats, from } = await referenceStats(classifier, { ...options, reference: ref });
  const secondRef = options.second ? await referenceStats(options.second, { reference: ref, batch, ...(options.secondCacheFile ? { cacheFile: options.secondCacheFile } : {}) }) : null;
  const s = await classifySamples(classifier, samples, batch, options.second);
  const n = s.predictions.length;
  const fidDetail = fidFromStats(refStats, gaussianStats(s.features, n, classifier.featureDim));
  let second: SecondFid | null = null;
  if (options.second && secondRef && s.secondFeatures) {
    const detail = fidFromStats(secondRef.stats, gaussianStats(s.secondFeatures, n, options.second.featureDim));
    second = { network: options.second.label, sha256: options.second.sha256, featureDim: options.second.featureDim, fid: detail.fid, fidDetail: detail, statsFrom: secondRef.from };
  }
  return {
    n,
    featureDim: classifier.featureDim,
    fid: fidDetail.fid,
    fidDetail,
    reference: { name: ref.name, n: ref.set.n, statsFrom: from },
    classifier: classifier.sha256,
    labelAccuracy: s.labels ? labelAccuracy(s.predictions, s.labels) : null,
    second,
  };
}
