// Component tables: the schema of a table file, its validation, and the library that merges the
// shipped tables with user tables (later files override earlier entries, and the report says so).
//
// A table file (JSON):
//   { "schema": "posit-gan/hw-table", "version": 1, "name": "...", "description": "...",
//     "entries":   [ENTRY...],      energy (and where known area, latency) per (component, attributes, action)
//     "constants": [CONSTANT...],   named numbers with provenance (kappa, quire width, ...): parameter defaults
//     "scaling":   { "base": POINT, "nodes": [POINT...] }  technology scaling factors relative to base }
// ENTRY fields (units are part of the field name; anything else is an error):
//   component, attributes {name: string|number}, action,
//   per: "op" | "bit" | "access"  (what one energy figure pays for; "access" needs bits_per_access),
//   energy_<fJ|pJ|nJ> (required), energy_range_<unit> [lo, hi] (optional, the source's spread),
//   area_<um2|mm2>, area_note, latency_cycles (optional), node_scaling (default true; false for DRAM),
//   provenance { citation, kind: measured|synthesis|library|derived, node_nm, voltage_V,
//                formula + inputs (derived only), notes }.
// Browser-safe: no Node modules here (file reading lives in load.ts).

import { AREA_UNITS, ENERGY_UNITS, LATENCY_UNITS } from './units.ts';

export const TABLE_SCHEMA = 'posit-gan/hw-table';
export const TABLE_VERSION = 1;

export const PROVENANCE_KINDS = ['measured', 'synthesis', 'library', 'derived'] as const;
export type ProvenanceKind = (typeof PROVENANCE_KINDS)[number];

export type Attributes = Readonly<Record<string, string | number>>;

export interface Provenance {
  readonly citation: string;
  readonly kind: ProvenanceKind;
  /** Node and voltage the figure belongs to; absent only where the figure is not node-scaled. */
  readonly node_nm?: number;
  readonly voltage_V?: number;
  /** Derived entries: how the figure was computed, and from what. */
  readonly formula?: string;
  readonly inputs?: Readonly<Record<string, number | string>>;
  readonly notes?: string;
}

export type Per = 'op' | 'bit' | 'access';

export interface TableEntry {
  /** `component{attr=value,...}.action`: unique within the library. */
  readonly id: string;
  /** `table-name (file)` the entry came from. */
  readonly source: string;
  readonly component: string;
  readonly attributes: Attributes;
  readonly action: string;
  readonly per: Per;
  readonly bitsPerAccess: number | null;
  readonly energy_pJ: number;
  readonly energyRange_pJ: readonly [number, number] | null;
  readonly area_um2: number | null;
  readonly areaNote: string | null;
  readonly latency_cycles: number | null;
  readonly nodeScaling: boolean;
  readonly provenance: Provenance;
}

export interface Constant {
  readonly name: string;
  readonly value: number;
  readonly range: readonly [number, number] | null;
  readonly unit: string;
  readonly source: string;
  readonly provenance: Provenance;
}

export interface ScalingPoint {
  /** What `--node` names it by. */
  readonly name: string;
  readonly node_nm: number;
  readonly voltage_V: number;
  readonly label: string;
  /** Factors relative to the base point (1 for the base itself). Delay null: not given by the source. */
  readonly energyFactor: number;
  readonly areaFactor: number;
  readonly delayFactor: number | null;
  readonly provenance: Provenance | null;
  readonly source: string;
}

export interface Table {
  readonly name: string;
  readonly source: string;
  readonly entries: readonly TableEntry[];
  readonly constants: readonly Constant[];
  readonly scaling: { readonly base: ScalingPoint; readonly nodes: readonly ScalingPoint[] } | null;
}

/** A table file that does not follow the schema. The message names file, entry and field. */
export class TableError extends Error {
  override name = 'TableError';
}

