// Elementwise codec kernels, one source for every format and rounding mode:
//   quantize  f32 bits -> f32 bits: decode(encode(x * 2^t)) * 2^-t (STRIDED elements per invocation)
//   encode    f32 bits -> packed codes (docs/number-formats.md: 4 codes per word for <= 8 bits,
//             2 for <= 16, 1 otherwise); one invocation writes whole words, so no atomics
//   decode    packed codes -> f32 bits
// and `copy`, a plain f32 copy with the same indexing: the bandwidth baseline of the benchmarks.
//
// Bindings follow the engine's convention (Runtime.dispatch): 0 = the uniform Params, 1 = input,
// 2 = output. Values travel as u32 bit patterns so that no float load/store can flush subnormals or
// canonicalise NaNs. Element i of a stochastic kernel draws random(seed, counter + i).

import { containerBits, type Format, type Rounding } from '../formats/descriptor.ts';
import { u32, wgsl } from './wgsl.ts';
import { codecLibrary, decoderBitsName, encoderName } from './codecs/index.ts';

export type CodecOp = 'quantize' | 'encode' | 'decode';

export const WORKGROUP_SIZE = 256;

/** The uniform of every codec kernel: 4 words {count, t, seed, counter}. */
export const PARAMS_WGSL = `struct Params { count: u32, t: i32, seed: u32, counter: u32 }`;

const HEADER = wgsl`
${PARAMS_WGSL}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;`;

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

export function codecShader(op: CodecOp, f: Format, rounding: Rounding): string {
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
${HEADER}

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
export function copyShader(): string {
  return wgsl`
${HEADER}

${ENTRY}
${strided((i) => `dst[${i}] = src[${i}];`)}
}
`;
}
