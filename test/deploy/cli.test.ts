// `deploy`, `export`, `sample --export` and `experiment deploy` end to end through bin/posit-gan on a
// tiny cgan trained here: exit codes (0 / 1 / 2), the files each writes, and that an exported
// generator gives the same numbers as the recipe run from the checkpoint. Every command that loads a
// run says which step it loaded, and refuses a damaged newest checkpoint unless --allow-older.

import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNodeGpu } from '../../engine/device/node.ts';
import { resolveConfig } from '../../gan/train/config.ts';
import { runTraining } from '../../gan/train/run.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// The commit the result files must record (the variable wins over git, as on the GPU machine).
const PACKED = 'fedcba9876543210fedcba9876543210fedcba98';
let dir: string;
let run: string;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/posit-gan', ...args], { cwd: ROOT, maxBuffer: 1 << 24, env: { ...process.env, POSIT_GAN_COMMIT: PACKED } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A safetensors file as the format's specification lays it out (independent of gan/io/safetensors.ts). */
function expectSafetensorsLayout(bytes: Buffer): void {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const size: Record<string, number> = { U8: 1, U16: 2, U32: 4, F32: 4 };
  const { __metadata__: metadata, ...tensors } = header;
  expect(Object.values(metadata as Record<string, unknown>).every((v) => typeof v === 'string')).toBe(true);
  expect(Object.keys(metadata as object)).toContain('header');
  const spans = Object.values(tensors as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>)
    .map((t) => {
      expect(Object.keys(size)).toContain(t.dtype);
      expect(t.data_offsets[1] - t.data_offsets[0]).toBe(t.shape.reduce((a, b) => a * b, 1) * size[t.dtype]!);
      return t.data_offsets;
    })
    .sort((a, b) => a[0] - b[0]);
  expect(spans.length).toBeGreaterThan(0);
  spans.forEach((s, i) => expect(s[0]).toBe(i === 0 ? 0 : spans[i - 1]![1]));
  expect(8 + n + spans.at(-1)![1]).toBe(bytes.length);
}

/** Width and height of a PNG (IHDR). */
function pngSize(path: string): [number, number] {
  const b = readFileSync(path);
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pg-deploy-cli-'));
  run = join(dir, 'run');
  const gpu = await openNodeGpu({ notice: () => {} });
  try {
    const config = resolveConfig({ model: 'cgan', recipe: 'fp32', width: 8, batch: 16, dataLimit: 256, steps: 6, checkpointEvery: 6, sampleEvery: 6, seed: 5 });
    await runTraining(gpu, { config, out: run, progress: 'quiet' });
  } finally {
    gpu.destroy();
  }
}, 300_000); // a cold shader cache on a loaded CPU driver makes the first kernels slow
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  recipe: string;
  psnr: number | null;
  ssim: number | null;
  identical: number | null;
  n: number;
  weight_bias: number | null;
  paper_psnr: [number, number] | null;
}

