// `posit-gan bench quantize`: throughput of the codec kernels (quantize f32 -> f32, encode f32 ->
// packed codes, decode packed codes -> f32) per format and size, next to a plain f32 copy kernel on
// the same device as the bandwidth baseline. Effective bandwidth counts the bytes a kernel must move:
// quantize and copy 8 per element, encode and decode 4 plus the code's container size.
// Inputs are float32 values with random signs, mantissas and exponents in 2^-16..2^16, so every
// format sees normal, saturating and underflowing values. Kernels run through the Runtime (uniform
// arena, bind-group cache), as in training.

import type { Gpu } from '../../engine/device/gpu.ts';
import { containerBits, parseFormat, type Format } from '../../formats/descriptor.ts';
import { runCodec, type CodecJob, type CodecOp } from '../../engine/kernels/quantize.ts';
import type { PassTiming, TimingMethod } from '../../engine/kernels/timing.ts';
import { Runtime } from '../../engine/runtime.ts';
import { codecChunks, COPY_KERNEL } from '../../shaders/quantize.ts';
import { openBenchGpu, saveResult, sizeLabel, table, type Benchmark, type BenchContext } from './report.ts';

const DEFAULT_FORMATS = ['fp16', 'bf16', 'e4m3', 'e5m2', 'e4m3q', 'p8e2', 'p16e2', 'p6e1'];
const F32 = parseFormat('fp32');
const OPS: readonly CodecOp[] = ['quantize', 'encode', 'decode']; // encode before decode: it fills the codes

interface Row {
  op: CodecOp | 'copy';
  format: string | null;
  elements: number;
  bytes: number;
  medianNs: number;
  ns: number[];
  elementsPerSecond: number;
  gbPerSecond: number;
  /** gbPerSecond over the f32 copy's at the same size. */
  fractionOfCopy: number;
}

/** Software adapters run at CPU speed: smaller sizes. Every size's f32 buffer fits maxBufferSize. */
function defaultSizes(gpu: Gpu): number[] {
  const exps = gpu.adapter.software ? [16, 18, 20, 22, 24] : [16, 20, 24, 26];
  return exps.map((k) => 2 ** k).filter((n) => n * 4 <= gpu.limits.maxBufferSize);
}

function bytesMoved(op: CodecOp | 'copy', f: Format | null, n: number): number {
  if (op === 'copy' || op === 'quantize') return 8 * n;
  return 4 * n + (containerBits(f!) / 8) * n;
}

function randomInput(n: number): Uint32Array {
  const out = new Uint32Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const e = 127 - 16 + ((s >>> 23) % 33);
    out[i] = (s & 0x80000000) | (e << 23) | (s & 0x7fffff);
  }
  return out;
}

/** The f32 copy, chunked like the codec kernels when a buffer exceeds the binding limit. */
function copyRecorder(rt: Runtime, src: GPUBuffer, dst: GPUBuffer, n: number) {
  const chunks = codecChunks('copy', F32, n, rt.gpu.limits);
  return () => {
    for (const c of chunks) {
      const bind = (buffer: GPUBuffer, range: { offset: number; size: number }) => ({ buffer, ...range });
      rt.run(COPY_KERNEL, { count: c.count, t: 0, seed: 0, counter: 0 }, { src: bind(src, c.input), dst: bind(dst, c.output) }, c.grid);
    }
  };
}

function row(op: CodecOp | 'copy', f: Format | null, n: number, t: PassTiming, copyGbs: number): Row {
  const bytes = bytesMoved(op, f, n);
  const gbPerSecond = bytes / t.medianNs;
  return {
    op,
    format: f?.name ?? null,
    elements: n,
    bytes,
    medianNs: t.medianNs,
    ns: t.ns,
    elementsPerSecond: (n / t.medianNs) * 1e9,
    gbPerSecond,
    fractionOfCopy: op === 'copy' ? 1 : gbPerSecond / copyGbs,
  };
}

const fmt = {
  melem: (r: Row) => (r.elementsPerSecond / 1e6).toFixed(r.elementsPerSecond < 1e8 ? 1 : 0),
  gbs: (r: Row) => r.gbPerSecond.toFixed(r.gbPerSecond < 10 ? 2 : 1),
  pct: (r: Row) => `${(100 * r.fractionOfCopy).toFixed(0)}%`,
  us: (r: Row) => (r.medianNs / 1e3).toFixed(1),
};

function printSize(n: number, copy: Row, rows: Row[], method: TimingMethod): void {
  const byFormat = new Map<string, Row[]>();
  for (const r of rows) byFormat.set(r.format!, [...(byFormat.get(r.format!) ?? []), r]);
  const header = ['format', ...OPS.flatMap((op) => [`${op} Melem/s`, 'GB/s', '%copy'])];
  const body = [...byFormat].map(([name, rs]) => [name, ...rs.flatMap((r) => [fmt.melem(r), fmt.gbs(r), fmt.pct(r)])]);
  process.stdout.write(
    `\nn = ${sizeLabel(n)}   f32 copy: ${fmt.melem(copy)} Melem/s, ${fmt.gbs(copy)} GB/s, ${fmt.us(copy)} us (${method})\n` +
      table(header, body) +
      '\n',
  );
}

async function run(ctx: BenchContext): Promise<void> {
  const formats = (ctx.formats ?? DEFAULT_FORMATS).map(parseFormat);
  const gpu = await openBenchGpu(ctx.gpuOptions);
  const rt = new Runtime(gpu);
  try {
    const sizes = ctx.sizes ?? defaultSizes(gpu);
    const a = gpu.adapter;
    process.stdout.write(
      `posit-gan bench quantize on ${a.description} (${a.software ? 'software' : 'hardware'}, ${a.runtime}); ` +
        `median of ${ctx.reps} after ${ctx.warmup} warm-up, nearest rounding\n`,
    );
    const results: Row[] = [];
    let method: TimingMethod = 'timestamp';
    const opts = { reps: ctx.reps, warmup: ctx.warmup };
    for (const n of sizes) {
      const src = gpu.upload(randomInput(n), `bench:input:${n}`);
      const make = (label: string) =>
        gpu.device.createBuffer({ label, size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      const dst = make(`bench:output:${n}`);
      const packed = make(`bench:codes:${n}`);
      try {
        const t = await rt.timeDispatches(`copy ${n}`, copyRecorder(rt, src, dst, n), opts);
        method = t.method;
        const copy = row('copy', null, n, t, 0);
        results.push(copy);
        const rows: Row[] = [];
        for (const f of formats) {
          for (const op of OPS) {
            const job: CodecJob = {
              op,
              format: f,
              count: n,
              input: op === 'decode' ? packed : src,
              output: op === 'encode' ? packed : dst,
            };
            const timing = await rt.timeDispatches(`${op} ${f.name} ${n}`, () => runCodec(rt, job), opts);
            rows.push(row(op, f, n, timing, copy.gbPerSecond));
          }
        }
        results.push(...rows);
        printSize(n, copy, rows, method);
      } finally {
        await rt.sync('bench quantize');
        for (const b of [src, dst, packed]) b.destroy();
      }
    }
    saveResult(ctx, 'quantize', a, method, {
      rounding: 'nearest',
      bytesPerElement: 'quantize and copy: 8; encode and decode: 4 + container bytes (1, 2 or 4)',
      results,
    });
  } finally {
    gpu.destroy();
  }
}

const benchmark: Benchmark = { run };
export default benchmark;
