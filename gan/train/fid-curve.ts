// FID against training steps (issue 11): with `evalEvery` K > 0 in the training configuration, the
// run's generator is evaluated every K steps and at its last step, on `evalN` samples from the fixed
// evaluation inputs (trainer.ts evaluationInputs, seed 0: the same inputs as `posit-gan eval`), as
// `eval` scores them: FID on the LeNet-5 features, FID on the autoencoder's code, and for the cgan the
// classifier's accuracy on the conditioning labels. Each evaluation appends a row to fid.csv in the run
// directory:
//   step,epoch,n,fid,fid_ae,classifier_accuracy,seconds
// (epoch = step / steps per epoch; seconds = the evaluation's own wall-clock time). The evaluation is
// not training work: like the sample grid it runs with the op recorder off, so the run's op counts
// hold the training alone. Fewer samples than a table's 10,000 bias every FID upwards (by terms of
// order 1/N), the same way at every step, so a curve shows the trend, not the table's values.
//
// The test set's feature statistics are cached next to the run directory (fid-reference-*.json in its
// parent: runs of one table share them; evaluate.ts keys the cache by the network's weights and the
// images, so a stale or foreign file is recomputed, never used).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FeatureAutoencoder } from '../metrics/autoencoder.ts';
import { LeNetClassifier } from '../metrics/classifier.ts';
import type { DatasetName } from '../data/dataset-names.ts';
import { evaluate } from '../metrics/evaluate.ts';
import { writeFileAtomicSync } from '../io/atomic.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { evaluationInputs, type GanTrainer } from './trainer.ts';

export const FID_CSV = 'fid.csv';
const HEADER = 'step,epoch,n,fid,fid_ae,classifier_accuracy,seconds';

export interface FidPoint {
  step: number;
  epoch: number;
  n: number;
  /** LeNet-feature FID. */
  fid: number;
  /** Autoencoder-code FID; null on data other than MNIST (the autoencoder is trained on MNIST). */
  fidAe: number | null;
  /** cgan: the classifier's accuracy on the conditioning labels; null otherwise. */
  classifierAccuracy: number | null;
  seconds: number;
}

/** The cache files of the test set's feature statistics (one per feature network) in `dir`. */
export function referenceCacheFilesIn(dir: string): { lenet: string; autoencoder: string } {
  return { lenet: join(dir, 'fid-reference-lenet.json'), autoencoder: join(dir, 'fid-reference-autoencoder.json') };
}

/** The cache files for runs in the directory holding `runDir` (shared by a table's runs). */
export function referenceCacheFiles(runDir: string): { lenet: string; autoencoder: string } {
  return referenceCacheFilesIn(dirname(runDir));
}

function toRow(p: FidPoint): string {
  return [p.step, p.epoch, p.n, p.fid, p.fidAe ?? '', p.classifierAccuracy ?? '', p.seconds.toFixed(3)].join(',');
}

/** Parses fid.csv; a malformed file is an error naming the line. */
export function parseFidCsv(text: string, where: string): FidPoint[] {
  const lines = text.trim().split('\n');
  if (lines[0] !== HEADER) throw new Error(`${where}: expected the header '${HEADER}', got '${lines[0]}'`);
  return lines.slice(1).map((line, i) => {
    const f = line.split(',');
    const num = (k: number) => Number(f[k]);
    if (f.length !== 7 || ![0, 1, 2, 3, 6].every((k) => f[k] !== '' && !Number.isNaN(num(k))) || (f[4] !== '' && Number.isNaN(num(4)))) {
      throw new Error(`${where} line ${i + 2}: '${line}' is not ${HEADER}`);
    }
    return { step: num(0), epoch: num(1), n: num(2), fid: num(3), fidAe: f[4] === '' ? null : num(4), classifierAccuracy: f[5] === '' ? null : num(5), seconds: num(6) };
  });
}

/** A run's FID curve, or null when it has none (evalEvery was 0). */
export function readFidCsv(runDir: string): FidPoint[] | null {
  const path = join(runDir, FID_CSV);
  return existsSync(path) ? parseFidCsv(readFileSync(path, 'utf8'), path) : null;
}

/** The networks a run's curve is scored with: its data set's LeNet (against that test set), and the
 *  autoencoder only on MNIST, where it was trained. Table I warms their reference cache with these. */
export function curveNetworks(rt: Runtime, dataset: DatasetName): { lenet: LeNetClassifier; autoencoder: FeatureAutoencoder | null } {
  return { lenet: LeNetClassifier.forDataset(rt, dataset), autoencoder: dataset === 'mnist' ? FeatureAutoencoder.load(rt) : null };
}

/** Evaluates a training run's generator and keeps fid.csv up to date. */
export class FidCurve {
  private constructor(
    private readonly trainer: GanTrainer,
    private readonly out: string,
    private readonly n: number,
    private readonly lenet: LeNetClassifier,
    private readonly autoencoder: FeatureAutoencoder | null,
    private readonly points: FidPoint[],
  ) {}

  /** Loads the feature networks onto the trainer's runtime. Of an existing fid.csv (a resumed run), the
   *  rows at multiples of `every` up to the trainer's step are kept: the later steps are evaluated
   *  again, and the end-of-run row of a run stopped early is dropped, so the resumed curve is the one
   *  an uninterrupted run writes. The networks are curveNetworks(dataset). */
  static open(trainer: GanTrainer, out: string, n: number, every: number, dataset: DatasetName): FidCurve {
    const kept = (readFidCsv(out) ?? []).filter((p) => p.step > 0 && p.step <= trainer.step && p.step % every === 0);
    const rt = trainer.rt;
    const { lenet, autoencoder } = curveNetworks(rt, dataset);
    return new FidCurve(trainer, out, n, lenet, autoencoder, kept);
  }

  /** The step of the newest evaluation, or null before the first. */
  get lastStep(): number | null {
    return this.points.length ? this.points[this.points.length - 1]!.step : null;
  }

  async evaluate(): Promise<FidPoint> {
    const t0 = performance.now();
    const { trainer, n } = this;
    const rt = trainer.rt;
    const gan = trainer.gan;
    const { z, labels } = evaluationInputs(gan, n, 0);
    const [, h, w] = gan.imageShape;
    const recorder = rt.recorder;
    rt.recorder = undefined; // not training work: kept out of the op counts
    const cache = referenceCacheFiles(this.out);
    const e = await evaluate(
      this.lenet,
      {
        n,
        async batch(start, count) {
          const images = await trainer.generate(z.subarray(start * gan.latent, (start + count) * gan.latent), labels?.subarray(start, start + count));
          return { n: count, height: h, width: w, images, ...(labels ? { labels: labels.subarray(start, start + count) } : {}) };
        },
      },
      this.autoencoder ? { second: this.autoencoder, cacheFile: cache.lenet, secondCacheFile: cache.autoencoder } : { cacheFile: cache.lenet },
    ).finally(() => (rt.recorder = recorder));
    const point: FidPoint = {
      step: trainer.step,
      epoch: Number((trainer.step / trainer.stepsPerEpoch).toFixed(4)),
      n,
      fid: e.fid,
      fidAe: e.second?.fid ?? null,
      classifierAccuracy: e.labelAccuracy?.accuracy ?? null,
      seconds: (performance.now() - t0) / 1000,
    };
    this.points.push(point);
    writeFileAtomicSync(join(this.out, FID_CSV), [HEADER, ...this.points.map(toRow)].join('\n') + '\n');
    return point;
  }

  dispose(): void {
    this.lenet.dispose();
    this.autoencoder?.dispose();
  }
}
