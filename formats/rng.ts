// The counter-based random numbers of stochastic rounding (docs/number-formats.md): stateless, so a
// result depends only on (seed, element counter) and the WGSL generator gives the same numbers.
// All arithmetic is on u32 (mod 2^32): Math.imul for products, >>> 0 to read the result unsigned.

/** One PCG-style hash step (the RXS-M-XS output permutation of the PCG family). */
export function pcg(v: number): number {
  const s = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const w = Math.imul((s >>> ((s >>> 28) + 4)) ^ s, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** The u32 random number of element `counter` under `seed`: pcg(pcg(counter) + pcg(seed)). */
export function random(seed: number, counter: number): number {
  return pcg((pcg(counter) + pcg(seed)) >>> 0);
}

/** random(seed, ·) with pcg(seed) computed once (for drawing many numbers under one seed). */
export function randomStream(seed: number): (counter: number) => number {
  const s = pcg(seed);
  return (counter) => pcg((pcg(counter) + s) >>> 0);
}
