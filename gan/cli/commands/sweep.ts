// `posit-gan sweep run | status | table`: a grid of training runs (gan/sweep/), run here with N
// local processes (the embedded queue, the default) or put on a Redis queue for `posit-gan worker`s
// on many machines. The work is in gan/sweep/; this file reads the command line.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { localStatus, runLocal } from '../../sweep/local.ts';
import { jobLabel, runningProgress } from '../../sweep/progress-line.ts';
import { checkQueueUrl, DEFAULT_QUEUE_NAME, queueRows, queueStatus, submitToQueue } from '../../sweep/redis.ts';
import { expandSweep, readSweepSpec, SweepSpecError, type SweepJob, type SweepSpec } from '../../sweep/spec.ts';
import { formatStatus } from '../../sweep/status.ts';
import { SweepStore } from '../../sweep/store.ts';
import { sweepTable, sweepTableMarkdown, type SweepRow } from '../../sweep/table.ts';
import { int, num, parseOptions, renderHelp, str, timeLimit, UsageError, type Command, type HelpSection, type OptionSpec, type Values } from '../command.ts';
import { GPU_OPTIONS, gpuArgsFrom } from '../gpu-options.ts';

const DEFAULT_DIR = join('runs', 'sweeps');

const DIR_OPTION: OptionSpec = {
  name: 'dir',
  type: 'string',
  value: 'DIR',
  default: DEFAULT_DIR,
  help:
    "the sweep directory: every job's run, log and row, keyed by the job's id (one directory can hold many sweeps; a job two sweeps " +
    'share is run once). With workers on several machines it must be a directory all of them reach (a shared file system), given to ' +
    'each worker as its --dir.',
};

const QUEUE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'queue',
    type: 'string',
    value: 'redis://HOST:PORT',
    help: 'use the BullMQ queue in this Redis instead of the embedded one. Redis is needed only for sweeps over several machines; one machine needs nothing.',
  },
  { name: 'queue-name', type: 'string', value: 'NAME', default: DEFAULT_QUEUE_NAME, help: "the BullMQ queue's name (workers must use the same)" },
];

const SPEC_HELP = `SPEC.json (see README "Sweeps"):
  { "name": "cgan-rounding",                      a plain file name
    "base": { "model": "cgan", "steps": 2000 },   any \`posit-gan train\` --config key
    "grid": { "recipe": ["p8+", "p8-sr.json"], "seed": [1, 2, 3] },
    "eval": { "n": 10000, "seed": 0 } }           FID samples per run
"grid" maps config keys to lists (their product) or is a list of such grids (their union). A recipe
is a built-in name, a recipe JSON file (relative to SPEC.json) or an inline recipe object. Each job's
id is a hash of its full configuration, recipe and evaluation: submitting a sweep again adds nothing
and a finished job never runs again.`;

const RUN: HelpSection = {
  usage: 'posit-gan sweep run SPEC.json [--dir DIR] [--jobs N] [--attempts N] [--backoff S] [--retry-failed] [--time-limit S]\n                              [--queue redis://HOST:PORT] [--queue-name NAME] [device options]',
  help: [
    `Without --queue (the embedded default): runs the sweep on this machine, --jobs jobs at a time,
each training in its own \`posit-gan train\` process and evaluated by \`posit-gan eval\`, until every
job is done or failed; then writes the table (as \`sweep table\`). On stderr: a line as each job
starts and ends (\`job ID (p8+ seed 2): done\`) and, every 30 s, each running job's step and rate.
Kill it at any point (Ctrl-C, or kill -9) and run the same command again: finished jobs are
skipped, interrupted ones resume from their newest checkpoint. Several \`sweep run\`s on one
directory share the work.

With --queue: puts the jobs on the Redis queue and returns; \`posit-gan worker\`s on any number of
machines take them (see posit-gan worker --help).`,
    {
      options: [
        { argument: 'SPEC.json', help: 'the sweep (below)' },
        DIR_OPTION,
        { name: 'jobs', type: 'string', value: 'N', default: 1, help: 'jobs at once on this machine (embedded queue)' },
        {
          name: 'attempts',
          type: 'string',
          value: 'N',
          default: 3,
          help: 'attempts before a job that keeps failing (a bad configuration, a crash) is marked failed with its error. A run that diverges is a result, not a failure.',
        },
        { name: 'backoff', type: 'string', value: 'S', default: 30, help: 'seconds before the first retry, doubled for each further one' },
        { name: 'retry-failed', type: 'boolean', help: "put the sweep's failed jobs back in the queue, their attempts reset" },
        {
          name: 'time-limit',
          type: 'string',
          value: 'SECONDS',
          help:
            '(embedded queue) stop the running jobs once this much time has passed: each checkpoints and stays queued; the same command ' +
            'continues the sweep (exit status 0, the unfinished jobs counted). Sized for machines lent by the call, e.g. a GPU host with a ' +
            '10-minute limit per command',
        },
        ...QUEUE_OPTIONS,
      ],
    },
    SPEC_HELP,
    GPU_OPTIONS,
  ],
};

