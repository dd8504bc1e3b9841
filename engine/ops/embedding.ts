// Embedding lookup: rows of a [V, D] table picked by integer indices, differentiable in the table
// (deterministically: see shaders/embedding.ts).

import { embeddingGrid, embeddingKernel, type EmbeddingPass } from '../../shaders/embedding.ts';
import { record } from '../autograd/tape.ts';
import type { TensorRole } from '../record/schema.ts';
import type { Runtime } from '../runtime.ts';
import { Tensor } from '../tensor/tensor.ts';
import { requireF32 } from './elementwise-raw.ts';
import { type Indices, indexTensor } from './indices.ts';
import { fusable, markRounded, roundParams, type RoundSpec } from './round.ts';

function run(rt: Runtime, pass: EmbeddingPass, rows: number, dim: number, batch: number, idx: Tensor, src: Tensor, dst: Tensor, round: RoundSpec | null = null): void {
  const count = dst.size;
  if (count === 0) return;
  const grid = embeddingGrid(count, rt.gpu.limits);
  const params = { rows, dim, batch, count, grid_x: grid[0], ...roundParams(rt, round, count) };
  rt.run(embeddingKernel({ pass, round }), params, { idx: idx.buffer, src: src.buffer, dst: dst.buffer }, grid);
}

/** table[indices]: shape [...indices.shape, D] for a [V, D] table. `round`: the picked values
 *  rounded to a format in the same kernel (a layer's output quantizer, engine/ops/round.ts). */
export function embedding(indices: Indices, table: Tensor, round: RoundSpec | null = null): Tensor {
  const rt = table.rt;
  requireF32('embedding', table);
  if (table.rank !== 2) throw new Error(`embedding: table must be [V, D], got [${table.shape.join(', ')}]`);
  const [rows, dim] = table.shape as [number, number];
  const idx = indexTensor(rt, indices, rows, 'embedding', 'index');
  const batch = idx.size;
  const out = Tensor.empty(rt, [...idx.shape, dim], null, 'embedding');
  const r = fusable(round);
  run(rt, 'gather', rows, dim, batch, idx, table, out, r);
  // The gathered values would be plain float32 (the output carries no lattice of its own).
  markRounded(out, r, 'fp32');
  if (rt.recorder) {
    const role = rt.activationRole;
    traffic(rt, 'read', 'inputs', 'fp32', batch, 32);
    traffic(rt, 'read', 'weights', table.valueFormat, batch * dim, table.valueBits);
    traffic(rt, 'write', role, out.valueFormat, out.size, out.valueBits);
  }
  return record(out, 'embedding', [table], (g) => {
    const gt = Tensor.empty(rt, table.shape, null, 'embedding:grad');
    run(rt, 'scatter', rows, dim, batch, idx, g, gt);
    if (rt.recorder) {
      rt.count({ kind: 'add', format: g.valueFormat, count: batch * dim });
      traffic(rt, 'read', 'inputs', 'fp32', batch, 32);
      traffic(rt, 'read', rt.activationRole, g.valueFormat, g.size, g.valueBits);
      traffic(rt, 'write', 'gradients', gt.valueFormat, gt.size, gt.valueBits);
    }
    return [gt];
  });
}

// Op counts. Forward: the indices (float32 integers), the rows of the table they pick and the
// output. Backward: each of the batch x D gradient values is added into its table row (rows start at
// zero, so batch x D adds); the table gradient is written whole (rows nobody picked are zeros).
function traffic(rt: Runtime, direction: 'read' | 'write', role: TensorRole, format: string, values: number, bits: number): void {
  rt.count({ kind: 'memory', direction, role, format, bits: values * bits });
}
