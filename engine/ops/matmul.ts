// matmul (batched, transposes) and linear, with a fused epilogue and autograd. Forward and backward
// are all one GEMM kernel generator (shaders/matmul.ts, run by gemm.ts): the gradients are the same
// kernel with the operands' strides exchanged, so a packed operand is decoded the same way in both.
//
// Forward: out = Q(act(2^-(tA+tB) * op(A) op(B) + bias)) where Q quantizes to `output.format` (the
// result stays float32 holding lattice values, out.lattice set). Backward: straight-through for Q,
// the activation's derivative (from the activation's output, as the unfused ops do), bias gradient =
// sum over rows, and float32 gradients for A and B (also for packed operands: whoever produced the
// packed tensor owns the straight-through rule to its source). Backward products accumulate in f32.
//
// accumulate 'quire' (operands on lattices of at most 16 bits: packed codes, or float32 tensors with
// .lattice): the dot product is exact, then rounded once: straight to the output format when nothing
// comes between (no bias, no activation), else to float32 before the bias, activation and output
// quantization. Stochastic output rounding of a quire draws its probability from the sum rounded to
// odd at 24 bits, so the probability is exact to within 2^(p - 24) for a target of p significand bits.

import { needsGrad, record } from '../autograd/tape.ts';
import type { Format, Rounding } from '../../formats/descriptor.ts';
import { backwardTile, type TileName } from '../../shaders/matmul-plan.ts';
import type { QuireMethod } from '../../shaders/quire-plan.ts';
import type { TensorRole } from '../record/schema.ts';
import type { ActivationName } from '../../shaders/matmul.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { activationGrad, checkEpilogue, epilogueFields, gemm, gradRole, roundedOutput, type GemmCall, type OperandView } from './gemm.ts';
import { sum } from './reduce.ts';

/** 'none' | 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid' (the epilogue's activations). */
export type Activation = ActivationName;

export interface Epilogue {
  /** f32 [N] added to every output row (conv: one value per output channel). */
  bias?: Tensor;
  activation?: Activation;
  /** leaky_relu slope (default 0.01; must be >= 0: the derivative is read from the output's sign). */
  slope?: number;
  /** Quantize the result to this format; it stays float32 holding lattice values (out.lattice). */
  output?: { format: Format; rounding?: Rounding; seed?: number };
}

export interface MatmulOptions extends Epilogue {
  transA?: boolean;
  transB?: boolean;
  /** 'f32' (default) or 'quire': exact accumulation of lattice operands, one rounding. */
  accumulate?: 'f32' | 'quire';
  /** How the quire is computed (all give the same bits; shaders/quire-plan.ts); default: chosen for
   *  the device and the shape. */
  quireMethod?: QuireMethod;
  /** For op counts (engine/record/schema.ts). Defaults: a activations, b weights, out activations. */
  roles?: { a?: TensorRole; b?: TensorRole; out?: TensorRole };
  /** Force a tile configuration for this product and its gradients (benchmarks, tests); default:
   *  chosen per shape (shaders/matmul-plan.ts). */
  tile?: TileName;
}

/** Strides of a matrix operand's logical (z, row, col) = A(z, m, k) or B(z, k, n). */
interface Layout {
  sz: number;
  row: number;
  col: number;
}

function view(t: Tensor, l: Layout, free: 'row' | 'col', role: TensorRole): OperandView {
  const red = free === 'row' ? 'col' : 'row';
  return { t, map: 'strided', sz: l.sz, sr: l[free], sk: l[red], role };
}

