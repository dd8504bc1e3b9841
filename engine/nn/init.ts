// Seeded parameter initialisation on the CPU, with PyTorch's default distributions. Numbers come from
// the engine's counter-based generator (formats/rng.ts): a generator is a seed and a counter,
// so a model built from one seed is the same on every machine. Share one generator across a model's
// layers (as PyTorch shares its global generator) so that each layer draws its own numbers.

import { random } from '../../formats/rng.ts';

export class InitRng {
  private counter = 0;
  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`InitRng: seed must be a u32, got ${seed}`);
  }

  /** Uniform in (0, 1): a 32-bit draw centred in its cell, so never 0 or 1. */
  uniform(): number {
    if (this.counter > 0xffffffff) throw new Error('InitRng: the 2^32 draws of this seed are used up');
    return (random(this.seed, this.counter++) + 0.5) / 2 ** 32;
  }

  /** Standard normal (Box-Muller on two uniforms). */
  normal(): number {
    const u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** A generator, or a seed for a fresh one. */
export type RngLike = InitRng | number;

export function toRng(r: RngLike): InitRng {
  return r instanceof InitRng ? r : new InitRng(r);
}

export function uniformArray(n: number, lo: number, hi: number, rng: InitRng): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

export function normalArray(n: number, mean: number, std: number, rng: InitRng): Float32Array {
  return Float32Array.from({ length: n }, () => mean + std * rng.normal());
}

/**
 * PyTorch's default for Linear and Conv weights, kaiming_uniform_(a = sqrt(5)):
 * bound = gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + a^2)), i.e. 1 / sqrt(fan_in); their
 * biases use the same bound. fan_in is the weight's size(1) times its kernel area.
 */
export function defaultBound(fanIn: number): number {
  if (!(fanIn > 0)) throw new Error(`init: fan_in must be positive, got ${fanIn}`);
  return 1 / Math.sqrt(fanIn);
}
