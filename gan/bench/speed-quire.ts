// The exact-quire rows of `posit-gan bench speed` (issue 14: "quire" rows, variants `p8e2-quire` on
// plain WGSL and `p8e2-quire-subgroup-matrix` on the tensor-core path, each against our f32 kernel at
// the same n). Each round, per n: p8e2 operands (codes of magnitude <= 1, as bench quire draws them),
// p16e2 output; every sliced method's output is first compared bit for bit with the per-product
// quire's (a difference fails the run: a fast wrong quire is no row), then the f32 kernel and the
// sliced methods are timed side by side, each rate the mean over its timed products. The
// subgroup-matrix row needs a device opened with --subgroup-matrix that offers the feature; without
// it the note says the row is missing and why.

import { SUBGROUP_MATRIX_FEATURE, type Gpu } from '../../engine/device/gpu.ts';
import { matmulGemm } from '../../engine/ops/matmul.ts';
import type { Runtime } from '../../engine/runtime.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import type { TimingMethod } from '../../engine/kernels/timing.ts';
import type { QuireMethod } from '../../shaders/quire-plan.ts';
import { randomOperand, timeGemms } from './gemm-common.ts';
import { firstDifference, runBits, VARIANT } from './quire.ts';
import { PEERS, type SpeedRound } from './speed-rows.ts';

const P8 = parseFormat('p8e2');
const P16 = parseFormat('p16e2');

export interface QuireContext {
  gpu: Gpu;
  rt: Runtime;
  /** GEMM sizes n (n x n x n products). */
  sizes: readonly number[];
  reps: number;
  warmup: number;
}

/** The methods that give rows: the plain sliced quire, and the subgroup-matrix one where the device has it. */
function rowMethods(gpu: Gpu): QuireMethod[] {
  return gpu.features.has(SUBGROUP_MATRIX_FEATURE) ? ['sliced', 'sliced-subgroup-matrix'] : ['sliced'];
}

/** One round of quire rows (TFLOP/s, 2 n^3 per product) and a note on what was measured. */
export async function quireRows(ctx: QuireContext): Promise<{ rounds: SpeedRound[]; note: string; timing: TimingMethod }> {
  const { gpu, rt } = ctx;
  const methods = rowMethods(gpu);
  const rounds: SpeedRound[] = [];
  let timing: TimingMethod = 'timestamp';
  for (const n of ctx.sizes) {
    await rt.scope(async () => {
      const x = randomOperand(rt, [n, n], P8, 1);
      const y = randomOperand(rt, [n, n], P8, 2);
      const quire = (m: QuireMethod) => matmulGemm(x, y, { accumulate: 'quire', quireMethod: m, output: { format: P16 } });
      const want = await runBits(rt, quire('mac'));
      for (const m of methods) {
        const d = firstDifference(await runBits(rt, quire(m)), want);
        if (d) throw new Error(`bench speed: ${VARIANT[m]} at n = ${n} differs from the per-product quire: ${d}`);
      }
      const calls = [
        { label: `speed quire f32 ${n}`, call: matmulGemm(randomOperand(rt, [n, n], null, 1), randomOperand(rt, [n, n], null, 2)) },
        ...methods.map((m) => ({ label: `speed quire ${VARIANT[m]} ${n}`, call: quire(m) })),
      ];
      const times = await timeGemms(rt, calls, { reps: ctx.reps, warmup: ctx.warmup });
      timing = times[0]!.method;
      // Mean over the timed products: flops / mean ns = GFLOP/s; / 1000: TFLOP/s.
      const rate = (ns: number[]) => (2 * n ** 3) / (ns.reduce((a, b) => a + b, 0) / ns.length) / 1000;
      const f32 = rate(times[0]!.ns);
      methods.forEach((m, i) => rounds.push({ what: 'quire', variant: VARIANT[m], size: n, unit: 'TFLOP/s', peer: PEERS.ownF32, value: rate(times[i + 1]!.ns), peerValue: f32 }));
    });
  }
  const missing = methods.includes('sliced-subgroup-matrix')
    ? ''
    : `; no ${VARIANT['sliced-subgroup-matrix']} row: the device was not opened with '${SUBGROUP_MATRIX_FEATURE}' (run with --subgroup-matrix on an adapter that offers it)`;
  return {
    rounds,
    timing,
    note: `quire rows: p8e2 operands (codes of magnitude <= 1), p16e2 output, ${methods.map((m) => VARIANT[m]).join(' and ')} against the f32 kernel timed beside them, each output bit-exact against the per-product quire before timing${missing}`,
  };
}
