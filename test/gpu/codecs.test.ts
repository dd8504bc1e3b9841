// The generated WGSL codecs and the codec kernels against the TypeScript reference, bit for bit, on the
// device (lavapipe in CI): decode of every pattern of the 8- and 16-bit formats, encode of every value,
// midpoint and float32 neighbour, specials and random patterns, with and without an exponent bias,
// nearest and stochastic (explicit random numbers at the rule's exact thresholds, and the kernels'
// counter-based generator), packed storage, chunked dispatches and grids past 65535 workgroups.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNodeGpu } from '../../engine/device/node.ts';
import type { Gpu } from '../../engine/device/gpu.ts';
import { decodeToF32Bits, encodeF32Bits, packCodes } from '../../formats/codec.ts';
import { parseFormat, type Format, type Rounding } from '../../formats/descriptor.ts';
import { random } from '../../formats/rng.ts';
import { decodeArray, encodeArray, packedWords, quantizeArray, runCodec, type CodecJob } from '../../engine/kernels/quantize.ts';
import { Runtime } from '../../engine/runtime.ts';
import { codecLibrary, decoderBitsName, encoderName } from '../../shaders/codecs/index.ts';
import { bindingTable, grid1d, kernelVariant } from '../../shaders/kernel.ts';
import { CODEC_PARAMS, codecChunks } from '../../shaders/quantize.ts';
import { encodeInputs, randomU32, specialInputs } from './codec-inputs.ts';

let gpu: Gpu;
let rt: Runtime;
beforeAll(async () => {
  gpu = await openNodeGpu({ notice: () => {} });
  // Few free bytes kept: the tests below use buffers of up to 64 MiB once each.
  rt = new Runtime(gpu, { freeCapBytes: 1 << 20 });
});
afterAll(() => gpu?.destroy());

const hex = (v: number) => '0x' + (v >>> 0).toString(16);

/** Fails with the first few differing elements, described by `what(i)`. */
function expectSameBits(label: string, got: ArrayLike<number>, want: ArrayLike<number>, what: (i: number) => string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    if (got[i]! >>> 0 !== want[i]! >>> 0) {
      count++;
      if (bad.length < 8) bad.push(`  ${what(i)}: got ${hex(got[i]!)}, want ${hex(want[i]!)}`);
    }
  }
  expect(count, `${label}: ${count} of ${want.length} differ\n${bad.join('\n')}`).toBe(0);
}

// ---- the codec functions themselves, called with explicit random numbers ---------------------------

/** Runs enc_<tag>_<rounding>(x, t, r) and dec_bits_<tag>(code, t) on the device for every element. */
async function evalCodec(f: Format, rounding: Rounding, xs: Uint32Array, rs: Uint32Array, t: number) {
  const k = kernelVariant({
    label: `eval:${f.name}:${rounding}`,
    key: `${f.name}:${rounding}`,
    params: CODEC_PARAMS,
    bindings: bindingTable([['xs', 'read', 'array<u32>'], ['rs', 'read', 'array<u32>'], ['codes', 'read_write', 'array<u32>'], ['vals', 'read_write', 'array<u32>']]),
    source: (header) => `${codecLibrary([{ format: f, encoders: [rounding] }])}
${header}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= P.count) { return; }
  let c = ${encoderName(f, rounding)}(xs[i], P.t, rs[i]);
  codes[i] = c;
  vals[i] = ${decoderBitsName(f)}(c, P.t);
}`,
  });
  const n = xs.length;
  const [xb, rb] = [gpu.upload(xs, 'xs'), gpu.upload(rs, 'rs')];
  const [cb, vb] = [0, 1].map(() => gpu.device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC }));
  try {
    await gpu.scoped(`eval ${f.name}`, () => {
      rt.run(k, { count: n, t, seed: 0, counter: 0 }, { xs: xb, rs: rb, codes: cb!, vals: vb! }, grid1d(gpu.limits, Math.ceil(n / 256)));
      rt.flush();
    });
    const codes = new Uint32Array(await rt.readBuffer(cb!, n * 4, 'codes'));
    const vals = new Uint32Array(await rt.readBuffer(vb!, n * 4, 'values'));
    return { codes, vals };
  } finally {
    for (const b of [xb, rb, cb!, vb!]) b.destroy();
  }
}

