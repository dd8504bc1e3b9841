// `posit-gan bench quire`: the exact quire GEMM (p8e2 operands, one rounding to p16e2) beside our
// f32 kernel, in the same run with the same warm-up, on square n x n x n products: TFLOP/s counts
// 2 n^3 per product, as the f32 rows do. Variants (shaders/quire-plan.ts):
//   f32                                  the planned f32 kernel (the peer, "posit-gan f32")
//   p8e2-quire                           the sliced quire, plain WGSL (dot4I8Packed)
//   p8e2-quire-subgroup-matrix           the sliced quire on subgroup matrices, staged K slices
//                                        (only on a device opened with --subgroup-matrix)
//   p8e2-quire-subgroup-matrix-storage   the same, fragments loaded from storage (for comparison)
//   p8e2-quire-mac                       the per-product quire (the reference the others must equal)
// Operands: codes drawn uniformly from the p8e2 codes of magnitude at most 1 (gemm-common.ts
// randomOperand): rows span minpos .. 1, 25 bits, so the sliced quire needs 8 moduli at n = 4096
// (each row records the moduli it needed). Before timing, every sliced variant's output is compared
// with the per-product quire's, bit for bit; a difference fails the benchmark.
//
// `--profile` also times each kernel of one run of every sliced variant on its own (GPU timestamps):
// where the time goes between stats, plan, residues, the per-modulus GEMMs and the combine.
//
// `--check` runs no timing: every method the device has against the per-product quire on the
// random and adversarial operands of quire-cases.ts, over shapes with ragged tiles and a reduction
// longer than one exact i32 chunk; it prints one line per case and exits non-zero on any difference.

import { decode, packCodes } from '../../formats/codec.ts';
import { parseFormat, type Format } from '../../formats/descriptor.ts';
import { SUBGROUP_MATRIX_FEATURE, type Gpu } from '../../engine/device/gpu.ts';
import { describeConfig } from '../../engine/device/subgroup-matrix.ts';
import { prepareGemm, type GemmCall } from '../../engine/ops/gemm.ts';
import { matmulGemm } from '../../engine/ops/matmul.ts';
import { describeInner, residueInner } from '../../engine/ops/quire-sliced.ts';
import { Runtime } from '../../engine/runtime.ts';
import { Tensor } from '../../engine/tensor/tensor.ts';
import type { TimingMethod } from '../../engine/kernels/timing.ts';
import { quireOperand } from '../../shaders/matmul-plan.ts';
import { moduliNeeded, quireBitsNeeded } from '../../shaders/quire-crt.ts';
import type { QuireMethod } from '../../shaders/quire-plan.ts';
import { randomOperand, timeGemms } from './gemm-common.ts';
import { QUIRE_CASES, quireCaseCodes } from './quire-cases.ts';
import { openBenchGpu, saveResult, table, type Benchmark, type BenchContext } from './report.ts';

const P8 = parseFormat('p8e2');
const P16 = parseFormat('p16e2');

/** The quire methods this device runs (the per-product one first: the reference). */
export function deviceQuireMethods(gpu: Gpu): QuireMethod[] {
  const methods: QuireMethod[] = ['mac', 'sliced'];
  if (gpu.features.has(SUBGROUP_MATRIX_FEATURE)) methods.push('sliced-subgroup-matrix', 'sliced-subgroup-matrix-storage');
  return methods;
}

/** Row variant names of the quire methods (issue 14's spelling). */
export const VARIANT: Record<QuireMethod, string> = {
  mac: 'p8e2-quire-mac',
  sliced: 'p8e2-quire',
  'sliced-subgroup-matrix': 'p8e2-quire-subgroup-matrix',
  'sliced-subgroup-matrix-storage': 'p8e2-quire-subgroup-matrix-storage',
};

/** The moduli the sliced quire needs for these operands (the GPU's plan step, on the CPU). */
export function moduliFor(f: Format, a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number): number {
  const q = quireOperand(f, 0, f.name);
  // Per code: the lattice positions of its lowest and highest set bits (none for 0, NaR, NaN).
  const lowBit = new Int32Array(2 ** f.bits).fill(-1);
  const highBit = new Int32Array(2 ** f.bits).fill(-1);
  for (let c = 0; c < 2 ** f.bits; c++) {
    const v = Math.abs(decode(f, c));
    if (!Number.isFinite(v) || v === 0) continue;
    let low = Math.floor(Math.log2(v));
    while (!Number.isInteger(v / 2 ** low)) low--;
    lowBit[c] = low - q.lsb;
    highBit[c] = Math.floor(Math.log2(v)) - q.lsb;
  }
  const width = (lines: number, at: (line: number, i: number) => number) => {
    let w = 0;
    for (let l = 0; l < lines; l++) {
      let lo = Infinity;
      let hi = -1;
      for (let i = 0; i < k; i++) {
        const c = at(l, i);
        if (lowBit[c]! < 0) continue;
        lo = Math.min(lo, lowBit[c]!);
        hi = Math.max(hi, highBit[c]!);
      }
      if (hi >= 0) w = Math.max(w, hi - lo + 1);
    }
    return w;
  };
  const wa = width(m, (l, i) => a[l * k + i]!);
  const wb = width(n, (l, i) => b[i * n + l]!);
  return wa === 0 || wb === 0 ? 1 : moduliNeeded(quireBitsNeeded(wa, wb, k))!;
}

