import { describe, expect, it } from 'vitest';
import { planSync } from '../sync/planner';
import { emptyState } from '../sync/state-store';
import { expandShifts, parseClock, shiftIdDate, type SiteCalendar } from './shift-calendar';
import { ShiftCalendarFeed } from './shift-feed';
import { formatInZone, offsetMinutesAt, wallClockToInstant } from './time-zone';

const all = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const hamburg: SiteCalendar = {
  siteId: 'hamburg',
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'early', start: '06:00', end: '14:00', breakMinutes: 30, days: all },
    { name: 'late', start: '14:00', end: '22:00', breakMinutes: 30, days: all },
    { name: 'night', start: '22:00', end: '06:00', breakMinutes: 45, days: all },
  ],
};
const at = (iso: string): number => Date.parse(iso);
const changedAt = '2026-03-01T00:00:00Z';

describe('time zones', () => {
  it('read the offset of a zone at an instant, DST included', () => {
    expect(offsetMinutesAt('Europe/Berlin', at('2026-01-15T12:00:00Z'))).toBe(60);
    expect(offsetMinutesAt('Europe/Berlin', at('2026-07-15T12:00:00Z'))).toBe(120);
    expect(offsetMinutesAt('America/New_York', at('2026-07-15T12:00:00Z'))).toBe(-240);
  });

  it('move a wall-clock time in the skipped hour forward by the gap', () => {
    // 2026-03-29 02:30 does not exist in Berlin: clocks go from 02:00 CET to 03:00 CEST.
    const t = wallClockToInstant('Europe/Berlin', { year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 });
    expect(new Date(t).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(formatInZone('Europe/Berlin', t)).toBe('2026-03-29T03:30:00+02:00');
  });

  it('take the first of a repeated wall-clock time', () => {
    // 2026-10-25 02:30 happens twice in Berlin: first at +02:00 (00:30Z), then at +01:00 (01:30Z).
    const t = wallClockToInstant('Europe/Berlin', { year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 });
    expect(new Date(t).toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });
});

describe('shift expansion', () => {
  it('expands three 8-hour shifts per day with the site offset', () => {
    const shifts = expandShifts(hamburg, at('2026-01-12T00:00:00+01:00'), at('2026-01-13T00:00:00+01:00'), changedAt);
    expect(shifts.map((s) => [s.id, s.validFrom, s.validTo, s.plannedBreakMinutes])).toEqual([
      ['hamburg-2026-01-12-early', '2026-01-12T06:00:00+01:00', '2026-01-12T14:00:00+01:00', 30],
      ['hamburg-2026-01-12-late', '2026-01-12T14:00:00+01:00', '2026-01-12T22:00:00+01:00', 30],
      ['hamburg-2026-01-12-night', '2026-01-12T22:00:00+01:00', '2026-01-13T06:00:00+01:00', 45],
    ]);
    expect(shifts[2]!.attributes).toEqual({ timeZone: 'Europe/Berlin', lengthMinutes: 480, plannedMinutes: 435 });
  });

  it('makes the night shift 7 hours long when clocks spring forward', () => {
    const shifts = expandShifts(hamburg, at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z'), changedAt);
    const night = shifts.find((s) => s.id === 'hamburg-2026-03-28-night')!;
    expect([night.validFrom, night.validTo]).toEqual(['2026-03-28T22:00:00+01:00', '2026-03-29T06:00:00+02:00']);
    expect(Date.parse(night.validTo!) - Date.parse(night.validFrom)).toBe(7 * 3_600_000);
    expect(night.attributes['lengthMinutes']).toBe(420);
    const early = shifts.find((s) => s.id === 'hamburg-2026-03-29-early')!;
    expect(early.validFrom).toBe('2026-03-29T06:00:00+02:00');
    expect(Date.parse(early.validTo!) - Date.parse(early.validFrom)).toBe(8 * 3_600_000);
  });

  it('makes the night shift 9 hours long when clocks fall back', () => {
    const shifts = expandShifts(hamburg, at('2026-10-24T12:00:00Z'), at('2026-10-25T12:00:00Z'), changedAt);
    const night = shifts.find((s) => s.id === 'hamburg-2026-10-24-night')!;
    expect([night.validFrom, night.validTo]).toEqual(['2026-10-24T22:00:00+02:00', '2026-10-25T06:00:00+01:00']);
    expect(Date.parse(night.validTo!) - Date.parse(night.validFrom)).toBe(9 * 3_600_000);
    expect(night.attributes['plannedMinutes']).toBe(540 - 45);
  });

  it('keeps shifts of consecutive days back to back across the change (no gap, no overlap)', () => {
    const shifts = expandShifts(hamburg, at('2026-03-27T00:00:00Z'), at('2026-03-31T00:00:00Z'), changedAt);
    for (let i = 1; i < shifts.length; i++) expect(shifts[i]!.validFrom === shifts[i - 1]!.validTo || Date.parse(shifts[i]!.validFrom) === Date.parse(shifts[i - 1]!.validTo!)).toBe(true);
  });

  it('honours the days of the week and a shift starting in the skipped hour', () => {
    const site: SiteCalendar = { siteId: 'b', timeZone: 'Europe/Berlin', shifts: [{ name: 'maint', start: '02:30', end: '04:00', breakMinutes: 0, days: ['sun'] }] };
    const shifts = expandShifts(site, at('2026-03-23T00:00:00Z'), at('2026-04-06T00:00:00Z'), changedAt);
    expect(shifts.map((s) => [s.id, s.validFrom, s.validTo])).toEqual([
      ['b-2026-03-29-maint', '2026-03-29T03:30:00+02:00', '2026-03-29T04:00:00+02:00'],
      ['b-2026-04-05-maint', '2026-04-05T02:30:00+02:00', '2026-04-05T04:00:00+02:00'],
    ]);
  });

  it('uses the zone of each site (New York changes on another date)', () => {
    const ny: SiteCalendar = { siteId: 'ny', timeZone: 'America/New_York', shifts: [{ name: 'night', start: '22:00', end: '06:00', breakMinutes: 0, days: all }] };
    const [night] = expandShifts(ny, at('2026-03-07T12:00:00-05:00'), at('2026-03-08T12:00:00-04:00'), changedAt);
    expect([night!.id, night!.validFrom, night!.validTo]).toEqual(['ny-2026-03-07-night', '2026-03-07T22:00:00-05:00', '2026-03-08T06:00:00-04:00']);
  });

  it('reads clock times strictly and the date back from an id', () => {
    expect(parseClock('22:15')).toBe(1335);
    expect(() => parseClock('24:00')).toThrow(/not a time of day/);
    expect(shiftIdDate('site-with-dashes-2026-03-29-night')).toBe('2026-03-29');
  });
});

describe('the shift feed', () => {
  const feedAt = (now: string, sites = [hamburg]) => new ShiftCalendarFeed({ sites, pastMs: 7 * 86_400_000, futureMs: 14 * 86_400_000, now: () => at(now) });

  it('covers the rolling window: 21 days of three shifts', async () => {
    const cs = await feedAt('2026-06-15T12:00:00Z').fetchChanges();
    expect(cs.upserts.shifts).toHaveLength(63);
  });

  it('republishes nothing when the calendar did not change, and tombstones a removed rule inside the window but keeps history', async () => {
    const doc = emptyState();
    // Shifts start at 04:00, 12:00 and 20:00 UTC in summer: 13:00 and 14:00 see the same ones.
    const first = planSync(doc, 'shifts', await feedAt('2026-06-15T13:00:00Z').fetchChanges(), { full: true, tree: { levelByDepth: ['site'] }, hashIgnore: { shifts: ['changedAt'] } });
    first.apply(doc, new Date());
    expect(first.messages).toHaveLength(63);

    const again = planSync(doc, 'shifts', await feedAt('2026-06-15T14:00:00Z').fetchChanges(), { full: false, tree: { levelByDepth: ['site'] }, hashIgnore: { shifts: ['changedAt'] } });
    expect(again.messages).toEqual([]);

    const withoutNight = { ...hamburg, shifts: hamburg.shifts.filter((s) => s.name !== 'night') };
    const later = planSync(doc, 'shifts', await feedAt('2026-06-16T13:00:00Z', [withoutNight]).fetchChanges(), { full: false, tree: { levelByDepth: ['site'] }, hashIgnore: { shifts: ['changedAt'] } });
    const tombstones = later.messages.filter((m) => m.value === null).map((m) => m.id);
    // Night shifts on days well inside the window go; past ones and the window's edge days stay.
    expect(tombstones).toContain('hamburg-2026-06-15-night');
    expect(tombstones).not.toContain('hamburg-2026-06-08-night');
    expect(tombstones.every((id) => id.endsWith('-night'))).toBe(true);
    // New days at the future end of the window are the only upserts.
    expect(later.messages.filter((m) => m.value !== null).map((m) => m.id)).toEqual(['hamburg-2026-06-30-early', 'hamburg-2026-06-30-late']);
  });
});
