// The training loop of the page: steps every lane that can go on, then gives the browser a turn, until
// paused. The lanes' steps run concurrently (each awaits its own read back while the other records
// into the shared GPU queue), so a comparison advances both recipes in lock step. An error ends the
// loop and is handed to `onError`; nothing is swallowed.

import type { Lane } from './lane.ts';

export interface LoopHooks {
  /** After every round (one step of each active lane); may do more GPU work (sample grids). */
  afterRound(): Promise<void>;
  /** When the loop stops without an error, before pause() resolves: GPU work that must not overlap
   *  what the caller of pause() does next (the final sample grid). */
  beforeStop(): Promise<void>;
  /** The loop ended: paused, every lane stopped, or `error` (null otherwise). */
  onStop(error: unknown): void;
}

/** Resolves after the browser has had a chance to handle input and paint. */
function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export class TrainingLoop {
  private wanted = false;
  private done: Promise<void> | null = null;

  constructor(
    private readonly lanes: readonly Lane[],
    private readonly hooks: LoopHooks,
  ) {}

  get running(): boolean {
    return this.done !== null;
  }

  start(): void {
    this.wanted = true;
    this.done ??= this.run().then((error) => {
      this.done = null;
      this.hooks.onStop(error);
    });
  }

  /** Stops after the current round; resolves once no GPU work of the loop is in flight (and onStop
   *  has run). */
  async pause(): Promise<void> {
    this.wanted = false;
    await this.done;
  }

  /** Resolves with the error that ended the loop, or null when it was paused or every lane stopped. */
  private async run(): Promise<unknown> {
    try {
      while (this.wanted) {
        const active = this.lanes.filter((l) => !l.stopped);
        if (active.length === 0) break;
        const results = await Promise.allSettled(active.map((l) => l.step()));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        await this.hooks.afterRound();
        await yieldToBrowser();
      }
      await this.hooks.beforeStop();
    } catch (e) {
      this.wanted = false;
      return e;
    }
    this.wanted = false;
    return null;
  }
}