/** Encode (and decode the result) on the device and with the reference; compare both. */
async function checkEncode(f: Format, rounding: Rounding, xs: Uint32Array, rs: Uint32Array, t: number): Promise<void> {
  const got = await evalCodec(f, rounding, xs, rs, t);
  const want = new Uint32Array(xs.length);
  const wantVals = new Uint32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    want[i] = encodeF32Bits(f, xs[i]!, { rounding, bias: t, random: rs[i]! });
    wantVals[i] = decodeToF32Bits(f, want[i]!, t);
  }
  const what = (i: number) => `x=${hex(xs[i]!)} t=${t} r=${hex(rs[i]!)}`;
  expectSameBits(`enc ${f.name} ${rounding}`, got.codes, want, what);
  expectSameBits(`dec(enc) ${f.name}`, got.vals, wantVals, what);
}

// Every family and flag combination the descriptor offers a distinct code path for.
const GOLDEN_POSITS = ['p6e1', 'p6e2', 'p8e0', 'p8e1', 'p8e2', 'p16e1', 'p16e2'];
const OTHER_POSITS = ['p32e2', 'p5e3', 'p2e0', 'p3e4', 'p12e4', 'p32e0', 'p32e4', 'p24e3'];
const FLOATS = [
  'fp16', 'bf16', 'e4m3', 'e5m2', 'e4m3q', 'e5m2q', 'e3m2', 'e2m3', 'e2m1', 'fp32',
  'e4m3(sat=0)', 'e5m2(sat=0)', 'e5m2(ties=away)',
  'float(e=3,m=0,subnormals=0,inf=0,nan=0,sat=1,ties=even,underflow=qtorch)',
  'float(e=4,m=3,bias=8,subnormals=0,inf=1,nan=1,sat=0,ties=away,underflow=qtorch)',
  'float(e=4,m=2,bias=-5,subnormals=0,inf=0,nan=1,sat=0,ties=away)',
  'float(e=8,m=3,bias=200,subnormals=1,inf=0,nan=0,sat=1)',
  'float(e=2,m=0,subnormals=1,inf=0,nan=0,sat=1)',
];
const FIXED = ['fixed(wl=8,fl=4)', 'fixed(wl=16,fl=8,sat=0,ties=away)', 'fixed(wl=32,fl=-3)', 'fixed(wl=32,fl=40,sat=0)', 'fixed(wl=2,fl=0)'];
const ALL = [...GOLDEN_POSITS, ...OTHER_POSITS, ...FLOATS, ...FIXED];
/** Encode inputs per format, built once (the stochastic tests reuse the nearest tests' set). */
const inputCache = new Map<string, Uint32Array>();
function inputsFor(f: Format): Uint32Array {
  let xs = inputCache.get(f.name);
  if (!xs) inputCache.set(f.name, (xs = encodeInputs(f, 20000)));
  return xs;
}

/** Biases beside 0: moderate, and the extremes |t| = 256 that push values off every format. */
const BIASES = [5, -3, 256, -256];

describe('WGSL decode equals the reference', () => {
  it.each(ALL)('%s: every pattern (or 2^16 of them), t = 0 and t = ±37', async (name) => {
    const f = parseFormat(name);
    const codes = f.bits <= 16 ? Uint32Array.from({ length: 2 ** f.bits }, (_, i) => i) : randomU32(1 << 16, 3).map((c) => c % 2 ** f.bits);
    if (f.bits > 16) codes.set([0, 1, 2 ** (f.bits - 1), 2 ** (f.bits - 1) - 1, 2 ** (f.bits - 1) + 1, 2 ** f.bits - 1]);
    for (const t of [0, 37, -37]) {
      const got = new Uint32Array((await decodeArray(rt, f, packCodes(f, codes), codes.length, { bias: t })).buffer);
      const want = codes.map((c) => decodeToF32Bits(f, c, t));
      expectSameBits(`decode ${name}`, got, want, (i) => `code=${hex(codes[i]!)} t=${t}`);
    }
  });
});

