// The command line's small promises: bad usage (recipes and configuration included) exits 2 with a
// message in the CLI's own option names and no class names; `help <command>`; `--version`; Dawn's
// two limit warnings kept off stderr (shown with --verbose), nothing else filtered.

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DAWN_LIMIT_WARNING, DawnWarningFilter } from '../../gan/cli/relay.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pg-usage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/posit-gan', ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const WARNINGS = [
  'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.',
  'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.',
];

describe('bad usage exits 2 in the CLI\'s own words', { timeout: 240_000 }, () => {
  it('recipes: an unknown name, a file that is not JSON, a file with a bad field', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "name": "x", ');
    const field = join(dir, 'field.json');
    writeFileSync(field, JSON.stringify({ name: 'x', matmul: {} }));
    const cases: [string, RegExp][] = [
      ['p9', /unknown recipe 'p9'\. Built-in recipes: fp32/],
      [bad, /recipe file '.*bad\.json' is not valid JSON/],
      [field, /recipe file '.*field\.json': recipe : unknown field|recipe file '.*field\.json': recipe .*missing field/],
      [join(dir, 'absent.json'), /cannot read recipe file '.*absent\.json': no such file/],
    ];
    const results = await Promise.all(cases.map(([recipe]) => cli('train', '--recipe', recipe)));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr).not.toMatch(/RecipeError|Error:/);
    }
    const t = await cli('experiment', 'table1', '--recipes', 'fp32,p9');
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/--recipes: unknown recipe 'p9'/);
  });

  it('configuration errors name the option as given: --data-limit on the command line, the key in a config file', async () => {
    const flag = await cli('train', '--data-limit', '0');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--data-limit must be an integer >= 1, got "0"/);
    expect(flag.stderr).not.toMatch(/dataLimit|ConfigError/);
    const every = await cli('train', '--checkpoint-every', 'often');
    expect(every.stderr).toMatch(/--checkpoint-every must be an integer/);
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ dataLimit: 0 }));
    const fromFile = await cli('train', '--config', file);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain(`"dataLimit" in ${file} must be an integer >= 1, got 0`);
    writeFileSync(file, JSON.stringify({ stepz: 3 }));
    expect((await cli('train', '--config', file)).stderr).toMatch(/unknown configuration key 'stepz' in .*run\.json/);
  });

  it('a negative number gets the option\'s own message, not "argument is ambiguous"', async () => {
    const all = [['train', '--steps', '-1'], ['train', '--lr', '-0.5'], ['deploy', '--checkpoint', 'x', '--n', '-3']];
    const results = await Promise.all(all.map((args) => cli(...args)));
    for (const [i, args] of all.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/ambiguous/);
      expect(r.stderr).toMatch(new RegExp(`--${args.at(-2)!.slice(2)} must be`));
    }
  });

  it('--resume of something that is not a run, and --resume with another --out', async () => {
    const none = await cli('train', '--resume', join(dir, 'nothing-here'));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--resume .*nothing-here: no such directory/);
    const elsewhere = await cli('train', '--resume', dir, '--out', join(dir, 'b'));
    expect(elsewhere.code).toBe(2);
  });
});

describe('help and version', () => {
  it('help <command> prints that command\'s help; an unknown one exits 2', async () => {
    const r = await cli('help', 'train');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: posit-gan train /);
    expect(r.stdout).toBe((await cli('train', '--help')).stdout);
    expect((await cli('help', 'trian')).code).toBe(2);
  });

  it('--version prints the package version, and the commit in a git checkout', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(0);
    const version = JSON.parse((await import('node:fs')).readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    expect(r.stdout).toMatch(new RegExp(`^posit-gan ${version.replace(/\./g, '\\.')}( \\(commit [0-9a-f]{12}(\\+dirty)?\\))?\\n$`));
  });
});

describe("Dawn's limit warnings", () => {
  it('the filter drops exactly those two lines and passes everything else at once, partial lines included', () => {
    const f = new DawnWarningFilter();
    let out = '';
    // Split at awkward places: inside the warning, inside other lines, progress redrawn with \r.
    const text = `before\n${WARNINGS[0]}\n\r\x1b[2Kstep 1/9\r\x1b[2Kstep 2/9\nWarning: something else\n${WARNINGS[1]}\nWarning: maxDynamicUniformBuffersPerPipelineLayout is fine\nafter`;
    for (let i = 0; i < text.length; i += 7) out += f.push(text.slice(i, i + 7));
    out += f.end();
    expect(out).toBe('before\n\r\x1b[2Kstep 1/9\r\x1b[2Kstep 2/9\nWarning: something else\nWarning: maxDynamicUniformBuffersPerPipelineLayout is fine\nafter');
    expect(f.dropped).toBe(2);
    // A progress bar line goes out before its line ends.
    const g = new DawnWarningFilter();
    expect(g.push('\r\x1b[2Kstep 3/9 [==   ]')).toBe('\r\x1b[2Kstep 3/9 [==   ]');
    expect(g.push(' text on the same line')).toBe(' text on the same line');
    // The start of a line that may become a warning is held until the line ends.
    expect(g.push('\nWarning: maxDyn')).toBe('\n');
    expect(g.end()).toBe('Warning: maxDyn');
    for (const w of WARNINGS) expect(DAWN_LIMIT_WARNING.test(w)).toBe(true);
  });

  it('a GPU command shows them only with --verbose; its own messages still reach stderr', async () => {
    const quiet = await cli('info');
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/artificially reduced/);
    const verbose = await cli('info', '--verbose');
    expect(verbose.code).toBe(0);
    // Only a driver with huge dynamic-buffer limits (lavapipe) makes Dawn print them.
    if (/artificially reduced/.test(verbose.stderr)) {
      expect(verbose.stderr.split('\n').filter((l) => DAWN_LIMIT_WARNING.test(l))).toHaveLength(2);
      expect(quiet.stderr).toBe(verbose.stderr.split('\n').filter((l) => !DAWN_LIMIT_WARNING.test(l)).join('\n'));
    }
  });

  it('the relayed command stops when its relay is killed hard (kill -9)', async () => {
    // A worker with no Redis to reach keeps retrying: a command that would otherwise run forever.
    const relay = spawn(process.execPath, ['bin/posit-gan', 'worker', '--queue', 'redis://127.0.0.1:9', '--dir', join(dir, 'worker')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    relay.stderr!.on('data', (d) => (err += d));
    const closed = new Promise<void>((done) => relay.on('close', () => done()));
    try {
      await until(() => /retrying/.test(err), 60_000, () => `the worker to report that Redis is unreachable; stderr: ${err}`);
      const child = childrenOf(relay.pid!);
      expect(child).toHaveLength(1);
      relay.kill('SIGKILL');
      await closed;
      await until(() => !alive(child[0]!), 30_000, () => `the relayed worker ${child[0]} to exit after its relay was killed`);
    } finally {
      relay.kill('SIGKILL');
    }
  }, 120_000);
});

/** Pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(f: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
