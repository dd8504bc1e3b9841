// Training progress display, three modes:
//   bar    a progress bar on stderr, redrawn in place at most ~10 times a second, with step/total,
//          epoch, the named losses, steps per second and ETA. When stderr is not a terminal (a log
//          file, CI) nothing can be redrawn in place: a plain line is printed every 10 seconds instead.
//   quiet  nothing until finish(), then one summary line on stderr.
//   jsonl  one JSON object per reported step on stdout (for scripts), and one at the end:
//            {"type":"step","step":120,"total":5000,"epoch":2,"losses":{"d":0.69,"g":1.2},
//             "stepsPerSec":41.7,"etaSec":117.1,"elapsedSec":2.9}
//            {"type":"end","step":5000,"total":5000,"elapsedSec":120.4,"stepsPerSec":41.5}
//          Non-finite losses appear as null (JSON has no NaN).
// Steps per second are measured over the last few seconds (a sliding window), so the rate and ETA
// follow changes in speed rather than averaging over the whole run.

export type ProgressMode = 'bar' | 'quiet' | 'jsonl';

/** The part of a Node write stream this uses (process.stderr / process.stdout satisfy it). */
export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  mode: ProgressMode;
  /** Total steps of the run. */
  total: number;
  /** Step the run starts from (a resumed run): rates count only steps done in this process. */
  startStep?: number;
  /** Where the bar and quiet summaries go (default process.stderr). */
  stderr?: TextSink;
  /** Where JSON lines go (default process.stdout). */
  stdout?: TextSink;
  /** Clock in milliseconds (default performance.now); tests pass their own. */
  now?: () => number;
}

export interface ProgressUpdate {
  /** Steps completed (1-based: after the first step, 1). */
  step: number;
  epoch: number;
  losses: Readonly<Record<string, number>>;
}

const REDRAW_MS = 100;
const PLAIN_LINE_MS = 10_000;
const RATE_WINDOW_MS = 5_000;

/** "1h02m", "3m07s", "12s", or "?" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatLoss(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(4);
}

export class Progress {
  private readonly mode: ProgressMode;
  private readonly total: number;
  private readonly stderr: TextSink;
  private readonly stdout: TextSink;
  private readonly now: () => number;
  private readonly start: number;
  private readonly startStep: number;
  private readonly samples: { t: number; step: number }[] = [];
  private lastDraw = -Infinity;
  private drawn = false;
  private last: ProgressUpdate | undefined;

  constructor(options: ProgressOptions) {
    if (!Number.isInteger(options.total) || options.total < 1) throw new Error(`progress: total must be a positive integer, got ${options.total}`);
    this.mode = options.mode;
    this.total = options.total;
    this.stderr = options.stderr ?? process.stderr;
    this.stdout = options.stdout ?? process.stdout;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.startStep = options.startStep ?? 0;
    this.samples.push({ t: this.start, step: this.startStep });
  }

  /** Steps per second over the recent window (NaN before any time has passed). */
  rate(): number {
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const dt = (last.t - first.t) / 1000;
    return dt > 0 ? (last.step - first.step) / dt : NaN;
  }

  /** Reports a completed step. Cheap when nothing is drawn (throttled), so call it every step. */
  update(u: ProgressUpdate): void {
    const t = this.now();
    this.last = u;
    this.samples.push({ t, step: u.step });
    // Keep one sample older than the window so the rate always spans at least the window.
    while (this.samples.length > 2 && t - this.samples[1]!.t > RATE_WINDOW_MS) this.samples.shift();
    if (this.mode === 'jsonl') {
      const rate = this.rate();
      this.stdout.write(
        JSON.stringify({
          type: 'step',
          step: u.step,
          total: this.total,
          epoch: u.epoch,
          losses: u.losses,
          stepsPerSec: round3(rate),
          etaSec: round3((this.total - u.step) / rate),
          elapsedSec: round3((t - this.start) / 1000),
        }) + '\n',
      );
      return;
    }
    if (this.mode === 'quiet') return;
    const tty = this.stderr.isTTY === true;
    const interval = tty ? REDRAW_MS : PLAIN_LINE_MS;
    if (t - this.lastDraw < interval && u.step < this.total) return;
    this.lastDraw = t;
    const line = this.describe(u, tty ? (this.stderr.columns ?? 100) : 0);
    if (tty) {
      this.stderr.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.stderr.write(line + '\n');
    }
  }

  /** Ends the display: a final line (bar, quiet) or an "end" object (jsonl). */
  finish(note?: string): void {
    const t = this.now();
    const elapsed = (t - this.start) / 1000;
    const step = this.last?.step ?? this.startStep;
    const rate = elapsed > 0 ? (step - this.startStep) / elapsed : NaN;
    if (this.mode === 'jsonl') {
      const end: Record<string, unknown> = { type: 'end', step, total: this.total, elapsedSec: round3(elapsed), stepsPerSec: round3(rate) };
      if (note !== undefined) end.note = note;
      this.stdout.write(JSON.stringify(end) + '\n');
      return;
    }
    if (this.drawn) this.stderr.write('\r\x1b[2K');
    const losses = this.last ? ' | ' + lossText(this.last.losses) : '';
    this.stderr.write(
      `done: step ${step}/${this.total}${losses} | ${fmtRate(rate)} step/s | ${formatDuration(elapsed)}${note ? ` | ${note}` : ''}\n`,
    );
  }

  /** One status line, fitted to `width` columns (0: no limit) by narrowing the bar first. */
  private describe(u: ProgressUpdate, width: number): string {
    const rate = this.rate();
    const pct = Math.floor((100 * u.step) / this.total);
    const text =
      ` ${String(pct).padStart(3)}% | epoch ${u.epoch} | ${lossText(u.losses)} | ${fmtRate(rate)} step/s | ` +
      `ETA ${formatDuration((this.total - u.step) / rate)}`;
    const head = `step ${u.step}/${this.total}`;
    if (width === 0) return head + text;
    const barWidth = Math.min(30, width - head.length - text.length - 3);
    if (barWidth < 5) return (head + text).slice(0, Math.max(0, width - 1));
    const filled = Math.round((barWidth * u.step) / this.total);
    return `${head} [${'='.repeat(filled)}${' '.repeat(barWidth - filled)}]${text}`;
  }
}

function lossText(losses: Readonly<Record<string, number>>): string {
  const parts = Object.entries(losses).map(([k, v]) => `${k} ${formatLoss(v)}`);
  return parts.length ? parts.join(' ') : 'no losses';
}

function fmtRate(r: number): string {
  return Number.isFinite(r) ? (r >= 100 ? r.toFixed(0) : r.toFixed(1)) : '?';
}

function round3(v: number): number | null {
  return Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null;
}
