// `posit-gan quantize`: float32 bit patterns on stdin (8 hex digits per line) -> one code per line on
// stdout, on the GPU (the generated WGSL codecs) or the CPU (the TypeScript reference codec). Input is
// streamed in chunks of CHUNK_LINES lines, one GPU round trip per chunk.

import { openNodeGpu } from '../../../engine/device/node.ts';
import { decode, encodeF32Bits, unpackCodes } from '../../../formats/codec.ts';
import { parseFormat, type Format, type Rounding } from '../../../formats/descriptor.ts';
import { random } from '../../../formats/rng.ts';
import { encodeArray, MAX_BIAS } from '../../../engine/kernels/quantize.ts';
import { Runtime } from '../../../engine/runtime.ts';
import { int, oneOf, str, UsageError, type Command, type Values } from '../command.ts';
import { GPU_OPTIONS, gpuOptionsFrom } from '../gpu-options.ts';

const CHUNK_LINES = 1 << 18;

// `--backend` here picks gpu or cpu; Dawn's backend (GPU_OPTIONS' --backend) goes in as a Dawn flag.
const { backend: _dawnBackend, ...DEVICE_OPTIONS } = GPU_OPTIONS;

interface Settings {
  format: Format;
  rounding: Rounding;
  seed: number;
  bias: number;
  values: boolean;
}

/** The shortest round-trip decimal of a code's exact value times 2^-t (NaN for NaN/NaR). */
function valueText(f: Format, code: number, bias: number): string {
  const v = decode(f, code, bias);
  return Object.is(v, -0) ? '-0' : String(v);
}

/** Parses one input line (1-based number `line`) into a float32 bit pattern. */
function parseLine(text: string, line: number): number {
  const s = text.trim();
  if (!/^[0-9a-fA-F]{8}$/.test(s)) {
    const shown = JSON.stringify(text.length > 40 ? text.slice(0, 40) + '...' : text);
    throw new UsageError(`input line ${line} is ${shown}: expected a float32 bit pattern as 8 hex digits, e.g. 3f800000`);
  }
  return parseInt(s, 16);
}

/** Codes of one chunk of inputs whose first line has 0-based number `first`. */
async function encodeChunk(s: Settings, rt: Runtime | undefined, bits: Uint32Array, first: number): Promise<Uint32Array> {
  const { format: f, rounding, bias, seed } = s;
  if (rt) {
    const packed = await encodeArray(rt, f, bits, { rounding, bias, seed, counter: first >>> 0 });
    return unpackCodes(f, packed, bits.length);
  }
  const codes = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const r = rounding === 'stochastic' ? random(seed, (first + i) >>> 0) : 0;
    codes[i] = encodeF32Bits(f, bits[i]!, { rounding, bias, random: r });
  }
  return codes;
}

function formatChunk(s: Settings, codes: Uint32Array): string {
  const digits = Math.ceil(s.format.bits / 4);
  const lines = new Array<string>(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const hex = codes[i]!.toString(16).padStart(digits, '0');
    lines[i] = s.values ? `${hex} ${valueText(s.format, codes[i]!, s.bias)}` : hex;
  }
  return lines.join('\n') + '\n';
}

/** Stdout with backpressure. A reader that goes away (EPIPE, e.g. `| head`) ends the output quietly;
 *  the stream reports it as an 'error' event after the failed write's callback, so the listener stays
 *  for the whole command. */
class Output {
  private gone = false;
  private failure: Error | undefined;
  constructor() {
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') this.gone = true;
      else this.failure = e;
    });
  }
  /** False once the reader has gone. */
  write(text: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.gone) return resolve(false);
      process.stdout.write(text, (e) => {
        if (e && (e as NodeJS.ErrnoException).code !== 'EPIPE') reject(this.failure ?? e);
        else resolve(!e && !this.gone);
      });
    });
  }
}

