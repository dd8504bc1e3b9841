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

import * as v from 'valibot';
import { parseWith, pathTo } from '../schema/check.ts';
import { fields, int, nonNegative, oneOf, positive, tagged, text } from '../schema/fields.ts';
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

// ---- The declared schema of a table file (docs/schemas/hw-table.schema.json) ----

type Doc = Record<string, unknown>;

const PROVENANCE_COMMON = {
  citation: v.pipe(text('a citation (the source of the number)'), v.description('where the number comes from')),
  node_nm: v.optional(v.pipe(positive(), v.description('the technology node the figure belongs to, in nm (needed when the figure is node-scaled)'))),
  voltage_V: v.optional(v.pipe(positive(), v.description('the supply voltage the figure belongs to, in V (needed when the figure is node-scaled)'))),
  notes: v.optional(text()),
};

const ProvenanceSchema = v.pipe(
  tagged(
    'kind',
    [
      fields(
        {
          kind: v.literal('derived'),
          ...PROVENANCE_COMMON,
          formula: v.pipe(text('the formula the figure was computed with'), v.description('how the figure was computed (derived figures)')),
          inputs: v.pipe(
            v.record(v.string(), v.union([v.number(), v.string()], 'must be a number or a string'), 'must be an object of the formula\'s inputs (names to numbers or strings)'),
            v.minEntries(1, 'must list the inputs of the formula (a derived figure needs them)'),
            v.description('the inputs of the formula: names to numbers or strings (derived figures)'),
          ),
        },
        { noun: 'the provenance of a derived figure' },
      ),
      fields(
        { kind: v.picklist(['measured', 'synthesis', 'library']), ...PROVENANCE_COMMON },
        { noun: 'a provenance', unknown: (k) => (k === 'formula' || k === 'inputs' ? 'is only for derived figures ("kind": "derived")' : undefined) },
      ),
    ],
    'an object with a citation and a kind (every number needs its source)',
  ),
  v.description('every number needs its source: {citation, kind: measured | synthesis | library | derived, node_nm, voltage_V, formula and inputs (derived only), notes}'),
);

/** `energy_pJ`-style fields: one per allowed unit. */
function unitFields<S extends v.GenericSchema>(prefix: string, units: Readonly<Record<string, number>>, schema: S): Record<string, v.OptionalSchema<S, undefined>> {
  return Object.fromEntries(Object.keys(units).map((u) => [`${prefix}_${u}`, v.optional(schema)]));
}

const range = v.pipe(v.tuple([nonNegative(), nonNegative()], 'must be [low, high]'), v.description('[low, high]: the spread the source gives'));

const ENTRY_NAMES = ['component', 'attributes', 'action', 'per', 'bits_per_access', 'energy_<unit>', 'energy_range_<unit>', 'area_<unit>', 'area_note', 'latency_cycles', 'node_scaling', 'provenance'];

/** Names the unit an unknown `energy_xx` (area_, latency_) field has, and what is allowed. */
function unknownEntryField(key: string): string {
  for (const [prefix, units, base] of [
    ['energy_range', ENERGY_UNITS, 'pJ'],
    ['energy', ENERGY_UNITS, 'pJ'],
    ['area', AREA_UNITS, 'um^2'],
    ['latency', LATENCY_UNITS, 'cycles'],
  ] as const) {
    if (key.startsWith(`${prefix}_`)) {
      return `has an unknown unit '${key.slice(prefix.length + 1)}' (allowed: ${Object.keys(units).map((u) => `${prefix}_${u}`).join(', ')}; the model works in ${base})`;
    }
  }
  if (key.startsWith('energy')) return `is not an energy field: write energy_<unit> with unit one of ${Object.keys(ENERGY_UNITS).join(', ')}`;
  return `is not a field of a table entry (allowed: ${ENTRY_NAMES.join(', ')})`;
}

/** The one field of `doc` named `<prefix>_<unit>`, or null; more than one is reported. */
function oneUnitField(doc: Doc, prefix: string, units: Readonly<Record<string, number>>): { field: string; factor: number } | null | 'many' {
  const found = Object.keys(units).filter((u) => doc[`${prefix}_${u}`] !== undefined);
  if (found.length > 1) return 'many';
  return found.length ? { field: `${prefix}_${found[0]}`, factor: units[found[0]!]! } : null;
}

