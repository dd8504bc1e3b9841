// `posit-gan bench <name>`: performance benchmarks (not tests). Each prints a table and writes JSON
// with the adapter's description to results/bench/<name>-<adapter>.json. Adding one is one line in
// BENCHMARKS; they share the options below (a benchmark reads the ones that make sense for it).

import type { Benchmark, BenchContext } from '../../bench/report.ts';
import { parseFormat } from '../../../formats/descriptor.ts';
import { NOISE_MODEL_KINDS as MODEL_KINDS, type NoiseModelKind as ModelKind } from '../../models/gan.ts';
import { int, str, UsageError, type Command, type Values } from '../command.ts';
import { GPU_OPTIONS, gpuOptionsFrom } from '../gpu-options.ts';

/** Untimed runs before the timed ones, unless --warmup says otherwise. */
const DEFAULT_WARMUP = 2;

// `warmup`: a benchmark's own default. bench train warms up for as many iterations as its PyTorch peer
// (scripts/peers/pytorch-cgan.py, --warmup default 30), so their rates compare like for like.
const BENCHMARKS: Record<string, { summary: string; warmup?: number; load: () => Promise<Benchmark> }> = {
  quantize: { summary: 'quantize / encode / decode throughput per format and size, against an f32 copy', load: async () => (await import('../../bench/quantize.ts')).default },
  matmul: { summary: 'GEMM GFLOP/s per operand variant (f32, packed codes, p16e2 output, quire) and size n', load: async () => (await import('../../bench/matmul.ts')).default },
  quire: { summary: 'exact quire GEMM TFLOP/s (p8e2 -> p16e2) per method beside the f32 kernel; --check: bit-exactness', load: async () => (await import('../../bench/quire.ts')).default },
  conv: { summary: 'conv2d / convTranspose2d GFLOP/s per operand variant on DCGAN-like layers, per batch', load: async () => (await import('../../bench/conv.ts')).default },
  train: { summary: 'GAN training iterations and images per second per recipe and batch size', warmup: 30, load: async () => (await import('../../bench/train.ts')).default },
  speed: { summary: "issue 14's targets in one run: training, GEMM and quire rates beside their peers", load: async () => (await import('../../bench/speed.ts')).default },
};

const SPEED_WHATS = ['cgan-train', 'dcgan-train', 'gemm', 'quire'] as const;
const PEER_DEVICES = ['cuda', 'cpu', 'none', 'auto'] as const;