/** Lines of stdin in chunks of at most CHUNK_LINES (the final newline ends the last line). */
async function* lineChunks(): AsyncGenerator<string[]> {
  let pending = '';
  let chunk: string[] = [];
  for await (const data of process.stdin) {
    const parts = (pending + (data as Buffer).toString('latin1')).split('\n');
    pending = parts.pop()!;
    for (const p of parts) {
      chunk.push(p);
      if (chunk.length === CHUNK_LINES) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (pending !== '') chunk.push(pending);
  if (chunk.length) yield chunk;
}

async function run(values: Values): Promise<number> {
  const spec = str(values, 'format');
  if (!spec) throw new UsageError('--format is required, e.g. --format p8e2');
  const s: Settings = {
    format: parseFormat(spec),
    rounding: oneOf(values, 'rounding', ['nearest', 'stochastic'] as const, 'nearest'),
    seed: int(values, 'seed', 0, 0, 0xffffffff),
    bias: int(values, 'bias', 0, -MAX_BIAS, MAX_BIAS),
    values: values.values === true,
  };
  const backend = oneOf(values, 'backend', ['gpu', 'cpu'] as const, 'gpu');
  // Our --backend is gpu|cpu, not the Dawn backend gpuOptionsFrom would read from it.
  const { backend: _ours, ...device } = values;
  const gpu = backend === 'gpu' ? await openNodeGpu(gpuOptionsFrom(device)) : undefined;
  const rt = gpu && new Runtime(gpu);
  try {
    const out = new Output();
    let first = 0;
    for await (const lines of lineChunks()) {
      // Lines before a malformed one are still answered, so the output does not depend on chunking.
      const bits = new Uint32Array(lines.length);
      let bad: UsageError | undefined;
      let n = 0;
      for (; n < lines.length; n++) {
        try {
          bits[n] = parseLine(lines[n]!, first + n + 1);
        } catch (e) {
          bad = e as UsageError;
          break;
        }
      }
      if (n > 0 && !(await out.write(formatChunk(s, await encodeChunk(s, rt, bits.subarray(0, n), first))))) return 0;
      if (bad) throw bad;
      first += lines.length;
    }
    return 0;
  } finally {
    gpu?.destroy();
  }
}

const quantize: Command = {
  name: 'quantize',
  summary: 'encode float32 bit patterns from stdin into a number format (GPU or CPU reference)',
  help: `Usage: posit-gan quantize --format FMT [--backend gpu|cpu] [--rounding nearest|stochastic]
                          [--seed N] [--bias T] [--values] [device options]

Reads IEEE float32 bit patterns from standard input, one per line as 8 hex digits (e.g. 3f800000 is
1.0), and writes one line per input: the format's code in lowercase hex, zero-padded to
ceil(bits/4) digits. Semantics: docs/number-formats.md.

  --format FMT           number format, e.g. p8e2, p16e1, fp16, bf16, e4m3, e4m3q, fixed(wl=8,fl=4)
                         (see posit-gan formats --help)
  --backend gpu|cpu      gpu (default): the generated WGSL codec on the WebGPU device;
                         cpu: the TypeScript reference codec
  --rounding MODE        nearest (default) or stochastic
  --seed N               stochastic rounding seed, 0..4294967295 (default 0); line i (0-based) draws
                         random(seed, i), so results are reproducible and equal on both backends
  --bias T               exponent bias t, -${MAX_BIAS}..${MAX_BIAS}: encode x * 2^t, print values times 2^-t
                         (default 0; write a negative one as --bias=-3)
  --values               after each code, a space and its exact value times 2^-t as the shortest
                         round-trip decimal (NaN for NaN/NaR, Infinity, -0); the value is computed
                         from the code on the host, so both backends print the same text

A malformed line stops the command with exit code 2 after the lines before it are answered.

Device options (gpu backend):
  --adapter auto|hardware|software, --adapter-name TEXT, --dawn-flag FLAG (repeatable; Dawn's
  backend as --dawn-flag backend=vulkan), --subgroup-matrix: as for posit-gan info`,
  options: {
    ...DEVICE_OPTIONS,
    format: { type: 'string', short: 'f' },
    backend: { type: 'string' },
    rounding: { type: 'string' },
    seed: { type: 'string' },
    bias: { type: 'string' },
    values: { type: 'boolean' },
  },
  run,
};
export default quantize;
