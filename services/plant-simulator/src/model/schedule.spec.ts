import { describe, expect, it } from 'vitest';
import { buildDaySchedule, dayTotals, scheduleProfile, totalsBeforeDay } from './schedule';

describe('day schedules', () => {
  const profile = scheduleProfile(0.75);
  const key = 12345;

  it('add up to a whole day with positive run, idle and down time every day', () => {
    for (let d = 0; d < 500; d++) {
      const t = dayTotals(profile, key, d);
      expect(t.run + t.idle + t.down).toBe(86_400);
      expect(Math.min(t.run, t.idle, t.down)).toBeGreaterThan(0);
      const s = buildDaySchedule(key, d, t);
      expect(s.starts[s.starts.length - 1]).toBe(86_400);
      expect(s.runBefore[s.runBefore.length - 1]).toBe(t.run);
      expect(s.idleBefore[s.idleBefore.length - 1]).toBe(t.idle);
    }
  });

  it('cumulative totals in closed form equal the sum of the days', () => {
    const acc = { run: 0, idle: 0, down: 0 };
    for (let d = 0; d < 400; d++) {
      expect(totalsBeforeDay(profile, key, d)).toEqual(acc);
      const t = dayTotals(profile, key, d);
      acc.run += t.run;
      acc.idle += t.idle;
      acc.down += t.down;
    }
  });

  it('uses reasons of the right category for each state', () => {
    const s = buildDaySchedule(key, 7, dayTotals(profile, key, 7));
    s.states.forEach((state, i) => {
      const reason = s.reasons[i]!;
      if (state === 0) expect(reason).toBe(0);
      if (state === 1) expect(Math.floor(reason / 100)).toBeLessThanOrEqual(2);
      if (state === 2) expect(Math.floor(reason / 100)).toBeGreaterThanOrEqual(3);
    });
  });
});
