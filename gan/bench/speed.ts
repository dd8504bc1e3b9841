// `posit-gan bench speed`: every target of issue 14 measured in one run, each beside its peer:
//   cgan-train   cgan iterations per second, p8+ and fp32, per batch: against our own fp32 recipe
//                (same process) and PyTorch fp32 eager (scripts/peers/pytorch-cgan.py, reference loop)
//   dcgan-train  the same for the 32x32 DCGAN (ngf = ndf = 32; scripts/peers/pytorch-dcgan.py)
//   gemm         n x n x n products in TFLOP/s: our f32 kernel against cuBLAS FP32 with TF32 off
//                (scripts/peers/pytorch-gemm.py), packed p8e2 and e4m3 operands against our f32 kernel
//   quire        the exact quire (p8e2 -> p16e2), plain WGSL and on subgroup matrices where the device
//                has them, against our f32 kernel timed beside it, bit-exact first (speed-quire.ts)
// Rates scatter by 20-40% between rounds on a GPU, so the run goes in rounds, and in each round every
// measurement of ours sits right beside its peer's, the order alternating between rounds; each rate
// is the mean over its timed window (iterations / seconds, or products / seconds) after the same
// number of warm-up iterations on both sides. A row's value is the mean of its rounds, and every round
// is reported. The PyTorch peers run as child processes (speed-peers.ts); without python3 and torch
// (or, by default, without CUDA) their rows carry no peer value and say why.
// Writes results/bench/speed-<adapter>.json (rows as speed-rows.ts describes them, the adapter, the
// commit and the command (gan/io/provenance.ts, through saveResult), the date, a markdown table) and prints the table.

import type { Gpu } from '../../engine/device/gpu.ts';
import { matmulGemm } from '../../engine/ops/matmul.ts';
import { Runtime } from '../../engine/runtime.ts';
import type { TimingMethod } from '../../engine/kernels/timing.ts';
import { parseFormat } from '../../formats/descriptor.ts';
import type { TileName } from '../../shaders/matmul-plan.ts';
import { loadMnist } from '../data/mnist.ts';
import type { MnistSet } from '../data/mnist-core.ts';
import { resolveConfig } from '../train/config.ts';
import { loadRecipe } from '../train/run.ts';
import { GanTrainer } from '../train/trainer.ts';
import { randomOperand, timeGemms } from './gemm-common.ts';
import { openBenchGpu, saveResult, type Benchmark, type BenchContext } from './report.ts';
import { findPeer, runPeer, type Peer } from './speed-peers.ts';
import { quireRows } from './speed-quire.ts';
import { aggregate, markdownTable, PEERS, pytorchPeers, type SpeedRound, type SpeedWhat } from './speed-rows.ts';

export const SPEED_WHATS: readonly SpeedWhat[] = ['cgan-train', 'dcgan-train', 'gemm', 'quire'];
/** The DCGAN of the issue's targets. */
const DCGAN = { size: 32 as const, ngf: 32, ndf: 32 };
/** Operand formats whose GEMM rows compare with our f32 kernel. */
const PACKED = ['p8e2', 'e4m3'];
/** f32 tiles timed beside the planned one (not rows: what a later planner change would rest on). */
const TILE_CANDIDATES: readonly TileName[] = ['large', 'large16'];
const PEER_TIMEOUT_MS = 300_000;

const say = (line: string) => process.stderr.write(`bench speed: ${line}\n`);

interface Plan {
  what: readonly SpeedWhat[];
  rounds: number;
  batches: number[];
  sizes: number[];
  iterations: number;
  warmup: number;
  reps: number;
}

/** One of our training measurements: mean iterations per second over the timed window (the device
 *  synchronized at its end) and the dispatches each iteration recorded. */
