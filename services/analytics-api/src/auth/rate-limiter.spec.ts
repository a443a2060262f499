import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('allows a burst, then refills at the sustained rate, per caller', () => {
    let now = 0;
    const limiter = new RateLimiter(60, 2, () => now); // one token a second
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterS: 1 });
    expect(limiter.take('b')).toEqual({ allowed: true });
    now = 1000;
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('says how long to wait at a slow rate', () => {
    const limiter = new RateLimiter(1, 1, () => 0);
    limiter.take('a');
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterS: 60 });
  });

  it('is off at 0 per minute', () => {
    const limiter = new RateLimiter(0, 1, () => 0);
    for (let i = 0; i < 5; i++) expect(limiter.take('a').allowed).toBe(true);
  });
});
