// The fast posit tanh (docs/method.md section 4) as a graph op: the WGSL of shaders/fast-tanh.ts run
// through the elementwise kernel generator, so it shares its dispatch, shapes and pipeline cache.
// The semantics (p16e0 container, sigmoid bit trick, the corrected variant) are those of the
// TypeScript reference formats/fast-tanh.ts, which the result matches bit for bit.
//
// The result is float32 holding p16e0 values in [-1, 1] (out.lattice = p16e0). Backward, for
// completeness: grad * (1 - y^2) with y the approximated output (docs/method.md section 4). Op counts: the
// elementwise kernel counts its memory traffic; this op adds one fast tanh per element in the p16e0
// container.

import { parseFormat } from '../../formats/descriptor.ts';
import { FAST_TANH_CODECS, fastTanhFnName, fastTanhWgsl } from '../../shaders/fast-tanh.ts';
import { codecLibrary } from '../../shaders/codecs/index.ts';
import { record } from '../autograd/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { binaryRaw, elementwise, requireF32 } from './elementwise-raw.ts';

const P16E0 = parseFormat('p16e0');

const helpers = new Map<boolean, string>();

function helpersFor(corrected: boolean): string {
  let h = helpers.get(corrected);
  if (!h) helpers.set(corrected, (h = `${codecLibrary(FAST_TANH_CODECS)}\n${fastTanhWgsl(corrected)}`));
  return h;
}

/** tanh(x) by the posit bit trick: corrected (default, the paper's deployment variant) or plain. */
export function fastTanh(x: Tensor, corrected = true): Tensor {
  requireF32('fastTanh', x);
  const name = fastTanhFnName(corrected);
  const y = elementwise(x.rt, name, `${name}(a)`, [{ t: x }], x.shape, [], helpersFor(corrected));
  y.lattice = P16E0;
  x.rt.count({ kind: 'activation', fn: 'tanh', format: P16E0.name, fast: true, count: x.size });
  return record(y, 'fast_tanh', [x], (g) => [binaryRaw(g, y, 'tanh_grad')]);
}
