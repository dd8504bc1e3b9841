// Compound components: what one operation costs, built from table entries by the rules below, each
// result carrying the formula and the entries it used (so every picojoule can be traced).
//
// Rules (docs/energy-sources.md section 7 unless marked as this model's choice):
// - float op in format e<E>m<M>: the table entry float_unit{e,m}.<op>.
// - posit(n) op: a table entry posit_unit{n}.<op> if a user table gives one (a synthesis result beats
//   a ratio); for n < 8, mul and add come from P8: x (n/8)^2 for mul, x (n/8) for add; otherwise kappa
//   x the float unit of the same width (positReference: P6 -> e3m2, P8 -> e4m3, P16 -> fp16,
//   P32 -> fp32).
// - fixed(wl) op: int_unit{width=wl}.<op>.
// - int add of width w with no entry: the next wider entry (a conservative over-estimate); wider than
//   every entry: linear in width from the widest (adder energy is linear in width: Horowitz's int16 ->
//   int32 add doubles). [model's choice]
// - compare / max / relu: a comparator is a subtractor: one int add of the format's width (floats and
//   posits both compare as integers). [model's choice]
// - MAC = multiply + accumulate + accumulator register write (per bit of the accumulator); mixed
//   operand formats pay the dearer multiplier [model's choice]. Accumulate into a format: that format's
//   add; into the quire (16n bits): int add(q) + alignment shift(q).
// - quire -> posit rounding: 2 int adds of the quire's width as recorded (docs/energy-sources.md section 7's fp32 -> posit
//   rule with the quire's width for the 32 bits). [model's choice] The MAC's quire width is
//   quireBitsPerPositBit x n (the op-count schema does not record it on mac records).
// - fast posit sigmoid / tanh: the constants fast_sigmoid_int_adds / fast_tanh_int_adds x an n-bit add.
// - memory: per bit of dram{type}, sram{size_kB} or register_file (per-access entries / bits_per_access).
// Browser-safe: no Node modules.

import { HwFormatError, parseHwFormat, type HwFormat } from './formats.ts';
import type { ModelParams } from './params.ts';
import { scaleEntry, targetPoint } from './scaling.ts';
import { MissingEntryError, type Attributes, type Library, type ScalingPoint, type TableEntry } from './table.ts';

/** One table entry's share in a cost: coefficient x (entry energy per unit) x node scale. */
export interface Use {
  readonly entry: string;
  readonly coefficient: number;
  readonly scale: number;
  readonly energy_pJ: number;
}

export interface Cost {
  /** Per operation, or per bit for memory. */
  readonly energy_pJ: number;
  /** Area of the hardware that performs it; null when an entry used has no area. */
  readonly area_um2: number | null;
  /** Entries whose missing area made area_um2 null. */
  readonly areaMissing: readonly string[];
  /** Sum of the parts' latencies (no overlap assumed); null when any is unknown at this node. */
  readonly latency_cycles: number | null;
  readonly formula: string;
  readonly uses: readonly Use[];
}

/** A problem in the op counts themselves (e.g. a quire accumulation with float operands). */
export class CountsError extends Error {
  override name = 'CountsError';
}

function weighted(parts: readonly { k: number; c: Cost }[], formula: string): Cost {
  let energy = 0;
  let area: number | null = 0;
  let latency: number | null = 0;
  const missing: string[] = [];
  const uses: Use[] = [];
  for (const { k, c } of parts) {
    energy += k * c.energy_pJ;
    area = area === null || c.area_um2 === null ? null : area + k * c.area_um2;
    latency = latency === null || c.latency_cycles === null ? null : latency + c.latency_cycles;
    missing.push(...c.areaMissing.filter((m) => !missing.includes(m)));
    for (const u of c.uses) uses.push({ ...u, coefficient: k * u.coefficient, energy_pJ: k * u.energy_pJ });
  }
  return { energy_pJ: energy, area_um2: area, areaMissing: missing, latency_cycles: latency, formula, uses };
}

const times = (k: number, c: Cost, formula: string): Cost => weighted([{ k, c }], formula);

