// The hardware view of a number format: which datapath it needs (family and field widths), read from
// the canonical format names of the op-count files (the syntax of formats/). hw-model keeps its own
// reader so that it depends on nothing in engine/ but the op-count schema; only the widths matter
// here, so rounding, saturation and special-value options are accepted and ignored.

export type HwFormat =
  | { readonly family: 'float'; readonly name: string; readonly e: number; readonly m: number; readonly bits: number }
  | { readonly family: 'posit'; readonly name: string; readonly n: number; readonly es: number; readonly bits: number }
  | { readonly family: 'fixed'; readonly name: string; readonly wl: number; readonly bits: number };

export class HwFormatError extends Error {
  override name = 'HwFormatError';
}

/** Named float formats and their exponent / mantissa field widths. The paper's QPyTorch-style
 *  e4m3q / e5m2q have the same field widths as OCP e4m3 / e5m2, so the same datapath. */
const NAMED: Readonly<Record<string, readonly [number, number]>> = {
  fp32: [8, 23],
  fp16: [5, 10],
  bf16: [8, 7],
};

function args(body: string, spec: string): Map<string, string> {
  const out = new Map<string, string>();
  if (body === '') return out;
  for (const part of body.split(',')) {
    const m = /^([a-z_]+)=([a-z0-9.+-]+)$/.exec(part);
    if (!m) throw new HwFormatError(`format '${spec}': cannot read '${part}' (expected key=value)`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

function intArg(a: Map<string, string>, key: string, spec: string): number | undefined {
  const v = a.get(key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new HwFormatError(`format '${spec}': ${key} must be an integer, got '${v}'`);
  return Number(v);
}

function float(name: string, e: number, m: number): HwFormat {
  return { family: 'float', name, e, m, bits: 1 + e + m };
}

/** Reads a canonical format name (`fp16`, `e4m3q`, `p8e2`, `posit(n=8,es=2)`, `fixed(wl=8,fl=4)`,
 *  `float(e=4,m=3,...)`, `e4m3(sat=0)`). Throws HwFormatError naming the spec if it cannot. */
export function parseHwFormat(spec: string): HwFormat {
  const s = spec.toLowerCase().replace(/\s+/g, '');
  const call = /^([a-z0-9]+)(?:\((.*)\))?$/.exec(s);
  if (!call) throw new HwFormatError(`format '${spec}' is not a format name`);
  const head = call[1]!;
  const a = args(call[2] ?? '', spec);
  const named = NAMED[head];
  const em = /^e(\d)m(\d+)q?$/.exec(head);
  if (named || em) {
    const e = intArg(a, 'e', spec) ?? (named ? named[0] : Number(em![1]));
    const m = intArg(a, 'm', spec) ?? (named ? named[1] : Number(em![2]));
    return float(spec, e, m);
  }
  if (head === 'float') {
    const e = intArg(a, 'e', spec);
    const m = intArg(a, 'm', spec);
    if (e === undefined || m === undefined) throw new HwFormatError(`format '${spec}': float(...) needs e= and m=`);
    return float(spec, e, m);
  }
  const p = /^p(\d+)e(\d+)$/.exec(head);
  if (p || head === 'posit') {
    const n = p ? Number(p[1]) : intArg(a, 'n', spec);
    const es = p ? Number(p[2]) : intArg(a, 'es', spec);
    if (n === undefined || es === undefined) throw new HwFormatError(`format '${spec}': posit(...) needs n= and es=`);
    return { family: 'posit', name: spec, n, es, bits: n };
  }
  if (head === 'fixed') {
    const wl = intArg(a, 'wl', spec);
    if (wl === undefined) throw new HwFormatError(`format '${spec}': fixed(...) needs wl=`);
    return { family: 'fixed', name: spec, wl, bits: wl };
  }
  throw new HwFormatError(
    `format '${spec}' is unknown to the hardware model (expected fp32, fp16, bf16, e<E>m<M>[q], p<n>e<es>, posit(...), float(...), fixed(...))`,
  );
}
