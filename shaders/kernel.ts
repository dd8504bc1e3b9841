// The pieces every kernel family shares: a typed parameter table that emits both the WGSL
// `struct Params` and the host-side packer, a binding table that emits the storage declarations and
// orders the buffers a dispatch names, the variant record the runtime dispatches, memoization of
// variants by their cache key, and the 1-D grid split. All pure: no GPU objects (engine/ compiles
// and dispatches; the kernel-module pattern: docs/kernels.md).

// ---- parameters -----------------------------------------------------------------------------------

/** A parameter: a u32 / i32 / f32 scalar, or `length` u32 values read in WGSL as
 *  array<vec4<u32>, length / 4> (length a multiple of 4; a length of 0 leaves the field out). */
export type ParamField =
  | readonly [name: string, type: 'u32' | 'i32' | 'f32']
  | readonly [name: string, type: 'u32[]', length: number];
export type ParamTable = readonly ParamField[];

/** What a dispatch gives for a table: a number per scalar, up to `length` numbers per array. */
export type ParamValues<T extends ParamTable> = {
  readonly [F in T[number] as F[0]]: F[1] extends 'u32[]' ? ArrayLike<number> : number;
};

/** Checks a table literal and keeps its field names as types. */
export function paramTable<const T extends ParamTable>(table: T): T {
  return table;
}

const KIND = { u32: 0, i32: 1, f32: 2, 'u32[]': 3 } as const;

interface Slot {
  name: string;
  kind: 0 | 1 | 2 | 3;
  /** Word offset in the block. */
  offset: number;
  length: number;
}

// Scratch for f32 bit patterns: packing writes whole words, without a typed-array view per block.
const F32 = new Float32Array(1);
const F32_BITS = new Uint32Array(F32.buffer);

/**
 * The uniform block of a parameter table. Fields are laid out in table order at 4 bytes each; an
 * array starts at the next 16-byte boundary (WGSL's alignment of vec4), and the block is padded to a
 * multiple of 16 bytes. `struct` declares exactly this layout (padding words named _pad<i>), bound
 * as `P` at group 0, binding 0; `pack` writes values at the same offsets. Both come from the one
 * table, so the shader and the host cannot disagree on a field.
 */
export class ParamLayout<T extends ParamTable = ParamTable> {
  /** WGSL: `struct Params { ... };` and the uniform binding `P`. */
  readonly struct: string;
  /** Words in a packed block (a multiple of 4). */
  readonly words: number;
  private readonly slots: Slot[] = [];

  constructor(readonly table: T) {
    const lines: string[] = [];
    const names = new Set<string>();
    let offset = 0;
    let pads = 0;
    const pad = (to: number) => {
      while (offset % to) {
        lines.push(`  _pad${pads++}: u32,`);
        offset++;
      }
    };
    for (const field of table) {
      const [name, type] = field;
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`parameter '${name}': names are lower-case WGSL identifiers`);
      if (names.has(name)) throw new Error(`parameter '${name}' appears twice in its table`);
      names.add(name);
      if (field[1] === 'u32[]') {
        const length = field[2];
        if (!Number.isInteger(length) || length < 0 || length % 4) throw new Error(`parameter '${name}': array length ${length} is not a multiple of 4`);
        if (length === 0) {
          this.slots.push({ name, kind: 3, offset, length: 0 });
          continue;
        }
        pad(4);
        lines.push(`  ${name}: array<vec4<u32>, ${length / 4}>,`);
        this.slots.push({ name, kind: 3, offset, length });
        offset += length;
      } else {
        lines.push(`  ${name}: ${type},`);
        this.slots.push({ name, kind: KIND[type], offset, length: 1 });
        offset++;
      }
    }
    pad(4);
    this.words = Math.max(4, offset);
    if (offset === 0) lines.push('  _pad0: u32,');
    this.struct = `struct Params {\n${lines.join('\n')}\n};\n@group(0) @binding(0) var<uniform> P: Params;`;
  }

  /** The block for one dispatch (`what` names the kernel in errors). */
  pack(values: ParamValues<T>, what: string): Uint32Array {
    const words = new Uint32Array(this.words);
    const v = values as unknown as Record<string, number | ArrayLike<number> | undefined>;
    for (const s of this.slots) {
      const x = v[s.name];
      if (x === undefined) throw new Error(`${what}: kernel parameter '${s.name}' is missing`);
      if (s.kind === 3) {
        const a = x as ArrayLike<number>;
        if (typeof a !== 'object' || a.length > s.length) {
          throw new Error(`${what}: kernel parameter '${s.name}' takes at most ${s.length} values, got ${typeof a === 'object' ? a.length : typeof a}`);
        }
        for (let i = 0; i < a.length; i++) words[s.offset + i] = checkU32(what, s.name, a[i]!);
        continue;
      }
      const n = x as number;
      if (s.kind === 0) words[s.offset] = checkU32(what, s.name, n);
      else if (s.kind === 1) {
        if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new Error(`${what}: kernel parameter ${s.name}=${n} is not an i32`);
        words[s.offset] = n >>> 0;
      } else {
        if (typeof n !== 'number') throw new Error(`${what}: kernel parameter ${s.name}=${String(n)} is not a number`);
        F32[0] = n;
        words[s.offset] = F32_BITS[0]!;
      }
    }
    return words;
  }
}

