// Counter-based random numbers for stochastic rounding (docs/number-formats.md): one 32-bit number per
// element from (seed, counter) alone, so the GPU, the CPU reference and reruns all agree.
//   pcg(v) = PCG's RXS-M-XS output step on one LCG step of v (all arithmetic mod 2^32)
//   random(seed, counter) = pcg(pcg(counter) + pcg(seed))
// WGSL u32 arithmetic wraps on overflow at run time, which is exactly the mod 2^32 we need.

import { wgsl } from './wgsl.ts';

export const RNG_WGSL = wgsl`
fn pg_pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

fn pg_random(seed: u32, counter: u32) -> u32 {
  return pg_pcg(pg_pcg(counter) + pg_pcg(seed));
}
`;
