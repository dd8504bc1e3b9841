// The shape of a CLI subcommand and the errors that map to exit codes:
//   0 success, 1 failure (the work went wrong), 2 bad usage (the command line went wrong).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FormatSpecError } from '../../formats/descriptor.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full help text (usage line, description, options). */
  readonly help: string;
  /** Help for a sub-command named in the positionals (`sweep status --help`), if it has its own. */
  helpFor?(positionals: string[]): string | undefined;
  readonly options: Options;
  /** Whether positional arguments are accepted. */
  readonly positionals?: boolean;
  run(values: Values, positionals: string[]): Promise<number | void>;
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
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeNumbers(cmd.options, argv),
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
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
