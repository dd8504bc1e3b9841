// `posit-gan bench` end to end at toy sizes: each benchmark prints its table and writes a result file
// with the code's commit, the command line, the adapter, the timing method and one row per variant and
// size. Nothing here judges speed (benchmarks measure it; tests only check that they run and report
// what they claim).

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { QUIRE_CASES } from '../../gan/bench/quire-cases.ts';
import { pythonWithoutTorch } from '../fixtures/python-without-torch.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// The commit the result files must record: the env var wins over git (as on the GPU machine).
const PACKED = '0123456789abcdef0123456789abcdef01234567';

function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/posit-gan', 'bench', ...args], { cwd: ROOT, timeout: 240_000, env: { ...process.env, POSIT_GAN_COMMIT: PACKED } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface ResultFile {
  benchmark: string;
  commit: string;
  command: string;
  warmup: number;
  adapter: { description: string; software: boolean };
  timing: string;
  reps: number;
  results: Record<string, unknown>[];
}

interface SpeedFile {
  commit: string | null;
  command: string;
  date: string;
  peers: { unavailable?: string };
  quire?: string;
  markdown: string;
  f32Tiles: { rates: { tile: string; n: number; rounds: number[] }[] };
  results: {
    what: string;
    variant: string;
    size: number;
    value: number;
    unit: string;
    peer: string;
    peerValue: number | null;
    ratio: number | null;
    peerNote?: string;
    dispatchesPerIteration?: number;
    rounds: { value: number; peerValue: number | null }[];
  }[];
}

async function runBench(name: string, ...args: string[]): Promise<{ stdout: string; json: ResultFile }> {
  const out = join(mkdtempSync(join(tmpdir(), 'posit-gan-bench-')), `${name}.json`);
  const r = await bench(name, ...args, '--out', out);
  expect(r.code, r.stderr).toBe(0);
  const json = JSON.parse(readFileSync(out, 'utf8')) as ResultFile;
  expect(json.benchmark).toBe(name);
  expect(json.commit).toBe(PACKED);
  expect(json.command).toBe(['posit-gan', 'bench', name, ...args, '--out', out].join(' '));
  expect(json.adapter.description.length).toBeGreaterThan(0);
  expect(['timestamp', 'wall-clock']).toContain(json.timing);
  expect(r.stdout).toContain(`wrote ${out}`);
  return { stdout: r.stdout, json };
}

