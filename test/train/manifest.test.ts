// A run's manifest.json is read through its declared schema: a complete one reads (informational
// fields a newer posit-gan adds included), a damaged one is refused naming the file and the field,
// and the run-directory check still recognises a run whose manifest cannot be used.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestError, readRunManifest } from '../../gan/train/manifest.ts';
import { inspectRunDirectory } from '../../gan/train/run-dir.ts';
import { readRunConfig } from '../../gan/train/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'pg-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = {
  tool: 'posit-gan',
  command: 'posit-gan train --steps 4',
  status: 'completed',
  config: { model: 'dcgan', recipe: 'fp32', steps: 4, size: 28 },
  recipe: { name: 'fp32' },
  adapter: { description: 'llvmpipe', software: true },
  started: '2026-01-01T00:00:00.000Z',
  updated: '2026-01-01T00:01:00.000Z',
  stepsPerEpoch: 937,
  totalSteps: 4,
  step: 4,
  sessions: [{ command: null, started: '2026-01-01T00:00:00.000Z', finished: null, fromStep: 0, toStep: 4, status: 'completed' }],
  notes: [],
};

function run(name: string, manifest: unknown): string {
  const d = join(dir, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  writeFileSync(join(d, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return d;
}

describe('run manifests', () => {
  it('read through the schema; the configuration takes its defaults', () => {
    const d = run('good', { ...good, addedLater: { x: 1 } });
    expect(readRunManifest(d)!.step).toBe(4);
    expect(readRunConfig(d)).toMatchObject({ model: 'dcgan', size: 28, batch: 64 });
    expect(inspectRunDirectory(d)).toEqual({ kind: 'run', summary: 'dcgan under fp32, completed at step 4 of 4, started 2026-01-01T00:00:00.000Z' });
    expect(readRunManifest(join(dir, 'nothing'))).toBeNull();
  });

  it('a damaged manifest is refused naming the file and the field', () => {
    const bad = run('bad', { ...good, step: -1 });
    expect(() => readRunManifest(bad)).toThrow(ManifestError);
    expect(() => readRunManifest(bad)).toThrow(`${join(bad, 'manifest.json')}: step must be an integer >= 0, got -1`);
    expect(() => readRunConfig(run('cfg', { ...good, config: { ...good.config, batch: 0 } }))).toThrow(/manifest\.json: config\.batch must be an integer in 1\.\.65536, got 0$/);
    expect(() => readRunManifest(run('status', { ...good, status: 'done' }))).toThrow(/status must be one of "running", "completed", "stopped", "interrupted", "diverged", got "done"$/);
    const json = run('json', '{"tool": ');
    expect(() => readRunManifest(json)).toThrow(/manifest\.json is not valid JSON/);
    // Still a run: a new run will not go there, and the message says why the manifest is unusable.
    expect(inspectRunDirectory(bad)).toEqual({ kind: 'run', summary: expect.stringMatching(/^a run whose manifest cannot be used \(.*step must be an integer >= 0, got -1\)$/) });
  });
});
