// What every benchmark shares: its context (options parsed by `posit-gan bench`), a device opened
// for full-resolution GPU timestamps, the result file (JSON with the adapter's description, the code's
// commit and the command line, written atomically to results/bench/<name>-<adapter slug>.json) and a
// plain-text table.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adapterSlug, type AdapterDescription, type Gpu, type GpuOptions } from '../../engine/device/gpu.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import { TIMING_DAWN_FLAGS, type TimingMethod } from '../../engine/kernels/timing.ts';
import type { ModelKind } from '../models/gan.ts';
import { provenance } from '../io/provenance.ts';

export interface BenchContext {
  gpuOptions: GpuOptions;
  /** --sizes (element counts), when given. */
  sizes?: number[];
  /** --formats (format specs), when given. */
  formats?: string[];
  reps: number;
  warmup: number;
  /** --out: the JSON path (default: defaultResultPath). */
  out?: string;
  /** Training benchmarks: --model, --recipes, --batches. */
  model?: ModelKind;
  recipes?: string[];
  batches?: number[];
  /** Also time every kernel of one extra iteration on its own (per-kernel breakdown). */
  profile?: boolean;
  /** Training benchmarks: dispatches per submit (Runtime's submitEvery). */
  submitEvery?: number;
  /** speed: rounds, timed training iterations per measurement, what to measure, the PyTorch peers'
   *  device and python. */
  rounds?: number;
  iterations?: number;
  what?: ('cgan-train' | 'dcgan-train' | 'gemm' | 'quire')[];
  peerDevice?: 'cuda' | 'cpu' | 'none' | 'auto';
  python?: string;
  /** quire: compare every method with the per-product quire instead of timing (exit 1 on a difference). */
  check?: boolean;
}

export interface Benchmark {
  run(ctx: BenchContext): Promise<void>;
}

/** The device with the Dawn flags that give nanosecond timestamps. */
export function openBenchGpu(options: GpuOptions): Promise<Gpu> {
  return openNodeGpu({ ...options, dawnFlags: [...(options.dawnFlags ?? []), ...TIMING_DAWN_FLAGS] });
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** results/bench/<name>-<adapter slug>.json under the repository root. */
export function defaultResultPath(name: string, adapter: AdapterDescription): string {
  return resolve(ROOT, 'results', 'bench', `${name}-${adapterSlug(adapter)}.json`);
}

/** The host's CPUs and load: a software adapter's numbers depend on them. */
export function hostInfo(): { cpus: number; loadAverage1m: number } {
  return { cpus: availableParallelism(), loadAverage1m: loadavg()[0]! };
}

export interface ResultFile {
  benchmark: string;
  /** The code's commit (gan/io/provenance.ts). */
  commit: string | null;
  /** The exact command line. */
  command: string;
  adapter: AdapterDescription;
  timing: TimingMethod;
  date: string;
  node: string;
  host: ReturnType<typeof hostInfo>;
  reps: number;
  warmup: number;
  results: unknown[];
  [key: string]: unknown;
}

/** Writes the JSON next to its destination first and renames it, so a reader never sees half a file. */
export function writeResult(path: string, data: ResultFile): string {
  const dest = resolve(path);
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  renameSync(tmp, dest);
  return dest;
}

/**
 * Writes a benchmark's result file (default path: defaultResultPath) with what every one records: the
 * code's commit and the command line, the adapter, the timing method, date, Node version, host load,
 * repetitions. Prints where it went.
 */
export function saveResult(
  ctx: BenchContext,
  benchmark: string,
  adapter: AdapterDescription,
  timing: TimingMethod,
  fields: Record<string, unknown> & { results: unknown[]; reps?: number },
): void {
  const path = writeResult(ctx.out ?? defaultResultPath(benchmark, adapter), {
    benchmark,
    ...provenance(),
    adapter,
    timing,
    date: new Date().toISOString(),
    node: process.version,
    host: hostInfo(),
    reps: ctx.reps,
    warmup: ctx.warmup,
    ...fields,
  });
  process.stdout.write(`\nwrote ${path}\n`);
}

/** A left-aligned first column and right-aligned others. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((s, c) => (c === 0 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** 2^k for powers of two, else the plain number. */
export function sizeLabel(n: number): string {
  const k = Math.log2(n);
  return Number.isInteger(k) ? `2^${k}` : String(n);
}