/** A view whose reduction runs over (z, red) merged: index z*len + i (the gradient of a shared operand). */
function mergedView(t: Tensor, l: Layout, free: 'row' | 'col', len: number, role: TensorRole): OperandView {
  const red = free === 'row' ? 'col' : 'row';
  return { t, map: 'ksplit', sr: l[free], sk: l[red], kd: len, sk2: l.sz, role };
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

export function matmul(a: Tensor, b: Tensor, o: MatmulOptions = {}): Tensor {
  return product('matmul', a, b, o);
}

/** x [..., in] times w [out, in] (PyTorch layout) transposed, plus bias [out]. */
export function linear(x: Tensor, w: Tensor, o: Omit<MatmulOptions, 'transA' | 'transB'> = {}): Tensor {
  if (w.rank !== 2) throw new Error(`linear: weight must be [out, in], got ${shapeStr(w.shape)}`);
  if (x.rank < 2 || x.shape[x.rank - 1] !== w.shape[1]) {
    throw new Error(`linear: input ${shapeStr(x.shape)} does not match weight ${shapeStr(w.shape)} (need [..., ${w.shape[1]}])`);
  }
  return product('linear', x, w, { ...o, transB: true });
}

interface Product {
  call: GemmCall;
  M: number;
  N: number;
  K: number;
  batch: number;
  shared: boolean;
  la: Layout;
  lb: Layout;
  roles: { a: TensorRole; b: TensorRole; out: TensorRole };
}

/** Checks the operands and describes the forward product as a GEMM. */
function describe(op: string, a: Tensor, b: Tensor, o: MatmulOptions, aux: boolean): Product {
  if (a.rank < 2 || b.rank < 2) throw new Error(`${op}: operands must have rank >= 2, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  const transA = !!o.transA;
  const transB = !!o.transB;
  const batchDims = a.shape.slice(0, -2);
  const shared = b.rank === 2;
  if (!shared && (b.rank !== a.rank || b.shape.slice(0, -2).some((d, i) => d !== batchDims[i]))) {
    throw new Error(`${op}: batch dimensions of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ (they must be equal, or b 2-D)`);
  }
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transB ? [bc, br] : [br, bc];
  if (K !== Kb) {
    throw new Error(
      `${op}: inner dimensions differ: ${shapeStr(a.shape)}${transA ? '^T' : ''} x ${shapeStr(b.shape)}${transB ? '^T' : ''} (${K} vs ${Kb})`,
    );
  }
  const batch = batchDims.reduce((x, y) => x * y, 1);
  checkEpilogue(op, o, N, 'column');
  const roles = { a: o.roles?.a ?? 'activations', b: o.roles?.b ?? 'weights', out: o.roles?.out ?? 'activations' };
  const la: Layout = { sz: M * K, row: transA ? 1 : K, col: transA ? M : 1 };
  const lb: Layout = { sz: shared ? 0 : K * N, row: transB ? 1 : N, col: transB ? K : 1 };
  const call: GemmCall = {
    op,
    a: view(a, la, 'row', roles.a),
    b: view(b, lb, 'col', roles.b),
    m: M,
    n: N,
    k: K,
    batch,
    outShape: [...batchDims, M, N],
    outMap: 'dense',
    ...epilogueFields(o, 'col', aux, roles.out),
  };
  return { call, M, N, K, batch, shared, la, lb, roles };
}

/** The forward GEMM of matmul(a, b, o), unrun (benchmarks time its dispatches: gemm.ts prepareGemm). */
export function matmulGemm(a: Tensor, b: Tensor, o: MatmulOptions = {}): GemmCall {
  return describe('matmul', a, b, o, false).call;
}

function product(op: string, a: Tensor, b: Tensor, o: MatmulOptions): Tensor {
  const activation = o.activation ?? 'none';
  const inputs = o.bias ? [a, b, o.bias] : [a, b];
  const grad = needsGrad(inputs);
  const { call, M, N, K, batch, shared, la, lb, roles } = describe(op, a, b, o, grad && activation !== 'none' && !!o.output);
  const transA = !!o.transA;
  const transB = !!o.transB;
  const { out, aux } = gemm(call);
  if (!grad) {
    aux?.dispose();
    return out;
  }
  return record(out, op, inputs, (g, r) => {
    const gz = activationGrad(g, aux ?? out, activation, o.slope);
    const lg: Layout = { sz: M * N, row: N, col: 1 };
    const gRole = 'errors' as const;
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = G B^T, written in A's storage order: [M, K], or [K, M] when A is transposed.
      const [x, y] = transA ? [view(b, lb, 'row', roles.b), view(gz, lg, 'row', gRole)] : [view(gz, lg, 'row', gRole), view(b, lb, 'row', roles.b)];
      da = gemm({
        op: `${op}:da`,
        a: x,
        b: y,
        m: transA ? K : M,
        n: transA ? M : K,
        k: N,
        batch,
        outShape: a.shape,
        outMap: 'dense',
        tile: backwardTile(o.tile),
        outRole: gradRole(roles.a),
        // The rounding autograd asks of dA, in the GEMM's epilogue.
        ...roundedOutput(r[0]),
      }).out;
    }
    if (b.requiresGrad) {
      // dB = A^T G, in B's storage order; a shared B sums over the batch as part of the reduction.
      const aT = shared && batch > 1 ? mergedView(a, la, 'col', M, roles.a) : view(a, la, 'col', roles.a);
      const gT = shared && batch > 1 ? { ...view(gz, lg, 'col', gRole), sz: 0 } : view(gz, lg, 'col', gRole);
      const [x, y] = transB ? [gT, aT] : [aT, gT];
      db = gemm({
        op: `${op}:db`,
        a: x,
        b: y,
        m: transB ? N : K,
        n: transB ? K : N,
        k: shared ? batch * M : M,
        batch: shared ? 1 : batch,
        outShape: b.shape,
        outMap: 'dense',
        tile: backwardTile(o.tile),
        outRole: gradRole(roles.b),
      }).out;
    }
    const dbias = o.bias?.requiresGrad ? sum(gz, [...Array(gz.rank - 1).keys()]) : null;
    if (gz !== g) gz.dispose();
    return [da, db, dbias];
  });
}
