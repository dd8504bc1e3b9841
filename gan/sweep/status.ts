// Where a sweep stands: each job queued, running (where, which step), done or failed (with its
// error), from either queue, and its text for `posit-gan sweep status`.

import type { JobProgress } from './run-job.ts';
import { canonicalJson } from './spec.ts';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'unsubmitted';

export interface JobStatus {
  id: string;
  settings: Record<string, unknown>;
  state: JobState;
  /** Running: the host and process; queued: why it waits (retry back-off, interrupted run). */
  where: string | null;
  progress: JobProgress | null;
  /** The last failure's error (a failed job's, or a queued job's that will be retried). */
  error: string | null;
  /** Failed attempts so far. */
  failures: number;
}

export interface SweepStatus {
  name: string;
  queue: string;
  counts: Record<JobState, number>;
  jobs: JobStatus[];
}

export function countStates(jobs: readonly JobStatus[]): Record<JobState, number> {
  const counts: Record<JobState, number> = { queued: 0, running: 0, done: 0, failed: 0, unsubmitted: 0 };
  for (const j of jobs) counts[j.state]++;
  return counts;
}

function settingsText(s: Record<string, unknown>): string {
  const parts = Object.entries(s).map(([k, v]) => `${k}=${typeof v === 'string' ? v : canonicalJson(v)}`);
  return parts.length ? parts.join(' ') : '(base)';
}

function progressText(p: JobProgress | null): string {
  if (!p) return 'starting';
  if (p.phase === 'eval') return `evaluating (trained ${p.step} steps)`;
  const losses = p.losses ? ` ${Object.entries(p.losses).map(([k, v]) => `${k} ${v === null ? 'NaN' : v.toFixed(3)}`).join(' ')}` : '';
  const rate = p.stepsPerSec ? `, ${p.stepsPerSec.toFixed(1)} step/s` : '';
  return `step ${p.step}/${p.total ?? '?'}${losses}${rate}`;
}

function ago(iso: string | undefined): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return `, ${s} s ago`;
}

export function formatStatus(s: SweepStatus): string {
  const c = s.counts;
  const lines = [
    `sweep ${s.name} (${s.queue}): ${s.jobs.length} jobs: ${c.queued} queued, ${c.running} running, ${c.done} done, ${c.failed} failed` +
      (c.unsubmitted ? `, ${c.unsubmitted} not submitted` : ''),
  ];
  const running = s.jobs.filter((j) => j.state === 'running');
  if (running.length) {
    lines.push('running:');
    for (const j of running) lines.push(`  ${j.id}  ${settingsText(j.settings)}  ${progressText(j.progress)} on ${j.where ?? '?'}${ago(j.progress?.at)}`);
  }
  const waiting = s.jobs.filter((j) => j.state === 'queued' && (j.where || j.error));
  if (waiting.length) {
    lines.push('queued with a history:');
    for (const j of waiting) lines.push(`  ${j.id}  ${settingsText(j.settings)}  ${j.where ?? ''}${j.error ? ` (after ${j.failures} failed attempt${j.failures === 1 ? '' : 's'}: ${j.error.split('\n')[0]})` : ''}`);
  }
  const failed = s.jobs.filter((j) => j.state === 'failed');
  if (failed.length) {
    lines.push('failed:');
    for (const j of failed) {
      lines.push(`  ${j.id}  ${settingsText(j.settings)}  after ${j.failures} attempt${j.failures === 1 ? '' : 's'}:`);
      for (const l of (j.error ?? 'no error recorded').split('\n')) lines.push(`      ${l}`);
    }
  }
  return lines.join('\n') + '\n';
}
