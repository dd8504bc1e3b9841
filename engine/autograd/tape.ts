// Reverse-mode autograd. An op that computes a tensor from inputs needing gradients attaches a node:
// the inputs and a backward rule mapping the output's gradient to the inputs' gradients. backward()
// walks the nodes in reverse topological order, summing gradients of tensors used more than once.
// Rules live beside their forward ops (engine/ops/*); they run with recording off.
//
// Fused gradient rounding: a quantizer node rounds the gradient it receives (gradRound). When a
// rule's gradient for an input is that input's only contribution and reaches such a quantizer
// (directly, or through view nodes that only reshape it), backward tells the rule so (`round[i]`):
// the rule may round its result in the kernel that computes it, and the quantizer then finds it on
// its lattice and passes it through (engine/ops/round.ts). Rules that ignore `round` are unchanged.

import type { RoundSpec } from '../../shaders/round.ts';

/** A rounding a rule may fuse into the gradient it produces, and the layer of the quantizer it
 *  stands for (where its conversion is counted). */
export type GradRounding = RoundSpec & { readonly layer: string };
import type { Phase } from '../record/schema.ts';
import type { Tensor } from '../tensor/tensor.ts';

export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradients w.r.t. each input (null where an input needs none). Must not dispose `grad`.
   *  `round[i]`: the rounding the gradient for input i will get next, which the rule may apply in
   *  the kernel that produces it (null: none; see the top of this file). */
  readonly backward: (grad: Tensor, round: readonly (GradRounding | null)[]) => readonly (Tensor | null)[];
  /** Layer the forward op ran in, so backward op counts are attributed to the same layer. */
  readonly layer: string;
  /** A quantizer's backward rounding (nearest rounding only: a fused stochastic rounding would draw
   *  its random numbers in another order). */
  readonly gradRound?: RoundSpec | undefined;
  /** The backward passes the gradient on as a view of another shape (reshape): a rounding asked of
   *  this node's gradient may be asked of the rule producing it. */
  readonly view?: boolean | undefined;
}

/** What a node declares besides its rule (see GradNode). */
export type NodeMeta = Pick<GradNode, 'gradRound' | 'view'>;

/** Whether an op on these inputs should record a node. */
export function needsGrad(inputs: readonly Tensor[]): boolean {
  const rt = inputs[0]?.rt;
  return !!rt && rt.gradEnabled && inputs.some((t) => t.requiresGrad);
}

/** Attaches a node to `out` when any input needs a gradient; returns `out`. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward'], meta: NodeMeta = {}): Tensor {
  if (needsGrad(inputs)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward, layer: out.rt.layer, ...meta };
  }
  return out;
}

/** Marks a tensor as a leaf that accumulates gradients (a parameter). */
export function parameter(t: Tensor, name?: string): Tensor {
  t.requiresGrad = true;
  t.node = null;
  if (name) t.name = name;
  return t;
}

/** A view of `t` cut off from the graph (same storage). */
export function detach(t: Tensor): Tensor {
  const d = t.view(t.shape);
  d.requiresGrad = false;
  d.node = null;
  return d;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  // Iterative DFS: GAN graphs are shallow, but user graphs need not be.
  const stack: { t: Tensor; i: number }[] = [{ t: root, i: 0 }];
  seen.add(root.id);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const inputs = top.t.node?.inputs ?? [];
    if (top.i < inputs.length) {
      const next = inputs[top.i++]!;
      if (next.requiresGrad && !seen.has(next.id)) {
        seen.add(next.id);
        stack.push({ t: next, i: 0 });
      }
    } else {
      order.push(top.t);
      stack.pop();
    }
  }
  return order.reverse();
}

/** Gradient contributions each tensor will receive in a backward over `order`. */
function contributions(order: readonly Tensor[]): Map<number, number> {
  const n = new Map<number, number>();
  for (const t of order) for (const inp of t.node?.inputs ?? []) if (inp.requiresGrad) n.set(inp.id, (n.get(inp.id) ?? 0) + 1);
  return n;
}

/** The rounding the gradient of `t` will receive next, when it is the only contribution all the way
 *  to a quantizer (through views); null otherwise. */
function roundingAhead(t: Tensor, uses: ReadonlyMap<number, number>): GradRounding | null {
  for (let u: Tensor | undefined = t; u; u = u.node?.view ? u.node.inputs[0] : undefined) {
    if (uses.get(u.id) !== 1 || !u.node) return null;
    if (u.node.gradRound) return { ...u.node.gradRound, layer: u.node.layer };
  }
  return null;
}

/**
 * Backpropagates from `loss` with upstream gradient `seed` (ones for a scalar loss; backward takes
 * ownership of it). Leaf tensors that require grad accumulate into `.grad`; intermediate gradients
 * are freed as soon as they have been propagated. `add` sums two gradients (injected to keep this
 * module free of ops).
 */
export function backward(
  loss: Tensor,
  seed: Tensor,
  add: (a: Tensor, b: Tensor) => Tensor,
  phase: Phase = 'backward',
): void {
  if (!loss.requiresGrad) throw new Error('backward(): the loss does not depend on any tensor that requires grad');
  if (!sameShape(seed.shape, loss.shape)) throw new Error(`backward(): seed gradient [${seed.shape}] does not match the loss [${loss.shape}]`);
  const rt = loss.rt;
  const grads = new Map<number, Tensor>([[loss.id, seed]]);
  const order = topoOrder(loss);
  const uses = contributions(order);
  const wasPhase = rt.phase;
  const wasLayer = rt.layer;
  rt.phase = phase;
  try {
    rt.noGrad(() => {
      for (const t of order) {
        const g = grads.get(t.id);
        if (!g) continue;
        grads.delete(t.id);
        const node = t.node;
        if (!node) {
          // A leaf: accumulate into .grad (which outlives any scope the backward runs in).
          if (t.grad) {
            const sum = add(t.grad, g);
            t.grad.dispose();
            g.dispose();
            t.grad = rt.keep(sum);
          } else {
            t.grad = rt.keep(g);
          }
          continue;
        }
        rt.layer = node.layer;
        // The scope frees a rule's temporaries; the gradients it returns are kept.
        const round = node.inputs.map((inp) => (inp.requiresGrad && rt.fuseRounding ? roundingAhead(inp, uses) : null));
        const inGrads = rt.scope(() => [...node.backward(g, round)]);
        // A rule may hand back `g` itself or one tensor for several inputs: give each owner a view.
        const owned = new Set<Tensor>([g]);
        node.inputs.forEach((inp, i) => {
          let ig = inGrads[i];
          if (!ig) return;
          if (owned.has(ig)) ig = ig.view(ig.shape);
          owned.add(ig);
          if (!inp.requiresGrad) {
            ig.dispose();
            return;
          }
          if (!sameShape(ig.shape, inp.shape)) {
            throw new Error(`backward of ${node.op}: gradient for input ${i} has shape [${ig.shape}] but the input is [${inp.shape}]`);
          }
          const have = grads.get(inp.id);
          if (have) {
            grads.set(inp.id, add(have, ig));
            have.dispose();
            ig.dispose();
          } else {
            grads.set(inp.id, ig);
          }
        });
        g.dispose();
      }
    });
  } finally {
    rt.phase = wasPhase;
    rt.layer = wasLayer;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