/** Runs a prepared GEMM and reads its output's bits. */
export async function runBits(rt: Runtime, call: GemmCall): Promise<Uint32Array> {
  const p = prepareGemm(call);
  try {
    for (const d of p.dispatches) d.record(rt);
    return new Uint32Array((await p.out.read()).buffer);
  } finally {
    p.release();
    p.out.dispose();
    p.aux?.dispose();
  }
}

/** GPU time per kernel label of one run of a GEMM, each dispatch timed alone. */
async function profileGemm(rt: Runtime, call: GemmCall): Promise<{ kernel: string; dispatches: number; ms: number }[]> {
  const p = prepareGemm(call);
  try {
    rt.startProfile();
    for (const d of p.dispatches) d.record(rt);
    return await rt.stopProfile();
  } finally {
    p.release();
    p.out.dispose();
    p.aux?.dispose();
  }
}

/** The first differing element, or null. */
export function firstDifference(got: Uint32Array, want: Uint32Array): string | null {
  let count = 0;
  let first = -1;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      count++;
      if (first < 0) first = i;
    }
  }
  if (count === 0) return null;
  return `${count} of ${want.length} outputs differ; first at ${first}: 0x${got[first]!.toString(16)} instead of 0x${want[first]!.toString(16)}`;
}

function describeDevice(gpu: Gpu): string {
  const a = gpu.adapter;
  const sm = gpu.subgroupMatrix;
  const smLine = !gpu.features.has(SUBGROUP_MATRIX_FEATURE)
    ? 'subgroup matrices: not requested (--subgroup-matrix)'
    : sm?.int8
      ? `subgroup matrices: ${describeConfig(sm.int8.config)}, ${sm.int8.conventions.dialect} form, offsets in ${sm.int8.conventions.offsetUnit}s, strides in ${sm.int8.conventions.strideUnit}s`
      : `subgroup matrices: unusable: ${sm?.problem ?? 'not probed'}`;
  return `${a.description} (${a.software ? 'software' : 'hardware'}, ${a.runtime}); ${smLine}`;
}

async function check(ctx: BenchContext, gpu: Gpu, rt: Runtime): Promise<void> {
  const methods = deviceQuireMethods(gpu);
  const shapes: [number, number, number][] = ctx.sizes
    ? ctx.sizes.map((n) => [n, n, n])
    : gpu.adapter.software
      ? [[33, 17, 100]]
      : [
          [256, 256, 4096],
          [300, 200, 1000],
          [48, 80, 70000],
        ];
  process.stdout.write(`posit-gan bench quire --check on ${describeDevice(gpu)}\nmethods: ${methods.slice(1).map((m) => `${m} (${describeInner(gpu, residueInner(gpu, m))})`).join(', ')} against mac\n\n`);
  const rows: string[][] = [];
  const failures: string[] = [];
  for (const [m, n, k] of shapes) {
    for (const c of QUIRE_CASES) {
      const { a, b } = quireCaseCodes(P8, c, m, n, k, m + n + k);
      const moduli = moduliFor(P8, a, b, m, n, k);
      const outs = await rt.scope(async () => {
        const A = Tensor.fromPackedCodes(rt, packCodes(P8, a), [m, k], { format: P8, bias: 0 });
        const B = Tensor.fromPackedCodes(rt, packCodes(P8, b), [k, n], { format: P8, bias: 0 });
        const res: Uint32Array[] = [];
        for (const method of methods) res.push(await runBits(rt, matmulGemm(A, B, { accumulate: 'quire', quireMethod: method, output: { format: P16 } })));
        return res;
      });
      const verdicts = methods.slice(1).map((method, i) => {
        const d = firstDifference(outs[i + 1]!, outs[0]!);
        if (d) failures.push(`${m}x${n}x${k} ${c} ${method}: ${d}`);
        return d ? 'MISMATCH' : 'ok';
      });
      rows.push([`${m}x${n}x${k}`, c, String(moduli), ...verdicts]);
    }
  }
  process.stdout.write(table(['m x n x k', 'case', 'moduli', ...methods.slice(1)], rows) + '\n');
  if (failures.length) throw new Error(`the sliced quire differs from the per-product quire:\n  ${failures.join('\n  ')}`);
  process.stdout.write(`\nall ${rows.length * (methods.length - 1)} comparisons bit-exact\n`);
}

