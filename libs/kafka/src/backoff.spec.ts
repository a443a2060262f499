import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './backoff';

describe('backoffDelay', () => {
  const noJitter = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 };

  it('doubles from the initial delay', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, noJitter))).toEqual([100, 200, 400, 800]);
  });

  it('stops growing at the cap', () => {
    expect([5, 6, 50, 10_000].map((a) => backoffDelay(a, noJitter))).toEqual([1000, 1000, 1000, 1000]);
  });

  it('spreads by the jitter around the base delay', () => {
    const opts = { ...noJitter, jitter: 0.2 };
    expect(backoffDelay(2, opts, () => 0)).toBe(160); // 200 * 0.8
    expect(backoffDelay(2, opts, () => 0.5)).toBe(200);
    expect(backoffDelay(2, opts, () => 0.999_999)).toBe(240); // 200 * 1.2, rounded
  });

  it('never exceeds the cap even with jitter', () => {
    expect(backoffDelay(20, { ...noJitter, jitter: 0.5 }, () => 0.999)).toBe(1000);
  });

  it('treats attempt 0 like the first retry', () => {
    expect(backoffDelay(0, noJitter)).toBe(100);
  });
});

describe('sleep', () => {
  it('returns at once when the signal aborts', async () => {
    // Without the abort this would outlive the test's timeout and fail it.
    const ac = new AbortController();
    const p = sleep(3_600_000, ac.signal);
    ac.abort();
    await expect(p).resolves.toBeUndefined();
  });
});
