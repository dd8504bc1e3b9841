// Elementwise codec kernels, one source for every format and rounding mode:
//   quantize  f32 bits -> f32 bits: decode(encode(x * 2^t)) * 2^-t (STRIDED elements per invocation)
//   encode    f32 bits -> packed codes (docs/number-formats.md: 4 codes per word for <= 8 bits,
//             2 for <= 16, 1 otherwise); one invocation writes whole words, so no atomics
//   decode    packed codes -> f32 bits
// and `copy`, a plain f32 copy with the same indexing: the bandwidth baseline of the benchmarks.
//
// Bindings: 0 = the uniform Params, 1 = src, 2 = dst. Values travel as u32 bit patterns so that no
// float load/store can flush subnormals or canonicalise NaNs. Element i of a stochastic kernel draws
// random(seed, counter + i).

import { codesPerWord, containerBits, type Format, type Rounding } from '../formats/descriptor.ts';
import { bindingTable, grid1d, kernelVariant, memoByKey, ParamLayout, paramTable, type GridLimits } from './kernel.ts';
import { u32, wgsl } from './wgsl.ts';
import { codecLibrary, decoderBitsName, encoderName } from './codecs/index.ts';

export type CodecOp = 'quantize' | 'encode' | 'decode';

export interface CodecSpec {
  op: CodecOp;
  format: Format;
  rounding: Rounding;
}

export const WORKGROUP_SIZE = 256;

/** The uniform of every codec kernel: {count, t, seed, counter}. */
export const CODEC_PARAMS = new ParamLayout(paramTable([['count', 'u32'], ['t', 'i32'], ['seed', 'u32'], ['counter', 'u32']]));

/** src: f32 bit patterns (quantize, encode) or packed codes (decode); dst: the other. */
const CODEC_BINDINGS = bindingTable([['src', 'read', 'array<u32>'], ['dst', 'read_write', 'array<u32>']]);

// Linear invocation id over a grid split by grid1d (x, y) when it exceeds the per-dimension limit.
const ENTRY = `@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let gid = (wid.x + wid.y * nwg.x) * ${WORKGROUP_SIZE}u + lid;`;

/** Elements per invocation of quantize and copy: element gid + j * stride for j < STRIDED, so that a
 *  wavefront's loads stay contiguous on GPUs while software drivers amortise each invocation. */
export const STRIDED = 4;

/** Elements one invocation handles: STRIDED for quantize, one packed word's worth for encode/decode. */
export function elementsPerInvocation(op: CodecOp, f: Format): number {
  return op === 'quantize' ? STRIDED : 32 / containerBits(f);
}

/** The body of a strided kernel: `body(i)` for each of the invocation's elements below P.count. */
function strided(body: (i: string) => string): string {
  return [
    `  let stride = (P.count + ${STRIDED - 1}u) / ${STRIDED}u;`,
    '  if (gid >= stride) { return; }',
    ...Array.from({ length: STRIDED }, (_, j) => {
      const i = j === 0 ? 'gid' : `gid + ${j}u * stride`;
      return j === 0 ? `  ${body(i)}` : `  if (${i} < P.count) { ${body(i)} }`;
    }),
  ].join('\n');
}

/** op:format:rounding. Canonical format names are unique, so it determines the source. */
export function codecKey(s: CodecSpec): string {
  return `${s.op}:${s.format.name}:${s.rounding}`;
}

export const codecKernel = memoByKey(
  (s: CodecSpec, key) => kernelVariant({ label: key, key, params: CODEC_PARAMS, bindings: CODEC_BINDINGS, source: (header) => codecSource(s, header) }),
  codecKey,
);

