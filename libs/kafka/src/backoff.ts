/** Exponential backoff between retries of a failing handler or transaction. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. Default 200. */
  initialMs?: number;
  /** Upper bound of any delay, in ms. Default 30,000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
  /** Random spread as a fraction of the delay (0.2 = ±20 %), so replicas do not retry in lockstep. Default 0.2. */
  jitter?: number;
}

/** Backoff defaults: 200 ms doubling to 30 s, ±20 %. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 200, maxMs: 30_000, multiplier: 2, jitter: 0.2 };

/**
 * The delay before retry number `attempt` (1 for the first retry):
 * `initialMs * multiplier^(attempt-1)`, spread by the jitter, never above `maxMs`.
 * `random` returns a number in [0, 1); injectable so tests can compute the result.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs, maxMs, multiplier, jitter } = { ...DEFAULT_BACKOFF, ...options };
  const exponent = Math.max(0, attempt - 1);
  // Cap before multiplying so large attempt numbers cannot overflow to Infinity.
  const base = Math.min(maxMs, initialMs * Math.pow(multiplier, Math.min(exponent, 64)));
  const spread = 1 - jitter + 2 * jitter * random();
  return Math.max(0, Math.min(maxMs, Math.round(base * spread)));
}

/** Resolves after `ms`, or at once when `signal` aborts (it never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
