// Every command's options and its --help come from one declaration (gan/cli/command.ts): for each
// registered command, every declared option has its entry in the rendered help, every --option the
// help mentions is one the command accepts (or one of the command it names, `posit-gan train`), and
// the parseArgs config holds exactly the declared options. Loading the command modules must not load
// dawn.node: each loads it only when it runs.

import { describe, expect, it, vi } from 'vitest';
import { declaredOptions, parseCommandLine, parseOptions, renderHelp, UsageError, type Command } from '../../gan/cli/command.ts';
import { COMMANDS } from '../../gan/cli/main.ts';

const loaded = vi.hoisted(() => ({ webgpu: false }));
vi.mock('webgpu', () => {
  loaded.webgpu = true;
  return {
    create: () => {
      throw new Error('a command module opened WebGPU while being loaded');
    },
    globals: {},
  };
});

/** Options every command accepts without declaring them. */
const GLOBAL = new Set(['help', 'version']);

const commands = new Map<string, Command>();
for (const [name, entry] of Object.entries(COMMANDS)) commands.set(name, await entry.load());

/** The `--name` tokens of a text (not `-` inside words, not `---`). */
function optionTokens(text: string): Set<string> {
  return new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
}

/** The help texts of a command: its own and each sub-command's (sweep run / status / table). */
function helpTexts(cmd: Command): string[] {
  const subs = ['run', 'status', 'table'].map((s) => cmd.helpFor?.([s])).filter((h): h is string => h !== undefined);
  return [renderHelp(cmd), ...subs];
}

describe('command declarations', () => {
  it('loading every command module leaves dawn.node unloaded', async () => {
    expect(commands.size).toBe(Object.keys(COMMANDS).length);
    expect(loaded.webgpu).toBe(false);
    // The detector itself works: importing the package does trip it.
    await import('webgpu');
    expect(loaded.webgpu).toBe(true);
  });

  it.each([...Object.keys(COMMANDS)])('%s: every declared option has its entry in the help', (name) => {
    const cmd = commands.get(name)!;
    const help = renderHelp(cmd);
    expect(help.startsWith(`Usage: posit-gan ${name}`)).toBe(true);
    const options = declaredOptions(cmd);
    expect(options.length).toBeGreaterThan(0);
    for (const o of options) {
      // An entry line: indented, the option (after its short form), then its placeholder or help.
      expect(help, `--${o.name}`).toMatch(new RegExp(`^ +(-[a-zA-Z], )?--${o.name}( |$)`, 'm'));
      expect(o.help !== '' || o.default !== undefined, `--${o.name} says nothing`).toBe(true);
    }
  });

  it.each([...Object.keys(COMMANDS)])('%s: every --option in the help is one it accepts, or one of a command it names', (name) => {
    const cmd = commands.get(name)!;
    for (const help of helpTexts(cmd)) {
      const allowed = new Set([...GLOBAL, ...declaredOptions(cmd).map((o) => o.name)]);
      for (const [other, c] of commands) {
        if (other !== name && new RegExp(`posit-gan ${other}\\b`).test(help)) for (const o of declaredOptions(c)) allowed.add(o.name);
      }
      const unknown = [...optionTokens(help)].filter((t) => !allowed.has(t));
      expect(unknown, `options in the help of ${name} that it does not declare`).toEqual([]);
    }
  });

  it.each([...Object.keys(COMMANDS)])('%s: the parser takes exactly the declared options', (name) => {
    const cmd = commands.get(name)!;
    const options = declaredOptions(cmd);
    const config = parseOptions(cmd);
    expect(Object.keys(config).sort()).toEqual(options.map((o) => o.name).sort());
    for (const o of options) {
      expect(config[o.name], `--${o.name}`).toEqual({ type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) });
      const { values } = parseCommandLine(cmd, o.type === 'string' ? [`--${o.name}`, 'x'] : [`--${o.name}`]);
      expect(values[o.name], `--${o.name}`).toEqual(o.multiple ? [o.type === 'string' ? 'x' : true] : o.type === 'string' ? 'x' : true);
      if (o.short) expect(parseCommandLine(cmd, o.type === 'string' ? [`-${o.short}`, 'x'] : [`-${o.short}`]).values[o.name]).toBeDefined();
    }
    expect(parseCommandLine(cmd, ['-h']).values.help).toBe(true);
    expect(() => parseCommandLine(cmd, ['--no-such-option'])).toThrow(UsageError);
  });
});

describe('renderHelp', () => {
  it('aligns a group, puts defaults in brackets, wraps long help under its column and lets a long label overflow', () => {
    const help = renderHelp({
      usage: 'posit-gan x [--n N]',
      help: [
        'Prose, kept\n  as written.',
        {
          title: 'Options:',
          options: [
            { name: 'n', type: 'string', value: 'N', default: 3, help: 'count' },
            { name: 'mode', type: 'string', choices: ['a', 'b'], help: 'a: one\nb: other' },
            { argument: 'FILE', help: 'input' },
            { name: 'long', type: 'boolean', help: 'word '.repeat(30).trim() },
            { name: 'a-very-long-option-name-indeed', type: 'string', value: 'VALUE', help: 'overflows' },
          ],
        },
      ],
    });
    const word = (n: number) => Array.from({ length: n }, () => 'word').join(' ');
    expect(help).toBe(
      [
        'Usage: posit-gan x [--n N]',
        '',
        'Prose, kept',
        '  as written.',
        '',
        'Options:',
        '  --n N       [3] count',
        '  --mode a|b  a: one',
        '              b: other',
        '  FILE        input',
        `  --long      ${word(18)}`,
        `              ${word(12)}`,
        '  --a-very-long-option-name-indeed VALUE  overflows',
      ].join('\n'),
    );
  });
});