const EntrySchema = v.pipe(
  fields(
    {
      component: v.pipe(text(), v.regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case'), v.description('the hardware component, lower_snake_case (e.g. int_unit)')),
      attributes: v.pipe(
        v.record(v.string(), v.union([v.string(), v.number()], 'must be a string or a number'), 'must be an object (use {} for none)'),
        v.description('what tells this component apart, names to strings or numbers (e.g. {"width": 8}; {} for none)'),
      ),
      action: v.pipe(text(), v.description('what the component does (e.g. add, mul, read)')),
      per: v.pipe(oneOf(['op', 'bit', 'access']), v.description('what one energy figure pays for: "op", "bit" or "access" (with bits_per_access)')),
      bits_per_access: v.optional(v.pipe(int(1), v.description('bits one access moves (per "access" only)'))),
      ...unitFields('energy', ENERGY_UNITS, v.pipe(nonNegative(), v.description('the energy, in the unit the field names (one energy field per entry)'))),
      ...unitFields('energy_range', ENERGY_UNITS, range),
      ...unitFields('area', AREA_UNITS, nonNegative()),
      area_note: v.optional(text()),
      ...unitFields('latency', LATENCY_UNITS, nonNegative()),
      node_scaling: v.optional(v.pipe(v.boolean('must be true or false'), v.description('whether technology scaling applies (default true; false for DRAM)'))),
      provenance: ProvenanceSchema,
    },
    { noun: 'a table entry', unknown: unknownEntryField },
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const e = dataset.value as Doc;
    for (const [prefix, units] of [
      ['energy', ENERGY_UNITS],
      ['energy_range', ENERGY_UNITS],
      ['area', AREA_UNITS],
    ] as const) {
      if (oneUnitField(e, prefix, units) === 'many') {
        const given = Object.keys(units).map((u) => `${prefix}_${u}`).filter((k) => e[k] !== undefined);
        return addIssue({ message: `is one of ${given.length} ${prefix} fields (${given.join(', ')}): give one ${prefix} field`, path: pathTo(e, given[1]!) });
      }
    }
    const energy = oneUnitField(e, 'energy', ENERGY_UNITS) as { field: string; factor: number } | null;
    if (!energy) return addIssue({ message: `is missing: every entry needs an energy (energy_pJ, or ${Object.keys(ENERGY_UNITS).filter((u) => u !== 'pJ').map((u) => `energy_${u}`).join(' / ')})`, path: pathTo(e, 'energy_pJ') });
    if (e.per === 'access' && e.bits_per_access === undefined) return addIssue({ message: 'is missing: per "access" needs the bits one access moves (an integer >= 1)', path: pathTo(e, 'bits_per_access') });
    if (e.per !== 'access' && e.bits_per_access !== undefined) return addIssue({ message: `is only for per "access" (this entry is per "${String(e.per)}")`, path: pathTo(e, 'bits_per_access') });
    const r = oneUnitField(e, 'energy_range', ENERGY_UNITS) as { field: string; factor: number } | null;
    if (r) {
      const pJ = (e[energy.field] as number) * energy.factor;
      const [lo, hi] = (e[r.field] as [number, number]).map((x) => x * r.factor) as [number, number];
      if (!(lo <= pJ && pJ <= hi)) return addIssue({ message: `must contain the energy (${pJ} pJ): [low, high] around it`, path: pathTo(e, r.field) });
    }
    const p = e.provenance as Doc;
    if (e.node_scaling !== false) {
      for (const k of ['node_nm', 'voltage_V']) {
        if (p[k] === undefined) return addIssue({ message: 'is missing: a node-scaled figure needs its node and voltage (or set "node_scaling": false)', path: pathTo(e, 'provenance', k) });
      }
    }
  }),
  v.description('energy (and where known area, latency) of one (component, attributes, action)'),
);

const ConstantSchema = v.pipe(
  fields(
    {
      name: v.pipe(text(), v.description('the parameter it gives a default for (e.g. kappa)')),
      value: v.pipe(v.number('must be a number'), v.finite('must be a finite number')),
      range: v.optional(v.pipe(v.tuple([v.number(), v.number()], 'must be [low, high] around the value'), v.description('[low, high]: the spread the source gives'))),
      unit: v.pipe(text(), v.description('the unit of the value (e.g. "1" for a ratio)')),
      provenance: ProvenanceSchema,
    },
    { noun: 'a constant' },
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || !dataset.value.range) return;
    const [lo, hi] = dataset.value.range;
    if (!(lo <= dataset.value.value && dataset.value.value <= hi)) addIssue({ message: 'must be [low, high] around the value', path: pathTo(dataset.value as Doc, 'range') });
  }),
);

const POINT = {
  name: v.pipe(text(), v.description('what --node names it by')),
  node_nm: positive(),
  voltage_V: positive(),
  label: text(),
};

const BasePointSchema = fields(POINT, { noun: 'the base point' });

const NodePointSchema = fields(
  {
    ...POINT,
    energy_factor: v.pipe(positive(), v.description('energy relative to the base point')),
    area_factor: v.pipe(positive(), v.description('area relative to the base point')),
    delay_factor: v.optional(v.pipe(positive(), v.description('delay relative to the base point (absent: not given by the source)'))),
    provenance: ProvenanceSchema,
  },
  { noun: 'a scaling point' },
);

