import { describe, expect, it } from 'vitest';
import { Progress } from './progress';
import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('spaces calls to the request rate and makes the next call pay for values read', () => {
    let now = 0;
    const l = new RateLimiter(2, 100, () => now);
    expect(l.delayMs('backfill')).toBe(0);
    // Two tokens (one second's worth), then 500 ms per call.
    void l.acquire('backfill');
    void l.acquire('backfill');
    expect(l.delayMs('backfill')).toBe(500);
    now = 500;
    expect(l.delayMs('backfill')).toBe(0);
    // 300 values against 100/s: 2 s of debt after the 1 s burst.
    l.charge(300);
    expect(l.delayMs('live')).toBe(2000);
    now = 2500;
    expect(l.delayMs('live')).toBe(0);
  });
  it('is unlimited at rate 0', () => {
    const l = new RateLimiter(0, 0, () => 0);
    l.charge(1e9);
    expect(l.delayMs('backfill')).toBe(0);
  });
});

describe('Progress', () => {
  it('reports percent, rate and ETA from work done since the start', () => {
    let now = 0;
    const p = new Progress(1000, 100, () => now);
    now = 10_000;
    p.addRows(5000);
    const r = p.report(400);
    expect(r.percent).toBe(40);
    expect(r.rowsPerSecond).toBe(500);
    // 300 units in 10 s; 600 to go -> 20 s.
    expect(r.etaSeconds).toBe(20);
    expect(p.report(1000).etaSeconds).toBe(0);
  });
});