async function trainRate(gpu: Gpu, data: MnistSet, model: 'cgan' | 'dcgan', recipe: string, batch: number, plan: Plan): Promise<{ rate: number; dispatches: number }> {
  const rt = new Runtime(gpu);
  const config = resolveConfig({ model, recipe, batch, steps: plan.warmup + plan.iterations, dataLimit: data.n, ...(model === 'dcgan' ? DCGAN : {}) });
  const trainer = new GanTrainer(rt, config, loadRecipe(recipe), data);
  try {
    for (let i = 0; i < Math.max(1, plan.warmup); i++) await trainer.trainStep();
    await rt.sync('warm-up');
    const d0 = rt.dispatched;
    const t0 = performance.now();
    for (let i = 0; i < plan.iterations; i++) {
      const s = await trainer.trainStep();
      if (s.diverged) throw new Error(`${model} ${recipe} batch ${batch} diverged during the benchmark: ${s.diverged}`);
    }
    await rt.sync('timed iterations');
    const seconds = (performance.now() - t0) / 1000;
    return { rate: plan.iterations / seconds, dispatches: (rt.dispatched - d0) / plan.iterations };
  } finally {
    trainer.dispose();
    rt.pool.trim();
  }
}

/** The PyTorch peer's rate per batch (reference loop), or the reason there is none. */
async function trainPeer(peer: Peer, model: 'cgan' | 'dcgan', plan: Plan): Promise<Map<number, number> | string> {
  if (!peer.available) return peer.reason;
  const args = ['--steps', String(plan.iterations), '--warmup', String(plan.warmup), '--batches', plan.batches.join(','), '--loops', 'reference'];
  if (model === 'dcgan') args.push('--size', String(DCGAN.size), '--ngf', String(DCGAN.ngf), '--ndf', String(DCGAN.ndf));
  const r = await runPeer(peer, `pytorch-${model}.py`, args, PEER_TIMEOUT_MS);
  if (!r.ok) return r.error;
  return new Map((r.result.results as { batch: number; iterationsPerSecond: number }[]).map((x) => [x.batch, x.iterationsPerSecond]));
}

async function trainRound(gpu: Gpu, data: MnistSet, peer: Peer, model: 'cgan' | 'dcgan', plan: Plan, round: number): Promise<SpeedRound[]> {
  const what: SpeedWhat = model === 'cgan' ? 'cgan-train' : 'dcgan-train';
  const ours = async (): Promise<Map<string, { rate: number; dispatches: number }>> => {
    const m = new Map<string, { rate: number; dispatches: number }>();
    for (const batch of plan.batches) {
      // Alternate which recipe goes first, so a drift within the round favours neither.
      for (const recipe of round % 2 ? ['p8+', 'fp32'] : ['fp32', 'p8+']) {
        const r = await trainRate(gpu, data, model, recipe, batch, plan);
        say(`round ${round + 1}: ${model} ${recipe} batch ${batch}: ${r.rate.toFixed(1)} it/s, ${r.dispatches.toFixed(0)} dispatches per iteration`);
        m.set(`${recipe}|${batch}`, r);
      }
    }
    return m;
  };
  const theirs = async (): Promise<Map<number, number> | string> => {
    const p = await trainPeer(peer, model, plan);
    if (typeof p !== 'string') say(`round ${round + 1}: PyTorch ${model}: ${[...p].map(([b, v]) => `batch ${b} ${v.toFixed(1)} it/s`).join(', ')}`);
    return p;
  };
  // Ours and the peer side by side, the order alternating between rounds.
  let mine: Map<string, { rate: number; dispatches: number }>;
  let peers: Map<number, number> | string;
  if (round % 2) {
    peers = await theirs();
    mine = await ours();
  } else {
    mine = await ours();
    peers = await theirs();
  }
  const out: SpeedRound[] = [];
  for (const batch of plan.batches) {
    const p8 = mine.get(`p8+|${batch}`)!;
    const f32 = mine.get(`fp32|${batch}`)!;
    const base = { what, size: batch, unit: 'it/s' as const };
    out.push({ ...base, variant: 'p8+', peer: PEERS.ownFp32, value: p8.rate, peerValue: f32.rate, dispatchesPerIteration: p8.dispatches });
    for (const [variant, r] of [['p8+', p8], ['fp32', f32]] as const) {
      const pv = typeof peers === 'string' ? null : (peers.get(batch) ?? null);
      const row: SpeedRound = { ...base, variant, peer: pytorchPeers(peer.device).train, value: r.rate, peerValue: pv, dispatchesPerIteration: r.dispatches };
      if (pv === null) row.peerNote = typeof peers === 'string' ? peers : `the peer reported no batch ${batch}`;
      out.push(row);
    }
  }
  return out;
}