const STATUS: HelpSection = {
  usage: 'posit-gan sweep status SPEC.json|NAME [--dir DIR] [--queue redis://HOST:PORT] [--queue-name NAME] [--json]',
  help: [
    `Shows how many of the sweep's jobs are queued, running (where: host and process, which step,
the losses), done and failed, and the failures' errors. NAME is a sweep run before with this --dir.
Without --queue it reads the embedded queue in DIR; with --queue, the Redis queue (retrying, and
saying so, while Redis cannot be reached).`,
    { options: [DIR_OPTION, ...QUEUE_OPTIONS, { name: 'json', type: 'boolean', help: 'the status as JSON' }] },
  ],
};

const TABLE: HelpSection = {
  usage: 'posit-gan sweep table SPEC.json|NAME [--dir DIR] [--queue redis://HOST:PORT] [--queue-name NAME] [--out DIR]',
  help: [
    `Writes the table of whatever has finished: one row per recipe and settings, the FID's mean and
standard deviation over the seeds that did not diverge, each seed's result, and the device, commit
and command (the keys of \`experiment table1\`: spec, fid, fid_std, seeds, commit, command). Rows
come from DIR; with --queue also from the finished jobs' return values (a machine without the
shared directory).`,
    { options: [DIR_OPTION, ...QUEUE_OPTIONS, { name: 'out', type: 'string', value: 'DIR', default: 'DIR/sweeps/NAME', help: 'where table.json and table.md go' }] },
  ],
};

const SUBS: Record<string, HelpSection> = { run: RUN, status: STATUS, table: TABLE };

interface LoadedSweep {
  spec: SweepSpec;
  jobs: SweepJob[];
  /** The command that submitted it, when recorded. */
  command: string | null;
}

/** A spec file, or the name of a sweep recorded in the directory. */
function loadSweep(arg: string | undefined, store: SweepStore, sub: string): LoadedSweep {
  if (arg === undefined) throw new UsageError(`give \`sweep ${sub}\` the sweep's SPEC.json (or the NAME of a sweep run before with this --dir)`);
  if (existsSync(arg) || /\.json$/i.test(arg)) {
    try {
      const { spec, baseDir } = readSweepSpec(arg);
      return { spec, jobs: expandSweep(spec, baseDir), command: store.recordedSweep(spec.name)?.command ?? null };
    } catch (e) {
      if (e instanceof SweepSpecError) throw new UsageError(e.message);
      throw e;
    }
  }
  const rec = /^[a-zA-Z0-9+._-]+$/.test(arg) ? store.recordedSweep(arg) : null;
  if (!rec) {
    const known = store.sweeps();
    throw new UsageError(`'${arg}' is neither a sweep spec file nor a sweep recorded in ${store.dir}${known.length ? ` (recorded: ${known.join(', ')})` : ''}`);
  }
  return rec;
}

