// Every committed feature-network weights file (both LeNets, the autoencoder) is what
// scripts/convert-weights.ts makes of its version-1 form (raw float32 + JSON sidecar), byte for byte:
// the version-1 pair is rebuilt here from the committed file's values and metadata, converted, and
// compared. The conversion keeps the weights' identity (the SHA-256 of their values) and the data set,
// and refuses a version-1 file whose bytes do not match its sidecar. Pure: no GPU.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, describe, expect, it } from 'vitest';
import { autoencoderParameters, AutoencoderWeightsError, DEFAULT_AE_WEIGHTS, AE_ARCHITECTURE, AE_REGENERATE_HINT } from '../../gan/metrics/autoencoder.ts';
import { ARCHITECTURE, ClassifierWeightsError, defaultWeights, expectedParameters, regenerateHint } from '../../gan/metrics/classifier.ts';
import { FidReferenceSchema } from '../../gan/metrics/evaluate.ts';
import { readWeightsFile, testStatsPath, weightsBytes, type WeightsFileSpec } from '../../gan/metrics/weights-file.ts';
import { convertWeights } from '../../scripts/convert-weights.ts';

const tmp = mkdtempSync(join(tmpdir(), 'pg-weights-file-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const lenet = (dataset: 'mnist' | 'fashion'): WeightsFileSpec<unknown> => ({ what: 'x', architecture: ARCHITECTURE, parameters: expectedParameters(), regenerateHint: regenerateHint(dataset), error: ClassifierWeightsError });
const committed: [string, string, WeightsFileSpec<unknown>, string | undefined][] = [
  ['lenet-mnist', defaultWeights('mnist'), lenet('mnist'), 'mnist'],
  ['lenet-fashion', defaultWeights('fashion'), lenet('fashion'), 'fashion'],
  ['mnist-autoencoder', DEFAULT_AE_WEIGHTS, { what: 'x', architecture: AE_ARCHITECTURE, parameters: autoencoderParameters(), regenerateHint: AE_REGENERATE_HINT, error: AutoencoderWeightsError }, undefined],
];

describe('committed weights files and scripts/convert-weights.ts', () => {
  it.each(committed)('%s is its version-1 form converted, byte for byte', (name, path, spec, dataset) => {
    const { header, state } = readWeightsFile(path, spec);
    expect(header.dataset).toBe(dataset);
    const raw = weightsBytes(spec.parameters.map((p) => state[p.name]!));
    const old = join(tmp, `${name}.weights`);
    const sidecar = {
      format: 'posit-gan-classifier-weights',
      version: 1,
      ...(dataset === undefined ? {} : { dataset }),
      architecture: header.architecture,
      dtype: 'float32-le',
      bytes: raw.length,
      sha256: header.sha256,
      parameters: spec.parameters,
      provenance: header.provenance,
    };
    writeFileSync(old, raw);
    writeFileSync(`${old}.json`, JSON.stringify(sidecar, null, 2));
    const r = convertWeights(old);
    expect(r).toEqual({ out: join(tmp, `${name}.safetensors`), sha256: header.sha256 });
    expect(readFileSync(r.out).equals(readFileSync(path))).toBe(true);
  });

  it('the weights keep their identity: the SHA-256 the version-1 sidecars recorded', () => {
    const ids = committed.map(([, path, spec]) => readWeightsFile(path, spec).header.sha256);
    expect(ids).toEqual([
      '2928ed3a91d96e8d621d9abb3033203bc1cece4ecf6ef0cdc35af5c1ab15f0f2',
      'f0e1b0b07eb27175c0a019479fa36043a674d4782ad5bf5cfdc99f31d82dc03c',
      'b56f5766afd0595e6ed75c8fe991fab7516ff74c8b24a41fe3332add9fa0ea8e',
    ]);
  });

  it('a version-1 file whose bytes do not match its sidecar is refused', () => {
    const { header, state } = readWeightsFile(DEFAULT_AE_WEIGHTS, committed[2]![2]);
    const raw = weightsBytes(autoencoderParameters().map((p) => state[p.name]!));
    const old = join(tmp, 'bad.weights');
    writeFileSync(`${old}.json`, JSON.stringify({ format: 'posit-gan-classifier-weights', version: 1, architecture: header.architecture, dtype: 'float32-le', bytes: raw.length, sha256: header.sha256, parameters: autoencoderParameters(), provenance: header.provenance }));
    raw[5]! ^= 1;
    writeFileSync(old, raw);
    expect(() => convertWeights(old, join(tmp, 'x.safetensors'))).toThrow(/its SHA-256 is [0-9a-f]{64} but the sidecar records/);
  });

  it('the shipped test statistics sit beside the weights under their names', () => {
    expect(testStatsPath(defaultWeights('mnist'))).toMatch(/gan\/metrics\/lenet-mnist\.mnist-test-stats\.json$/);
    expect(testStatsPath(DEFAULT_AE_WEIGHTS)).toMatch(/gan\/metrics\/mnist-autoencoder\.mnist-test-stats\.json$/);
    expect(testStatsPath(defaultWeights('fashion'), 'fashion')).toMatch(/gan\/metrics\/lenet-fashion\.fashion-test-stats\.json$/);
  });

  it('the shipped statistics follow their declared schema and are keyed by the weights beside them', () => {
    for (const [, path, spec] of committed) {
      const stats = testStatsPath(path, readWeightsFile(path, spec).header.dataset ?? 'mnist');
      if (!existsSync(stats)) continue; // the Fashion LeNet ships none
      const r = v.safeParse(FidReferenceSchema, JSON.parse(readFileSync(stats, 'utf8')));
      expect(r.success).toBe(true);
      if (r.success) expect(r.output.key.classifier).toBe(readWeightsFile(path, spec).header.sha256);
    }
    expect(v.safeParse(FidReferenceSchema, { format: 'posit-gan-fid-reference', version: 1, key: {}, d: 1, mean: [0], cov: [1] }).success).toBe(false);
  });
});