/** "2^16,2^20,1000" -> element counts. */
function parseSizes(text: string): number[] {
  return text.split(',').map((item) => {
    const s = item.trim();
    const pow = /^2\^(\d+)$/.exec(s);
    const n = pow ? 2 ** Number(pow[1]) : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--sizes: '${s}' is not a positive element count (e.g. 2^20 or 1048576)`);
    return n;
  });
}

/** Splits a format list on the commas outside parentheses: "p8e2,fixed(wl=8,fl=4)". */
function parseFormats(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
    cur += ch;
  }
  out.push(cur.trim());
  for (const f of out) parseFormat(f); // a bad spec is a usage error, before the device opens
  return out;
}

function context(values: Values, defaultWarmup: number): BenchContext {
  const ctx: BenchContext = {
    gpuOptions: gpuOptionsFrom(values),
    reps: int(values, 'reps', 7, 1, 1000),
    warmup: int(values, 'warmup', defaultWarmup, 0, 1000),
  };
  const sizes = str(values, 'sizes');
  if (sizes !== undefined) ctx.sizes = parseSizes(sizes);
  const formats = str(values, 'formats');
  if (formats !== undefined) ctx.formats = parseFormats(formats);
  const out = str(values, 'out');
  if (out !== undefined) ctx.out = out;
  const model = str(values, 'model');
  if (model !== undefined) {
    if (!(MODEL_KINDS as readonly string[]).includes(model)) throw new UsageError(`--model must be one of ${MODEL_KINDS.join(', ')}, got '${model}'`);
    ctx.model = model as ModelKind;
  }
  const recipes = str(values, 'recipes') ?? str(values, 'recipe');
  if (recipes !== undefined) ctx.recipes = recipes.split(',').map((r) => r.trim());
  const batches = str(values, 'batches') ?? str(values, 'batch');
  if (batches !== undefined) {
    ctx.batches = batches.split(',').map((b) => {
      if (!/^\d+$/.test(b.trim()) || Number(b) < 1) throw new UsageError(`--batches: '${b}' is not a positive integer`);
      return Number(b);
    });
  }
  if (values.profile === true) ctx.profile = true;
  if (values.check === true) ctx.check = true;
  if (str(values, 'submit-every') !== undefined) ctx.submitEvery = int(values, 'submit-every', 64, 1, 1 << 20);
  if (str(values, 'rounds') !== undefined) ctx.rounds = int(values, 'rounds', 3, 1, 100);
  if (str(values, 'iterations') !== undefined) ctx.iterations = int(values, 'iterations', 200, 1, 100000);
  const what = str(values, 'what');
  if (what !== undefined) {
    ctx.what = what.split(',').map((w) => {
      const x = w.trim() as (typeof SPEED_WHATS)[number];
      if (!SPEED_WHATS.includes(x)) throw new UsageError(`--what: '${w}' is not one of ${SPEED_WHATS.join(', ')}`);
      return x;
    });
  }
  const peerDevice = str(values, 'peer-device');
  if (peerDevice !== undefined) {
    if (!(PEER_DEVICES as readonly string[]).includes(peerDevice)) throw new UsageError(`--peer-device must be one of ${PEER_DEVICES.join(', ')}, got '${peerDevice}'`);
    ctx.peerDevice = peerDevice as (typeof PEER_DEVICES)[number];
  }
  const python = str(values, 'python');
  if (python !== undefined) ctx.python = python;
  return ctx;
}

const width = Math.max(...Object.keys(BENCHMARKS).map((k) => k.length));

const bench: Command = {
  name: 'bench',
  summary: 'run a performance benchmark (prints a table, writes results/bench/<name>-<adapter>.json)',
  usage: `posit-gan bench <name> [--sizes LIST] [--formats LIST] [--reps N] [--warmup N] [--out PATH]
                       [device options]`,
  help: [
    `Benchmarks:
${Object.entries(BENCHMARKS)
  .map(([k, b]) => `  ${k.padEnd(width)}  ${b.summary}`)
  .join('\n')}`,
    `Timing uses GPU timestamp queries (the device is opened with Dawn's
disable-dawn-features=timestamp_quantization); without the timestamp-query feature it falls back to
the wall clock around each submit, and the results say so. The median of the repetitions is reported.`,
    {
      options: [
        { name: 'sizes', type: 'string', value: 'LIST', help: 'element counts, e.g. 2^16,2^20,2^24 (default: chosen for the device)' },
        { name: 'formats', type: 'string', value: 'LIST', help: "number formats, e.g. p8e2,fp16,fixed(wl=8,fl=4) (default: the benchmark's set)" },
        { name: 'reps', type: 'string', value: 'N', help: 'timed repetitions (default 7)' },
        { name: 'warmup', type: 'string', value: 'N', help: `untimed runs before them (default ${DEFAULT_WARMUP}; train: 30, as its PyTorch peer)` },
        { name: 'out', type: 'string', value: 'PATH', help: 'JSON result path (default results/bench/<name>-<adapter slug>.json)' },
        { name: 'model', type: 'string', value: MODEL_KINDS.join('|'), help: 'train: the model (default cgan)' },
        {
          name: 'recipes',
          type: 'string',
          value: 'LIST',
          help:
            'train: the recipes (default fp32,fp16,bf16,p8+,p8,p8-all,fp8); for the training benchmarks --reps is the number of timed ' +
            'iterations; it reports their median and their mean (iterations / the timed window\'s wall-clock time)',
        },
        { name: 'recipe', type: 'string', value: 'LIST', help: 'the same as --recipes' },
        { name: 'batches', type: 'string', value: 'LIST', help: 'train: the batch sizes (default 64,256)' },
        { name: 'batch', type: 'string', value: 'LIST', help: 'the same as --batches' },
        {
          name: 'profile',
          type: 'boolean',
          help:
            'train: also time each kernel of one more iteration on its own (a breakdown by kernel, GPU timestamps; the whole iteration ' +
            'runs slower while profiled);\nquire: the same for one run of each sliced quire method',
        },
        {
          name: 'check',
          type: 'boolean',
          help:
            'quire: no timing; every quire method this device has against the per-product quire on random and adversarial operands, ' +
            'exit status 1 on any difference (--sizes n gives n x n x n shapes instead of the default set)',
        },
        {
          name: 'submit-every',
          type: 'string',
          value: 'N',
          help: 'train: dispatches recorded per submit (default 64 on a GPU, 4096 on a software adapter; a large N submits only when the losses are read back)',
        },
        ],
      },
      {
        title: "speed (issue 14's rows, each beside its peer in the same run, in rounds that alternate the order):",
        options: [
          { name: 'what', type: 'string', value: 'LIST', help: 'cgan-train,dcgan-train,gemm,quire (default all)' },
          { name: 'rounds', type: 'string', value: 'N', help: 'rounds (default 3); each row reports every round and their mean' },
          {
            name: 'iterations',
            type: 'string',
            value: 'N',
            help:
              'timed training iterations per measurement (default 200; 3 on a software adapter); --warmup iterations before them, on both ' +
              'sides; --batches (default 64,256); --sizes: GEMM n (default 2048,4096), --reps timed products per size',
          },
          {
            name: 'peer-device',
            type: 'string',
            value: 'D',
            help: 'where the PyTorch peers run: auto (default: cuda if PyTorch has it, else no peers), cuda, cpu (a rehearsal of the scripts, not a peer of a GPU) or none',
          },
          { name: 'python', type: 'string', value: 'PATH', help: 'the python3 with torch for the peers (default python3)' },
        ],
      },
    GPU_OPTIONS,
  ],
  positionals: true,
  async run(values, positionals) {
    const [name, ...extra] = positionals;
    if (name === undefined) throw new UsageError(`name a benchmark: ${Object.keys(BENCHMARKS).join(', ')}`);
    const entry = BENCHMARKS[name];
    if (!entry) throw new UsageError(`unknown benchmark '${name}'; available: ${Object.keys(BENCHMARKS).join(', ')}`);
    if (extra.length) throw new UsageError(`unexpected argument(s): ${extra.join(' ')}`);
    const ctx = context(values, entry.warmup ?? DEFAULT_WARMUP);
    await (await entry.load()).run(ctx);
  },
};
export default bench;
