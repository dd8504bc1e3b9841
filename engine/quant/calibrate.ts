// The paper's calibration rule (docs/method.md sections 2 and 3): a histogram of log2|x| over the nonzero
// values of the first training iteration, 20 equal bins spanning [min, max] of those logs (numpy's
// default), and t = floor(0 - left edge of the fullest bin). For weights, t is the exponent bias
// (scale by 2^t before encoding); for gradients it sets the loss scale s = 2^t, which moves the centre
// of the gradient distribution towards 2^0, where posits are most accurate.

export interface Log2Histogram {
  /** Bin edges (bins + 1 values) in log2 units. */
  edges: number[];
  counts: number[];
  /** Values that were zero (excluded) and non-finite (an error unless zero). */
  zeros: number;
  total: number;
}

export interface Calibration {
  /** The chosen exponent: bias t for weights, log2 of the loss scale for gradients. */
  t: number;
  histogram: Log2Histogram;
  /** Index of the fullest bin (first one on ties, as numpy's argmax). */
  peakBin: number;
}

export const DEFAULT_BINS = 20;

/** Histogram of log2|x| over nonzero values, `bins` equal bins over [min, max] (numpy semantics:
 *  the last bin is closed on the right). Throws on NaN/Inf and when every value is zero. */
export function log2Histogram(values: Iterable<ArrayLike<number>>, bins = DEFAULT_BINS, what = 'values'): Log2Histogram {
  const logs: number[] = [];
  let zeros = 0;
  let total = 0;
  for (const arr of values) {
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      total++;
      if (!Number.isFinite(v)) throw new Error(`calibration: ${what} contain a non-finite value (${v}) at index ${i}; fix the divergence before calibrating`);
      if (v === 0) zeros++;
      else logs.push(Math.log2(Math.abs(v)));
    }
  }
  if (logs.length === 0) throw new Error(`calibration: all ${total} ${what} are zero; there is nothing to calibrate on`);
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of logs) {
    if (l < lo) lo = l;
    if (l > hi) hi = l;
  }
  // numpy widens a degenerate range to [v - 0.5, v + 0.5].
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  edges[bins] = hi;
  const counts = new Array<number>(bins).fill(0);
  for (const l of logs) {
    let b = Math.floor((l - lo) / width);
    if (b >= bins) b = bins - 1;
    // Guard the float edge cases of the division against the stored edges.
    while (b > 0 && l < edges[b]!) b--;
    while (b < bins - 1 && l >= edges[b + 1]!) b++;
    counts[b]!++;
  }
  return { edges, counts, zeros, total };
}

/** t = floor(0 - left edge of the fullest bin). */
export function calibrate(values: Iterable<ArrayLike<number>>, bins = DEFAULT_BINS, what = 'values'): Calibration {
  const histogram = log2Histogram(values, bins, what);
  let peakBin = 0;
  histogram.counts.forEach((c, i) => {
    if (c > histogram.counts[peakBin]!) peakBin = i;
  });
  const t = Math.floor(0 - histogram.edges[peakBin]!);
  return { t, histogram, peakBin };
}