function codecSource({ op, format: f, rounding }: CodecSpec, header: string): string {
  const stochastic = rounding === 'stochastic';
  const cb = containerBits(f);
  const perWord = 32 / cb;
  const codeMask = u32(2 ** f.bits - 1);
  const enc = encoderName(f, rounding);
  const dec = decoderBitsName(f);
  const rand = (i: string) => (stochastic ? `pg_random(P.seed, P.counter + ${i})` : '0u');
  const lib = codecLibrary([{ format: f, encoders: op === 'decode' ? [] : [rounding], decoder: op !== 'encode' }]);
  // The per-word loops are unrolled at generation time (perWord is 1, 2 or 4).
  const slots = Array.from({ length: perWord }, (_, j) => j);
  return wgsl`${lib}
${header}

${ENTRY}
#if ${op === 'quantize'}
${strided((i) => `dst[${i}] = ${dec}(${enc}(src[${i}], P.t, ${rand(i)}), P.t);`)}
#elif ${op === 'encode'}
  let first = gid * ${u32(perWord)};
  if (first >= P.count) { return; }
${slots
  .map((j) =>
    j === 0
      ? `  var word = ${enc}(src[first], P.t, ${rand('first')});`
      : `  if (first + ${j}u < P.count) { word |= ${enc}(src[first + ${j}u], P.t, ${rand(`first + ${j}u`)}) << ${j * cb}u; }`,
  )
  .join('\n')}
  dst[gid] = word;
#else
  let first = gid * ${u32(perWord)};
  if (first >= P.count) { return; }
  let word = src[gid];
${slots
  .map((j) => {
    const code = j === 0 ? `word & ${codeMask}` : `(word >> ${j * cb}u) & ${codeMask}`;
    const store = `dst[first + ${j}u] = ${dec}(${code}, P.t);`;
    return j === 0 ? `  ${store}` : `  if (first + ${j}u < P.count) { ${store} }`;
  })
  .join('\n')}
#endif
}
`;
}

/** A plain copy of `count` u32 words with the quantize kernel's indexing (bandwidth baseline). */
export const COPY_KERNEL = kernelVariant({
  label: 'copy:f32',
  key: 'copy',
  params: CODEC_PARAMS,
  bindings: CODEC_BINDINGS,
  source: (header) => wgsl`
${header}

${ENTRY}
${strided((i) => `dst[${i}] = src[${i}];`)}
}
`,
});

// ---- chunks and grids ----------------------------------------------------------------------------

/** u32 words that hold `count` packed codes of `format`. */
export function packedWords(format: Format, count: number): number {
  return Math.ceil(count / codesPerWord(format));
}

/** Bytes of a job's input and output (copy: float32 both). */
export function codecBytes(op: CodecOp | 'copy', format: Format, count: number): { input: number; output: number } {
  const f32 = count * 4;
  if (op === 'copy') return { input: f32, output: f32 };
  const packed = packedWords(format, count) * 4;
  return { input: op === 'decode' ? packed : f32, output: op === 'encode' ? packed : f32 };
}

export interface ChunkLimits extends GridLimits {
  readonly minStorageBufferOffsetAlignment: number;
  readonly maxStorageBufferBindingSize: number;
}

/** One dispatch of a job: elements [first, first + count), the byte ranges it binds (relative to the
 *  job's own offsets), its grid. */
export interface CodecChunk {
  first: number;
  count: number;
  input: { offset: number; size: number };
  output: { offset: number; size: number };
  grid: [number, number, number];
}

/**
 * The dispatches of a job over `count` elements. Buffers larger than the binding limit (or
 * `maxBindingBytes`) are processed in chunks whose byte offsets on both sides are multiples of
 * minStorageBufferOffsetAlignment; the caller advances each chunk's stochastic counter by its first
 * element, so chunking never changes a result. `copy` chunks like a float32 quantize.
 */
export function codecChunks(op: CodecOp | 'copy', format: Format, count: number, limits: ChunkLimits, maxBindingBytes = Infinity): CodecChunk[] {
  const align = Math.max(4, limits.minStorageBufferOffsetAlignment);
  const perWord = op === 'copy' ? 1 : codesPerWord(format);
  // Chunk starts must be whole words on the packed side and aligned on both sides.
  const unit = (perWord * align) / 4;
  const maxBinding = Math.min(maxBindingBytes, limits.maxStorageBufferBindingSize);
  const chunk = Math.floor(maxBinding / 4 / unit) * unit;
  if (chunk === 0) throw new RangeError(`binding limit of ${maxBinding} bytes is below one aligned chunk of ${unit * 4} bytes`);
  const perInvocation = op === 'copy' ? STRIDED : elementsPerInvocation(op, format);
  const out: CodecChunk[] = [];
  for (let first = 0; first < count; first += chunk) {
    const n = Math.min(chunk, count - first);
    const b = codecBytes(op, format, n);
    out.push({
      first,
      count: n,
      input: { offset: op === 'decode' ? (first / perWord) * 4 : first * 4, size: b.input },
      output: { offset: op === 'encode' ? (first / perWord) * 4 : first * 4, size: b.output },
      grid: grid1d(limits, Math.ceil(Math.ceil(n / perInvocation) / WORKGROUP_SIZE)),
    });
  }
  return out;
}