function commandLine(): string {
  return ['posit-gan', ...process.argv.slice(2)].join(' ');
}

function queueOf(values: Values): { url: string; queueName: string } | null {
  const url = str(values, 'queue');
  if (url === undefined) return null;
  try {
    return { url: checkQueueUrl(url), queueName: str(values, 'queue-name') ?? DEFAULT_QUEUE_NAME };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const say = (line: string) => process.stderr.write(`posit-gan sweep: ${line}\n`);

function writeTable(sweep: LoadedSweep, store: SweepStore, rows: ReadonlyMap<string, SweepRow>, out: string | undefined): { md: string; dir: string } {
  const t = sweepTable(sweep.spec.name, sweep.jobs, rows, sweep.command ?? commandLine());
  if (sweep.command && sweep.command !== commandLine()) t.notes.push(`table written by: ${commandLine()}`);
  return { md: sweepTableMarkdown(t), dir: store.writeTable(t, out) };
}

async function run(values: Values, spec: string | undefined): Promise<number> {
  const attempts = int(values, 'attempts', 3, 1, 100);
  const backoff = num(values, 'backoff', 30);
  if (!(backoff >= 0)) throw new UsageError(`--backoff must be a number of seconds of at least 0, got ${backoff}`);
  const jobs = int(values, 'jobs', 1, 1, 256);
  const queue = queueOf(values);
  if (queue && values.jobs !== undefined) throw new UsageError('--jobs is for the embedded queue; with --queue, start workers (posit-gan worker --concurrency N)');
  const { deadline } = timeLimit(values);
  if (queue && deadline !== undefined) throw new UsageError('--time-limit is for the embedded queue; with --queue, the workers run the jobs (stop a worker with SIGTERM: its job checkpoints and goes back to the queue)');
  const store = new SweepStore(str(values, 'dir') ?? DEFAULT_DIR);
  const sweep = loadSweep(spec, store, 'run');
  store.init();
  store.recordSweep({ spec: sweep.spec, jobs: sweep.jobs, command: commandLine() });
  if (queue) {
    const r = await submitToQueue(sweep.jobs, { ...queue, say, attempts, backoffMs: backoff * 1000, retryFailed: values['retry-failed'] === true });
    process.stdout.write(
      `sweep ${sweep.spec.name}: ${sweep.jobs.length} jobs on ${queue.url} (queue ${queue.queueName}): ${r.added} added, ${r.existing} already there${r.retried ? `, ${r.retried} failed ones put back` : ''}\n` +
        `workers: posit-gan worker --queue ${queue.url} --dir SHARED_DIR (a directory every worker reaches)\n` +
        `status:  posit-gan sweep status ${spec} --queue ${queue.url}\n`,
    );
    return 0;
  }
  const ac = new AbortController();
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => {
    if (signalled) process.exit(s === 'SIGINT' ? 130 : 143); // a second signal: stop at once
    signalled = s;
    say(`${s}: stopping the running jobs (they resume from their newest checkpoint when this command runs again)`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let timedOut = false;
  const limit =
    deadline === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          say(`time limit of ${str(values, 'time-limit')} s reached: stopping the running jobs (they resume from their newest checkpoint when this command runs again)`);
          ac.abort();
        }, Math.max(0, deadline - Date.now()));
  try {
    say(`${sweep.spec.name}: ${sweep.jobs.length} jobs in ${store.dir}, ${jobs} at a time`);
    const r = await runLocal(sweep.jobs, {
      store,
      jobs,
      attempts,
      backoffMs: backoff * 1000,
      retryFailed: values['retry-failed'] === true,
      childArgs: gpuArgsFrom(values),
      log: say,
      // Log lines name the job by id (its run is runs/<id>) and settings; the progress line by settings.
      label: (j) => `job ${j.id} (${jobLabel(j)})`,
      ...runningProgress(jobLabel, say),
      signal: ac.signal,
    });
    const t = writeTable({ ...sweep, command: commandLine() }, store, store.rows(sweep.jobs), undefined);
    process.stdout.write(t.md);
    process.stdout.write(`\n${r.done.length} of ${sweep.jobs.length} jobs done, ${r.failed.length} failed${r.unfinished ? `, ${r.unfinished} unfinished` : ''}; table in ${t.dir}\n`);
    if (timedOut && r.unfinished) process.stdout.write(`stopped at the time limit: run the same command again to continue\n`);
    for (const f of r.failed) process.stdout.write(`failed ${f.id}: ${f.error}\n`);
    if (signalled) return signalled === 'SIGINT' ? 130 : 143;
    return r.failed.length ? 1 : 0;
  } finally {
    clearTimeout(limit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function status(values: Values, spec: string | undefined): Promise<number> {
  const queue = queueOf(values);
  const store = new SweepStore(str(values, 'dir') ?? DEFAULT_DIR);
  const sweep = loadSweep(spec, store, 'status');
  const s = queue ? await queueStatus(sweep.spec.name, sweep.jobs, store, { ...queue, say }) : localStatus(sweep.spec.name, store, sweep.jobs);
  process.stdout.write(values.json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s));
  return 0;
}

async function table(values: Values, spec: string | undefined): Promise<number> {
  const queue = queueOf(values);
  const store = new SweepStore(str(values, 'dir') ?? DEFAULT_DIR);
  const sweep = loadSweep(spec, store, 'table');
  const rows = store.rows(sweep.jobs);
  if (queue) for (const [id, r] of await queueRows(sweep.jobs, { ...queue, say })) if (!rows.has(id)) rows.set(id, r);
  const t = writeTable(sweep, store, rows, str(values, 'out'));
  process.stdout.write(`${t.md}\nwrote table.json and table.md in ${t.dir}\n`);
  return 0;
}

const RUNNERS: Record<string, (values: Values, spec: string | undefined) => Promise<number>> = { run, status, table };

const sweep: Command = {
  name: 'sweep',
  summary: 'run a grid of training runs (recipes x seeds x settings) here, or queue it for workers on many machines',
  usage: [
    'posit-gan sweep run SPEC.json [options]     (or: posit-gan sweep SPEC.json [options])',
    '       posit-gan sweep status SPEC.json|NAME [options]',
    '       posit-gan sweep table SPEC.json|NAME [options]',
  ].join('\n'),
  help: [
    [
      'A sweep trains and evaluates every point of a grid (models, recipes, seeds, any training setting),',
      'one job per point. By default it runs here (the embedded queue: N local processes, resumable after',
      'any interruption). For several machines, put it on a Redis queue (--queue redis://HOST:PORT) and',
      'start `posit-gan worker` on each: they need a results directory all of them reach (a shared file',
      'system). Redis is needed only for multi-machine sweeps.',
    ].join('\n'),
    ...Object.values(SUBS),
  ],
  helpFor(positionals) {
    const s = positionals[0] !== undefined ? SUBS[positionals[0]] : undefined;
    return s ? renderHelp(s) : undefined;
  },
  positionals: true,
  async run(values, positionals) {
    let [name, ...rest] = positionals;
    if (name !== undefined && !(name in SUBS) && (/\.json$/i.test(name) || existsSync(name))) {
      rest = [name, ...rest]; // `sweep SPEC.json` is `sweep run SPEC.json`
      name = 'run';
    }
    const sub = name === undefined ? undefined : SUBS[name];
    if (!sub) throw new UsageError(`${name === undefined ? 'no sub-command given' : `unknown sub-command '${name}'`} (known: ${Object.keys(SUBS).join(', ')}, or a SPEC.json to run)`);
    if (rest.length > 1) throw new UsageError(`unexpected argument '${rest[1]}'`);
    for (const k of Object.keys(values)) {
      if (values[k] !== undefined && !(k in parseOptions(sub)) && k !== 'help') throw new UsageError(`--${k} is not an option of sweep ${name}`);
    }
    return RUNNERS[name!]!(values, rest[0]);
  },
};
export default sweep;
