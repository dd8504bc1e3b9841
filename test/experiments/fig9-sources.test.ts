// experiment fig9 records where its sources are relative to its own directory: a committed figure must
// not name the machine's paths (/work/..., /tmp/...), and fig9.md links each source's deploy table.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceName, writeFig9 } from '../../gan/experiments/fig9.ts';

const root = mkdtempSync(join(tmpdir(), 'pg-fig9-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A deploy.json as `experiment deploy` writes it, cut to what fig9 reads. */
function deployJson(dir: string, model: string, ssim: number[]): void {
  mkdirSync(dir, { recursive: true });
  const mean = ssim.reduce((a, b) => a + b, 0) / ssim.length;
  const d = {
    model,
    checkpoint: `runs/${model}`,
    step: 100,
    train_recipe: 'p8+',
    device: 'test adapter',
    commit: 'abc123',
    n: ssim.length,
    rows: [{ recipe: 'p8', ssim: mean, psnr: 40, ssim_per_image: ssim }],
  };
  writeFileSync(join(dir, 'deploy.json'), JSON.stringify(d));
}

describe('fig9 source names', () => {
  it('are relative to the base directory, or as given without one', () => {
    expect(sourceName('/r/results/fig9-cpu/acgan', '/r/results/fig9-cpu')).toBe('acgan');
    expect(sourceName('/r/results/cgan-gpu', '/r/results/fig9-cpu')).toBe('../cgan-gpu');
    expect(sourceName('/r/results/fig9-cpu', '/r/results/fig9-cpu')).toBe('.');
    expect(sourceName('runs/x/deploy', undefined)).toBe('runs/x/deploy');
  });

  it('writeFig9 records sources relative to its output directory and links their tables', () => {
    const out = join(root, 'results', 'fig9-test');
    deployJson(join(out, 'acgan'), 'acgan', [0.99, 0.98]);
    deployJson(join(root, 'results', 'srgan-elsewhere'), 'srgan', [0.97, 0.96, 0.95]);
    const f = writeFig9([join(out, 'acgan'), join(root, 'results', 'srgan-elsewhere')], out, 'test');
    expect(f.sources.map((s) => s.dir)).toEqual(['acgan', '../srgan-elsewhere']);
    expect(Object.keys(f.recipes[0]!.per_model)).toEqual(['acgan', '../srgan-elsewhere']);
    expect(f.recipes[0]!.ssim.n).toBe(5);
    const json = readFileSync(join(out, 'fig9.json'), 'utf8');
    expect(json).not.toContain(root);
    const md = readFileSync(join(out, 'fig9.md'), 'utf8');
    expect(md).not.toContain(root);
    expect(md).toContain('- [acgan](acgan/deploy.md): acgan, p8+ step 100');
    expect(md).toContain('- [../srgan-elsewhere](../srgan-elsewhere/deploy.md): srgan');
  });
});