export const TableFileSchema = v.pipe(
  fields(
    {
      schema: v.literal(TABLE_SCHEMA, `must be "${TABLE_SCHEMA}"`),
      version: v.literal(TABLE_VERSION, `must be ${TABLE_VERSION}: this hw-model reads version ${TABLE_VERSION}`),
      name: v.pipe(text(), v.description("the table's name (reports cite it)")),
      description: v.pipe(text(), v.description('what the table holds and where its numbers come from')),
      entries: v.optional(v.array(EntrySchema, 'must be a list of entries')),
      constants: v.optional(v.array(ConstantSchema, 'must be a list of constants')),
      scaling: v.optional(
        v.pipe(
          fields({ base: BasePointSchema, nodes: v.array(NodePointSchema, 'must be a list of scaling points') }, { noun: '{ "base": POINT, "nodes": [POINT, ...] }' }),
          v.description('technology scaling factors relative to the base point'),
        ),
      ),
    },
    { noun: 'a table file' },
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const t = dataset.value;
    const seen = new Map<string, number>();
    for (const [i, e] of (t.entries ?? []).entries()) {
      const id = entryId(e.component, e.attributes, e.action);
      const j = seen.get(id);
      if (j !== undefined) {
        return addIssue({ message: `repeats entries[${j}]: one entry per (component, attributes, action)`, path: pathTo(t, 'entries', i) });
      }
      seen.set(id, i);
    }
    if (!t.entries?.length && !t.constants?.length && !t.scaling) addIssue({ message: 'holds no entries, constants or scaling points' });
  }),
  v.title('posit-gan hardware-model table'),
  v.description('Energy (and area, latency) per component and action, named constants and technology scaling, each number with its source (hw-model/table.ts, hw-model/README.md).'),
);

type EntryDoc = v.InferOutput<typeof EntrySchema> & Doc;
type ProvenanceDoc = v.InferOutput<typeof ProvenanceSchema>;

function provenanceOf(p: ProvenanceDoc): Provenance {
  return {
    citation: p.citation,
    kind: p.kind,
    ...(p.node_nm !== undefined ? { node_nm: p.node_nm } : {}),
    ...(p.voltage_V !== undefined ? { voltage_V: p.voltage_V } : {}),
    ...(p.kind === 'derived' ? { formula: p.formula, inputs: p.inputs } : {}),
    ...(p.notes !== undefined ? { notes: p.notes } : {}),
  };
}

function entryOf(e: EntryDoc, source: string): TableEntry {
  const unit = (prefix: string, units: Readonly<Record<string, number>>) => oneUnitField(e, prefix, units) as { field: string; factor: number } | null;
  const energy = unit('energy', ENERGY_UNITS)!;
  const range = unit('energy_range', ENERGY_UNITS);
  const area = unit('area', AREA_UNITS);
  const attributes: Attributes = e.attributes;
  return {
    id: entryId(e.component, attributes, e.action),
    source,
    component: e.component,
    attributes,
    action: e.action,
    per: e.per,
    bitsPerAccess: e.bits_per_access ?? null,
    energy_pJ: (e[energy.field] as number) * energy.factor,
    energyRange_pJ: range ? ((e[range.field] as [number, number]).map((x) => x * range.factor) as [number, number]) : null,
    area_um2: area ? (e[area.field] as number) * area.factor : null,
    areaNote: e.area_note ?? null,
    latency_cycles: (e.latency_cycles as number | undefined) ?? null,
    nodeScaling: e.node_scaling ?? true,
    provenance: provenanceOf(e.provenance),
  };
}

/** `entries[3] (int_unit{width=8}.add)`, `constants[0] (kappa)`, `scaling.nodes[1] (28)` in messages. */
function tableLabel(path: readonly (string | number)[], value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as Doc;
  if (path[0] === 'entries' && path.length === 2) {
    const attrs = typeof o.attributes === 'object' && o.attributes !== null && !Array.isArray(o.attributes) ? attrText(o.attributes as Attributes) : '';
    return `${String(o.component ?? '?')}${attrs}.${String(o.action ?? '?')}`;
  }
  return typeof o.name === 'string' ? o.name : undefined;
}

/** Validates one table document. `file` names it in errors (a path, or a name for built-in tables). */
export function parseTable(doc: unknown, file: string): Table {
  const t = parseWith(TableFileSchema, doc, file, (m) => new TableError(m), { label: tableLabel });
  const source = `${t.name} (${file})`;
  const point = (p: v.InferOutput<typeof BasePointSchema>): ScalingPoint => ({ ...p, energyFactor: 1, areaFactor: 1, delayFactor: 1, provenance: null, source });
  return {
    name: t.name,
    source,
    entries: (t.entries ?? []).map((e) => entryOf(e as EntryDoc, source)),
    constants: (t.constants ?? []).map((c) => ({ name: c.name, value: c.value, range: c.range ?? null, unit: c.unit, source, provenance: provenanceOf(c.provenance) })),
    scaling: t.scaling
      ? {
          base: point(t.scaling.base),
          nodes: t.scaling.nodes.map((p) => ({
            name: p.name,
            node_nm: p.node_nm,
            voltage_V: p.voltage_V,
            label: p.label,
            energyFactor: p.energy_factor,
            areaFactor: p.area_factor,
            delayFactor: p.delay_factor ?? null,
            provenance: provenanceOf(p.provenance),
            source,
          })),
        }
      : null,
  };
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