/** Mean TFLOP/s of a tile candidate in each round, per size (TILE_CANDIDATES). */
export interface TileRates {
  n: number;
  tile: TileName;
  rounds: number[];
  mean: number;
}

async function gemmRound(rt: Runtime, peer: Peer, plan: Plan, round: number, tiles: Map<string, TileRates>): Promise<{ rows: SpeedRound[]; timing: TimingMethod }> {
  let timing: TimingMethod = 'timestamp';
  const ours = async (): Promise<Map<string, number>> => {
    const rates = new Map<string, number>();
    for (const n of plan.sizes) {
      await rt.scope(async () => {
        // The planned f32 kernel, packed operands, then f32 with each candidate tile forced.
        const variants: { name: string; f: ReturnType<typeof parseFormat> | null; tile?: TileName }[] = [
          { name: 'f32', f: null },
          ...PACKED.map((f) => ({ name: f, f: parseFormat(f) })),
          ...TILE_CANDIDATES.map((tile) => ({ name: `f32 tile=${tile}`, f: null, tile })),
        ];
        const calls = variants.map((v, i) => ({
          label: `speed gemm ${v.name} ${n}`,
          call: matmulGemm(randomOperand(rt, [n, n], v.f, 2 * i + 1), randomOperand(rt, [n, n], v.f, 2 * i + 2), v.tile ? { tile: v.tile } : {}),
        }));
        const times = await timeGemms(rt, calls, { reps: plan.reps, warmup: plan.warmup });
        timing = times[0]!.method;
        times.forEach((t, i) => {
          // Mean over the timed products: flops / mean ns = GFLOP/s; / 1000: TFLOP/s.
          const meanNs = t.ns.reduce((a, b) => a + b, 0) / t.ns.length;
          rates.set(`${variants[i]!.name}|${n}`, (2 * n ** 3) / meanNs / 1000);
        });
        for (const tile of TILE_CANDIDATES) {
          const key = `${tile}|${n}`;
          const e = tiles.get(key) ?? { n, tile, rounds: [], mean: 0 };
          e.rounds.push(rates.get(`f32 tile=${tile}|${n}`)!);
          e.mean = e.rounds.reduce((a, b) => a + b, 0) / e.rounds.length;
          tiles.set(key, e);
        }
      });
      const shown = ['f32', ...PACKED, ...TILE_CANDIDATES.map((t) => `f32 tile=${t}`)];
      say(`round ${round + 1}: gemm n = ${n}: ${shown.map((v) => `${v} ${rates.get(`${v}|${n}`)!.toPrecision(3)}`).join(', ')} TFLOP/s (${timing})`);
    }
    return rates;
  };
  const theirs = async (): Promise<Map<number, number> | string> => {
    if (!peer.available) return peer.reason;
    const r = await runPeer(peer, 'pytorch-gemm.py', ['--sizes', plan.sizes.join(','), '--reps', String(plan.reps), '--warmup', String(plan.warmup)], PEER_TIMEOUT_MS);
    if (!r.ok) return r.error;
    const m = new Map((r.result.results as { n: number; tflops: number }[]).map((x) => [x.n, x.tflops]));
    say(`round ${round + 1}: torch.matmul fp32: ${[...m].map(([n, v]) => `n = ${n} ${v.toFixed(2)}`).join(', ')} TFLOP/s`);
    return m;
  };
  let mine: Map<string, number>;
  let peers: Map<number, number> | string;
  if (round % 2) {
    peers = await theirs();
    mine = await ours();
  } else {
    mine = await ours();
    peers = await theirs();
  }
  const rows: SpeedRound[] = [];
  for (const n of plan.sizes) {
    const own = mine.get(`f32|${n}`)!;
    const pv = typeof peers === 'string' ? null : (peers.get(n) ?? null);
    const row: SpeedRound = { what: 'gemm', variant: 'f32', size: n, unit: 'TFLOP/s', peer: pytorchPeers(peer.device).gemm, value: own, peerValue: pv };
    if (pv === null) row.peerNote = typeof peers === 'string' ? peers : `the peer reported no n = ${n}`;
    rows.push(row);
    for (const f of PACKED) rows.push({ what: 'gemm', variant: f, size: n, unit: 'TFLOP/s', peer: PEERS.ownF32, value: mine.get(`${f}|${n}`)!, peerValue: own });
  }
  return { rows, timing };
}

