// Ctrl-C (SIGINT) and SIGTERM during long work: the first asks the work to stop at its next safe
// point (training: after the current step, with a checkpoint), the second exits at once. Exiting at
// once loses the steps since the last checkpoint but corrupts nothing: every file is written
// atomically and synchronously (gan/io/atomic.ts), so no write is ever half done when a signal
// handler runs. Exit status 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM.

import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof SIGNALS)[number];

export interface Interrupts {
  /** Aborted on the first signal, with the signal's name as the reason. */
  readonly signal: AbortSignal;
  /** The exit status for the signal received (null before any). */
  exitCode(): number | null;
  /** Removes the handlers (the default behaviour returns: a signal ends the process). */
  dispose(): void;
}

export function exitCodeOf(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * Installs the handlers. `what` finishes the first signal's message: "finishing the current step,
 * then writing a checkpoint".
 */
export function catchInterrupts(
  what: string,
  o: { stderr?: { write(s: string): unknown }; onSignal?: (signal: StopSignal) => void } = {},
): Interrupts {
  const stderr = o.stderr ?? process.stderr;
  const controller = new AbortController();
  let received: StopSignal | null = null;
  const handler = (signal: StopSignal) => {
    // e.g. passing the signal on to child processes, the first time and the second.
    o.onSignal?.(signal);
    if (received !== null) {
      stderr.write(`\nposit-gan: ${signal} again: exiting now (files already written stay intact)\n`);
      process.exit(exitCodeOf(signal));
    }
    received = signal;
    stderr.write(`\nposit-gan: ${signal} received: ${what}. ${signal === 'SIGINT' ? 'Press Ctrl-C again' : 'Send it again'} to exit at once.\n`);
    controller.abort(signal);
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    signal: controller.signal,
    exitCode: () => (received === null ? null : exitCodeOf(received)),
    dispose: () => {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}

/** A command line for a shell: words quoted only when they need it. */
export function shellCommand(words: readonly string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