export interface MacCost {
  readonly multiply: Cost;
  readonly accumulate: Cost;
  readonly registerWrite: Cost;
  /** Bits written to the accumulator register per MAC. */
  readonly accumulatorBits: number;
}

export class CostModel {
  readonly target: ScalingPoint;

  constructor(
    readonly lib: Library,
    readonly params: ModelParams,
  ) {
    this.target = targetPoint(lib, params.node);
  }

  /** A table entry at the target node, per operation or per bit (per-access entries divided out). */
  entry(component: string, attributes: Attributes, action: string, context: string): Cost {
    return this.fromEntry(this.lib.lookup(component, attributes, action, context));
  }

  private fromEntry(e: TableEntry): Cost {
    const s = scaleEntry(this.lib, e, this.target);
    const perUnit = e.per === 'access' ? 1 / e.bitsPerAccess! : 1;
    const energy = e.energy_pJ * s.energy * perUnit;
    const area = e.area_um2 === null ? null : e.area_um2 * s.area;
    const latency = e.latency_cycles === null || s.delay === null ? null : e.latency_cycles * s.delay;
    const formula = e.per === 'access' ? `${e.id} / ${e.bitsPerAccess} bits` : e.id;
    return {
      energy_pJ: energy,
      area_um2: area,
      areaMissing: area === null ? [e.id] : [],
      latency_cycles: latency,
      formula,
      uses: [{ entry: e.id, coefficient: perUnit, scale: s.energy, energy_pJ: energy }],
    };
  }

  intAdd(width: number, context: string): Cost {
    const exact = this.lib.find('int_unit', { width }, 'add');
    if (exact) return this.fromEntry(exact);
    const widths = this.lib
      .family('int_unit', 'add')
      .map((e) => e.attributes.width)
      .filter((w): w is number => typeof w === 'number')
      .sort((a, b) => a - b);
    const wider = widths.find((w) => w > width);
    if (wider !== undefined) {
      const c = this.fromEntry(this.lib.lookup('int_unit', { width: wider }, 'add'));
      return times(1, c, `int${width} add ~ int${wider} add (next wider table width)`);
    }
    const widest = widths.at(-1);
    if (widest === undefined) throw new MissingEntryError('int_unit', { width }, 'add', context);
    const c = this.fromEntry(this.lib.lookup('int_unit', { width: widest }, 'add'));
    return times(width / widest, c, `int${width} add = ${width}/${widest} x int${widest} add (linear in width)`);
  }

  /** An arithmetic operation (mul, add, div, sqrt, exp, log, tanh, sigmoid) in one format. */
  unit(f: HwFormat, action: string, context: string): Cost {
    switch (f.family) {
      case 'float':
        return this.entry('float_unit', { e: f.e, m: f.m }, action, context);
      case 'fixed':
        return action === 'add' ? this.intAdd(f.wl, context) : this.entry('int_unit', { width: f.wl }, action, context);
      case 'posit':
        return this.posit(f, action, context);
    }
  }

  private posit(f: HwFormat & { family: 'posit' }, action: string, context: string): Cost {
    const direct = this.lib.find('posit_unit', { n: f.n }, action);
    if (direct) return this.fromEntry(direct);
    const kappa = this.params.kappa;
    // The sources' own rule for narrow posits' mul and add (docs/energy-sources.md section 7) comes before any float reference.
    const p8 = this.params.positReference['8'];
    if (f.n < 8 && p8 !== undefined && (action === 'mul' || action === 'add')) {
      const k = action === 'mul' ? (f.n / 8) ** 2 : f.n / 8;
      const ref = this.unit(parseHwFormat(p8), action, context);
      const rule = action === 'mul' ? `(${f.n}/8)^2` : `(${f.n}/8)`;
      return times(kappa * k, ref, `kappa(${kappa}) x ${rule} x ${ref.formula} (P${f.n} from P8)`);
    }
    const refName = this.params.positReference[String(f.n)];
    if (refName !== undefined) {
      const ref = this.unit(parseHwFormat(refName), action, context);
      return times(kappa, ref, `kappa(${kappa}) x ${ref.formula}`);
    }
    throw new MissingEntryError(
      'posit_unit',
      { n: f.n },
      action,
      `${context}; no float reference of width ${f.n} in positReference, and the P8 narrowing rule covers only n < 8 mul and add`,
    );
  }