describe('WGSL encode (nearest) equals the reference', () => {
  it.each(ALL)('%s: values, midpoints, neighbours, specials, random patterns', async (name) => {
    const f = parseFormat(name);
    const xs = inputsFor(f);
    // Nearest must ignore r: feed random numbers anyway.
    await checkEncode(f, 'nearest', xs, randomU32(xs.length, 5), 0);
    const few = Uint32Array.from([...specialInputs(), ...randomU32(4000, 9)]);
    for (const t of BIASES) await checkEncode(f, 'nearest', few, new Uint32Array(few.length), t);
  });

  it('covers at least a million encode inputs in total', () => {
    const total = ALL.reduce((s, name) => s + inputsFor(parseFormat(name)).length, 0);
    expect(total).toBeGreaterThan(1_000_000);
  });
});

describe('WGSL stochastic rounding equals the reference', () => {
  /** The smallest r that rounds x down (the rule's threshold), by bisection on the reference. */
  function threshold(f: Format, x: number): number {
    const enc = (r: number) => encodeF32Bits(f, x, { rounding: 'stochastic', random: r });
    const down = enc(0xffffffff);
    let lo = 0;
    let hi = 0xffffffff;
    if (enc(0) === down) return 0;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (enc(mid) === down) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  it.each(ALL)('%s: random r, and r at both sides of each input\'s threshold', async (name) => {
    const f = parseFormat(name);
    const grid = inputsFor(f);
    await checkEncode(f, 'stochastic', grid, randomU32(grid.length, 17), 0);
    // Thresholds for a sample of inputs between neighbours: r = T - 1 rounds up, r = T rounds down.
    const sample = randomU32(400, 23).map((i) => grid[i % grid.length]!);
    const xs: number[] = [];
    const rs: number[] = [];
    for (const x of sample) {
      const T = threshold(f, x);
      for (const r of [T - 1, T, T + 1, 0, 0xffffffff]) {
        if (r < 0 || r > 0xffffffff) continue;
        xs.push(x);
        rs.push(r);
      }
    }
    await checkEncode(f, 'stochastic', Uint32Array.from(xs), Uint32Array.from(rs), 0);
    const few = Uint32Array.from([...specialInputs(), ...randomU32(2000, 31)]);
    for (const t of BIASES) await checkEncode(f, 'stochastic', few, randomU32(few.length, 41 + t), t);
  });

  it('the kernels draw random(seed, counter + i), reproducibly', async () => {
    const f = parseFormat('p8e2');
    const xs = randomU32(5000, 77).map((b) => (b & 0x807fffff) | 0x3f000000); // magnitudes in [0.5, 2)
    const seed = 1234567;
    const counter = 0xfffff000; // wraps past 2^32 inside the array
    const got = await encodeArray(rt, f, xs, { rounding: 'stochastic', seed, counter, bias: 2 });
    const want = packCodes(f, Array.from(xs, (x, i) => encodeF32Bits(f, x, { rounding: 'stochastic', bias: 2, random: random(seed, (counter + i) >>> 0) })));
    expectSameBits('packed stochastic p8e2', got, want, (i) => `word ${i}`);
    const again = await encodeArray(rt, f, xs, { rounding: 'stochastic', seed, counter, bias: 2 });
    expect(Array.from(again)).toEqual(Array.from(got));
    const other = await encodeArray(rt, f, xs, { rounding: 'stochastic', seed: seed + 1, counter, bias: 2 });
    expect(Array.from(other)).not.toEqual(Array.from(got));
  });
});

describe('codec kernels', () => {
  const LENGTHS = [1, 3, 5, 6, 7, 1023, 4099];
  it.each(['p6e1', 'p8e2', 'e4m3q', 'fp16', 'p16e2', 'fixed(wl=12,fl=6,sat=0)', 'p32e2', 'e8m23', 'fixed(wl=17,fl=3)'])(
    '%s: packed encode / decode round trips, quantize = decode(encode), lengths not a multiple of 4',
    async (name) => {
      const f = parseFormat(name);
      for (const n of LENGTHS) {
        const xs = randomU32(n, n).map((b) => (b & 0x8fffffff) + 0x30000000); // mostly finite, varied scales
        for (const rounding of ['nearest', 'stochastic'] as const) {
          const o = { rounding, bias: -2, seed: 9, counter: 100 };
          const codes = Array.from(xs, (x, i) => encodeF32Bits(f, x, { rounding, bias: -2, random: random(9, 100 + i) }));
          const packed = await encodeArray(rt, f, xs, o);
          expect(packed.length).toBe(packedWords(f, n));
          expectSameBits(`encode ${name} n=${n}`, packed, packCodes(f, codes), (i) => `word ${i}`);
          const back = new Uint32Array((await decodeArray(rt, f, packed, n, o)).buffer);
          const want = codes.map((c) => decodeToF32Bits(f, c, -2));
          expectSameBits(`decode ${name} n=${n}`, back, want, (i) => `element ${i}`);
          const q = new Uint32Array((await quantizeArray(rt, f, xs, o)).buffer);
          expectSameBits(`quantize ${name} n=${n}`, q, want, (i) => `element ${i}`);
        }
      }
    },
  );

  it('chunked dispatches (small binding limit) give the same results, counters included', async () => {
    for (const name of ['p8e2', 'bf16', 'p32e2']) {
      for (const op of ['encode', 'quantize'] as const) {
        const f = parseFormat(name);
        const n = 10000 + 3;
        const xs = randomU32(n, 99).map((b) => (b & 0x8fffffff) + 0x30000000);
        const src = gpu.upload(xs, 'src');
        const dst = gpu.device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
        try {
          const o = { rounding: 'stochastic', seed: 5, counter: 7 } as const;
          const job: CodecJob = { ...o, op, format: f, count: n, input: src, output: dst, maxBindingBytes: 4096 };
          expect(runCodec(rt, job)).toBeGreaterThan(3);
          const words = op === 'encode' ? packedWords(f, n) : n;
          const got = new Uint32Array(await rt.readBuffer(dst, words * 4, 'chunked'));
          const whole = op === 'encode' ? await encodeArray(rt, f, xs, o) : new Uint32Array((await quantizeArray(rt, f, xs, o)).buffer);
          expectSameBits(`chunked ${op} ${name}`, got, whole, (i) => `word ${i}`);
        } finally {
          src.destroy();
          dst.destroy();
        }
      }
    }
  });

  it('a grid past 65535 workgroups covers every element (2^24 + 3 fp32 codes, one per invocation)', async () => {
    const n = 2 ** 24 + 3;
    const xs = new Uint32Array(n);
    for (let i = 0; i < n; i++) xs[i] = Math.imul(i, 2654435761) & 0xff7fffff; // finite: their own fp32 codes
    const src = gpu.upload(xs, 'src');
    const dst = gpu.device.createBuffer({ size: 4 * n, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    try {
      const f = parseFormat('fp32');
      expect(codecChunks('encode', f, n, gpu.limits).map((c) => c.grid[1])).toEqual([2]); // split over y: 65537 workgroups
      runCodec(rt, { op: 'encode', format: f, count: n, input: src, output: dst });
      const out = new Uint32Array(await rt.readBuffer(dst, 4 * n, 'encode fp32'));
      let bad = -1;
      for (let i = 0; i < n && bad < 0; i++) if (out[i] !== xs[i]) bad = i;
      expect(bad, `first wrong element ${bad}`).toBe(-1);
    } finally {
      src.destroy();
      dst.destroy();
    }
  });

  it('rejects bad jobs with a message that names the problem', async () => {
    const f = parseFormat('p8e2');
    await expect(quantizeArray(rt, f, new Float32Array(4), { bias: 300 })).rejects.toThrow(/bias t must be an integer in -256..256/);
    await expect(quantizeArray(rt, f, new Float32Array(4), { bias: 1.5 })).rejects.toThrow(/bias/);
    await expect(encodeArray(rt, f, new Float32Array(4), { rounding: 'stochastic', seed: -1 })).rejects.toThrow(/seed/);
    await expect(decodeArray(rt, f, new Uint32Array(1), 5)).rejects.toThrow(/needs 8 input bytes/);
    const small = gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    try {
      expect(() => runCodec(rt, { op: 'quantize', format: f, count: 8, input: small, output: small })).toThrow(/needs 32 input bytes/);
    } finally {
      small.destroy();
    }
  });
});
