/** Who waits: live reads go before backfill reads, so a backfill never holds live data back. */
export type Priority = 'live' | 'backfill';

/**
 * Two token buckets (calls per second, values per second) shared by a
 * source's live reads and jobs, so a backfill never loads the historian more
 * than configured. Values are charged after the call that returned them (the
 * count is not known before): the bucket may go into debt, and the next call
 * waits until it is paid. Live waiters are served before backfill waiters.
 * A rate of 0 means unlimited.
 */
export class RateLimiter {
  private requestTokens: number;
  private valueTokens: number;
  private last: number;
  private liveWaiting = 0;

  constructor(
    private readonly requestsPerSecond: number,
    private readonly valuesPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.requestTokens = Math.max(1, requestsPerSecond);
    this.valueTokens = valuesPerSecond;
    this.last = now();
  }

  /** Milliseconds until a call may be made now (0 = go), without taking anything. */
  delayMs(priority: Priority): number {
    this.refill();
    let wait = 0;
    if (this.requestsPerSecond > 0 && this.requestTokens < 1) wait = Math.max(wait, ((1 - this.requestTokens) / this.requestsPerSecond) * 1000);
    if (this.valuesPerSecond > 0 && this.valueTokens < 0) wait = Math.max(wait, (-this.valueTokens / this.valuesPerSecond) * 1000);
    // A backfill yields to live reads that wait for the same budget.
    if (priority === 'backfill' && this.liveWaiting > 0) wait = Math.max(wait, 10);
    return Math.ceil(wait);
  }

  /** Waits until a call may be made and takes one call's token. Rejects when `signal` aborts. */
  async acquire(priority: Priority, signal?: AbortSignal): Promise<void> {
    if (priority === 'live') this.liveWaiting++;
    try {
      for (;;) {
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
        const wait = this.delayMs(priority);
        if (wait === 0) break;
        await sleep(wait, signal);
      }
    } finally {
      if (priority === 'live') this.liveWaiting--;
    }
    if (this.requestsPerSecond > 0) this.requestTokens -= 1;
  }

  /** Charges `values` values read by the last call. */
  charge(values: number): void {
    if (this.valuesPerSecond > 0) {
      this.refill();
      this.valueTokens -= values;
    }
  }

  private refill(): void {
    const t = this.now();
    const dt = Math.max(0, t - this.last) / 1000;
    this.last = t;
    // Bursts up to one second's worth.
    if (this.requestsPerSecond > 0) this.requestTokens = Math.min(Math.max(1, this.requestsPerSecond), this.requestTokens + dt * this.requestsPerSecond);
    if (this.valuesPerSecond > 0) this.valueTokens = Math.min(this.valuesPerSecond, this.valueTokens + dt * this.valuesPerSecond);
  }
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
