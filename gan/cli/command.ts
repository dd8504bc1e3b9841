// The shape of a CLI subcommand and the errors that map to exit codes:
//   0 success, 1 failure (the work went wrong), 2 bad usage (the command line went wrong).
//
// A command declares its options once, and both node:util's parseArgs config and the --help text are
// derived from that declaration, so the two cannot drift:
//   usage: 'posit-gan x --out DIR [--n N]'        the usage line(s), after "Usage: ", kept as written
//   help: [                                       what --help prints after the usage line, in order:
//     'Prose...',                                   a string: prose, printed as written
//     { title: 'Options:', options: [               an option group: rendered as an aligned list
//       { name: 'out', type: 'string', value: 'DIR', help: 'where the files go' },
//       { name: 'n', type: 'string', value: 'N', default: 100, help: 'inputs' },   -> "--n N  [100] inputs"
//       { name: 'mode', type: 'string', choices: MODES, help: '...' },            -> "--mode a|b  ..."
//       { name: 'force', type: 'boolean', help: '...' },
//     ] },
//     { usage: '...', help: [...] },                a nested section (a sub-command's own help)
//   ]
// An option's `type`, `short` and `multiple` go to parseArgs (with --help/-h added once); `value` is
// the placeholder in the help (default: its `choices` joined by '|'), `default` is shown in brackets
// before its `help`, which is wrapped to the help's width ('\n' forces a break). `choices` is for
// oneOf(values, name, CHOICES, fallback) to read with the same list. An option may appear in several
// groups (sub-commands sharing it) as long as its parseArgs fields agree.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FormatSpecError } from '../../formats/descriptor.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** One command-line option: what parseArgs needs and what --help says about it. */
export interface OptionSpec {
  /** The long name, without the dashes. */
  readonly name: string;
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's placeholder in the help (DIR, N, ...); for string options without `choices`. */
  readonly value?: string;
  /** The allowed values of an enumerated option (also the placeholder, joined by '|'). */
  readonly choices?: readonly string[];
  /** The default, shown in brackets before the help. */
  readonly default?: string | number;
  /** What the option does; wrapped to the help's width, '\n' forces a line break. */
  readonly help: string;
}

/** A positional argument listed among the options (`SPEC.json  the sweep (below)`). */
export interface ArgumentSpec {
  readonly argument: string;
  readonly help: string;
}

/** Options listed together under a title ("Device options:"), aligned as one list. */
export interface OptionGroup {
  readonly title?: string;
  readonly options: readonly (OptionSpec | ArgumentSpec)[];
}

/** A usage line and the help that follows it: a command, or a sub-command's section of its help. */
export interface HelpSection {
  /** The usage line(s), without "Usage: "; continuation lines carry their own indentation. */
  readonly usage: string;
  /** Prose (printed as written), option groups and nested sections, in order, blank lines between. */
  readonly help: readonly HelpBlock[];
}

export type HelpBlock = string | OptionGroup | HelpSection;

export interface Command extends HelpSection {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Help for a sub-command named in the positionals (`sweep status --help`), if it has its own. */
  helpFor?(positionals: string[]): string | undefined;
  /** Whether positional arguments are accepted. */
  readonly positionals?: boolean;
  run(values: Values, positionals: string[]): Promise<number | void>;
}

const isGroup = (b: HelpBlock): b is OptionGroup => typeof b !== 'string' && 'options' in b;
const isSection = (b: HelpBlock): b is HelpSection => typeof b !== 'string' && 'usage' in b;
const isOption = (o: OptionSpec | ArgumentSpec): o is OptionSpec => 'name' in o;

/** Every option a section declares (its groups and its nested sections'), each once, in order. */
export function declaredOptions(section: HelpSection): OptionSpec[] {
  const seen = new Map<string, OptionSpec>();
  const visit = (s: HelpSection) => {
    for (const b of s.help) {
      if (isSection(b)) visit(b);
      else if (isGroup(b)) {
        for (const o of b.options) {
          if (!isOption(o)) continue;
          const have = seen.get(o.name);
          if (have && (have.type !== o.type || have.short !== o.short || !!have.multiple !== !!o.multiple)) {
            throw new Error(`option --${o.name} is declared twice with different types`);
          }
          if (!have) seen.set(o.name, o);
        }
      }
    }
  };
  visit(section);
  return [...seen.values()];
}

