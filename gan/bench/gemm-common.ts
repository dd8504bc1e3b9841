// What `bench matmul` and `bench conv` share: the operand variants, random operands for them, and
// timing GEMMs (the forward dispatches an op would record, replayed through the runtime inside timed
// compute passes: the uniform arena and the bind-group cache that training uses).

import { packCodes, decode } from '../../formats/codec.ts';
import { parseFormat, type Format } from '../../formats/descriptor.ts';
import type { TileName } from '../../shaders/matmul-plan.ts';
import { median, type PassTiming } from '../../engine/kernels/timing.ts';
import { prepareGemm, type GemmCall } from '../../engine/ops/gemm.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import { table } from './report.ts';

export interface Variant {
  name: string;
  /** Operand storage: null for float32, else packed codes of this format. */
  operands: Format | null;
  output?: Format;
  accumulate?: 'quire';
  tile?: TileName;
}

/** f32 (automatic and each square tile forced), packed operands of each format, the paper's P8+
 *  layer (p8e2 operands, p16e2 output) and exact accumulation. */
export function variants(formats: readonly string[]): Variant[] {
  const p8 = parseFormat('p8e2');
  const p16 = parseFormat('p16e2');
  return [
    { name: 'f32', operands: null },
    ...(['large', 'large16', 'medium', 'small'] as const).map((tile) => ({ name: `f32 tile=${tile}`, operands: null, tile })),
    ...formats.map((f) => ({ name: `${parseFormat(f).name} operands`, operands: parseFormat(f) })),
    { name: 'p8e2 -> p16e2 out', operands: p8, output: p16 },
    { name: 'p8e2 quire -> p16e2', operands: p8, output: p16, accumulate: 'quire' },
  ];
}

export const DEFAULT_OPERAND_FORMATS = ['p8e2', 'e4m3', 'fp16'];

/** A tensor of `shape` with values in about [-1, 1]: float32, or random finite codes of `f`. */
export function randomOperand(rt: Runtime, shape: readonly number[], f: Format | null, seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  if (!f) return Tensor.fromArray(rt, Float32Array.from({ length: n }, () => 2 * next() - 1), shape);
  // Codes whose values lie in [-1, 1] (finite): typical activations and scaled weights.
  const pool: number[] = [];
  for (let c = 0; c < 2 ** f.bits && pool.length < 4096; c += Math.max(1, 2 ** (f.bits - 12))) {
    const v = decode(f, c);
    if (Number.isFinite(v) && Math.abs(v) <= 1) pool.push(c);
  }
  const codes = Array.from({ length: n }, () => pool[Math.floor(next() * pool.length)]!);
  return Tensor.fromPackedCodes(rt, packCodes(f, codes), shape, { format: f, bias: 0 });
}

export interface GemmTiming extends PassTiming {
  tile: string;
  splits: number;
}

/**
 * Times the dispatches of several GEMMs (each with its split-K reduction, if planned). Repetitions
 * run in rounds over all of them, so that a change in the host's load (software adapters share the
 * CPU) shifts every variant alike and their ratios stay meaningful; each reports its median.
 */
export async function timeGemms(rt: Runtime, calls: readonly { label: string; call: GemmCall }[], opts: { reps: number; warmup: number }): Promise<GemmTiming[]> {
  const prepared = calls.map(({ label, call }) => ({ label, p: prepareGemm(call) }));
  try {
    const runs = prepared.map(({ label, p }) => {
      const record = () => {
        for (const d of p.dispatches) d.record(rt);
      };
      return { label, record, ns: [] as number[], method: 'timestamp' as PassTiming['method'] };
    });
    for (let r = 0; r < opts.reps; r++) {
      for (const run of runs) {
        // One untimed run right before each timed one: on a software adapter the caches then hold
        // this variant's operands, not the previous variant's.
        const t = await rt.timeDispatches(run.label, run.record, { reps: 1, warmup: r === 0 ? Math.max(1, opts.warmup) : 1 });
        run.ns.push(...t.ns);
        run.method = t.method;
      }
    }
    return runs.map((run, i) => ({ method: run.method, ns: run.ns, medianNs: median(run.ns), tile: prepared[i]!.p.plan.tile, splits: prepared[i]!.p.plan.splits }));
  } finally {
    for (const { p } of prepared) {
      p.release();
      p.out.dispose();
      p.aux?.dispose();
    }
  }
}

/** One variant's result on one problem. */
export interface GemmRow {
  variant: string;
  tile: string;
  splits: number;
  medianNs: number;
  ns: number[];
  gflops: number;
  /** GFLOP/s over the first variant's (variants()[0], the planned f32 kernel) on the same problem. */
  vsF32: number;
}

/** The rows of one problem of `flops` floating-point operations, timed per variant. */
export function gemmRows(list: readonly Variant[], times: readonly GemmTiming[], flops: number): GemmRow[] {
  const f32 = flops / times[0]!.medianNs;
  return times.map((t, i) => {
    const gflops = flops / t.medianNs;
    return { variant: list[i]!.name, tile: t.tile, splits: t.splits, medianNs: t.medianNs, ns: t.ns, gflops, vsF32: gflops / f32 };
  });
}

export function gemmTable(rows: readonly GemmRow[]): string {
  return table(
    ['variant', 'tile', 'ms', 'GFLOP/s', 'vs f32'],
    rows.map((r) => [r.variant, r.splits > 1 ? `${r.tile}, split ${r.splits}` : r.tile, (r.medianNs / 1e6).toFixed(2), r.gflops.toFixed(2), `${r.vsF32.toFixed(2)}x`]),
  );
}
