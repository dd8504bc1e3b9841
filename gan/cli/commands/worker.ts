// `posit-gan worker`: takes sweep jobs from a BullMQ queue in Redis and trains and evaluates them
// (gan/sweep/redis.ts), until stopped.

import { hostname } from 'node:os';
import { checkQueueUrl, DEFAULT_QUEUE_NAME, startWorker } from '../../sweep/redis.ts';
import { SweepStore } from '../../sweep/store.ts';
import { int, num, str, UsageError, type Command } from '../command.ts';
import { GPU_OPTIONS, gpuArgsFrom } from '../gpu-options.ts';

function seconds(values: Parameters<typeof num>[0], key: string, fallback: number): number {
  const s = num(values, key, fallback);
  if (!(s > 0)) throw new UsageError(`--${key} must be a positive number of seconds, got ${s}`);
  return s;
}

const worker: Command = {
  name: 'worker',
  summary: 'take sweep jobs from a Redis queue (BullMQ), train and evaluate them (one per GPU machine)',
  usage: `posit-gan worker --queue redis://HOST:PORT --dir SHARED_DIR [--concurrency N] [--queue-name NAME]
                        [--lock-seconds S] [--stalled-check-seconds S] [--max-stalled N] [device options]`,
  help: [
    `Takes jobs that \`posit-gan sweep run SPEC.json --queue redis://HOST:PORT\` put on the queue, trains
each in a \`posit-gan train\` process and evaluates it with \`posit-gan eval\`, reports its progress
(step, losses) as the job's progress, and returns its row as the job's return value. Runs until
stopped (Ctrl-C / SIGTERM: the running jobs go back to the queue and resume from their newest
checkpoint on whichever worker takes them).`,
    `Start one worker per GPU machine (--concurrency runs several jobs side by side on it). Redis is needed
only for sweeps over several machines; on one machine \`posit-gan sweep run\` needs no server.`,
    {
      options: [
        {
          name: 'queue',
          type: 'string',
          value: 'redis://HOST:PORT',
          help: 'the Redis the sweep was submitted to (retried, and said so on stderr, while it cannot be reached; the worker never exits on its own)',
        },
        {
          name: 'dir',
          type: 'string',
          value: 'SHARED_DIR',
          help:
            'where runs, logs and rows are written: it MUST be a directory every worker reaches (a shared file system mounted on every ' +
            'machine): a job taken over from a lost worker resumes from the checkpoint there',
        },
        { name: 'concurrency', type: 'string', value: 'N', default: 1, help: 'jobs at once on this machine' },
        { name: 'queue-name', type: 'string', value: 'NAME', default: DEFAULT_QUEUE_NAME, help: "the BullMQ queue's name (as given to sweep run)" },
        {
          name: 'lock-seconds',
          type: 'string',
          value: 'S',
          default: 30,
          help: "a worker that has not renewed a job's lock for S seconds (killed, machine gone, network cut) loses the job to another worker",
        },
        { name: 'stalled-check-seconds', type: 'string', value: 'S', default: 30, help: 'how often to look for such jobs' },
        { name: 'max-stalled', type: 'string', value: 'N', default: 3, help: 'times a job may be taken back from lost workers before it is failed' },
      ],
    },
    `A job that keeps failing (a bad configuration, a crash) is marked failed with its error after the
attempts given to sweep run (--attempts, with back-off); a run that diverges is a result (a row with
diverged: true), not a failure.`,
    GPU_OPTIONS,
  ],
  async run(values) {
    const url = str(values, 'queue');
    if (!url) throw new UsageError('--queue redis://HOST:PORT is required (the Redis the sweep was submitted to)');
    try {
      checkQueueUrl(url);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const dir = str(values, 'dir');
    if (!dir) throw new UsageError('--dir SHARED_DIR is required: the results directory every worker reaches');
    const queueName = str(values, 'queue-name') ?? DEFAULT_QUEUE_NAME;
    const say = (line: string) => process.stderr.write(`posit-gan worker: ${line}\n`);
    const store = new SweepStore(dir);
    store.init();
    const w = await startWorker({
      url,
      queueName,
      say,
      store,
      concurrency: int(values, 'concurrency', 1, 1, 256),
      childArgs: gpuArgsFrom(values),
      lockMs: seconds(values, 'lock-seconds', 30) * 1000,
      stalledCheckMs: seconds(values, 'stalled-check-seconds', 30) * 1000,
      maxStalled: int(values, 'max-stalled', 3, 0, 1000),
    });
    say(`${hostname()} pid ${process.pid}: taking jobs from ${url} (queue ${queueName}), results in ${store.dir}`);
    let signalled: NodeJS.Signals | null = null;
    const onSignal = (s: NodeJS.Signals) => {
      if (signalled) process.exit(s === 'SIGINT' ? 130 : 143);
      signalled = s;
      say(`${s}: putting the running jobs back in the queue and stopping`);
      void w.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await w.closed;
    return signalled === 'SIGINT' ? 130 : signalled ? 143 : 0;
  },
};
export default worker;