describe('posit-gan bench', () => {
  it('matmul: one row per variant, f32 first at 1.0x, every rate positive', async () => {
    const { stdout, json } = await runBench('matmul', '--sizes', '40', '--formats', 'p8e2', '--reps', '2', '--warmup', '1');
    const rows = json.results as { variant: string; n: number; gflops: number; vsF32: number; ns: number[] }[];
    expect(rows[0]!.variant).toBe('f32');
    expect(rows[0]!.vsF32).toBe(1);
    expect(rows.map((r) => r.variant)).toEqual(['f32', 'f32 tile=large', 'f32 tile=large16', 'f32 tile=medium', 'f32 tile=small', 'p8e2 operands', 'p8e2 -> p16e2 out', 'p8e2 quire -> p16e2']);
    for (const r of rows) {
      expect(r.n).toBe(40);
      expect(r.ns).toHaveLength(2);
      expect(r.gflops).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/n = 40 \((timestamp|wall-clock)\)/);
  });

  it('conv: every DCGAN-like layer at the given batch', async () => {
    const { json } = await runBench('conv', '--sizes', '1', '--formats', 'p8e2', '--reps', '1', '--warmup', '1');
    const rows = json.results as { layer: string; batch: number; gflops: number }[];
    expect(new Set(rows.map((r) => r.layer)).size).toBeGreaterThan(1);
    for (const r of rows) {
      expect(r.batch).toBe(1);
      expect(r.gflops).toBeGreaterThan(0);
    }
  });

  it('quantize: the f32 copy baseline and each operation of the format', async () => {
    const { json } = await runBench('quantize', '--sizes', '4096', '--formats', 'p8e2', '--reps', '2', '--warmup', '1');
    expect(json.results.length).toBeGreaterThan(1);
    expect(JSON.stringify(json.results)).toContain('p8e2');
  });

  // bench speed: issue 14's rows, each with its peer from the same run. The PyTorch peers run on the
  // CPU here when python3 has torch (a rehearsal: their names say so); without torch, the rows that
  // need them carry no peer value and the reason.
  it('speed: training, GEMM and quire rows with their peers, every round reported, provenance recorded', async () => {
    const { stdout, json } = await runBench('speed', '--what', 'cgan-train,gemm,quire', '--batches', '2', '--sizes', '16', '--iterations', '1', '--warmup', '1', '--reps', '1', '--rounds', '2', '--peer-device', 'cpu');
    const file = json as unknown as SpeedFile;
    expect(file.commit === null || /^[0-9a-f]{40}(\+dirty)?$/.test(file.commit)).toBe(true);
    expect(file.command).toContain('bench speed --what cgan-train,gemm,quire');
    expect(Number.isNaN(Date.parse(file.date))).toBe(false);
    const torch = !file.peers.unavailable;
    const rows = file.results;
    expect(rows.map((r) => [r.what, r.variant, r.size, r.peer])).toEqual([
      ['cgan-train', 'p8+', 2, 'posit-gan fp32'],
      ['cgan-train', 'p8+', 2, 'PyTorch fp32 eager on the CPU (rehearsal)'],
      ['cgan-train', 'fp32', 2, 'PyTorch fp32 eager on the CPU (rehearsal)'],
      ['gemm', 'f32', 16, 'PyTorch fp32 matmul on the CPU (rehearsal)'],
      ['gemm', 'p8e2', 16, 'posit-gan f32'],
      ['gemm', 'e4m3', 16, 'posit-gan f32'],
      ['quire', 'p8e2-quire', 16, 'posit-gan f32'],
    ]);
    for (const r of rows) {
      expect(r.unit).toBe(r.what.endsWith('-train') ? 'it/s' : 'TFLOP/s');
      expect(r.rounds).toHaveLength(2);
      expect(r.value).toBeCloseTo((r.rounds[0]!.value + r.rounds[1]!.value) / 2, 12);
      expect(r.value).toBeGreaterThan(0);
      const ownPeer = r.peer.startsWith('posit-gan');
      if (ownPeer || torch) {
        expect(r.peerValue).toBeGreaterThan(0);
        expect(r.ratio).toBeCloseTo(r.value / r.peerValue!, 12);
      } else {
        expect(r.peerValue).toBeNull();
        expect(r.ratio).toBeNull();
        expect(r.peerNote).toMatch(/torch/);
      }
      if (r.what === 'cgan-train') expect(r.dispatchesPerIteration).toBeGreaterThan(100);
    }
    // The p8+ row against our fp32 pairs the two rates each round.
    const p8 = rows[0]!;
    const f32 = rows[2]!;
    expect(p8.peerValue).toBeCloseTo(f32.value, 12);
    // The quire row is checked bit for bit before it is timed; without --subgroup-matrix the
    // tensor-core row is missing, and the note says why.
    expect(file.quire).toMatch(/bit-exact against the per-product quire/);
    expect(file.quire).toMatch(/no p8e2-quire-subgroup-matrix row: .*--subgroup-matrix/);
    // The f32 tile candidates, timed beside the rows each round.
    expect(file.f32Tiles.rates.map((t) => [t.tile, t.n, t.rounds.length])).toEqual([
      ['large', 16, 2],
      ['large16', 16, 2],
    ]);
    expect(stdout).toContain('| what | variant | size |');
    expect(file.markdown.split('\n')).toHaveLength(2 + rows.length);
  });

  it('speed: without peers, dcgan rows name why the PyTorch value is missing', async () => {
    const { json } = await runBench('speed', '--what', 'dcgan-train', '--batches', '2', '--iterations', '1', '--warmup', '1', '--rounds', '1', '--peer-device', 'none');
    const file = json as unknown as SpeedFile;
    expect(file.results.map((r) => [r.what, r.variant, r.peer, r.peerValue === null])).toEqual([
      ['dcgan-train', 'p8+', 'posit-gan fp32', false],
      ['dcgan-train', 'p8+', 'PyTorch fp32 eager', true],
      ['dcgan-train', 'fp32', 'PyTorch fp32 eager', true],
    ]);
    expect(file.results[1]!.peerNote).toMatch(/--peer-device none/);
  });

  // CI has no torch; this machine may. A python without it (test/fixtures/python-without-torch.ts)
  // exercises the path CI takes whatever this machine has: the run succeeds, the rows that need the
  // peer keep its name and say why it has no value, in the JSON, the table and the opening lines.
  it('speed: a python without torch gives peerless rows that say why, and the run still succeeds', async () => {
    const python = pythonWithoutTorch();
    const { stdout, json } = await runBench('speed', '--what', 'gemm', '--sizes', '16', '--reps', '1', '--warmup', '1', '--rounds', '1', '--peer-device', 'cpu', '--python', python);
    const file = json as unknown as SpeedFile & { peers: { python: string } };
    expect(file.peers.python).toBe(python);
    expect(file.peers.unavailable).toMatch(/could not import torch/);
    expect(stdout).toContain(`peers: no peers: ${python} could not import torch`);
    const [f32, ...packed] = file.results;
    expect(f32).toMatchObject({ what: 'gemm', variant: 'f32', size: 16, peer: 'PyTorch fp32 matmul on the CPU (rehearsal)', peerValue: null, ratio: null });
    expect(f32!.peerNote).toBe(file.peers.unavailable);
    expect(f32!.rounds).toEqual([{ value: f32!.value, peerValue: null, ratio: null }]);
    // Our own peers are unaffected.
    expect(packed.map((r) => [r.variant, r.peer, r.peerValue])).toEqual([
      ['p8e2', 'posit-gan f32', f32!.value],
      ['e4m3', 'posit-gan f32', f32!.value],
    ]);
    expect(file.markdown).toContain(`| — (${file.peers.unavailable}) | — |`);
  });

  it('speed: rejects an unknown --what and --peer-device with exit code 2', async () => {
    for (const args of [['--what', 'cgan'], ['--peer-device', 'tpu']]) {
      const r = await bench('speed', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(args[0]!);
    }
  });

  it('train: median and timed-window mean rates, the warm-up stated, no peer figures', async () => {
    const { stdout, json } = await runBench('train', '--model', 'cgan', '--recipes', 'fp32', '--batches', '4', '--reps', '2', '--warmup', '1');
    expect(json.warmup).toBe(1);
    expect(json).not.toHaveProperty('peers');
    expect(JSON.stringify(json)).not.toMatch(/H100|ItPerS/);
    expect((json as unknown as { rates: string }).rates).toMatch(/pytorch-cgan\.py/);
    const [row] = json.results as { recipe: string; iterations: number; seconds: number[]; windowSeconds: number; iterationsPerSecond: number; meanIterationsPerSecond: number; medianSeconds: number }[];
    expect(row!.recipe).toBe('fp32');
    expect(row!.seconds).toHaveLength(2);
    // The window holds both timed iterations, so it is at least their sum, and the mean rate is its inverse.
    const sum = row!.seconds[0]! + row!.seconds[1]!;
    expect(row!.windowSeconds).toBeGreaterThanOrEqual(sum);
    expect(row!.windowSeconds).toBeLessThan(sum + 0.5);
    expect(row!.meanIterationsPerSecond).toBeCloseTo(2 / row!.windowSeconds, 10);
    expect(row!.iterationsPerSecond).toBeCloseTo(1 / row!.medianSeconds, 10);
    expect(stdout).toMatch(/2 timed iterations after 1 warm-up/);
  });

  it('quire: f32 first, then each quire method with its ratio to the f32 row of the same run', async () => {
    const { stdout, json } = await runBench('quire', '--sizes', '32', '--reps', '2', '--warmup', '1');
    const rows = json.results as { what: string; variant: string; size: number; value: number; unit: string; peer: string | null; peerValue: number | null; ratio: number | null; moduli: number | null }[];
    expect(rows.map((r) => r.variant)).toEqual(['f32', 'p8e2-quire-mac', 'p8e2-quire']);
    expect(rows[0]).toMatchObject({ what: 'gemm', peer: null, ratio: null });
    for (const r of rows.slice(1)) {
      expect(r).toMatchObject({ what: 'quire', size: 32, unit: 'TFLOP/s', peer: 'posit-gan f32', peerValue: rows[0]!.value });
      expect(r.ratio).toBeCloseTo(r.value / rows[0]!.value, 12);
    }
    // Codes of magnitude <= 1: rows span 25 bits; at K = 32, 25 + 25 + 5 + 1 = 56 bits need 8 moduli.
    expect(rows[2]!.moduli).toBe(8);
    expect(stdout).toContain("outputs of every sliced variant equal the per-product quire's");
  });

  it('quire --check: every method bit-exact against the per-product quire, one line per case', async () => {
    const r = await bench('quire', '--check', '--sizes', '24');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/24x24x24 +saturated +\d+ +ok/);
    expect(r.stdout).toContain(`all ${QUIRE_CASES.length} comparisons bit-exact`);
  });

  it('quire --subgroup-matrix: runs the tensor-core variant, or says the adapter lacks the feature and how Dawn enables it', async () => {
    const r = await bench('quire', '--check', '--sizes', '16', '--subgroup-matrix');
    if (r.code === 0) {
      expect(r.stdout).toContain('sliced-subgroup-matrix');
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/does not offer 'chromium-experimental-subgroup-matrix'.*allow_unsafe_apis/s);
      expect(r.stderr).not.toMatch(/\bat \w+ \(/); // a message, not a stack trace
    }
  });

  it('rejects an unknown benchmark with exit code 2', async () => {
    const r = await bench('nonsense');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nonsense/);
  });
});
