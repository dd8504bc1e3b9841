// Quantization as graph ops (QPyTorch semantics): `quantizer(x, forward, backward)` rounds the value
// going forward to one format and the gradient going backward to another; `encode` / `decode` move
// between float32 tensors and packed codes. All run the generated codec kernels (shaders/quantize.ts,
// through engine/kernels/quantize.ts) with the exponent bias fused in the same pass.

import { record } from '../autograd/tape.ts';
import type { Format, Rounding } from '../../formats/descriptor.ts';
import { runCodec, type CodecOp } from '../kernels/quantize.ts';
import { requireF32 } from '../ops/elementwise-raw.ts';
import type { RoundSpec } from '../ops/round.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';

export interface QuantSpec {
  format: Format;
  rounding?: Rounding;
  /** Exponent bias t: quantize x * 2^t, then scale back by 2^-t. */
  bias?: number;
}

function codecOp(rt: Runtime, op: CodecOp, q: QuantSpec, input: Tensor, output: Tensor): void {
  const rounding = q.rounding ?? 'nearest';
  const counter = rounding === 'stochastic' && op !== 'decode' ? rt.nextCounter(input.size) : 0;
  runCodec(rt, {
    op,
    format: q.format,
    count: input.size,
    input: input.buffer,
    output: output.buffer,
    rounding,
    bias: q.bias ?? 0,
    seed: rt.randomSeed,
    counter,
  });
  if (op !== 'decode') {
    rt.count({ kind: 'convert', from: input.valueFormat, to: q.format.name, rounding, count: input.size });
  }
}

/** x rounded to q's format (float32 values on its lattice, times 2^-bias), without autograd. */
export function quantizeRaw(x: Tensor, q: QuantSpec): Tensor {
  requireF32('quantize', x);
  // Values already on this lattice are fixed points of every rounding mode: nothing to do or count.
  if (x.lattice?.name === q.format.name && x.latticeBias === (q.bias ?? 0)) return x.view(x.shape);
  const out = Tensor.empty(x.rt, x.shape, null, `q:${q.format.name}`);
  codecOp(x.rt, 'quantize', q, x, out);
  out.lattice = q.format;
  out.latticeBias = q.bias ?? 0;
  return out;
}

/**
 * The QPyTorch Quantizer: forward rounds x to `forward` (null: passes x through), backward rounds the
 * incoming gradient to `backward` (null: passes it through). Straight-through otherwise.
 */
export function quantizer(x: Tensor, forward: QuantSpec | null, backward: QuantSpec | null): Tensor {
  const y = forward ? quantizeRaw(x, forward) : x.view(x.shape);
  return record(y, 'quantizer', [x], (g) => [backward ? quantizeRaw(g, backward) : g], { gradRound: fusedGradRounding(backward) });
}

/** The backward rounding a rule producing the gradient may fuse (engine/autograd/tape.ts): nearest
 *  rounding without an exponent bias (a fused stochastic rounding would draw its random numbers at
 *  another point of the step, so the run would no longer repeat the unfused one bit for bit). */
function fusedGradRounding(q: QuantSpec | null): RoundSpec | undefined {
  if (!q || (q.bias ?? 0) !== 0 || (q.rounding ?? 'nearest') !== 'nearest') return undefined;
  return { format: q.format, rounding: 'nearest' };
}

/** Packed codes of x in q's format (x * 2^bias encoded). The gradient passes straight through. */
export function encode(x: Tensor, q: QuantSpec): Tensor {
  requireF32('encode', x);
  const out = Tensor.empty(x.rt, x.shape, { format: q.format, bias: q.bias ?? 0 }, `enc:${q.format.name}`);
  codecOp(x.rt, 'encode', q, x, out);
  return record(out, 'encode', [x], (g) => [g]);
}

/** Float32 values of a packed tensor (code values times 2^-bias). */
export function decode(x: Tensor): Tensor {
  const e = x.encoding;
  if (!e) throw new Error(`decode: tensor ${x} already holds float32 values`);
  const out = Tensor.empty(x.rt, x.shape, null, `dec:${e.format.name}`);
  codecOp(x.rt, 'decode', { format: e.format, bias: e.bias }, x, out);
  out.lattice = e.format;
  out.latticeBias = e.bias;
  return record(out, 'decode', [x], (g) => [g]);
}