function checkU32(what: string, name: string, x: number): number {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new Error(`${what}: kernel parameter ${name}=${x} is not a u32`);
  return x;
}

// ---- bindings -------------------------------------------------------------------------------------

/** A storage binding: the name a dispatch gives its buffer under (and the WGSL variable's, after an
 *  optional prefix), its access and its WGSL store type. */
export interface BindingSpec<N extends string = string> {
  readonly name: N;
  readonly access: 'read' | 'read_write';
  /** e.g. 'array<f32>', 'array<u32>', 'array<atomic<u32>>'. */
  readonly type: string;
}

/** Shorthand for a binding table: [name, access, type] per binding, in binding order. */
export function bindingTable<const N extends string>(rows: readonly (readonly [N, 'read' | 'read_write', string])[]): BindingSpec<N>[] {
  return rows.map(([name, access, type]) => ({ name, access, type }));
}

/** WGSL declarations of storage bindings numbered from `first` (1 after a parameter block). */
export function bindingDecls(bindings: readonly BindingSpec[], first: number, prefix = ''): string {
  return bindings.map((b, i) => `@group(0) @binding(${first + i}) var<storage, ${b.access}> ${prefix}${b.name}: ${b.type};`).join('\n');
}

// ---- variants ---------------------------------------------------------------------------------------

/**
 * One compiled-to-be kernel: its source, its parameter block and its storage bindings. R names the
 * bindings every variant of the family has, O those only some have (a dispatch may give them always;
 * the runtime checks that each binding the variant declares is given).
 */
export interface KernelVariant<T extends ParamTable = ParamTable, R extends string = string, O extends string = never> {
  /** Pipeline label (validation errors, profiles). */
  readonly label: string;
  /** The family's cache key of this variant's spec (it determines the source). */
  readonly key: string;
  readonly code: string;
  /** The uniform block at binding 0, or null (then the storage bindings start at 0). */
  readonly params: ParamLayout<T> | null;
  /** Storage bindings in binding order. */
  readonly bindings: readonly BindingSpec<R | O>[];
  /** Brand for the required/optional split (type only). */
  readonly _names?: { required: R; optional: O };
}

/** The buffers a dispatch binds, by binding name. `B` is whatever the engine binds (GPUBuffer or a
 *  range of one); shaders/ does not look inside. */
export type BindingValues<V, B> = V extends KernelVariant<ParamTable, infer R, infer O> ? Readonly<Record<R, B>> & Readonly<Partial<Record<O, B>>> : never;
export type ParamValuesOf<V> = V extends KernelVariant<infer T, string, string> ? ParamValues<T> : never;

/**
 * A variant from its pieces: `source` receives the header (the Params struct, when there is a
 * table, and the binding declarations) and returns the whole WGSL module.
 */
export function kernelVariant<const T extends ParamTable, R extends string, O extends string = never>(v: {
  label: string;
  key: string;
  params: ParamLayout<T> | null;
  /** R: every binding name the variant has; those also in O (given by the caller's declared
   *  return type) are optional across the family. */
  bindings: readonly BindingSpec<R>[];
  source: (header: string) => string;
  /** Prefix of the WGSL variables of the bindings (default none). */
  prefix?: string;
}): KernelVariant<T, Exclude<R, O>, O> {
  const decls = bindingDecls(v.bindings, v.params ? 1 : 0, v.prefix);
  const header = v.params ? `${v.params.struct}\n${decls}` : decls;
  return { label: v.label, key: v.key, code: v.source(header), params: v.params, bindings: v.bindings as readonly BindingSpec<Exclude<R, O> | O>[] };
}

/** `generate` memoized by `key(spec)`: same key, the same (identical) result object. Generating a
 *  source again for every dispatch (and hashing a fresh multi-kilobyte string in the pipeline cache)
 *  costs more host time than recording the dispatch, and host time bounds a training step on a fast
 *  GPU. The key must determine the result completely. */
export function memoByKey<S, T>(generate: (spec: S, key: string) => T, key: (spec: S) => string): (spec: S) => T {
  const cache = new Map<string, T>();
  return (spec: S) => {
    const k = key(spec);
    let hit = cache.get(k);
    if (hit === undefined) cache.set(k, (hit = generate(spec, k)));
    return hit;
  };
}

// ---- grids ------------------------------------------------------------------------------------------

export type Grid = readonly [number, number, number];

/** The device limit a grid must respect (a GPUSupportedLimits has it). */
export interface GridLimits {
  readonly maxComputeWorkgroupsPerDimension: number;
}

/** Splits a 1-D workgroup count over x and y when it exceeds the per-dimension limit. Kernels
 *  recover the linear id as wid.x + wid.y * num_workgroups.x (or a grid_x parameter). */
export function grid1d(limits: GridLimits, workgroups: number): [number, number, number] {
  const max = limits.maxComputeWorkgroupsPerDimension;
  if (workgroups <= max) return [Math.max(1, workgroups), 1, 1];
  const y = Math.ceil(workgroups / max);
  if (y > max) throw new Error(`dispatch of ${workgroups} workgroups exceeds the device's 2-D grid (${max}^2)`);
  return [Math.ceil(workgroups / y), y, 1];
}