function planOf(ctx: BenchContext, gpu: Gpu): Plan {
  const software = gpu.adapter.software;
  return {
    what: ctx.what ?? SPEED_WHATS,
    rounds: ctx.rounds ?? 3,
    batches: ctx.batches ?? [64, 256],
    sizes: ctx.sizes ?? (software ? [128, 256] : [2048, 4096]),
    iterations: ctx.iterations ?? (software ? 3 : 200),
    warmup: ctx.warmup,
    reps: ctx.reps,
  };
}

async function run(ctx: BenchContext): Promise<void> {
  const gpu = await openBenchGpu(ctx.gpuOptions);
  try {
    const plan = planOf(ctx, gpu);
    const peer = await findPeer(ctx.python ?? 'python3', ctx.peerDevice ?? 'auto');
    const a = gpu.adapter;
    process.stdout.write(
      `posit-gan bench speed on ${a.description} (${a.software ? 'software' : 'hardware'}, ${a.runtime}): ${plan.what.join(', ')}; ` +
        `${plan.rounds} rounds, ${plan.iterations} timed training iterations and ${plan.reps} timed products per measurement after ${plan.warmup} warm-up\n` +
        `peers: ${peer.available ? `PyTorch ${peer.torch} on ${peer.device} (${peer.name}) through ${peer.python}` : peer.reason}\n`,
    );
    const needsData = (m: 'cgan' | 'dcgan') => plan.what.includes(m === 'cgan' ? 'cgan-train' : 'dcgan-train');
    const data = {
      cgan: needsData('cgan') ? loadMnist('train', { limit: Math.max(...plan.batches) * 4 }) : null,
      dcgan: needsData('dcgan') ? loadMnist('train', { pad32: true, limit: Math.max(...plan.batches) * 4 }) : null,
    };
    const rt = new Runtime(gpu);
    const rounds: SpeedRound[] = [];
    let timing: TimingMethod = 'wall-clock';
    let quireNote = '';
    const tiles = new Map<string, TileRates>();
    for (let round = 0; round < plan.rounds; round++) {
      for (const model of ['cgan', 'dcgan'] as const) {
        const d = data[model];
        if (d) rounds.push(...(await trainRound(gpu, d, peer, model, plan, round)));
      }
      if (plan.what.includes('gemm')) {
        const g = await gemmRound(rt, peer, plan, round, tiles);
        rounds.push(...g.rows);
        timing = g.timing;
      }
      if (plan.what.includes('quire')) {
        const q = await quireRows({ gpu, rt, sizes: plan.sizes, reps: plan.reps, warmup: plan.warmup });
        rounds.push(...q.rounds);
        quireNote = q.note;
        if (!plan.what.includes('gemm')) timing = q.timing;
      }
    }
    const rows = aggregate(rounds);
    const markdown = markdownTable(rows);
    process.stdout.write(`\n${markdown}\n${quireNote ? `\n${quireNote}\n` : ''}`);
    saveResult(ctx, 'speed', a, timing, {
      reps: plan.reps,
      rounds: plan.rounds,
      iterations: plan.iterations,
      timingNote:
        'training: wall clock over the timed iterations, the device synchronized at both ends (PyTorch the same); gemm: ' +
        `${timing === 'timestamp' ? 'GPU timestamps per product' : 'the wall clock per product'}, cuBLAS between CUDA events; every rate the mean over its timed window`,
      peers: peer.available ? { python: peer.python, device: peer.device, name: peer.name, torch: peer.torch } : { python: peer.python, unavailable: peer.reason },
      ...(quireNote ? { quire: quireNote } : {}),
      ...(tiles.size ? { f32Tiles: { note: 'f32 GEMM with each candidate tile forced (TFLOP/s per round): not rows; what a planner change would rest on', rates: [...tiles.values()] } } : {}),
      results: rows,
      markdown,
    });
  } finally {
    gpu.destroy();
  }
}

const benchmark: Benchmark = { run };
export default benchmark;