/** No entry for what the model needs. Never replaced by a default: add the entry with --tables. */
export class MissingEntryError extends Error {
  override name = 'MissingEntryError';
  constructor(
    readonly component: string,
    readonly attributes: Attributes,
    readonly action: string,
    context: string,
  ) {
    super(
      `no energy entry for component '${component}' with attributes ${attrText(attributes)} and action '${action}'` +
        `${context ? ` (needed for ${context})` : ''}. The model never substitutes a default: add this entry in a ` +
        `table file and pass it with --tables FILE (format in hw-model/README.md).`,
    );
  }
}

export function attrText(a: Attributes): string {
  const keys = Object.keys(a).sort();
  return `{${keys.map((k) => `${k}=${a[k]}`).join(',')}}`;
}

export function entryId(component: string, attributes: Attributes, action: string): string {
  return `${component}${attrText(attributes)}.${action}`;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validation helper bound to one place in one file, so every error names where it is. */
class Where {
  constructor(
    readonly file: string,
    readonly at: string,
  ) {}
  fail(field: string, problem: string): never {
    throw new TableError(`${this.file}: ${this.at}: field '${field}': ${problem}`);
  }
  string(o: Json, field: string, required = true): string | undefined {
    const v = o[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.trim() === '') this.fail(field, v === undefined ? 'missing (a non-empty string)' : `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }
  number(o: Json, field: string, opts: { required?: boolean; positive?: boolean } = {}): number | undefined {
    const v = o[field];
    if (v === undefined && opts.required === false) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, v === undefined ? 'missing (a number)' : `must be a finite number, got ${JSON.stringify(v)}`);
    if (opts.positive ? v <= 0 : v < 0) this.fail(field, `must be ${opts.positive ? '> 0' : '>= 0'}, got ${v}`);
    return v;
  }
  only(o: Json, allowed: readonly string[], what: string): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(k, `unknown field in ${what} (allowed: ${allowed.join(', ')})`);
  }
}

/** Finds the one `<prefix>_<unit>` field of an entry, checks the unit and converts to the base unit. */
function unitField(
  w: Where,
  o: Json,
  prefix: string,
  units: Readonly<Record<string, number>>,
  base: string,
  reserved: readonly string[],
): { field: string; factor: number } | null {
  const fields = Object.keys(o).filter((k) => k.startsWith(prefix + '_') && !reserved.includes(k));
  if (fields.length === 0) return null;
  if (fields.length > 1) w.fail(fields.join(', '), `give one ${prefix} field, not ${fields.length}`);
  const field = fields[0]!;
  const unit = field.slice(prefix.length + 1);
  const factor = units[unit];
  if (factor === undefined) {
    w.fail(field, `unknown unit '${unit}' (allowed: ${Object.keys(units).map((u) => `${prefix}_${u}`).join(', ')}; the model works in ${base})`);
  }
  return { field, factor };
}

function parseProvenance(w: Where, v: unknown, needsNode: boolean): Provenance {
  if (!isObject(v)) return w.fail('provenance', v === undefined ? 'missing (every number needs its source)' : 'must be an object');
  const p: Where = new Where(w.file, `${w.at}: provenance`);
  p.only(v, ['citation', 'kind', 'node_nm', 'voltage_V', 'formula', 'inputs', 'notes'], 'provenance');
  const citation = p.string(v, 'citation')!;
  const kind = v.kind;
  if (typeof kind !== 'string' || !(PROVENANCE_KINDS as readonly string[]).includes(kind)) {
    p.fail('kind', `must be one of ${PROVENANCE_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const node_nm = p.number(v, 'node_nm', { required: needsNode, positive: true });
  const voltage_V = p.number(v, 'voltage_V', { required: needsNode, positive: true });
  const notes = p.string(v, 'notes', false);
  let formula: string | undefined;
  let inputs: Record<string, number | string> | undefined;
  if (kind === 'derived') {
    formula = p.string(v, 'formula')!;
    if (!isObject(v.inputs) || Object.keys(v.inputs).length === 0) p.fail('inputs', 'a derived figure must list the inputs of its formula (an object of names to numbers or strings)');
    for (const [k, x] of Object.entries(v.inputs)) if (typeof x !== 'number' && typeof x !== 'string') p.fail(`inputs.${k}`, 'must be a number or a string');
    inputs = v.inputs as Record<string, number | string>;
  } else if (v.formula !== undefined || v.inputs !== undefined) {
    p.fail(v.formula !== undefined ? 'formula' : 'inputs', `only derived figures carry a formula and inputs; this one is kind '${kind}'`);
  }
  return {
    citation,
    kind: kind as ProvenanceKind,
    ...(node_nm !== undefined ? { node_nm } : {}),
    ...(voltage_V !== undefined ? { voltage_V } : {}),
    ...(formula !== undefined ? { formula, inputs: inputs! } : {}),
    ...(notes !== undefined ? { notes } : {}),
  };
}

const ENTRY_FIELDS = ['component', 'attributes', 'action', 'per', 'bits_per_access', 'area_note', 'node_scaling', 'provenance'];

function parseEntry(file: string, source: string, index: number, v: unknown): TableEntry {
  const head = isObject(v) ? `${v.component ?? '?'}${isObject(v.attributes) ? attrText(v.attributes as Attributes) : ''}.${v.action ?? '?'}` : '';
  const w: Where = new Where(file, `entries[${index}]${head ? ` (${head})` : ''}`);
  if (!isObject(v)) return w.fail('(entry)', 'must be an object');
  const component = w.string(v, 'component')!;
  if (!/^[a-z][a-z0-9_]*$/.test(component)) w.fail('component', `must be lower_snake_case, got '${component}'`);
  const action = w.string(v, 'action')!;
  if (!isObject(v.attributes)) w.fail('attributes', 'missing or not an object (use {} for none)');
  for (const [k, x] of Object.entries(v.attributes)) if (typeof x !== 'string' && typeof x !== 'number') w.fail(`attributes.${k}`, 'must be a string or a number');
  const attributes = v.attributes as Attributes;

  const energy = unitField(w, v, 'energy', ENERGY_UNITS, 'pJ', ['energy_range_fJ', 'energy_range_pJ', 'energy_range_nJ']);
  const range = unitField(w, v, 'energy_range', ENERGY_UNITS, 'pJ', []);
  const area = unitField(w, v, 'area', AREA_UNITS, 'um^2', ['area_note']);
  const latency = unitField(w, v, 'latency', LATENCY_UNITS, 'cycles', []);
  const known = [...ENTRY_FIELDS, ...[energy, range, area, latency].filter((f) => f !== null).map((f) => f!.field)];
  for (const k of Object.keys(v)) {
    if (known.includes(k)) continue;
    if (k.startsWith('energy')) w.fail(k, `not an energy field: write energy_<unit> with unit one of ${Object.keys(ENERGY_UNITS).join(', ')}`);
    w.fail(k, `unknown field (allowed: ${ENTRY_FIELDS.join(', ')}, energy_<unit>, energy_range_<unit>, area_<unit>, latency_cycles)`);
  }
  if (!energy) w.fail('energy_pJ', 'missing: every entry needs an energy (energy_pJ, or energy_fJ / energy_nJ)');
  const energy_pJ = w.number(v, energy.field)! * energy.factor;

  const per = v.per;
  if (per !== 'op' && per !== 'bit' && per !== 'access') w.fail('per', `must be "op", "bit" or "access" (what one energy figure pays for), got ${JSON.stringify(per)}`);
  let bitsPerAccess: number | null = null;
  if (per === 'access') {
    bitsPerAccess = w.number(v, 'bits_per_access', { positive: true })!;
    if (!Number.isInteger(bitsPerAccess)) w.fail('bits_per_access', `must be an integer, got ${bitsPerAccess}`);
  } else if (v.bits_per_access !== undefined) {
    w.fail('bits_per_access', `only for per "access" (this entry is per "${per}")`);
  }

  let energyRange_pJ: [number, number] | null = null;
  if (range) {
    const r = v[range.field];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isFinite(x))) w.fail(range.field, 'must be [low, high]');
    energyRange_pJ = [(r[0] as number) * range.factor, (r[1] as number) * range.factor];
    if (!(energyRange_pJ[0] <= energy_pJ && energy_pJ <= energyRange_pJ[1])) w.fail(range.field, `the energy (${energy_pJ} pJ) must lie inside the range`);
  }
  const nodeScaling = v.node_scaling === undefined ? true : v.node_scaling;
  if (typeof nodeScaling !== 'boolean') w.fail('node_scaling', 'must be true or false');
  const provenance = parseProvenance(w, v.provenance, nodeScaling);
  return {
    id: entryId(component, attributes, action),
    source,
    component,
    attributes,
    action,
    per,
    bitsPerAccess,
    energy_pJ,
    energyRange_pJ,
    area_um2: area ? w.number(v, area.field)! * area.factor : null,
    areaNote: (w.string(v, 'area_note', false) as string | undefined) ?? null,
    latency_cycles: latency ? w.number(v, latency.field)! : null,
    nodeScaling,
    provenance,
  };
}

function parseConstant(file: string, source: string, index: number, v: unknown): Constant {
  const w: Where = new Where(file, `constants[${index}]${isObject(v) && typeof v.name === 'string' ? ` (${v.name})` : ''}`);
  if (!isObject(v)) return w.fail('(constant)', 'must be an object');
  w.only(v, ['name', 'value', 'range', 'unit', 'provenance'], 'a constant');
  const name = w.string(v, 'name')!;
  const value = w.number(v, 'value')!;
  const unit = w.string(v, 'unit')!;
  let range: [number, number] | null = null;
  if (v.range !== undefined) {
    const r = v.range;
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number') || !(r[0] <= value && value <= r[1])) w.fail('range', 'must be [low, high] around the value');
    range = [r[0] as number, r[1] as number];
  }
  return { name, value, range, unit, source, provenance: parseProvenance(w, v.provenance, false) };
}

function parsePoint(file: string, source: string, at: string, v: unknown, base: boolean): ScalingPoint {
  const w: Where = new Where(file, at);
  if (!isObject(v)) return w.fail('(point)', 'must be an object');
  const fields = ['name', 'node_nm', 'voltage_V', 'label'];
  w.only(v, base ? fields : [...fields, 'energy_factor', 'area_factor', 'delay_factor', 'provenance'], base ? 'the base point' : 'a scaling point');
  const name = w.string(v, 'name')!;
  const node_nm = w.number(v, 'node_nm', { positive: true })!;
  const voltage_V = w.number(v, 'voltage_V', { positive: true })!;
  const label = w.string(v, 'label')!;
  if (base) return { name, node_nm, voltage_V, label, energyFactor: 1, areaFactor: 1, delayFactor: 1, provenance: null, source };
  return {
    name,
    node_nm,
    voltage_V,
    label,
    energyFactor: w.number(v, 'energy_factor', { positive: true })!,
    areaFactor: w.number(v, 'area_factor', { positive: true })!,
    delayFactor: w.number(v, 'delay_factor', { required: false, positive: true }) ?? null,
    provenance: parseProvenance(w, v.provenance, false),
    source,
  };
}

/** Validates one table document. `file` names it in errors (a path, or a name for built-in tables). */
export function parseTable(doc: unknown, file: string): Table {
  const w: Where = new Where(file, 'table');
  if (!isObject(doc)) return w.fail('(document)', 'must be a JSON object');
  w.only(doc, ['schema', 'version', 'name', 'description', 'entries', 'constants', 'scaling'], 'a table file');
  if (doc.schema !== TABLE_SCHEMA) w.fail('schema', `must be "${TABLE_SCHEMA}", got ${JSON.stringify(doc.schema)}`);
  if (doc.version !== TABLE_VERSION) w.fail('version', `this hw-model reads version ${TABLE_VERSION}, got ${JSON.stringify(doc.version)}`);
  const name = w.string(doc, 'name')!;
  w.string(doc, 'description');
  const source = `${name} (${file})`;
  const list = (field: string): unknown[] => {
    const v = doc[field];
    if (v === undefined) return [];
    if (!Array.isArray(v)) w.fail(field, 'must be an array');
    return v;
  };
  const entries = list('entries').map((e, i) => parseEntry(file, source, i, e));
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const j = seen.get(e.id);
    if (j !== undefined) throw new TableError(`${file}: entries[${i}] (${e.id}) repeats entries[${j}]: one entry per (component, attributes, action)`);
    seen.set(e.id, i);
  });
  const constants = list('constants').map((c, i) => parseConstant(file, source, i, c));
  let scaling: Table['scaling'] = null;
  if (doc.scaling !== undefined) {
    const s = doc.scaling;
    if (!isObject(s) || !Array.isArray(s.nodes)) w.fail('scaling', 'must be { "base": POINT, "nodes": [POINT, ...] }');
    scaling = {
      base: parsePoint(file, source, 'scaling.base', s.base, true),
      nodes: s.nodes.map((p, i) => parsePoint(file, source, `scaling.nodes[${i}]`, p, false)),
    };
  }
  if (entries.length + constants.length === 0 && !scaling) w.fail('entries', 'the table holds no entries, constants or scaling points');
  return { name, source, entries, constants, scaling };
}

