// Dawn's two limit warnings, kept off the user's terminal. dawn.node prints them from native code
// (fprintf to file descriptor 2) while it requests an adapter, on drivers that report huge dynamic
// buffer limits (lavapipe: 1000000):
//   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
//   Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
// They are harmless (posit-gan binds no dynamic buffers) but appear on every GPU command. Node cannot
// redirect its own file descriptor 2, so a command that opens the GPU runs in a child process whose
// stderr passes through this filter: exactly those two lines are dropped, everything else (progress
// bars redrawn with \r included) goes through as it arrives. Its stdout passes through this process
// too, unchanged, so that the two stay in the order the child wrote them (a summary on stdout after
// the last progress line on stderr). `--verbose` runs without the relay.
//
// The child runs in its own process group, so a Ctrl-C at the terminal reaches only this process,
// which forwards it once (SIGINT, SIGTERM, SIGHUP): the child's own handling (a checkpoint on the
// first Ctrl-C, an immediate exit on the second) sees exactly the signals the user sent. The exit
// status is the child's (128 + n if a signal killed it).
//
// The child must not outlive the relay: if the relay is killed hard (kill -9 of the pid the user or a
// test sees), a leftover child would go on training into the same run directory while a sweep hands
// the job to someone else. The relay gives the child one more pipe (file descriptor 3) and never
// writes to it; when it closes (the relay is gone, however it ended), the child sends itself SIGTERM,
// the same stop as any other termination request.

import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';

export const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;
const PREFIX = 'Warning: maxDynamic';

/** Set in the child's environment: it is the relayed process (and must not relay again). */
export const RELAYED_ENV = 'POSIT_GAN_RELAYED';
/** Set when the user's stderr is a terminal: its width, so the child still draws a progress bar. */
export const TTY_COLUMNS_ENV = 'POSIT_GAN_STDERR_COLUMNS';
/** Set in the child's environment: the file descriptor of the pipe that closes when the relay is gone. */
export const RELAY_PIPE_ENV = 'POSIT_GAN_RELAY_PIPE_FD';
const RELAY_PIPE_FD = 3;

/**
 * Drops complete lines that are one of Dawn's limit warnings; passes everything else through at once.
 * Text that could still become such a line (a line start that matches its prefix so far) is held
 * until the line ends.
 */
export class DawnWarningFilter {
  private held = '';
  /** The current line already went out (it cannot be a warning): pass the rest of it. */
  private passing = false;
  dropped = 0;

  push(text: string): string {
    let out = '';
    while (text.length > 0) {
      const nl = text.indexOf('\n');
      const piece = nl < 0 ? text : text.slice(0, nl + 1);
      text = nl < 0 ? '' : text.slice(nl + 1);
      if (this.passing) {
        out += piece;
      } else {
        this.held += piece;
        if (nl >= 0) {
          if (DAWN_LIMIT_WARNING.test(this.held.slice(0, -1))) this.dropped++;
          else out += this.held;
          this.held = '';
        } else if (!PREFIX.startsWith(this.held) && !this.held.startsWith(PREFIX)) {
          out += this.held;
          this.held = '';
          this.passing = true;
        }
      }
      if (nl >= 0) this.passing = false;
    }
    return out;
  }

  /** What is still held when the stream ends (an unfinished line is never a complete warning). */
  end(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs `node script args` as a child with its stderr filtered; resolves to its exit status. */
export function relayThroughChild(script: string, args: readonly string[]): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, [RELAYED_ENV]: '1', [RELAY_PIPE_ENV]: String(RELAY_PIPE_FD) };
  if (process.stderr.isTTY) env[TTY_COLUMNS_ENV] = String(process.stderr.columns || 100);
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['inherit', 'pipe', 'pipe', 'pipe'], env, detached: true });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  const filter = new DawnWarningFilter();
  const decoder = new StringDecoder('utf8');
  child.stdout!.on('data', (b: Buffer) => process.stdout.write(b));
  child.stderr!.on('data', (b: Buffer) => {
    const text = filter.push(decoder.write(b));
    if (text) process.stderr.write(text);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' comes after the child's stderr has ended, so nothing it wrote is lost.
    child.on('close', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      const rest = filter.end() + decoder.end();
      if (rest) process.stderr.write(rest);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 1));
    });
  });
}

/**
 * In the relayed child: the user's stderr is a terminal (the pipe to the relay stands in for it), and
 * the process stops when the relay is gone.
 */
export function adoptRelayedTerminal(): void {
  const columns = Number(process.env[TTY_COLUMNS_ENV]);
  if (process.env[RELAYED_ENV] === '1' && columns > 0) Object.assign(process.stderr, { isTTY: true, columns });
  const fd = Number(process.env[RELAY_PIPE_ENV]);
  // Processes this one starts do not have the pipe: they must not look for it.
  delete process.env[RELAY_PIPE_ENV];
  if (process.env[RELAYED_ENV] !== '1' || !(fd > 2)) return;
  const pipe = new Socket({ fd, readable: true, writable: false });
  const stop = () => process.kill(process.pid, 'SIGTERM');
  pipe.once('end', stop);
  pipe.once('error', stop);
  pipe.resume();
  // Watching the pipe must not keep a finished process alive.
  pipe.unref();
}
