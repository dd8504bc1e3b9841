// The training progress display (gan/cli/progress.ts): JSON-lines format, quiet mode, bar
// throttling and content, non-TTY fallback, rate and ETA, duration formatting.

import { describe, expect, it } from 'vitest';
import { Progress, formatDuration, type TextSink } from '../../gan/cli/progress.ts';

class Sink implements TextSink {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns = 120,
  ) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/** A manual clock in milliseconds. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('Progress', () => {
  it('jsonl: one JSON object per step on stdout, then an end object; nothing on stderr', () => {
    const out = new Sink();
    const err = new Sink();
    const c = clock();
    const p = new Progress({ mode: 'jsonl', total: 4, stdout: out, stderr: err, now: c.now });
    for (let s = 1; s <= 4; s++) {
      c.advance(250); // 4 steps per second
      p.update({ step: s, epoch: s > 2 ? 1 : 0, losses: { d: 0.5 / s, g: s === 3 ? NaN : 1 } });
    }
    p.finish('saved');
    const lines = out.text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    expect(lines[1]).toEqual({ type: 'step', step: 2, total: 4, epoch: 0, losses: { d: 0.25, g: 1 }, stepsPerSec: 4, etaSec: 0.5, elapsedSec: 0.5 });
    expect(lines[2].losses.g).toBeNull(); // NaN loss
    expect(lines[4]).toEqual({ type: 'end', step: 4, total: 4, elapsedSec: 1, stepsPerSec: 4, note: 'saved' });
    expect(err.text).toBe('');
  });

  it('quiet: nothing until finish, then one summary line', () => {
    const err = new Sink(true);
    const out = new Sink();
    const c = clock();
    const p = new Progress({ mode: 'quiet', total: 10, stdout: out, stderr: err, now: c.now });
    for (let s = 1; s <= 10; s++) {
      c.advance(500);
      p.update({ step: s, epoch: 0, losses: { d: 0.1 } });
    }
    expect(err.text).toBe('');
    p.finish();
    expect(err.text).toBe('done: step 10/10 | d 0.1000 | 2.0 step/s | 5s\n');
    expect(out.text).toBe('');
  });

  it('bar on a TTY: redraws in place at most every 100 ms, with step, epoch, losses, rate, ETA', () => {
    const err = new Sink(true, 120);
    const c = clock();
    const p = new Progress({ mode: 'bar', total: 1000, stderr: err, now: c.now });
    for (let s = 1; s <= 100; s++) {
      c.advance(10); // 100 steps per second, 1 s in all
      p.update({ step: s, epoch: 2, losses: { loss_d: 0.6931, loss_g: 1.25 } });
    }
    const frames = err.text.split('\r\x1b[2K').filter((f) => f);
    expect(frames.length).toBeGreaterThanOrEqual(9);
    expect(frames.length).toBeLessThanOrEqual(11);
    const last = frames[frames.length - 1]!;
    // Frames at steps 1, 11, ..., 91 (every 100 ms); step 100 is within 100 ms of the last frame.
    expect(last).toMatch(/^step 91\/1000 \[=+ +\] {3}9% \| epoch 2 \| loss_d 0\.6931 loss_g 1\.2500 \| 100 step\/s \| ETA 9s$/);
    expect(last.length).toBeLessThan(120);
    expect(err.text).not.toContain('\n');
    p.finish();
    expect(err.text.endsWith('\r\x1b[2Kdone: step 100/1000 | loss_d 0.6931 loss_g 1.2500 | 100 step/s | 1s\n')).toBe(true);
  });

  it('bar without a TTY: a plain line every 10 s and at the last step, no escape codes', () => {
    const err = new Sink(false);
    const c = clock();
    const p = new Progress({ mode: 'bar', total: 300, stderr: err, now: c.now });
    for (let s = 1; s <= 300; s++) {
      c.advance(100);
      p.update({ step: s, epoch: 0, losses: { d: 1 } });
    }
    const lines = err.text.trimEnd().split('\n');
    expect(lines.length).toBe(4); // steps 1, 101, 201 and 300
    expect(lines[3]).toMatch(/^step 300\/300 100% \| epoch 0/);
    expect(err.text).not.toContain('\x1b');
  });

  it('measures the rate over the recent window (a slowdown shows quickly) and after a resume', () => {
    const err = new Sink();
    const c = clock();
    const p = new Progress({ mode: 'quiet', total: 10000, startStep: 5000, stderr: err, now: c.now });
    for (let s = 5001; s <= 5100; s++) {
      c.advance(10); // 100 steps/s
      p.update({ step: s, epoch: 0, losses: {} });
    }
    expect(p.rate()).toBeCloseTo(100, 6);
    for (let s = 5101; s <= 5200; s++) {
      c.advance(100); // then 10 steps/s for 10 s
      p.update({ step: s, epoch: 0, losses: {} });
    }
    expect(p.rate()).toBeGreaterThan(9);
    expect(p.rate()).toBeLessThan(11);
  });

  it('formats durations', () => {
    expect([formatDuration(0), formatDuration(59.4), formatDuration(187), formatDuration(3725), formatDuration(NaN)]).toEqual([
      '0s',
      '59s',
      '3m07s',
      '1h02m',
      '?',
    ]);
  });
});