  compare(f: HwFormat, context: string): Cost {
    return times(1, this.intAdd(f.bits, context), `compare = one int${f.bits} add (a comparator is a subtractor)`);
  }

  quireBits(n: number): number {
    return this.params.quireBitsPerPositBit * n;
  }

  quireAccumulate(q: number, context: string): Cost {
    const add = this.intAdd(q, context);
    const shift = this.entry('shifter', {}, 'shift', context);
    return weighted(
      [
        { k: 1, c: add },
        { k: q, c: shift },
      ],
      `quire${q} accumulate = int${q} add + ${q}-bit alignment shift`,
    );
  }

  quireRound(q: number, context: string): Cost {
    return times(2, this.intAdd(q, context), `quire${q} -> posit = 2 x int${q} add`);
  }

  mac(a: HwFormat, b: HwFormat, acc: HwFormat | 'quire', context: string): MacCost {
    const ma = this.unit(a, 'mul', context);
    const multiply =
      a.name === b.name
        ? ma
        : (() => {
            const mb = this.unit(b, 'mul', context);
            const pick = ma.energy_pJ >= mb.energy_pJ ? ma : mb;
            return times(1, pick, `mixed ${a.name} x ${b.name}: the dearer multiplier, ${pick.formula}`);
          })();
    let accumulate: Cost;
    let accumulatorBits: number;
    if (acc === 'quire') {
      if (a.family !== 'posit' || b.family !== 'posit') throw new CountsError(`${context}: quire accumulation needs posit operands, got ${a.name} x ${b.name}`);
      accumulatorBits = this.quireBits(Math.max(a.n, b.n));
      accumulate = this.quireAccumulate(accumulatorBits, context);
    } else {
      accumulatorBits = acc.bits;
      accumulate = this.unit(acc, 'add', context);
    }
    const reg = this.entry('register', {}, 'write', context);
    const registerWrite = times(accumulatorBits, reg, `${accumulatorBits}-bit accumulator register write`);
    return { multiply, accumulate, registerWrite, accumulatorBits };
  }

  convert(from: HwFormat, to: HwFormat, rounding: string, context: string): Cost {
    return this.entry('converter', { from: from.family, to: to.family, rounding }, 'convert', context);
  }

  activation(fn: string, f: HwFormat, fast: boolean, context: string): Cost {
    if (fast) {
      if (f.family !== 'posit' || (fn !== 'tanh' && fn !== 'sigmoid')) {
        throw new CountsError(`${context}: the fast activation is the posit bit trick for tanh and sigmoid, not ${fn} in ${f.name}`);
      }
      const adds = this.lib.constant(`fast_${fn}_int_adds`).value;
      return times(adds, this.intAdd(f.bits, context), `fast ${fn} = ${adds} x int${f.bits} add`);
    }
    if (fn === 'relu') return this.compare(f, context);
    if (fn === 'leaky_relu') {
      return weighted(
        [
          { k: 1, c: this.compare(f, context) },
          { k: 1, c: this.unit(f, 'mul', context) },
        ],
        `leaky_relu = compare + ${f.name} mul`,
      );
    }
    return this.unit(f, fn, context);
  }

  /** Energy per bit moved at one memory level. */
  memoryBit(level: 'dram' | 'sram' | 'register_file', direction: 'read' | 'write', context: string): Cost {
    const m = this.params.memory;
    const attrs: Attributes = level === 'dram' ? { type: m.dram } : level === 'sram' ? { size_kB: m.sramKB } : {};
    return this.entry(level, attrs, direction, context);
  }
}

/** parseHwFormat with the record named in the error. */
export function formatOf(name: string, context: string): HwFormat {
  try {
    return parseHwFormat(name);
  } catch (e) {
    if (e instanceof HwFormatError) throw new CountsError(`${context}: ${e.message}`);
    throw e;
  }
}