describe('posit-gan deploy / export / experiment deploy', () => {
  it('deploy: table, JSON, image strip and one op-count file per recipe', async () => {
    const out = join(dir, 'd1');
    const r = await cli('deploy', '--checkpoint', run, '--recipes', 'P8,p6+t', '--n', '10', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^p8 +p8e1 +p8e1 +0 +float +\d+\.\d\d /m);
    expect(r.stdout).toMatch(/^p6\+t +p6e1 +p6e1 +\d+ +fast +\d+\.\d\d /m);
    const json = JSON.parse(readFileSync(join(out, 'deploy.json'), 'utf8'));
    expect(json.device).toMatch(/\S/);
    expect(json.command).toBe(`posit-gan deploy --checkpoint ${run} --recipes P8,p6+t --n 10 --out ${out}`);
    expect(json.commit).toBe(PACKED);
    expect(json.rows.map((x: Row) => x.recipe)).toEqual(['p8', 'p6+t']);
    for (const row of json.rows as Row[]) {
      expect(row.n).toBe(10);
      expect(row.psnr).toBeGreaterThan(20);
      expect(row.ssim).toBeGreaterThan(0.5);
      expect(row.ssim).toBeLessThanOrEqual(1);
    }
    expect(json.rows[0].paper_psnr).toEqual([37, 45]);
    // Three rows (fp32 reference, p8, p6+t) of 10 28x28 tiles with 2-pixel borders.
    expect(pngSize(join(out, 'deploy.png'))).toEqual([10 * 28 + 11 * 2, 3 * 28 + 4 * 2]);
    const counts = JSON.parse(readFileSync(join(out, 'p6+t.opcounts.json'), 'utf8'));
    expect(counts.run).toMatchObject({ command: 'deploy', recipe: 'p6+t', steps: 1, batch: 10, model: 'cgan', commit: PACKED, commandLine: json.command });
    expect(counts.records.every((e: { phase: string }) => e.phase === 'inference')).toBe(true);
    expect(counts.records).toContainEqual(expect.objectContaining({ kind: 'activation', fn: 'tanh', fast: true, format: 'p16e0', count: 7840 }));
    expect(counts.records.some((e: { kind: string; a?: string }) => e.kind === 'mac' && e.a === 'p6e1')).toBe(true);
    const p8 = JSON.parse(readFileSync(join(out, 'p8.opcounts.json'), 'utf8'));
    expect(p8.records).toContainEqual(expect.objectContaining({ kind: 'activation', fn: 'tanh', fast: false }));
  });

  it('deploy and export: a bad recipe name is a usage error (exit 2) listing the allowed ones', async () => {
    const r = await cli('deploy', '--checkpoint', run, '--recipes', 'p8,p7');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown deployment recipe 'p7' \(allowed: fp32, p8, p8\+, p8\+t, p6, p6\+, p6\+t,.* fp16,.* fp8,.* fp6/);
    const e = await cli('export', '--checkpoint', run, '--recipe', 'p5', '--out', join(dir, 'x.safetensors'));
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/allowed: fp32, p8/);
    expect((await cli('deploy', '--recipes', 'p8')).code).toBe(2);
    expect((await cli('deploy', '--help')).stdout).toMatch(/Deployment recipes \(their own namespace[\s\S]*p6\+t +p6e1 +p6e1 +calibrated \(network\) +fast/);
  });

  it('export: loadable by deploy (same numbers as the recipe) and sample; a corrupt file fails', async () => {
    const file = join(dir, 'g.safetensors');
    const e = await cli('export', '--checkpoint', run, '--recipe', 'p6+t', '--out', file);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/under p6\+t: \d+ tensors, \d+ bytes, weights p6e1 t=\d+, sha256 [0-9a-f]{64}/);
    const out = join(dir, 'd2');
    const d = await cli('deploy', '--checkpoint', run, '--recipes', 'p6+t', '--export', file, '--n', '10', '--out', out);
    expect(d.code, d.stderr).toBe(0);
    const [fromRun, fromFile] = JSON.parse(readFileSync(join(out, 'deploy.json'), 'utf8')).rows as Row[];
    expect(fromFile!.recipe).toBe('export:p6+t');
    expect([fromFile!.psnr, fromFile!.ssim, fromFile!.identical, fromFile!.weight_bias]).toEqual([fromRun!.psnr, fromRun!.ssim, fromRun!.identical, fromRun!.weight_bias]);
    expect(existsSync(join(out, 'export-p6+t.opcounts.json'))).toBe(true);

    const png = join(dir, 's.png');
    const s = await cli('sample', '--export', file, '--out', png, '--n', '20');
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('deployment recipe p6+t');
    expect(pngSize(png)).toEqual([2 * 28 + 3 * 2, 10 * 28 + 11 * 2]);

    // Another reader's view of the file (the format's spec, not posit-gan's codec): an 8-byte
    // little-endian header length, a JSON header of dtype / shape / data_offsets per tensor that tile
    // the data exactly, and the metadata map of strings; where a python3 with the `safetensors`
    // package exists, it opens the file too.
    expectSafetensorsLayout(readFileSync(file));
    const py = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile('python3', ['-c', 'import sys\nfrom safetensors import safe_open\nf = safe_open(sys.argv[1], "numpy")\nprint(len(list(f.keys())), "header" in f.metadata())', file], (err, stdout) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout }),
      );
    });
    if (py.code === 0) expect(py.out.trim()).toMatch(/^[1-9]\d* True$/);

    const bytes = readFileSync(file);
    bytes[bytes.length - 40]! ^= 1;
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, bytes);
    const c = await cli('deploy', '--export', bad, '--n', '10', '--out', join(dir, 'd3'));
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^posit-gan deploy: export file '.*bad\.safetensors' is corrupt or truncated \(SHA-256 mismatch\)$/m);
    expect(c.stderr).not.toMatch(/ExportError/);
  });

  it('experiment deploy: results/<name>/deploy.md, deploy.json and the side-by-side image', async () => {
    const results = join(dir, 'results');
    const r = await cli('experiment', 'deploy', '--checkpoint', run, '--recipes', 'p8,p6+t', '--n', '10', '--results', results, '--name', 'tiny');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(results, 'tiny', 'deploy.json'), 'utf8'));
    expect(json.command).toMatch(/^posit-gan experiment deploy --checkpoint/);
    expect(json.model).toBe('cgan');
    expect(json.step).toBe(6);
    expect(json.rows.map((x: Row) => [x.recipe, x.paper_psnr])).toEqual([
      ['p8', [37, 45]],
      ['p6+t', [25, 32]],
    ]);
    const md = readFileSync(join(results, 'tiny', 'deploy.md'), 'utf8');
    expect(md).toMatch(/^# Deployment: tiny/);
    expect(md).toMatch(/^- device: \S/m);
    expect(md).toMatch(/^\| p6\+t \| p6e1 \| p6e1 \| \d+ \| fast \| \d+\.\d\d \|/m);
    expect(pngSize(join(results, 'tiny', 'deploy.png'))[1]).toBe(3 * 28 + 4 * 2);

    const wrong = await cli('experiment', 'deploy', '--checkpoint', run, '--out', 'x');
    expect(wrong.code).toBe(2);
    const unknown = await cli('experiment', 'table9');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown experiment 'table9' \(known: table1, deploy/);
  });

  it('each loading command says which step it loaded; a damaged newest checkpoint is refused (exit 1) unless --allow-older', async () => {
    const damaged = join(dir, 'damaged-run');
    cpSync(run, damaged, { recursive: true });
    const junk = join(damaged, 'checkpoints', 'ckpt-000000100.safetensors');
    writeFileSync(junk, 'half a checkpoint'.repeat(10));
    const refused = await Promise.all([
      cli('eval', '--checkpoint', damaged, '--n', '20'),
      cli('deploy', '--checkpoint', damaged, '--recipes', 'p8', '--n', '10', '--out', join(dir, 'd4')),
      cli('sample', '--checkpoint', damaged, '--out', join(dir, 's4.png')),
      cli('export', '--checkpoint', damaged, '--recipe', 'p8', '--out', join(dir, 'x4.safetensors')),
      cli('experiment', 'deploy', '--checkpoint', damaged, '--recipes', 'p8', '--n', '10', '--results', join(dir, 'results4')),
    ]);
    for (const r of refused) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/the newest checkpoint of .*damaged-run is damaged: .*ckpt-000000100\.safetensors: header length \d+ is larger than safetensors allows .*: not a safetensors file.*step 6 .*--allow-older/s);
      expect(r.stderr).not.toMatch(/Error:/);
    }
    expect(existsSync(join(dir, 's4.png')) || existsSync(join(dir, 'd4'))).toBe(false);
    const [sample, deploy, plain] = await Promise.all([
      cli('sample', '--checkpoint', damaged, '--out', join(dir, 's5.png'), '--allow-older'),
      cli('deploy', '--checkpoint', damaged, '--recipes', 'p8', '--n', '10', '--out', join(dir, 'd5'), '--allow-older'),
      cli('sample', '--checkpoint', run, '--out', join(dir, 's6.png')),
    ]);
    for (const r of [sample, deploy]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^posit-gan: warning: skipped a damaged checkpoint: .*ckpt-000000100\.safetensors/m);
      expect(r.stderr).toMatch(/^posit-gan: loaded step 6 of .*damaged-run .*--allow-older/m);
    }
    expect(existsSync(junk)).toBe(true); // reading commands never move files
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr.split('\n').filter((l) => l.startsWith('posit-gan: loaded'))).toEqual([`posit-gan: loaded step 6 of ${run} (${join(run, 'checkpoints', 'ckpt-000000006.safetensors')})`]);
  }, 300_000);

  it('an output that cannot be written is named as the user gave it, not as the temporary file', async () => {
    const target = join(dir, 'no-such-dir', 'x.png');
    const r = await cli('sample', '--checkpoint', run, '--out', target);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`posit-gan sample: cannot write ${target}: the directory ${join(dir, 'no-such-dir')} does not exist`);
    expect(r.stderr).not.toMatch(/\.tmp|WriteError/);
  });
});
