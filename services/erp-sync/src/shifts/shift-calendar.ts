import type { ErpShiftV1 } from '@weir/contracts';
import { addDays, formatInZone, isoDate, wallClockAt, wallClockToInstant, weekday } from './time-zone';

/** Days of the week as written in the settings. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
/** A day of the week. */
export type Weekday = (typeof WEEKDAYS)[number];

/** One recurring shift of a site, in the site's wall-clock time. */
export interface ShiftRule {
  /** `early`, `late`, `night`: part of the shift id, so letters, digits and `_` only. */
  name: string;
  /** Start, `HH:MM` local time. */
  start: string;
  /** End, `HH:MM` local time; at or before the start means the next day (a night shift). */
  end: string;
  /** Planned breaks within the shift, in minutes (planned production time = length - breaks). */
  breakMinutes: number;
  /** Days the shift starts on. */
  days: readonly Weekday[];
}

/** The shift calendar of one site. */
export interface SiteCalendar {
  siteId: string;
  /** IANA zone of the site (`Europe/Berlin`): shifts follow its clocks across DST changes. */
  timeZone: string;
  shifts: readonly ShiftRule[];
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since midnight of `HH:MM`; throws on anything else. */
export function parseClock(text: string): number {
  const m = HHMM.exec(text);
  if (!m) throw new Error(`"${text}" is not a time of day (HH:MM, 00:00-23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** The id of one occurrence of a shift: `<site>-<local start date>-<shift>` (`hamburg-2026-03-29-night`). */
export function shiftId(siteId: string, date: string, name: string): string {
  return `${siteId}-${date}-${name}`;
}

/** The local start date in a shift id, or undefined when it is not one. */
export function shiftIdDate(id: string): string | undefined {
  return /-(\d{4}-\d{2}-\d{2})-[A-Za-z0-9_]+$/.exec(id)?.[1];
}

/**
 * Every shift of a site starting in [fromMs, toMs), in start order. Start and
 * end are the site's wall-clock times on each date, so a shift is as long as
 * the clocks say: a 22:00-06:00 night shift lasts 7 hours in the night clocks
 * spring forward and 9 hours in the night they fall back. A start or end inside
 * the skipped hour moves forward by the gap; inside the repeated hour it is the
 * first occurrence. Times carry the site's offset (`+01:00`) so the local
 * schedule stays readable.
 */
export function expandShifts(site: SiteCalendar, fromMs: number, toMs: number, changedAt: string): ErpShiftV1[] {
  const out: { start: number; shift: ErpShiftV1 }[] = [];
  const first = wallClockAt(site.timeZone, fromMs);
  const last = wallClockAt(site.timeZone, toMs);
  // A night shift that started the evening before `from` starts before the window: not included.
  const firstDate = { year: first.year, month: first.month, day: first.day };
  const lastDate = { year: last.year, month: last.month, day: last.day };
  for (let date = firstDate; isoDate(date) <= isoDate(lastDate); date = addDays(date, 1)) {
    const day = WEEKDAYS[weekday(date)]!;
    for (const rule of site.shifts) {
      if (!rule.days.includes(day)) continue;
      const startMin = parseClock(rule.start);
      const endMin = parseClock(rule.end);
      const endDate = endMin <= startMin ? addDays(date, 1) : date;
      const start = wallClockToInstant(site.timeZone, { ...date, hour: Math.floor(startMin / 60), minute: startMin % 60, second: 0 });
      const end = wallClockToInstant(site.timeZone, { ...endDate, hour: Math.floor(endMin / 60), minute: endMin % 60, second: 0 });
      if (start < fromMs || start >= toMs) continue;
      const lengthMinutes = Math.round((end - start) / 60_000);
      out.push({
        start,
        shift: {
          id: shiftId(site.siteId, isoDate(date), rule.name),
          siteId: site.siteId,
          name: rule.name,
          plannedBreakMinutes: rule.breakMinutes,
          validFrom: formatInZone(site.timeZone, start),
          validTo: formatInZone(site.timeZone, end),
          changedAt,
          origin: 'calendar:shifts',
          attributes: { timeZone: site.timeZone, lengthMinutes, plannedMinutes: Math.max(0, lengthMinutes - rule.breakMinutes) },
        },
      });
    }
  }
  return out.sort((a, b) => a.start - b.start).map((o) => o.shift);
}
