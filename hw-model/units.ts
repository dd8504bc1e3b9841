// Units: the ones a table may state its numbers in (converted once, at load time, to the model's
// internal units: pJ, um^2, cycles) and the human-scaled printing of results.

/** Multipliers to picojoules for the energy units a table field may name (`energy_pJ`, ...). */
export const ENERGY_UNITS: Readonly<Record<string, number>> = { fJ: 1e-3, pJ: 1, nJ: 1e3 };
/** Multipliers to square micrometres for `area_um2` / `area_mm2`. */
export const AREA_UNITS: Readonly<Record<string, number>> = { um2: 1, mm2: 1e6 };
/** Latency is only accepted in cycles: a time in ns would need a clock to become cycles. */
export const LATENCY_UNITS: Readonly<Record<string, number>> = { cycles: 1 };

function scaled(value: number, steps: readonly [number, string][], digits: number): string {
  const a = Math.abs(value);
  let pick = steps[0]!;
  for (const s of steps) if (a >= s[0]) pick = s;
  return `${(value / pick[0]).toPrecision(digits)} ${pick[1]}`;
}

const ENERGY_STEPS: readonly [number, string][] = [
  [1, 'pJ'],
  [1e3, 'nJ'],
  [1e6, 'uJ'],
  [1e9, 'mJ'],
  [1e12, 'J'],
];
const TIME_STEPS: readonly [number, string][] = [
  [1e-12, 'ps'],
  [1e-9, 'ns'],
  [1e-6, 'us'],
  [1e-3, 'ms'],
  [1, 's'],
];

/** An energy given in pJ, printed in the unit that keeps the number in 1..1000 (pJ up to J). */
export function formatEnergy(pJ: number, digits = 4): string {
  return scaled(pJ, ENERGY_STEPS, digits);
}

/** A time in seconds, printed in ps..s. */
export function formatTime(s: number, digits = 4): string {
  return scaled(s, TIME_STEPS, digits);
}

/** An area in um^2, printed in um^2 or mm^2; null is a metric the tables cannot give. */
export function formatArea(um2: number | null, digits = 4): string {
  if (um2 === null) return 'not available';
  return Math.abs(um2) >= 1e6 ? `${(um2 / 1e6).toPrecision(digits)} mm^2` : `${um2.toPrecision(digits)} um^2`;
}

/** A count (ops or bits) with an SI suffix, exact below 10^4. */
export function formatCount(n: number): string {
  if (Math.abs(n) < 1e4) return String(Math.round(n * 1000) / 1000);
  const steps: [number, string][] = [[1e3, 'k'], [1e6, 'M'], [1e9, 'G'], [1e12, 'T'], [1e15, 'P']];
  let pick = steps[0]!;
  for (const s of steps) if (Math.abs(n) >= s[0]) pick = s;
  return `${(n / pick[0]).toPrecision(4)}${pick[1]}`;
}
