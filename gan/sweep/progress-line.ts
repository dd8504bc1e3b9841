// What a person watching a sweep on this machine sees between the jobs' own "done" lines: one line at
// most every 30 s with each running job's step, rate or phase. Shared by `sweep run` (embedded queue)
// and `experiment table1`.

import type { JobProgress } from './run-job.ts';
import type { SweepJob } from './spec.ts';

/** A job's name for people: its recipe, its other grid settings, then its seed, e.g.
 *  `p8+-sr width=64 seed 2` (the job id says nothing to a reader). */
export function jobLabel(job: SweepJob): string {
  const others = Object.entries(job.settings)
    .filter(([k]) => k !== 'recipe' && k !== 'seed')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [job.recipe.name ?? job.config.recipe, ...others, `seed ${job.config.seed}`].join(' ');
}

/** Progress of the running jobs as one line at most every 30 s: "p8+ seed 1 step 120/1000 1.5 step/s ·
 *  ..."; a job leaves the line when it ends (its own "done" line says so). */
export function runningProgress(
  label: (j: SweepJob) => string,
  say: (line: string) => void,
  now: () => number = () => performance.now(),
): { onProgress: (job: SweepJob, p: JobProgress) => void; onJobEnd: (job: SweepJob) => void } {
  const latest = new Map<string, string>();
  let last = now();
  return {
    onProgress: (job, p) => {
      const rate = p.stepsPerSec ? ` ${p.stepsPerSec.toFixed(1)} step/s` : '';
      latest.set(label(job), p.phase === 'eval' ? 'evaluating' : `step ${p.step}/${p.total ?? '?'}${rate}`);
      if (now() - last < 30_000) return;
      last = now();
      say([...latest].map(([k, v]) => `${k} ${v}`).join(' · '));
    },
    onJobEnd: (job) => {
      latest.delete(label(job));
    },
  };
}