interface Row {
  what: 'quire' | 'gemm';
  variant: string;
  size: number;
  value: number;
  unit: 'TFLOP/s';
  peer: string | null;
  peerValue: number | null;
  ratio: number | null;
  method: string;
  moduli: number | null;
  medianNs: number;
  ns: number[];
  /** --profile: GPU time per kernel of one run, each dispatch alone. */
  profile?: { kernel: string; dispatches: number; ms: number }[];
}

async function run(ctx: BenchContext): Promise<void> {
  const gpu = await openBenchGpu(ctx.gpuOptions);
  const rt = new Runtime(gpu);
  try {
    if (ctx.check) return await check(ctx, gpu, rt);
    const sizes = ctx.sizes ?? (gpu.adapter.software ? [64, 128] : [1024, 2048, 4096]);
    const methods = deviceQuireMethods(gpu);
    process.stdout.write(
      `posit-gan bench quire on ${describeDevice(gpu)}\n` +
        `p8e2 operands (codes of magnitude <= 1), p16e2 output, n x n x n; median of ${ctx.reps} rounds over the variants, each timed run right after an untimed one (${ctx.warmup} warm-up first)\n`,
    );
    const results: Row[] = [];
    let method: TimingMethod = 'timestamp';
    for (const n of sizes) {
      const rows = await rt.scope(async () => {
        const xf = randomOperand(rt, [n, n], null, 1);
        const yf = randomOperand(rt, [n, n], null, 2);
        const x = randomOperand(rt, [n, n], P8, 1);
        const y = randomOperand(rt, [n, n], P8, 2);
        const quire = (m: QuireMethod) => matmulGemm(x, y, { accumulate: 'quire', quireMethod: m, output: { format: P16 } });
        // Bit-exact against the per-product quire before any timing.
        const want = await runBits(rt, quire('mac'));
        for (const m of methods.slice(1)) {
          const d = firstDifference(await runBits(rt, quire(m)), want);
          if (d) throw new Error(`${VARIANT[m]} at n = ${n} differs from the per-product quire: ${d}`);
        }
        const codes = async (t: Tensor) => new Uint8Array(await rt.readBuffer(t.buffer, n * n, 'operand codes'));
        const moduli = moduliFor(P8, await codes(x), await codes(y), n, n, n);
        const calls = [{ label: `f32 ${n}`, call: matmulGemm(xf, yf) }, ...methods.map((m) => ({ label: `${VARIANT[m]} ${n}`, call: quire(m) }))];
        const times = await timeGemms(rt, calls, ctx);
        method = times[0]!.method;
        const profiles = new Map<QuireMethod, Row['profile']>();
        if (ctx.profile && gpu.hasTimestamps) for (const m of methods.slice(1)) profiles.set(m, await profileGemm(rt, quire(m)));
        const flops = 2 * n ** 3;
        const f32 = flops / times[0]!.medianNs / 1e3;
        return times.map((t, i): Row => {
          const value = flops / t.medianNs / 1e3;
          const m = i === 0 ? null : methods[i - 1]!;
          return {
            what: m ? 'quire' : 'gemm',
            variant: m ? VARIANT[m] : 'f32',
            size: n,
            value,
            unit: 'TFLOP/s',
            peer: m ? 'posit-gan f32' : null,
            peerValue: m ? f32 : null,
            ratio: m ? value / f32 : null,
            method: m ? (m === 'mac' ? 'per-product quire' : describeInner(gpu, residueInner(gpu, m))) : `f32 tile ${t.tile}${t.splits > 1 ? `, split ${t.splits}` : ''}`,
            moduli: m && m !== 'mac' ? moduli : null,
            medianNs: t.medianNs,
            ns: t.ns,
            ...(m && profiles.has(m) ? { profile: profiles.get(m)! } : {}),
          };
        });
      });
      results.push(...rows);
      process.stdout.write(
        `\nn = ${n} (${method}; outputs of every sliced variant equal the per-product quire's)\n` +
          table(
            ['variant', 'method', 'moduli', 'ms', 'TFLOP/s', 'vs f32'],
            rows.map((r) => [r.variant, r.method, r.moduli === null ? '-' : String(r.moduli), (r.medianNs / 1e6).toFixed(3), r.value.toPrecision(3), r.ratio === null ? '-' : `${r.ratio.toFixed(3)}x`]),
          ) +
          '\n',
      );
      for (const r of rows.filter((x) => x.profile)) {
        process.stdout.write(
          `\n${r.variant} at n = ${n}, each kernel alone:\n` + table(['kernel', 'dispatches', 'ms'], r.profile!.map((k) => [k.kernel, String(k.dispatches), k.ms.toFixed(3)])) + '\n',
        );
      }
    }
    saveResult(ctx, 'quire', gpu.adapter, method, {
      flops: '2 n^3 per n x n x n product',
      operands: 'p8e2 codes drawn uniformly from those of magnitude <= 1 (gan/bench/gemm-common.ts randomOperand), p16e2 output',
      subgroupMatrix: gpu.subgroupMatrix,
      results,
    });
  } finally {
    gpu.destroy();
  }
}

const benchmark: Benchmark = { run };
export default benchmark;