/** An entry replaced by a later table. */
export interface Override {
  readonly id: string;
  readonly replaced: string;
  readonly by: string;
}

/** The merged tables. Later tables override earlier ones entry by entry (and constant by constant,
 *  scaling point by point); every override is listed so a report can say what a user table changed. */
export class Library {
  readonly entries = new Map<string, TableEntry>();
  readonly constants = new Map<string, Constant>();
  readonly points = new Map<string, ScalingPoint>();
  readonly overrides: Override[] = [];
  base: ScalingPoint | null = null;

  constructor(tables: readonly Table[]) {
    for (const t of tables) this.add(t);
  }

  private add(t: Table): void {
    for (const e of t.entries) {
      const had = this.entries.get(e.id);
      if (had) this.overrides.push({ id: e.id, replaced: had.source, by: e.source });
      this.entries.set(e.id, e);
    }
    for (const c of t.constants) {
      const had = this.constants.get(c.name);
      if (had) this.overrides.push({ id: `constant ${c.name}`, replaced: had.source, by: c.source });
      this.constants.set(c.name, c);
    }
    if (t.scaling) {
      const b = t.scaling.base;
      if (this.base && (this.base.node_nm !== b.node_nm || this.base.voltage_V !== b.voltage_V)) {
        throw new TableError(
          `${t.source}: scaling.base ${b.node_nm} nm @ ${b.voltage_V} V differs from the base of earlier tables ` +
            `(${this.base.node_nm} nm @ ${this.base.voltage_V} V): all scaling factors must be relative to one base`,
        );
      }
      if (!this.base) {
        this.base = b;
        this.points.set(b.name, b);
      }
      for (const p of t.scaling.nodes) {
        const had = this.points.get(p.name);
        if (had) this.overrides.push({ id: `scaling node ${p.name}`, replaced: had.source, by: p.source });
        this.points.set(p.name, p);
      }
    }
  }

  find(component: string, attributes: Attributes, action: string): TableEntry | undefined {
    return this.entries.get(entryId(component, attributes, action));
  }

  /** The entry, or a MissingEntryError naming what was looked for and why. */
  lookup(component: string, attributes: Attributes, action: string, context = ''): TableEntry {
    const e = this.find(component, attributes, action);
    if (!e) throw new MissingEntryError(component, attributes, action, context);
    return e;
  }

  /** Entries of one component and action, whatever their attributes (for width rules and hints). */
  family(component: string, action: string): TableEntry[] {
    return [...this.entries.values()].filter((e) => e.component === component && e.action === action);
  }

  constant(name: string): Constant {
    const c = this.constants.get(name);
    if (!c) throw new TableError(`no constant '${name}' in the tables (the shipped derived-45nm.json defines it; a --tables file may override it)`);
    return c;
  }
}
