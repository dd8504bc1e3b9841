// GPU timing for benchmarks (Runtime.timeDispatches) and kernel profiles (Runtime.startProfile). With
// the 'timestamp-query' feature each timed compute pass carries timestampWrites at its beginning and
// end; the query set is resolved into a buffer and read back as nanoseconds. dawn.node quantizes
// timestamps (to ~100 us) unless the device is opened with TIMING_DAWN_FLAGS. Without the feature the
// fallback times each run on the wall clock around a submit and a sync, which includes submission and
// driver overhead: results say which method produced them ('timestamp' or 'wall-clock'), and reports
// should print that marker.

import type { Gpu } from '../device/gpu.ts';

/** Dawn flags for full-resolution timestamps (pass to openNodeGpu({ dawnFlags })). */
export const TIMING_DAWN_FLAGS: readonly string[] = ['disable-dawn-features=timestamp_quantization'];

export type TimingMethod = 'timestamp' | 'wall-clock';

/** Timestamps of up to `capacity` compute passes recorded into one or more encoders. */
export class PassTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private used = 0;

  constructor(
    private readonly gpu: Gpu,
    readonly capacity: number,
  ) {
    if (!gpu.hasTimestamps) {
      throw new Error("PassTimer needs the 'timestamp-query' feature, which this device lacks; Runtime.timeDispatches falls back to the wall clock");
    }
    this.querySet = gpu.device.createQuerySet({ label: 'pass-timer', type: 'timestamp', count: 2 * capacity });
    this.resolveBuffer = gpu.device.createBuffer({
      label: 'pass-timer:resolve',
      size: 16 * capacity,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  /** Begins the next timed compute pass on `encoder`. */
  beginPass(encoder: GPUCommandEncoder, label = 'timed pass'): GPUComputePassEncoder {
    if (this.used >= this.capacity) throw new Error(`PassTimer: all ${this.capacity} timed passes are used`);
    const i = this.used++;
    return encoder.beginComputePass({
      label,
      timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
  }

  /** Records the resolve of every pass begun so far; call once, after the last timed pass ends. */
  resolve(encoder: GPUCommandEncoder): void {
    if (this.used > 0) encoder.resolveQuerySet(this.querySet, 0, 2 * this.used, this.resolveBuffer, 0);
  }

  /** Nanoseconds of each timed pass, in the order they were begun (after the submit). */
  async read(): Promise<number[]> {
    const raw = new BigUint64Array(await this.gpu.read(this.resolveBuffer, 0, 16 * this.used, 'pass timestamps'));
    const ns: number[] = [];
    for (let i = 0; i < this.used; i++) {
      const begin = raw[2 * i]!;
      const end = raw[2 * i + 1]!;
      // A pass the driver did not time (or that was reordered) reads as end < begin: report 0.
      ns.push(end > begin ? Number(end - begin) : 0);
    }
    return ns;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
  }
}

export interface PassTiming {
  method: TimingMethod;
  /** Duration of each timed run, ns. */
  ns: number[];
  /** Median of ns. */
  medianNs: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

export interface TimeOptions {
  /** Timed runs (default 5). */
  reps?: number;
  /** Untimed runs first (pipeline compilation, caches; default 1). */
  warmup?: number;
}