/** The parseArgs options of a declaration (without --help, which parseCommandLine adds). */
export function parseOptions(section: HelpSection): Options {
  const out: Options = {};
  for (const o of declaredOptions(section)) {
    out[o.name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  return out;
}

/** Help lines are wrapped to this width. */
const HELP_WIDTH = 104;
/** Labels longer than this do not widen their group's column: their help starts after them. */
const MAX_LABEL = 32;

function label(o: OptionSpec | ArgumentSpec): string {
  if (!isOption(o)) return o.argument;
  const value = o.value ?? o.choices?.join('|');
  return `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.type === 'string' && value ? ` ${value}` : ''}`;
}

/** Greedy word wrap of `text` into lines of at most `first` (the first) and `rest` characters. */
function wrap(text: string, first: number, rest: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/).filter((w) => w !== '')) {
      const room = lines.length === 0 ? first : rest;
      if (line !== '' && line.length + 1 + word.length > room) {
        lines.push(line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    lines.push(line);
  }
  return lines;
}

function renderGroup(g: OptionGroup): string {
  const labels = g.options.map(label);
  const column = 2 + Math.max(0, ...labels.filter((l) => l.length <= MAX_LABEL).map((l) => l.length)) + 2;
  const lines = g.title !== undefined ? [g.title] : [];
  g.options.forEach((o, i) => {
    const head = `  ${labels[i]!}`;
    const start = Math.max(column, head.length + 2);
    const def = isOption(o) && o.default !== undefined ? `[${o.default}] ` : '';
    const text = wrap(def + o.help, HELP_WIDTH - start, HELP_WIDTH - column);
    lines.push(`${head.padEnd(start)}${text[0]}`.trimEnd(), ...text.slice(1).map((t) => `${' '.repeat(column)}${t}`.trimEnd()));
  });
  return lines.join('\n');
}

function renderBlocks(blocks: readonly HelpBlock[]): string {
  return blocks.map((b) => (typeof b === 'string' ? b.trimEnd() : isSection(b) ? renderHelp(b) : renderGroup(b))).join('\n\n');
}

/** The --help text of a command or sub-command: its usage line, then its blocks. */
export function renderHelp(section: HelpSection): string {
  return `Usage: ${section.usage}\n\n${renderBlocks(section.help)}`.trimEnd();
}

/** A problem with the command line: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function isUsageError(e: unknown): boolean {
  return e instanceof UsageError || e instanceof FormatSpecError;
}

/**
 * `--steps -1` as `--steps=-1`: node:util reads a value that starts with a dash as a missing value
 * ("argument is ambiguous"), so a negative number would never reach the option's own check and its
 * message. Only options that take a value, and only values that are numbers.
 */
function joinNegativeNumbers(options: Options, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    const spec = a.startsWith('--') && !a.includes('=') ? options[a.slice(2)] : undefined;
    if (spec?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Parses argv for a command, turning node:util's errors into UsageErrors. */
export function parseCommandLine(cmd: Command, argv: string[]): { values: Values; positionals: string[] } {
  const options = parseOptions(cmd);
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeNumbers(options, argv),
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: cmd.positionals ?? false,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** Reads a string option. */
export function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

/** Reads an integer option, with bounds; a malformed one is a UsageError. */
export function int(values: Values, key: string, fallback: number, min = -Infinity, max = Infinity): number {
  const v = values[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^[+-]?\d+$/.test(v)) throw new UsageError(`--${key} must be an integer, got '${String(v)}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${key} must be in ${min}..${max}, got ${n}`);
  return n;
}

/** Reads a number option (finite); a malformed one is a UsageError. */
export function num(values: Values, key: string, fallback: number): number {
  const v = values[key];
  if (v === undefined) return fallback;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`--${key} must be a finite number, got '${String(v)}'`);
  return n;
}

/** Reads an enumerated option. */
export function oneOf<T extends string>(values: Values, key: string, allowed: readonly T[], fallback: T): T {
  const v = values[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v.toLowerCase())) {
    throw new UsageError(`--${key} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
  }
  return v.toLowerCase() as T;
}

/** --time-limit SECONDS as a deadline, counted from now. */
export function timeLimit(values: Values): { deadline?: number } {
  const v = str(values, 'time-limit');
  if (v === undefined) return {};
  const seconds = Number(v);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--time-limit must be a positive number of seconds, got '${v}'`);
  return { deadline: Date.now() + seconds * 1000 };
}
