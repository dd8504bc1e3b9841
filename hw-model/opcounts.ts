// Checks that a parsed JSON document is an op-count file this model can read (engine/record/schema.ts),
// naming the file, the record and the field when it is not. Browser-safe.

import {
  OPCOUNTS_SCHEMA,
  OPCOUNTS_VERSION,
  type OpCountsFile,
  type OpRecord,
  type Phase,
} from '../engine/record/schema.ts';
import { TENSOR_ROLES } from './params.ts';

export class OpCountsError extends Error {
  override name = 'OpCountsError';
}

const PHASES: readonly Phase[] = ['forward', 'backward', 'optimizer', 'calibration', 'inference'];
const COMMANDS = ['train', 'deploy', 'experiment', 'bench', 'test'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields each record kind needs, besides kind, phase, layer: 's' string, 'n' non-negative number,
 *  'b' boolean, or a list of allowed strings. */
const SHAPES: Readonly<Record<string, Readonly<Record<string, 's' | 'n' | 'b' | readonly string[]>>>> = {
  mac: { a: 's', b: 's', acc: 's', count: 'n' },
  mul: { format: 's', count: 'n' },
  add: { format: 's', count: 'n' },
  div: { format: 's', count: 'n' },
  sqrt: { format: 's', count: 'n' },
  exp: { format: 's', count: 'n' },
  log: { format: 's', count: 'n' },
  max: { format: 's', count: 'n' },
  quire_round: { format: 's', quireBits: 'n', count: 'n' },
  convert: { from: 's', to: 's', rounding: ['nearest', 'stochastic'], count: 'n' },
  activation: { fn: ['tanh', 'sigmoid', 'relu', 'leaky_relu'], format: 's', fast: 'b', count: 'n' },
  memory: { direction: ['read', 'write'], role: TENSOR_ROLES, format: 's', bits: 'n' },
};

function checkRecord(file: string, i: number, r: unknown): OpRecord {
  const at = `${file}: records[${i}]`;
  if (!isObject(r)) throw new OpCountsError(`${at}: must be an object`);
  const shape = typeof r.kind === 'string' ? SHAPES[r.kind] : undefined;
  if (!shape) throw new OpCountsError(`${at}: unknown kind ${JSON.stringify(r.kind)} (kinds: ${Object.keys(SHAPES).join(', ')})`);
  if (!PHASES.includes(r.phase as Phase)) throw new OpCountsError(`${at} (${r.kind}): phase must be one of ${PHASES.join(', ')}, got ${JSON.stringify(r.phase)}`);
  if (typeof r.layer !== 'string') throw new OpCountsError(`${at} (${r.kind}): layer must be a string`);
  for (const [field, want] of Object.entries(shape)) {
    const v = r[field];
    const ok =
      want === 's' ? typeof v === 'string' && v !== '' : want === 'n' ? typeof v === 'number' && Number.isFinite(v) && v >= 0 : want === 'b' ? typeof v === 'boolean' : want.includes(v as string);
    if (!ok) {
      const expect = want === 's' ? 'a format name' : want === 'n' ? 'a number >= 0' : want === 'b' ? 'true or false' : `one of ${want.join(', ')}`;
      throw new OpCountsError(`${at} (${r.kind}): field '${field}' must be ${expect}, got ${JSON.stringify(v)}`);
    }
  }
  return r as unknown as OpRecord;
}

/** The document as an OpCountsFile, or an OpCountsError naming `file` and what is wrong. */
export function parseOpCounts(doc: unknown, file: string): OpCountsFile {
  if (!isObject(doc)) throw new OpCountsError(`${file}: not an op-count file (expected a JSON object)`);
  if (doc.schema !== OPCOUNTS_SCHEMA) throw new OpCountsError(`${file}: not an op-count file: schema is ${JSON.stringify(doc.schema)}, expected "${OPCOUNTS_SCHEMA}"`);
  if (doc.version !== OPCOUNTS_VERSION) {
    throw new OpCountsError(`${file}: op-count file version ${JSON.stringify(doc.version)} is not supported: this hw-model reads version ${OPCOUNTS_VERSION}`);
  }
  const run = doc.run;
  if (!isObject(run)) throw new OpCountsError(`${file}: missing 'run'`);
  if (typeof run.name !== 'string' || run.name === '') throw new OpCountsError(`${file}: run.name must be a non-empty string`);
  if (!COMMANDS.includes(run.command as string)) throw new OpCountsError(`${file}: run.command must be one of ${COMMANDS.join(', ')}, got ${JSON.stringify(run.command)}`);
  if (typeof run.steps !== 'number' || !(run.steps > 0)) throw new OpCountsError(`${file}: run.steps must be a number > 0 (the steps or forward passes the counts cover), got ${JSON.stringify(run.steps)}`);
  if (typeof run.created !== 'string') throw new OpCountsError(`${file}: run.created must be a string`);
  if (!Array.isArray(doc.records)) throw new OpCountsError(`${file}: 'records' must be an array`);
  const records = doc.records.map((r, i) => checkRecord(file, i, r));
  return { ...(doc as unknown as OpCountsFile), records };
}
